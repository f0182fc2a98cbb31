"""Bring your own city: real imports, and one clear DecentraError for every bad file.

Real cases: Bubeneč footprints (momepy, OSM) alone; pyrosm's bundled OSM extract of a Finnish
town; pandapower's mv_oberrhein network with its real line geometry; TMY3 and EPW weather.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pvlib
import pytest
from shapely.geometry import Point, Polygon, box

import dashboard as dc
from dashboard.domain.errors import DecentraError
from dashboard.importer import import_district, source_layers
from dashboard.io.district_gpkg import read_district, write_district
from dashboard.io.formats import Limits
from tests.importfiles import bubenec_footprints, shapefile_zip, write_epw, zip_bytes

PVLIB_DATA = Path(pvlib.__file__).parent / "data"


@pytest.fixture(scope="module")
def footprints() -> gpd.GeoDataFrame:
    return bubenec_footprints(12)


def geojson(frame: gpd.GeoDataFrame, path: Path) -> Path:
    path.write_text(frame.to_json(), encoding="utf-8")
    return path


def survives_saving(district: dc.District, folder: Path) -> None:
    """The app keeps imported districts as GeoPackages keyed by content hash: a write / read
    round trip must give the same district."""
    again = read_district(write_district(district, folder / "saved.gpkg"))
    assert again.content_hash == district.content_hash


def fails(path: Path | str, match: str, **kwargs) -> DecentraError:
    with pytest.raises(DecentraError, match=match) as info:
        import_district(path, **kwargs)
    return info.value


# ---- real imports -------------------------------------------------------------------------
def test_footprints_alone_become_a_working_district(tmp_path):
    frame = bubenec_footprints()
    path = geojson(frame[["geometry"]], tmp_path / "bubenec footprints.geojson")
    result = import_district(path)
    d, report = result.district, result.report
    assert d.n_buildings == 144 and d.name == "bubenec footprints"
    # same real footprints and assumptions as the embedded district: same areas and demand
    ref = dc.load_district()
    assert d.buildings["footprint_area_m2"].sum() == pytest.approx(
        ref.buildings["footprint_area_m2"].sum(), rel=1e-9)
    assert d.buildings["annual_demand_kwh"].sum() == pytest.approx(
        ref.buildings["annual_demand_kwh"].sum(), rel=1e-6)
    # everything not in the file is flagged assumed and reported
    assert d.buildings["use_type_assumed"].all() and d.buildings["demand_assumed"].all()
    assert report.assumed == {"use_type": 144, "storeys": 144, "annual_demand_kwh": 144,
                              "roof_area_m2": 144, "construction_period": 144}
    assert any("shortest lines joining the buildings" in n for n in report.notes)
    # weather: the nearest lowland DWD test reference year, Chemnitz, as for the default
    assert "region 9 (Chemnitz)" in report.weather_source
    for col in ("ghi", "dhi", "temp_air", "wind_speed"):   # same TRY hours
        np.testing.assert_array_equal(d.weather[col], ref.weather[col])
    # DNI is split from direct horizontal with the station's sun (Chemnitz), not Prague's
    assert np.corrcoef(d.weather["dni"], ref.weather["dni"])[0, 1] > 0.97
    # a synthesized radial network that feeds every building without overload at baseline
    assert set(d.buildings["transformer_id"]) <= set(d.transformers["transformer_id"])
    base = dc.baseline(d)
    assert base.transformers["loading_pct"].max() <= 100.0
    scen = dc.place_pv_by_rule(d, dc.Scenario(name="r"), min_roof_m2=200, coverage=0.6)
    res = dc.evaluate(d, scen)
    assert 0.25 < res.summary["self_sufficiency"] < 0.5
    assert res.summary["pv_generation_kwh"] / res.summary["pv_kwp"] == pytest.approx(920, rel=0.1)
    survives_saving(d, tmp_path)


def test_attribute_mapping_is_used_and_reported(tmp_path, footprints):
    frame = footprints.copy()
    frame["building"] = ["house", "office", "yes", "school", "garage", "apartments",
                         "retail", "weird_value", None, "industrial", "church", "house"]
    frame["building:levels"] = ["2", "5", "", None, "1", "6", "3", "2", "4", "1", "2", "2"]
    frame["height"] = [None, None, "12 m", None, None, None, None, None, None, None, None, "9"]
    frame["annual_kwh"] = [4000, None, None, None, None, 60000, None, None, None, None, None, 0]
    result = import_district(geojson(frame, tmp_path / "city.geojson"))
    b = result.district.buildings.set_index("building_id")
    rep = result.report
    assert rep.mapping["building_id"] == "id" and rep.mapping["use_type"] == "building"
    assert rep.mapping["storeys"] == "building:levels" and rep.mapping["height_m"] == "height"
    assert rep.mapping["annual_demand_kwh"] == "annual_kwh"
    ids = list(frame["id"])
    assert b.loc[ids[0], "use_type"] == "residential" and not b.loc[ids[0], "use_type_assumed"]
    assert b.loc[ids[1], "use_type"] == "commercial"
    assert b.loc[ids[3], "use_type"] == "public" and b.loc[ids[4], "use_type"] == "ancillary"
    assert b.loc[ids[2], "use_type_assumed"] and b.loc[ids[7], "use_type_assumed"]
    assert b.loc[ids[0], "storeys"] == 2 and not b.loc[ids[0], "storeys_assumed"]
    assert b.loc[ids[2], "storeys"] == 4 and not b.loc[ids[2], "storeys_assumed"]  # 12 m / 3 m
    assert b.loc[ids[3], "storeys_assumed"]
    assert b.loc[ids[0], "annual_demand_kwh"] == 4000 and not b.loc[ids[0], "demand_assumed"]
    assert b.loc[ids[11], "demand_assumed"]        # 0 kWh is treated as unknown
    assert any("use type we do not know" in n for n in rep.notes)
    assert any("zero values of 'annual_kwh'" in n for n in rep.notes)
    rows = {r["attribute"]: r for r in rep.mapping_rows()}
    assert rows["use_type"]["column"] == "building"
    assert rows["roof_area_m2"]["column"] == "(not in the file)"


def test_osm_extract_imports_with_its_streets(tmp_path):
    import pyrosm

    result = import_district(pyrosm.get_data("test_pbf"))
    d, rep = result.district, result.report
    assert d.n_buildings > 2000
    assert d.buildings["building_id"].str.match(r"^[wrn]\d+$").all()
    assert (~d.buildings["use_type_assumed"]).sum() > 1000     # OSM building=residential etc.
    assert "streets in test.osm.pbf" in rep.network_source
    assert len(d.streets) > 100
    # the feeder-length and loading rules of the synthesis hold
    base = dc.baseline(d, resilience=False)
    assert base.transformers["loading_pct"].max() <= 100.0
    main = d.lines[d.lines["kind"] == "main"]
    assert main.groupby("transformer_id")["length_m"].sum().max() < 20_000
    assert any("repaired" in n for n in rep.notes)
    assert "Rostock" in rep.weather_source and any("upload a weather file" in n
                                                    for n in rep.notes)
    assert set(d.buildings.geom_type) == {"Polygon", "MultiPolygon"}
    survives_saving(d, tmp_path)


def test_pandapower_network_imports_with_real_geometry(tmp_path):
    import pandapower as pp
    import pandapower.networks as pn

    net = pn.mv_oberrhein()
    pp.to_json(net, str(tmp_path / "oberrhein.json"))
    # one building (a 16 m square) at each load bus, named like the load
    pts = [Point(json.loads(net.bus.at[b, "geo"])["coordinates"]) for b in net.load["bus"]]
    sq = gpd.GeoDataFrame({"id": [str(n) for n in net.load["name"]]}, geometry=pts,
                          crs=4326).to_crs(3857)
    sq["geometry"] = [box(p.x - 8, p.y - 8, p.x + 8, p.y + 8) for p in sq.geometry]
    path = geojson(sq.to_crs(4326), tmp_path / "stations.geojson")
    result = import_district(path, network=tmp_path / "oberrhein.json")
    d = result.district
    assert len(d.transformers) == len(net.trafo) == 2
    assert d.transformers["rating_kva"].tolist() == (net.trafo["sn_mva"] * 1000).tolist()
    assert len(d.lines) == len(net.line)
    # real line geometry: lengths in the file agree with the drawn lines within 25 %
    drawn = d.lines.to_crs(d.lines.estimate_utm_crs()).geometry.length.to_numpy()
    ratio = drawn / d.lines["length_m"].to_numpy()
    assert np.median(ratio) == pytest.approx(1.0, abs=0.25)
    # each building hangs on the transformer that feeds its load's bus in the network
    import networkx as nx
    import pandapower.topology as top

    graph = top.create_nxgraph(net, include_trafos=False)
    owner = {}
    for i, lv in enumerate(net.trafo["lv_bus"]):
        for bus in nx.node_connected_component(graph, lv):
            owner.setdefault(bus, d.transformers["transformer_id"].iloc[i])
    expected = [owner[b] for b in net.load["bus"]]
    assert d.buildings["transformer_id"].tolist() == expected
    assert "pandapower_json" in d.meta
    assert pp.from_json_string(d.meta["pandapower_json"]).bus.shape == net.bus.shape
    assert dc.baseline(d, resilience=False).summary["demand_kwh"] > 0
    survives_saving(d, tmp_path)


def test_gis_transformers_and_lines(tmp_path, footprints):
    b = footprints
    centre = b.to_crs(3857).union_all().centroid
    tr = gpd.GeoDataFrame({"name": ["TS North", "TS South"], "kva": [400, None]},
                          geometry=[Point(centre.x, centre.y + 60),
                                    Point(centre.x, centre.y - 60)], crs=3857)
    gpkg = tmp_path / "grid.gpkg"
    tr.to_file(gpkg, layer="transformers", driver="GPKG")
    result = import_district(geojson(b, tmp_path / "b.geojson"), transformers=gpkg)
    d = result.district
    assert d.transformers["transformer_id"].tolist() == ["TS North", "TS South"]
    assert d.transformers["rating_kva"].iloc[0] == 400
    assert d.transformers["rating_kva"].iloc[1] in (100, 160, 250, 400, 630, 800, 1000)
    # every building on its nearest transformer
    bm = d.buildings.to_crs(3857).geometry.representative_point()
    tm = d.transformers.to_crs(3857)
    for p, tid in zip(bm, d.buildings["transformer_id"], strict=True):
        dist = {t: p.distance(g) for t, g in zip(tm["transformer_id"], tm.geometry,
                                                    strict=True)}
        assert tid == min(dist, key=dist.get)


@pytest.mark.parametrize("fmt", ["geojson", "gpkg"])
def test_export_import_round_trip(tmp_path, district, fmt):
    from dashboard.domain.scenario import BatteryPlacement
    from dashboard.export.registry import export_bytes

    scen = dc.place_pv_by_rule(district, dc.Scenario(name="round trip"), min_roof_m2=150,
                               coverage=0.5)
    first = district.buildings["building_id"].iloc[0]
    scen = scen.with_battery(BatteryPlacement(first, 13.5, 5.0))
    res = dc.evaluate(district, scen, resilience=False)
    path = tmp_path / f"placements.{fmt}"
    path.write_bytes(export_bytes(district, res, None, fmt))
    result = import_district(path)
    a = district.buildings.set_index("building_id")
    b = result.district.buildings.set_index("building_id")
    assert list(a.index) == list(b.index)
    for col in ("use_type", "storeys", "footprint_area_m2", "roof_area_m2",
                "annual_demand_kwh"):
        pd.testing.assert_series_equal(a[col], b[col], check_names=False)
    assert np.abs(a["azimuth_deg"] - b["azimuth_deg"]).max() <= 0.2
    assert result.scenario is not None and result.scenario.name == "round trip"
    assert result.scenario.pv == scen.pv and result.scenario.batteries == scen.batteries
    if fmt == "gpkg":   # the GeoPackage carries the feeders too
        assert (a["transformer_id"] == b["transformer_id"]).all()
        assert len(result.district.lines) == len(district.lines)
    again = dc.evaluate(result.district, result.scenario, resilience=False)
    assert again.summary["pv_kwp"] == pytest.approx(res.summary["pv_kwp"])


def test_district_file_imports_as_it_is(tmp_path, district):
    path = write_district(district, tmp_path / "d.gpkg")
    result = import_district(path)
    assert result.district.content_hash == district.content_hash


def test_zipped_shapefile_and_layer_choice(tmp_path, footprints):
    z = shapefile_zip(footprints, tmp_path / "b.zip")
    assert import_district(z).district.n_buildings == 12
    gpkg = tmp_path / "two.gpkg"
    footprints.to_file(gpkg, layer="houses", driver="GPKG")
    footprints.iloc[:5].to_file(gpkg, layer="sheds", driver="GPKG")
    assert source_layers(gpkg) == ["houses", "sheds"]
    fails(gpkg, r"2 layers \(houses, sheds\); choose the buildings layer")
    assert import_district(gpkg, layer="sheds").district.n_buildings == 5
    fails(gpkg, "has no layer 'roofs'", layer="roofs")


# ---- weather ------------------------------------------------------------------------------
def test_epw_lines_up_hour_by_hour(tmp_path, footprints, district):
    """An EPW written from the default district's weather comes back on the same hours."""
    epw = write_epw(district.weather, tmp_path / "prague.epw", district.site.latitude_deg,
                    district.site.longitude_deg, 1.0, 230.0)
    d = import_district(geojson(footprints, tmp_path / "b.geojson"), weather=epw).district
    assert d.site.timezone == "Etc/GMT-1"
    assert d.weather.index.equals(district.weather.index)
    for col in ("ghi", "dni", "dhi"):
        assert np.abs(d.weather[col] - district.weather[col]).max() <= 0.5
    assert np.abs(d.weather["temp_air"] - district.weather["temp_air"]).max() <= 0.05


