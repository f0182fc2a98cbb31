"""A scenario's overrides of the district's assumptions: registry and bounds, versioned JSON,
content hash, and the engine's economics under them against hour-by-hour loops."""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path

import numpy as np
import pytest

import dashboard as dc
from dashboard.domain import overrides
from dashboard.domain.errors import DecentraError
from dashboard.domain.scenario import Scenario
from dashboard.engine import build_placements, building_hourly, district_model

V1_FILE = Path(__file__).parent / "data" / "scenario_v1.json"
# The v1 file evaluated on the default district by the code before overrides existed.
V1_NPV_EUR = -133860.02911853432
V1_SELF_SUFFICIENCY = 0.002254176102884674


def v1() -> Scenario:
    return Scenario.from_json(V1_FILE.read_text())


# ---- registry, bounds, warnings ----------------------------------------------------------
@pytest.mark.parametrize("key, value, message", [
    ("econ.discount_rate", 2.0, "between -0.5 and 1"),
    ("econ.pv_lifetime_a", 25.5, "whole number"),
    ("econ.import_price_eur_per_kwh", -0.1, "impossible"),
    ("econ.import_price_eur_per_kwh", "abc", "must be a number"),
    ("econ.import_price_eur_per_kwh", [0.2, 0.3], "one number"),
    ("econ.import_peak_hours", [21, 17], "from < to"),
    ("econ.import_peak_hours", [8, 30], "impossible"),
    ("emissions.hourly_kg_co2_per_kwh", [0.3] * 23, "24 values"),
    ("econ.pv_capex_by_class_eur_per_kwp", [], "at least one"),
    ("pv.albedo", 0.3, "not an assumption a scenario can override"),
    ("use.resi dential.critical_load_fraction", 0.3, "not an assumption"),
])
def test_impossible_values_are_one_clear_error(key, value, message):
    s = v1()
    with pytest.raises(DecentraError, match=message):
        s.with_assumptions({key: value})
    with pytest.raises(DecentraError, match=message):
        Scenario.from_dict({**s.to_dict(), "version": 2, "assumptions": {key: value}})


def test_plausibility_warns_but_accepts():
    s = v1().with_assumptions({"econ.import_price_eur_per_kwh": 2.5,     # EUR/kWh, not cents
                               "econ.discount_rate": 0.05})
    found = overrides.warnings(s.assumptions)
    assert len(found) == 1 and "econ.import_price_eur_per_kwh" in found[0]
    assert "usual 0.05–0.6" in found[0]
    assert s.assumption_overrides()["econ.import_price_eur_per_kwh"] == 2.5
    assert overrides.warnings(v1().with_assumptions(
        {"econ.pv_capex_by_class_eur_per_kwp": "1400;1200;100;900"}).assumptions)


def test_every_registry_key_is_in_the_table_or_optional():
    from dashboard.io.assumptions import read_assumptions

    table = read_assumptions()
    for row in overrides.REGISTRY:
        key = row.key.replace("*", "residential")
        assert key in table or row.optional, row.key
        if key in table and row.kind == "number":
            value = table.number(key)
            assert row.usual_lo <= value <= row.usual_hi, row.key      # district values usual


# ---- JSON versions and hash --------------------------------------------------------------
def test_v1_file_opens_and_round_trips_as_v2(district):
    raw = json.loads(V1_FILE.read_text())
    assert raw["version"] == 1 and "assumptions" not in raw
    s = v1()
    assert s.assumptions == ()
    data = json.loads(s.to_json())
    assert data["version"] == 2 and "assumptions" not in data
    again = Scenario.from_json(s.to_json())
    assert again == s and again.content_hash() == s.content_hash()
    r = dc.evaluate(district, s, use_cache=False)
    assert r.summary["npv_eur"] == pytest.approx(V1_NPV_EUR, rel=1e-9)
    assert r.summary["self_sufficiency"] == pytest.approx(V1_SELF_SUFFICIENCY, rel=1e-9)
    with pytest.raises(DecentraError, match="unknown scenario fields: assumptions"):
        Scenario.from_dict({**raw, "assumptions": {"econ.discount_rate": 0.05}})


