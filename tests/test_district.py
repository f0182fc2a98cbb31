"""The embedded default district: real footprints, measured correctly, a radial network."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from shapely.geometry import Polygon

import dashboard as dc
from dashboard.paths import ASSUMPTIONS_CSV, DATA_DIR
from dashboard.synthesis.buildings import long_axis_bearing_deg, roof_azimuth_deg


def momepy_buildings() -> gpd.GeoDataFrame:
    path = Path(str(resources.files("momepy") / "datasets" / "bubenec.gpkg"))
    return gpd.read_file(path, layer="buildings")


def test_real_footprints_measured_in_metres(district):
    b = district.buildings
    assert len(b) == 144 and b["building_id"].is_unique
    assert b.crs.to_epsg() == 4326 and b.geometry.is_valid.all()
    pts = b.geometry.representative_point()
    lon, lat = pts.x, pts.y
    assert lon.between(14.39, 14.42).all() and lat.between(50.09, 50.11).all()  # Prague 6
    src = momepy_buildings().to_crs(32633)          # UTM 33N, independent of the engine
    area = dict(zip([f"B{u:03d}" for u in momepy_buildings()["uID"]], src.area, strict=True))
    ours = b.set_index("building_id")["footprint_area_m2"]
    ref = np.array([area[i] for i in ours.index])
    assert ours.to_numpy() == pytest.approx(ref, rel=2e-3)
    # EPSG:3857 would have inflated areas by 1/cos(50.1 deg)^2 ~ 2.4
    assert ours.sum() == pytest.approx(43151, rel=5e-3)


def test_attributes_follow_the_assumptions(district):
    a = district.assumptions
    b = district.buildings
    for _, row in b.iterrows():
        assert row["floor_area_m2"] == pytest.approx(row["footprint_area_m2"] * row["storeys"],
                                                     rel=1e-3)
        specific = a.use(row["use_type"], "specific_demand_kwh_m2")
        per_dwelling = a.number("use.residential.demand_per_dwelling_kwh")
        assert row["annual_demand_kwh"] == pytest.approx(
            row["floor_area_m2"] * specific + row["dwellings"] * per_dwelling, rel=1e-3)
        potential = row["roof_area_m2"] * a.number("pv.max_roof_coverage") / a.number(
            "pv.module_area_m2_per_kwp")
        assert row["pv_potential_kwp"] == pytest.approx(potential, abs=0.01)
    # the source has no use, height or demand: all assumed, and flagged
    assert b["use_type_assumed"].all() and b["storeys_assumed"].all()
    assert b["demand_assumed"].all()
    assert set(b["use_type"]) <= set(a.use_types())
    assert (b.loc[b["footprint_area_m2"] < 60, "use_type"] == "ancillary").all()


def test_roof_azimuth_from_long_axis():
    east_west = gpd.GeoSeries([Polygon([(0, 0), (30, 0), (30, 10), (0, 10)])])   # long axis E-W
    north_south = gpd.GeoSeries([Polygon([(0, 0), (10, 0), (10, 30), (0, 30)])])
    assert long_axis_bearing_deg(east_west)[0] == pytest.approx(90)
    assert long_axis_bearing_deg(north_south)[0] % 180 == pytest.approx(0)
    assert roof_azimuth_deg(np.array([90.0]))[0] == pytest.approx(180)   # faces south
    assert roof_azimuth_deg(np.array([0.0]))[0] in (90.0, 270.0)
    assert roof_azimuth_deg(np.array([45.0]))[0] == pytest.approx(135)


def test_network_is_radial_and_complete(district):
    lines = district.lines
    b = district.buildings
    service = lines[lines["kind"] == "service"]
    assert sorted(service["to_node"]) == sorted("B:" + b["building_id"])
    for tid, tr in district.transformers.set_index("transformer_id").iterrows():
        mine = lines[lines["transformer_id"] == tid]
        graph = nx.Graph()
        graph.add_edges_from(zip(mine["from_node"], mine["to_node"], strict=True))
        graph.add_node(tr["node"])
        assert nx.is_tree(graph), tid          # radial: connected, no loops
        served = set(b.loc[b["transformer_id"] == tid, "building_id"])
        assert {n[2:] for n in graph if n.startswith("B:")} == served
    assert (lines["length_m"] > 0).all()
    assert set(district.transformers["rating_kva"]) <= {250.0, 400.0, 630.0}


def test_assumptions_have_units_and_sources():
    with open(ASSUMPTIONS_CSV, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 40
    for row in rows:
        assert row["unit"].strip(), row["key"]
        assert row["source"].strip(), row["key"]


def test_weather_and_profiles_are_plausible(district):
    w = district.weather
    assert len(w) == 8760
    assert 900 < w["ghi"].sum() / 1000 < 1300      # kWh/m2 a, Central Europe
    assert w["temp_air"].min() > -25 and w["temp_air"].max() < 40
    assert (w["dni"] >= 0).all() and (w["dhi"] <= w["ghi"] + 1e-9).all()
    assert np.allclose(district.load_profiles.sum(), 1.0)
    assert "TRY2010 region 9" in district.meta["weather_source"]


def test_default_district_rebuilds_identically(tmp_path):
    import runpy

    out = tmp_path / "rebuilt.gpkg"
    module = runpy.run_path(str(DATA_DIR / "build_default_district.py"))
    module["main"](out)
    assert dc.load_district(out).content_hash == dc.load_district().content_hash