def test_tmy3_time_zone_and_solar_noon(tmp_path):
    path = PVLIB_DATA / "723170TYA.CSV"          # Greensboro NC, UTC-5
    lon, lat = -79.95, 36.1
    frame = gpd.GeoDataFrame({"building": ["house", "office"]},
                             geometry=[box(lon, lat, lon + 3e-4, lat + 2e-4),
                                       box(lon + 1e-3, lat, lon + 1.3e-3, lat + 2e-4)],
                             crs=4326)
    d = import_district(geojson(frame, Path(os.environ.get("TMPDIR", "/tmp")) /
                                "greensboro.geojson"), weather=path).district
    assert d.site.timezone == "Etc/GMT+5"
    w = d.weather
    by_hour = w.groupby(w.index.hour)["ghi"].mean()
    assert by_hour.idxmax() == 12          # solar noon at 12:20 local standard time
    assert by_hour[0] == 0 and by_hour[23] == 0
    raw = pvlib.iotools.read_tmy3(path, map_variables=True)[0]
    assert w["ghi"].sum() == pytest.approx(raw["ghi"].sum())
    res = dc.evaluate(d, dc.Scenario(name="pv").with_pv(
        dc.PvPlacement(d.buildings["building_id"].iloc[0], 5.0)), resilience=False)
    assert 1100 < res.summary["pv_generation_kwh"] / 5.0 < 1600   # kWh/kWp in North Carolina