def test_overrides_are_written_read_and_change_the_hash():
    s = v1()
    a = s.with_assumptions({"econ.import_price_eur_per_kwh": 0.3,
                            "econ.pv_capex_by_class_eur_per_kwp": "1400;1200;1000;900"})
    b = s.with_assumptions({"econ.pv_capex_by_class_eur_per_kwp": [1400, 1200, 1000, 900]}
                           ).with_assumptions({"econ.import_price_eur_per_kwh": "0,3"})
    assert a.content_hash() != s.content_hash()
    assert a.content_hash() == b.content_hash() and a == b       # order and spelling free
    assert a.with_assumptions({"econ.import_price_eur_per_kwh": 0.31}).content_hash() \
        != a.content_hash()
    back = a.with_assumptions({"econ.import_price_eur_per_kwh": None,
                               "econ.pv_capex_by_class_eur_per_kwp": None})
    assert back.content_hash() == s.content_hash()
    data = json.loads(a.to_json())
    assert data["assumptions"] == {"econ.import_price_eur_per_kwh": 0.3,
                                   "econ.pv_capex_by_class_eur_per_kwp": [1400.0, 1200.0,
                                                                          1000.0, 900.0]}
    read = Scenario.from_json(a.to_json())
    assert read == a and read.content_hash() == a.content_hash()
    assert a.lineage is not None and a.lineage.assumption_keys == {
        "econ.import_price_eur_per_kwh", "econ.pv_capex_by_class_eur_per_kwp"}


# ---- economics against hour-by-hour loops ------------------------------------------------
PEAK = 0.42          # EUR/kWh Mon-Fri 7-10 h and ... (window below)
FLAT = 0.22
FEED = 0.07
HOURS = (7.0, 11.0)


def tou_scenario(base: Scenario, co2: list[float]) -> Scenario:
    return base.with_assumptions({
        "econ.import_price_eur_per_kwh": FLAT, "econ.export_price_eur_per_kwh": FEED,
        "econ.import_peak_price_eur_per_kwh": PEAK, "econ.import_peak_hours": list(HOURS),
        "emissions.hourly_kg_co2_per_kwh": co2})


def loop_savings_and_co2(hourly, co2_of) -> tuple[float, float]:
    """Plain Python, hour by hour: the bill without DER minus the bill with DER, and CO2."""
    savings = co2_kg = 0.0
    for ts, d, imp, exp in zip(hourly.index, hourly["demand"], hourly["import"],
                               hourly["export"], strict=True):
        peak = ts.weekday() < 5 and HOURS[0] <= ts.hour < HOURS[1]
        price = PEAK if peak else FLAT
        savings += (d - imp) * price + exp * FEED
        co2_kg += co2_of(ts) * (d - imp + exp)
    return savings, co2_kg / 1000.0


def loop_npv(capex: float, battery: float, savings: float, om: float, r: float, life: int,
             bat_life: int, deg: float) -> float:
    npv = -capex
    for y in range(1, life + 1):
        flow = savings * (1 - deg) ** (y - 1) - om
        if y % bat_life == 0 and y < life:
            flow -= battery
        npv += flow / (1 + r) ** y
    return npv


