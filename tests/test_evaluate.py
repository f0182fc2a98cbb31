"""evaluate() on the real default district: consistency, references, monotonicity, and the
incremental path against full recomputation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dashboard as dc
from dashboard.domain.errors import DecentraError
from dashboard.domain.scenario import BatteryPlacement, CommunityBattery, PvPlacement
from dashboard.scenarios import clear_cache
from tests.reference import dispatch, survival

RATIOS = ["self_sufficiency", "self_consumption", "self_sufficiency_transformer",
          "self_consumption_transformer", "self_sufficiency_building",
          "self_consumption_building", "p_survive_8h", "p_survive_24h", "p_survive_72h",
          "p_survive_24h_pooled"]


def test_baseline_imports_all_demand(district):
    r = dc.evaluate(district)
    s = r.summary
    demand = district.buildings["annual_demand_kwh"].sum()
    assert s["demand_kwh"] == pytest.approx(demand, rel=1e-5)
    assert s["grid_import_kwh"] == pytest.approx(demand, rel=1e-5)
    assert s["grid_export_kwh"] == 0 and s["self_sufficiency"] == 0
    assert math.isnan(s["self_consumption"])
    assert s["survival_mean_h"] == 0 and s["p_survive_8h"] == 0
    assert s["capex_eur"] == 0 and math.isnan(s["payback_years"])
    # synthesized transformers are sized so that none is overloaded at baseline
    assert (r.transformers["loading_pct"] <= 100).all()
    assert (r.transformers["hours_above_rating"] == 0).all()
    assert (r.transformers["reverse_flow_hours"] == 0).all()
    assert (r.transformers["hosting_capacity_kwp"] > 0).all()


def test_rule_scenario_is_consistent(district, rule_scenario):
    r = dc.evaluate(district, rule_scenario)
    s = r.summary
    for key in RATIOS:
        assert 0.0 <= s[key] <= 1.0, key
    # sharing can only help: district >= transformer areas >= buildings alone
    assert s["self_sufficiency"] >= s["self_sufficiency_transformer"] - 1e-9
    assert s["self_sufficiency_transformer"] >= s["self_sufficiency_building"] - 1e-9
    assert s["self_consumption"] >= s["self_consumption_transformer"] - 1e-9
    b = r.buildings
    assert b["pv_kwp"].sum() == pytest.approx(s["pv_kwp"])
    assert b["pv_kwh"].sum() == pytest.approx(s["pv_generation_kwh"], rel=1e-5)
    # district hourly series reproduce the summary
    h = r.hourly()
    assert h["import"].sum() == pytest.approx(s["grid_import_kwh"])
    assert h["export"].max() == pytest.approx(s["peak_export_kw"])
    # rule: every roof >= 150 m2 got roof x 60 % / 5 m2 per kWp, nothing else
    big = district.buildings["roof_area_m2"] >= 150
    expected = district.buildings.loc[big, "roof_area_m2"] * 0.6 / 5.0
    assert b.loc[big.to_numpy(), "pv_kwp"].to_numpy() == pytest.approx(expected, abs=1e-3)
    assert (b.loc[~big.to_numpy(), "pv_kwp"] == 0).all()


def test_building_figures_match_an_hourly_reference(district, rule_scenario):
    """Recompute three buildings hour by hour from the district's load profiles with the
    brute-force dispatch and outage loops."""
    ids = [p.building_id for p in rule_scenario.pv[:2]]
    scen = rule_scenario.with_battery(BatteryPlacement(ids[0], 13.5, 5.0))
    r = dc.evaluate(district, scen)
    a = district.assumptions
    rt, min_soc, init = (a.number("battery.round_trip_efficiency"), a.number("battery.min_soc"),
                         a.number("battery.initial_soc"))
    for bid in [*ids, district.buildings["building_id"].iloc[-1]]:
        row = district.buildings.set_index("building_id").loc[bid]
        profile = a.use_text(row["use_type"], "load_profile")
        load = row["annual_demand_kwh"] * district.load_profiles[profile].to_numpy(np.float32)
        load = load.astype(float)
        hourly = r.hourly(building_id=bid)
        assert hourly["demand"].to_numpy() == pytest.approx(load, rel=1e-6)
        pv = hourly["pv"].to_numpy()
        bat = scen.battery_of(bid)
        cap = bat.capacity_kwh * (1 - min_soc) if bat else 0.0
        power = bat.power_kw if bat else 0.0
        soc0 = bat.capacity_kwh * (init - min_soc) if bat else 0.0
        ref = dispatch(load, pv, cap, power, rt, soc0)
        got = r.buildings.loc[bid]
        assert got["import_kwh"] == pytest.approx(sum(x["import"] for x in ref), rel=1e-6)
        assert got["export_kwh"] == pytest.approx(sum(x["export"] for x in ref), rel=1e-6,
                                                  abs=1e-6)
        assert got["peak_import_kw"] == pytest.approx(max(x["import"] for x in ref), rel=1e-6)
        # hour by hour too (the series a chart shows), not only their sums
        for col, key in (("import", "import"), ("export", "export"),
                         ("battery_charge", "charge"), ("battery_discharge", "discharge")):
            assert hourly[col].to_numpy() == pytest.approx([x[key] for x in ref], rel=1e-6,
                                                           abs=1e-6), col
        crit = a.use(row["use_type"], "critical_load_fraction") * load
        eta = math.sqrt(rt)
        surv = survival(crit, pv, [x["soc_start"] for x in ref], cap, power, eta, eta, 168)
        assert got["survival_mean_h"] == pytest.approx(np.mean(surv), abs=2 / 8760)
        assert got["p_survive_24h"] == pytest.approx(np.mean(np.array(surv) >= 24),
                                                     abs=2 / 8760)


def test_more_pv_or_storage_never_hurts(district, rule_scenario):
    base = dc.evaluate(district, rule_scenario).summary
    smaller = rule_scenario.with_pv(*[PvPlacement(p.building_id, p.kwp * 0.5, p.tilt_deg,
                                                  p.azimuth_deg) for p in rule_scenario.pv])
    less = dc.evaluate(district, smaller).summary
    for key in ("self_sufficiency", "self_sufficiency_transformer", "self_sufficiency_building",
                "survival_mean_h", "survival_pooled_mean_h", "p_survive_8h"):
        assert base[key] >= less[key] - 1e-9, key
    ids = [p.building_id for p in rule_scenario.pv]
    small = rule_scenario.with_battery(*[BatteryPlacement(i, 5, 3) for i in ids])
    large = rule_scenario.with_battery(*[BatteryPlacement(i, 15, 3) for i in ids])
    s_small = dc.evaluate(district, small).summary
    s_large = dc.evaluate(district, large).summary
    for key in ("self_sufficiency_building", "self_sufficiency_transformer", "self_sufficiency",
                "survival_mean_h", "p_survive_24h", "survival_pooled_mean_h"):
        assert s_large[key] >= s_small[key] - 1e-9, key
        assert s_small[key] >= base[key] - 1e-9, key
    # storage shifts surplus into the night: outages survive longer than with PV alone
    assert s_large["survival_mean_h"] > base["survival_mean_h"]


def test_community_battery_raises_transformer_self_sufficiency(district, rule_scenario):
    tid = district.transformers["transformer_id"].iloc[0]
    with_c = rule_scenario.with_community_battery(CommunityBattery(tid, 500, 250))
    a = dc.evaluate(district, rule_scenario).transformers.loc[tid]
    b = dc.evaluate(district, with_c).transformers.loc[tid]
    assert b["self_sufficiency"] > a["self_sufficiency"]
    assert b["pooled_survival_mean_h"] >= a["pooled_survival_mean_h"]
    assert b["reverse_flow_hours"] <= a["reverse_flow_hours"]


def test_bad_placements_are_refused(district):
    with pytest.raises(DecentraError, match="not in this district"):
        dc.evaluate(district, dc.Scenario(pv=(PvPlacement("nope", 5),)))
    bid = district.buildings["building_id"].iloc[0]
    roof = district.buildings["roof_area_m2"].iloc[0]
    with pytest.raises(DecentraError, match="does not fit"):
        dc.evaluate(district, dc.Scenario(pv=(PvPlacement(bid, roof / 5.0 * 1.5),)))
    with pytest.raises(DecentraError, match="coverage"):
        dc.place_pv_by_rule(district, dc.Scenario(), coverage=1.5)
    with pytest.raises(DecentraError, match="minimum roof"):
        dc.place_pv_by_rule(district, dc.Scenario(), min_roof_m2=-3)


edit = st.tuples(st.integers(0, 143), st.sampled_from(["pv", "nopv", "bat", "nobat", "com"]),
                 st.floats(0.05, 1.0))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(edit, min_size=1, max_size=6))
def test_incremental_equals_full(district, edits):
    ids = district.buildings["building_id"].tolist()
    roofs = district.buildings["roof_area_m2"].tolist()
    tids = district.transformers["transformer_id"].tolist()
    s = dc.place_pv_by_rule(district, dc.Scenario(), min_roof_m2=300, coverage=0.5)
    dc.evaluate(district, s)
    for i, kind, x in edits:
        if kind == "pv":
            s = s.with_pv(PvPlacement(ids[i], round(roofs[i] / 5 * x, 3), 30, 90 + 180 * x))
        elif kind == "nopv":
            s = s.without_pv(ids[i])
        elif kind == "bat":
            s = s.with_battery(BatteryPlacement(ids[i], 20 * x, 10 * x))
        elif kind == "nobat":
            s = s.without_battery(ids[i])
        else:
            s = s.with_community_battery(CommunityBattery(tids[i % len(tids)], 300 * x, 100))
        inc = dc.evaluate(district, s)          # parent cached: patched
    full = dc.evaluate(district, s, use_cache=False)
    assert not full.incremental
    for key, value in full.summary.items():
        assert inc.summary[key] == pytest.approx(value, rel=1e-9, abs=1e-9, nan_ok=True), key
    cols = ["import_kwh", "export_kwh", "peak_import_kw", "survival_mean_h", "p_survive_24h"]
    assert np.allclose(inc.buildings[cols], full.buildings[cols], rtol=1e-9, atol=1e-9)
    assert np.allclose(inc.transformers.select_dtypes("number"),
                       full.transformers.select_dtypes("number"), rtol=1e-9, atol=1e-9)


def test_single_edit_is_patched_not_recomputed(district, rule_scenario):
    parent = dc.evaluate(district, rule_scenario)
    bid = district.buildings["building_id"].iloc[7]
    child = rule_scenario.with_battery(BatteryPlacement(bid, 9, 4))
    result = dc.evaluate(district, child)
    assert result.incremental
    tid = result.buildings.loc[bid, "transformer_id"]
    others = result.transformers.index != tid
    # untouched transformers share their hourly series with the parent
    for k in np.flatnonzero(others):
        assert result.transformer_series[k] is parent.transformer_series[k]
    assert result.buildings.loc[bid, "battery_kwh"] == 9


def test_results_are_cached_by_content(district, rule_scenario):
    clear_cache()
    a = dc.evaluate(district, rule_scenario)
    b = dc.evaluate(district, rule_scenario.renamed("same content, other name"))
    assert b.scenario.name == "same content, other name"
    assert b.summary is a.summary


def test_survival_curve_is_a_probability(district, rule_scenario):
    bid = rule_scenario.pv[0].building_id
    scen = rule_scenario.with_battery(BatteryPlacement(bid, 10, 5))
    r = dc.evaluate(district, scen)
    curve = r.survival_curve(building_id=bid)
    assert curve.iloc[0] == pytest.approx(1.0)
    assert (np.diff(curve.to_numpy()) <= 1e-12).all()
    assert curve.loc[24] == pytest.approx(r.buildings.loc[bid, "p_survive_24h"])
    tid = r.buildings.loc[bid, "transformer_id"]
    pooled = r.survival_curve(transformer_id=tid)
    assert pooled.loc[24] == pytest.approx(r.transformers.loc[tid, "pooled_p_survive_24h"])


def test_params_change_results(district, rule_scenario):
    a = dc.evaluate(district, rule_scenario).summary
    b = dc.evaluate(district, rule_scenario.with_params(critical_load_fraction=0.1)).summary
    assert b["survival_mean_h"] > a["survival_mean_h"]
    c = dc.evaluate(district, rule_scenario.with_params(outage_horizon_h=24))
    assert c.buildings["survival_max_h"].max() <= 24


def test_two_edits_seen_as_one_are_patched_and_equal_the_full_evaluation(district):
    """derived_from(ancestor): PV and a battery on one building (and a battery removed on
    another) evaluated incrementally from the ancestor, equal to a fresh full evaluation."""
    start = dc.Scenario(name="a").with_pv(PvPlacement("B001", 10.0)).with_battery(
        BatteryPlacement("B005", 10.0, 5.0))
    base = dc.evaluate(district, start)
    two = (start.with_battery(BatteryPlacement("B003", 20.0, 10.0))
           .with_pv(PvPlacement("B003", 20.0)).without_battery("B005").derived_from(start))
    assert two.lineage is not None and two.lineage.building_ids == {"B003", "B005"}
    inc = dc.evaluate(district, two, previous=base, use_cache=False)
    full = dc.evaluate(district, dc.Scenario.from_dict(two.to_dict()), use_cache=False)
    assert inc.incremental and not full.incremental
    assert inc.summary["self_sufficiency"] == pytest.approx(full.summary["self_sufficiency"])
    assert np.allclose(inc.building_res, full.building_res)
    assert np.allclose(inc.transformer_res, full.transformer_res)
    np.testing.assert_allclose(inc.building_energy["import_kwh"],
                               full.building_energy["import_kwh"], rtol=1e-6)


def test_result_columns_are_read_only_and_frames_are_copies(district):
    """A result's columns are arrays (some views of the engine's statistics and the district
    model): none can be written, and a caller editing a frame changes only its copy; an
    incremental child of the result evaluates as before."""
    start = dc.Scenario(name="ro").with_pv(PvPlacement("B001", 10.0))
    r = dc.evaluate(district, start, use_cache=False)
    for columns in (r.building_energy, r.transformer_energy):
        for arr in columns.values():
            with pytest.raises(ValueError):
                arr[0] = 1.0
    frame = r.buildings
    frame.loc[frame.index[0], "import_kwh"] = -1.0
    assert r.building_energy["import_kwh"][0] != -1.0
    rating = r.transformers["rating_kva"].to_numpy().copy()
    r.transformers.loc[r.transformers.index[0], "rating_kva"] = 1.0
    assert dc.evaluate(district, start, use_cache=False).transformers["rating_kva"].to_numpy(
    ) == pytest.approx(rating)