def test_dwd_try_file_and_far_weather_warning(tmp_path, footprints):
    from dashboard.io.weather import bundled_try_path

    result = import_district(geojson(footprints, tmp_path / "b.geojson"),
                             weather=bundled_try_path(1))
    assert "TRY2010" in result.report.weather_source
    assert any("km from the district" in n for n in result.report.notes)


def test_pvgis_offline_is_a_clear_message_and_cache_is_used(tmp_path):
    from dashboard.io.weather import CANONICAL, fetch_pvgis

    with pytest.raises(DecentraError, match=r"PVGIS could not be reached.*offline"):
        fetch_pvgis(50.1, 14.4, tmp_path, timeout_s=2, url="http://127.0.0.1:9/")
    rows = dc.load_district().weather[list(CANONICAL)].reset_index(drop=True)  # a real year
    rows.to_csv(tmp_path / "pvgis_50.100_14.400.csv", index=False)
    data, meta = fetch_pvgis(50.1, 14.4, tmp_path, url="http://127.0.0.1:9/")
    assert len(data) == 8760 and meta["utc_offset_h"] == 1.0


def test_weather_far_away_without_a_file_is_refused(tmp_path):
    frame = gpd.GeoDataFrame(geometry=[box(-79.95, 36.1, -79.9497, 36.1002)], crs=4326)
    fails(geojson(frame, tmp_path / "us.geojson"), "nearest bundled weather.*km away")