@pytest.mark.parametrize("profile", ["hour_of_day", "every_hour"])
def test_tou_and_hourly_co2_against_hour_by_hour_loops(district, profile):
    rng = np.random.default_rng(7)
    if profile == "hour_of_day":
        co2 = [round(0.25 + 0.3 * math.sin(h / 24 * math.pi) ** 2, 4) for h in range(24)]
    else:
        co2 = list(np.round(rng.uniform(0.1, 0.8, 8760), 4))
    s = tou_scenario(v1(), co2)
    r = dc.evaluate(district, s, use_cache=False)
    model = district_model(district)
    pl = build_placements(model, s)

    def co2_of(ts):
        return co2[ts.hour] if profile == "hour_of_day" else co2[
            model.hourly_index.get_loc(ts)]

    a = district.assumptions
    for bid in ("B001", "B004"):          # PV and battery; PV alone (closed form)
        b = int(model.building_ids.get_loc(bid))
        hourly = building_hourly(model, pl, b)
        savings, co2_t = loop_savings_and_co2(hourly, co2_of)
        row = r.buildings.loc[bid]
        assert row["annual_savings_eur"] == pytest.approx(savings, rel=1e-5)
        assert row["co2_avoided_t"] == pytest.approx(co2_t, rel=1e-5)
        kwp = row["pv_kwp"]
        bat = row["battery_kwh"] * 600.0 + row["battery_kw"] * 100.0
        capex = kwp * 1500.0 + bat            # both systems are below 10 kWp
        npv = loop_npv(capex, bat, savings, kwp * a.number("econ.pv_om_eur_per_kwp_a"),
                       0.04, 25, 15, 0.005)
        assert row["npv_eur"] == pytest.approx(npv, rel=1e-5)
    # a transformer area (community view): its pooled net series, hour by hour
    tid = r.buildings.loc["B001", "transformer_id"]
    th = r.hourly(transformer_id=tid)
    savings, co2_t = loop_savings_and_co2(th, co2_of)
    row = r.transformers.loc[tid]
    assert row["annual_savings_eur"] == pytest.approx(savings, rel=1e-5)
    assert row["co2_avoided_t"] == pytest.approx(co2_t, rel=1e-5)
    # the flat tariff would give other savings: the peak hours really count
    flat = dc.evaluate(district, v1().with_assumptions(
        {"econ.import_price_eur_per_kwh": FLAT, "econ.export_price_eur_per_kwh": FEED}))
    assert flat.buildings.loc["B001", "annual_savings_eur"] != pytest.approx(
        r.buildings.loc["B001", "annual_savings_eur"], rel=1e-3)


def test_repricing_equals_a_fresh_run_and_skips_the_simulation(district):
    base = v1()
    dc.evaluate(district, base)                        # the parent, cached
    for change, moved in (({"econ.import_price_eur_per_kwh": 0.31, "econ.discount_rate": 0.06,
                            "econ.pv_capex_by_class_eur_per_kwp": [1400, 1250, 1000, 900]},
                           "npv_eur"),
                          ({"econ.import_peak_price_eur_per_kwh": 0.5}, "npv_eur"),
                          ({"emissions.hourly_kg_co2_per_kwh": [0.2] * 12 + [0.5] * 12},
                           "co2_avoided_t")):
        child = base.with_assumptions(change)
        t0 = time.perf_counter()
        fast = dc.evaluate(district, child)
        seconds = time.perf_counter() - t0
        fresh = dc.evaluate(district, Scenario.from_json(child.to_json()), use_cache=False)
        assert fast.incremental and not fresh.incremental
        assert "reprice_ms" in fast.timings_ms and "resilience_ms" not in fast.timings_ms
        assert seconds < 1.0
        for key, value in fresh.summary.items():
            assert fast.summary[key] == pytest.approx(value, rel=1e-9, abs=1e-9), key
        assert fast.summary[moved] != pytest.approx(dc.evaluate(district, base).summary[
            moved], rel=1e-6)