def test_bad_weather_files(tmp_path, footprints):
    b = geojson(footprints, tmp_path / "b.geojson")
    (tmp_path / "w.txt").write_text("just some text\n")
    fails(b, "not a recognised weather file", weather=tmp_path / "w.txt")
    short = tmp_path / "short.epw"
    full = (PVLIB_DATA / "723170TYA.CSV").read_text().splitlines()
    (tmp_path / "short.csv").write_text("\n".join(full[:500]))
    fails(b, "8760", weather=tmp_path / "short.csv")
    del short


# ---- bad input: one clear message each ----------------------------------------------------
def test_not_a_recognised_format(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("buildings of our town\n")
    fails(p, "notes.txt: not a recognised format")
    shp = tmp_path / "only.shp"
    shp.write_bytes(b"\x00\x00\x27\x0a" + b"\x00" * 96)
    fails(shp, "zip them together")


def test_truncated_or_corrupt_files(tmp_path, footprints):
    text = footprints.to_json()
    p = tmp_path / "cut.geojson"
    p.write_text(text[: len(text) // 2])
    fails(p, "not valid JSON .*truncated")
    gpkg = tmp_path / "full.gpkg"
    footprints.to_file(gpkg, driver="GPKG")
    cut = tmp_path / "cut.gpkg"
    cut.write_bytes(gpkg.read_bytes()[:20000])
    fails(cut, "cut.gpkg: .*(truncated|damaged|cannot)")
    z = shapefile_zip(footprints, tmp_path / "b.zip")
    cutz = tmp_path / "cut.zip"
    cutz.write_bytes(z.read_bytes()[:300])
    fails(cutz, "cut.zip: the zip file is damaged or truncated")
    import pyrosm

    pbf = tmp_path / "cut.osm.pbf"
    pbf.write_bytes(Path(pyrosm.get_data("test_pbf")).read_bytes()[:40000])
    fails(pbf, "cut.osm.pbf: the OpenStreetMap extract cannot be read")


def test_empty_layer(tmp_path, footprints):
    p = tmp_path / "empty.geojson"
    p.write_text('{"type": "FeatureCollection", "features": []}')
    fails(p, "empty.geojson: the FeatureCollection is empty")
    gpkg = tmp_path / "empty.gpkg"
    footprints.iloc[:0].to_file(gpkg, driver="GPKG")
    fails(gpkg, "the layer is empty")


def test_no_geometry(tmp_path):
    p = tmp_path / "nogeo.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": None, "properties": {"id": 1}}]}))
    fails(p, "no feature has a geometry")
    gpkg = tmp_path / "table.gpkg"
    import pyogrio

    pyogrio.write_dataframe(pd.DataFrame({"id": [1, 2], "kwh": [3.0, 4.0]}), gpkg,
                            layer="table", driver="GPKG")
    fails(gpkg, "no layer with geometry")


def test_points_where_polygons_are_needed(tmp_path, footprints):
    pts = footprints.copy()
    pts["geometry"] = pts.geometry.centroid
    e = fails(geojson(pts, tmp_path / "pts.geojson"), "holds points, but building footprints "
                                                         "must be polygons")
    assert e.rows[:2] == ("feature 1", "feature 2")
    mixed = pd.concat([footprints, pts.iloc[:3]], ignore_index=True)
    result = import_district(geojson(gpd.GeoDataFrame(mixed, crs=4326).assign(
        id=[f"x{i}" for i in range(len(mixed))]), tmp_path / "mixed.geojson"))
    assert result.district.n_buildings == 12
    assert any("3 features that are not polygons" in n for n in result.report.notes)


def test_invalid_polygons_are_repaired_and_counted(tmp_path, footprints):
    frame = footprints.copy()
    x, y = frame.geometry.iloc[0].exterior.coords[0]
    d = 2e-4
    bowtie = Polygon([(x, y), (x + d, y + d), (x + d, y), (x, y + d), (x, y)])
    assert not bowtie.is_valid
    frame.loc[0, "geometry"] = bowtie
    result = import_district(geojson(frame, tmp_path / "bowtie.geojson"))
    assert any(n.startswith("1 invalid or self-intersecting polygons were repaired")
               for n in result.report.notes)
    b = result.district.buildings.set_index("building_id")
    assert b.loc[frame["id"].iloc[0]].geometry.is_valid
    assert b.loc[frame["id"].iloc[0], "footprint_area_m2"] > 100   # two triangles kept