def test_critical_load_override_equals_a_district_with_that_table(district):
    s = v1()
    over = s.with_assumptions({"use.residential.critical_load_fraction": 0.3,
                               "critical.load_share": 0.6})
    table = district.assumptions.with_values(use__residential__critical_load_fraction=0.3,
                                             critical__load_share=0.6)
    other = dataclasses.replace(district, assumptions=table)
    a = dc.evaluate(district, over, use_cache=False)
    b = dc.evaluate(other, s, use_cache=False)
    base = dc.evaluate(district, s)
    for key in ("survival_mean_h", "p_survive_24h", "survival_pooled_mean_h",
                "critical_survival_mean_h"):
        assert a.summary[key] == pytest.approx(b.summary[key], rel=1e-12), key
    assert a.summary["survival_mean_h"] != pytest.approx(base.summary["survival_mean_h"])
    np.testing.assert_array_equal(a.building_hist, b.building_hist)
    # through the lineage (the app's path) the same
    dc.evaluate(district, s)
    via = dc.evaluate(district, s.with_assumptions(
        {"use.residential.critical_load_fraction": 0.3, "critical.load_share": 0.6}))
    np.testing.assert_array_equal(via.building_hist, b.building_hist)


def test_district_dependent_errors(district):
    with pytest.raises(DecentraError, match="no use type 'hangar'"):
        dc.evaluate(district, v1().with_assumptions(
            {"use.hangar.critical_load_fraction": 0.3}), use_cache=False)
    with pytest.raises(DecentraError, match="one price more"):
        dc.evaluate(district, v1().with_assumptions(
            {"econ.pv_capex_by_class_eur_per_kwp": [1200, 1000]}), use_cache=False)


# ---- report and CLI ----------------------------------------------------------------------
def test_report_lists_the_overrides(district):
    from dashboard.export.report import overrides_section

    s = v1().with_assumptions({"econ.import_price_eur_per_kwh": 0.31,
                               "emissions.hourly_kg_co2_per_kwh": [0.3] * 8760})
    section = overrides_section(district, dc.evaluate(district, s, resilience=False))
    assert "econ.import_price_eur_per_kwh" in section and "<b>0.31</b>" in section
    assert "<td>0.25</td>" in section and "EUR/kWh" in section
    assert "8760 hourly values, 0.3–0.3" in section
    assert "econ.discount_rate" not in section
    assert overrides_section(district, dc.evaluate(district, v1(), resilience=False)) == ""


def test_cli_writes_and_shows_overrides(tmp_path, capsys):
    from dashboard.cli import main

    csv = tmp_path / "co2.csv"
    csv.write_text("hour,kg\n" + "".join(f"{h},{0.2 + (h % 24) / 100:.2f}\n"
                                         for h in range(24)))
    out = tmp_path / "s.json"
    assert main(["assumptions", "--scenario", str(V1_FILE), "--set",
                 "econ.discount_rate=0.05", "--emission-profile", str(csv), "-o",
                 str(out)]) == 0
    s = Scenario.from_json(out.read_text())
    assert s.assumption_overrides()["econ.discount_rate"] == 0.05
    assert s.assumption_overrides()["emissions.hourly_kg_co2_per_kwh"][23] == 0.43
    assert "0.05" in capsys.readouterr().out
    assert main(["evaluate", "--scenario", str(out), "--json", "--no-resilience"]) == 0
    assert main(["assumptions", "--set", "econ.discount_rate=3"]) != 0


def test_the_engine_uses_the_typed_value_exactly(district):
    """An override reaches the economics to the last digit (it went through a 6-digit text
    form once), and a scenario whose overrides differ is never patched from its ancestor's
    prices."""
    from dashboard.domain.scenario import PvPlacement
    from dashboard.engine import effective_econ

    price = 0.2345678912
    s = Scenario(name="exact").with_assumptions({"econ.import_price_eur_per_kwh": price})
    assert effective_econ(district_model(district), s).import_price_eur_per_kwh == price
    bid = str(district.buildings["building_id"].iloc[0])
    a = Scenario(name="a").with_pv(PvPlacement(bid, 5.0))
    b = a.with_assumptions({"econ.import_price_eur_per_kwh": 0.5}).with_pv(
        PvPlacement(bid, 6.0)).derived_from(a)
    dc.evaluate(district, a)
    fresh = dc.evaluate(district, Scenario.from_json(b.to_json()))
    assert dc.evaluate(district, b).summary["annual_savings_eur"] == pytest.approx(
        fresh.summary["annual_savings_eur"], rel=1e-12)