def test_missing_crs(tmp_path, footprints):
    z = shapefile_zip(footprints, tmp_path / "noprj.zip", prj=False)
    result = import_district(z)
    assert any("WGS 84 longitude/latitude (EPSG:4326) was assumed" in n
               for n in result.report.notes)
    projected = footprints.to_crs(5514)             # S-JTSK Krovak East North (Czech)
    z2 = shapefile_zip(projected, tmp_path / "krovak_noprj.zip", prj=False)
    fails(z2, "no coordinate reference system and the coordinates .* are not longitude")
    ok = import_district(shapefile_zip(projected, tmp_path / "krovak.zip"))
    assert ok.district.buildings["footprint_area_m2"].sum() == pytest.approx(
        import_district(z).district.buildings["footprint_area_m2"].sum(), rel=1e-3)


def test_coordinates_outside_a_plausible_district(tmp_path, footprints):
    far = footprints.copy()
    far.loc[3, "geometry"] = Polygon(
        [(x + 5.0, y) for x, y in far.geometry.iloc[3].exterior.coords])
    e = fails(geojson(far, tmp_path / "far.geojson"), "spread over .* km; a district is at most")
    assert "feature 4" in e.rows
    beyond = gpd.GeoDataFrame(footprints.drop(columns="geometry"), geometry=footprints.geometry
                              .map(lambda g: Polygon([(x, y + 40) for x, y in
                                                      g.exterior.coords])), crs=4326)
    fails(geojson(beyond, tmp_path / "outside.geojson"), "outside the Earth")
    null = footprints.copy()
    null["geometry"] = [box(0, 0, 1e-4, 1e-4)] * len(null)
    fails(geojson(null, tmp_path / "null.geojson"), "null island")


def test_duplicated_ids(tmp_path, footprints):
    frame = footprints.copy()
    frame.loc[5, "id"] = frame.loc[2, "id"]
    e = fails(geojson(frame, tmp_path / "dup.geojson"), "building ids in 'id' are not unique")
    assert e.rows == (frame.loc[2, "id"],)


def test_non_numeric_numbers(tmp_path, footprints):
    frame = footprints.copy()
    frame["kwh"] = [3000.0] * 12
    frame["kwh"] = frame["kwh"].astype(object)
    frame.loc[4, "kwh"] = "three"
    e = fails(geojson(frame, tmp_path / "nan.geojson"),
              r"'kwh' \(annual_demand_kwh\) has values that are not numbers "
              r"\(e.g. 'three'\)")
    assert e.rows == (frame.loc[4, "id"],)
    # storeys are read like OSM tags: a value that is not one number is assumed, with a note
    frame = footprints.copy()
    frame["levels"] = ["3"] * 12
    frame.loc[4, "levels"] = "III"
    result = import_district(geojson(frame, tmp_path / "roman.geojson"))
    b = result.district.buildings.set_index("building_id")
    assert b.loc[frame.loc[4, "id"], "storeys_assumed"] and b.loc[frame.loc[3, "id"],
                                                                 "storeys"] == 3
    assert any("'levels' are not one number (e.g. 'III')" in n for n in result.report.notes)


def test_negative_areas_or_demand(tmp_path, footprints):
    frame = footprints.copy()
    frame["annual_kwh"] = 5000.0
    frame.loc[7, "annual_kwh"] = -10.0
    e = fails(geojson(frame, tmp_path / "neg.geojson"), "'annual_kwh' .* negative values")
    assert e.rows == (frame.loc[7, "id"],)
    frame = footprints.copy()
    frame["area"] = 100.0
    frame.loc[1, "area"] = -3.0
    fails(geojson(frame, tmp_path / "negarea.geojson"), "'area' .* negative values")


def test_text_in_a_foreign_encoding(tmp_path, footprints):
    frame = footprints.copy()
    frame["name"] = "Náměstí Svobody"
    p = tmp_path / "cp1250.geojson"
    p.write_bytes(frame.to_json(ensure_ascii=False).encode("cp1250"))
    fails(p, "cp1250.geojson: the text is not UTF-8 .* save the file as UTF-8")


def test_size_cap(tmp_path, footprints):
    p = geojson(footprints, tmp_path / "b.geojson")
    fails(p, r"the file is 0 MB; the limit is 0 MB|the limit is", limits=Limits(
        max_file_bytes=1000))


def test_zip_slip(tmp_path):
    p = tmp_path / "slip.zip"
    p.write_bytes(zip_bytes({"../../evil.shp": b"x" * 100, "b.dbf": b"y"}))
    fails(p, r"'\.\./\.\./evil\.shp' points outside the archive \(zip-slip\)")
    abs_p = tmp_path / "abs.zip"
    abs_p.write_bytes(zip_bytes({"/etc/evil.shp": b"x"}))
    fails(abs_p, "zip-slip")
    assert not (tmp_path.parent / "evil.shp").exists()


def test_zip_bomb(tmp_path):
    p = tmp_path / "bomb.zip"
    p.write_bytes(zip_bytes({"b.geojson": b" " * (50 * 2**20)}))
    assert p.stat().st_size < 200_000
    fails(p, r"compressed .*:1 \(zip bomb\?\)")
    big = tmp_path / "big.zip"
    big.write_bytes(zip_bytes({f"{i}.json": os.urandom(300_000) for i in range(4)},
                              compression=zipfile.ZIP_STORED))
    fails(big, r"expands to more than 1 MB \(zip bomb\?\)",
          limits=Limits(max_uncompressed_bytes=2**20))


def test_too_many_members(tmp_path):
    p = tmp_path / "many.zip"
    p.write_bytes(zip_bytes({f"part{i}.txt": b"x" for i in range(201)}))
    fails(p, "the zip holds 201 files; at most 200")


def test_nested_archive(tmp_path, footprints):
    inner = shapefile_zip(footprints, tmp_path / "inner.zip").read_bytes()
    p = tmp_path / "outer.zip"
    p.write_bytes(zip_bytes({"data/inner.zip": inner}))
    fails(p, "another archive .*nested archives are refused")
    disguised = tmp_path / "disguised.zip"
    disguised.write_bytes(zip_bytes({"data.bin": inner}))
    fails(disguised, "nested archives are refused")


def test_bad_network_and_transformer_files(tmp_path, footprints):
    b = geojson(footprints, tmp_path / "b.geojson")
    (tmp_path / "net.json").write_text('{"not": "a network"}')
    fails(b, "net.json: not a pandapower network", network=tmp_path / "net.json")
    import pandapower as pp
    import pandapower.networks as pn

    pp.to_json(pn.mv_oberrhein(), str(tmp_path / "oberrhein.json"))
    fails(b, r"oberrhein.json: transformers are up to 5.. km from the nearest building",
          network=tmp_path / "oberrhein.json")
    pts = footprints.copy()
    t = tmp_path / "t.geojson"
    geojson(pts.assign(id=["T1"] * 12).set_geometry(pts.geometry.centroid), t)
    fails(b, "transformer ids in 'id' are not unique", transformers=t)


def test_failed_import_leaves_nothing_behind(tmp_path, footprints):
    """The CLI writes the district only when the import fully succeeded; the previous file
    stays as it was."""
    from dashboard.cli import main

    out = tmp_path / "district.gpkg"
    good = geojson(footprints, tmp_path / "good.geojson")
    assert main(["import", str(good), "-o", str(out)]) == 0
    before = out.read_bytes()
    bad = tmp_path / "bad.geojson"
    bad.write_text(footprints.to_json()[:-40])
    assert main(["import", str(bad), "-o", str(out)]) == 2
    assert out.read_bytes() == before
    assert read_district(out).n_buildings == 12
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".gpkg") == [
        "district.gpkg"]


def test_a_half_hour_time_zone_is_kept_exactly(tmp_path):
    """A site in India (UTC+05:30): the district's clock is that offset, not a rounded one,
    and its sun rises where the weather says (no night-time sun refused)."""
    from shapely import affinity

    from tests.importfiles import bubenec_footprints, write_epw

    foot = bubenec_footprints(12)
    c = foot.geometry.union_all().centroid
    moved = foot.set_geometry(foot.geometry.map(
        lambda g: affinity.translate(g, 77.2 - c.x, 28.6 - c.y)))      # New Delhi
    b = geojson(moved, tmp_path / "delhi.geojson")
    # a year of weather on the Delhi clock: Prague's hours shifted to local solar time there
    prague = dc.load_district().weather.reset_index(drop=True)
    shift = round(77.2 / 15 - 5.5 - (14.4 / 15 - 1.0))     # hours between the two clocks
    local = pd.DataFrame(np.roll(prague.to_numpy(), shift, axis=0), columns=prague.columns)
    epw = write_epw(local, tmp_path / "delhi.epw", 28.6, 77.2, 5.5, 216.0, "Delhi")
    result = dc.import_district(b, weather=epw)
    assert result.district.site.timezone == "UTC+05:30"
    idx = result.district.weather.index
    assert idx[0].utcoffset() == pd.Timedelta(hours=5, minutes=30)
    noon = result.district.weather["ghi"].to_numpy().reshape(365, 24).mean(axis=0).argmax()
    assert 11 <= noon <= 13
    from dashboard.io.district_gpkg import write_district

    write_district(result.district, tmp_path / "delhi.gpkg")
    again = read_district(tmp_path / "delhi.gpkg")
    assert again.site.timezone == "UTC+05:30" and again.content_hash == result.district.content_hash
