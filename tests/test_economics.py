"""Economics (dashboard.energy.economics and its wiring into evaluate) against hand
calculations: explicit year-by-year loops written here, the annuity closed form, hand sums over
a three-building transformer, and an old district file whose assumptions lack the new rows."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import dashboard as dc
from dashboard.domain.assumptions import Assumptions
from dashboard.domain.indicators import format_value
from dashboard.domain.scenario import BatteryPlacement, CommunityBattery, PvPlacement
from dashboard.energy import economics as ec
from dashboard.io.assumptions import read_assumptions

# A 10 kWp system: 1,000 kWh/kWp a year, 5,000 kWh demand of which 3,500 kWh come from PV.
P = ec.EconParams(pv_class_max_kwp=(10.0, 30.0, 100.0),
                  pv_capex_eur_per_kwp=(1400.0, 1200.0, 1000.0, 900.0),
                  battery_eur_per_kwh=500.0, battery_eur_per_kw=200.0,
                  community_battery_eur_per_kwh=300.0, community_battery_eur_per_kw=100.0,
                  om_eur_per_kwp_a=15.0, import_price_eur_per_kwh=0.35,
                  export_price_eur_per_kwh=0.08, discount_rate=0.05, pv_lifetime_a=20,
                  battery_lifetime_a=10, pv_degradation_per_a=0.01, co2_kg_per_kwh=0.5)
KWP, GEN, DEMAND, IMPORT, EXPORT = 10.0, 10_000.0, 5_000.0, 1_500.0, 6_500.0


def hand(capex: float, battery: float, savings: float, om: float, gen: float,
         p: ec.EconParams) -> tuple[float, float, float]:
    """NPV, LCOE and discounted payback by explicit loops over the years."""
    npv, cost, energy = -capex, capex, 0.0
    cum, payback = -capex, math.inf
    for y in range(1, p.pv_lifetime_a + 1):
        d = (1 + p.discount_rate) ** y
        repl = battery if y % p.battery_lifetime_a == 0 and y < p.pv_lifetime_a else 0.0
        cf = savings * (1 - p.pv_degradation_per_a) ** (y - 1) - om - repl
        npv += cf / d
        cost += (om + repl) / d
        energy += gen * (1 - p.pv_degradation_per_a) ** (y - 1) / d
        prev, cum = cum, cum + cf / d
        if payback == math.inf and cum >= 0:
            payback = y - 1 + (-prev) / (cum - prev)
    return npv, cost / energy, payback


def run(kwp=KWP, bat=0.0, gen=GEN, demand=DEMAND, imp=IMPORT, exp=EXPORT, p=P):
    out = ec.economics(np.array([kwp]), np.array([bat]), np.array([demand]), np.array([gen]),
                       np.array([imp]), np.array([exp]), p)
    return {k: float(v[0]) for k, v in out.items()}


def test_ten_kwp_system_by_hand():
    out = run()
    capex = 10 * 1400.0                      # 10 kWp is the top of the smallest class
    savings = 3500 * 0.35 + 6500 * 0.08      # 1,745 EUR/a
    npv, lcoe, payback = hand(capex, 0.0, savings, 10 * 15.0, GEN, P)
    assert out["capex_eur"] == pytest.approx(14_000.0)
    assert out["annual_savings_eur"] == pytest.approx(1745.0)
    assert out["om_eur_per_a"] == pytest.approx(150.0)
    assert out["npv_eur"] == pytest.approx(npv, rel=1e-12)
    assert out["lcoe_eur_per_kwh"] == pytest.approx(lcoe, rel=1e-12)
    assert out["discounted_payback_a"] == pytest.approx(payback, rel=1e-12)
    assert 10 < payback < 20                 # the loop did cross within the lifetime
    assert out["co2_avoided_t"] == pytest.approx((5000 - 1500 + 6500) * 0.5 / 1000)


def test_battery_is_replaced_within_the_pv_lifetime():
    bat = 5 * 500.0 + 2.5 * 200.0            # 5 kWh, 2.5 kW
    out = run(bat=bat, imp=1000.0, exp=5500.0)
    savings = 4000 * 0.35 + 5500 * 0.08
    npv, lcoe, payback = hand(14_000.0 + bat, bat, savings, 150.0, GEN, P)
    assert list(ec.replacement_years(P)) == [10]    # year 20 is the end, no new battery
    assert out["npv_eur"] == pytest.approx(npv, rel=1e-12)
    assert out["lcoe_eur_per_kwh"] == pytest.approx(lcoe, rel=1e-12)
    assert out["discounted_payback_a"] == pytest.approx(payback, rel=1e-12)


def test_annuity_closed_form_without_degradation_and_om():
    """Constant cash flows: NPV = −C + S (1 − (1 + r)^−L) / r, LCOE = C / (G × same factor),
    discounted payback solves S (1 − (1 + r)^−n) / r = C in closed form (n fractional: the
    module interpolates linearly inside the year, so compare the bracketing year)."""
    p = dataclasses.replace(P, pv_degradation_per_a=0.0, om_eur_per_kwp_a=0.0)
    out = run(p=p)
    annuity = (1 - 1.05 ** -20) / 0.05
    assert out["npv_eur"] == pytest.approx(-14_000 + 1745 * annuity, rel=1e-12)
    assert out["lcoe_eur_per_kwh"] == pytest.approx(14_000 / (GEN * annuity), rel=1e-12)
    n = -math.log(1 - 14_000 * 0.05 / 1745) / math.log(1.05)
    assert math.floor(n) == math.floor(out["discounted_payback_a"])
    assert out["discounted_payback_a"] == pytest.approx(n, abs=0.05)


def test_size_class_boundaries():
    kwp = np.array([0.0, 5.0, 10.0, 10.001, 30.0, 30.5, 100.0, 100.5, 500.0])
    price = np.array([1400, 1400, 1400, 1200, 1200, 1000, 1000, 900, 900])
    assert ec.pv_capex_eur(kwp, P) == pytest.approx(kwp * price)


def test_degradation_lowers_npv_and_raises_lcoe():
    flat = run(p=dataclasses.replace(P, pv_degradation_per_a=0.0))
    deg = run()
    assert deg["npv_eur"] < flat["npv_eur"]
    assert deg["lcoe_eur_per_kwh"] > flat["lcoe_eur_per_kwh"]
    # the loss equals the discounted degraded-away savings, summed by hand
    lost = sum(1745 * (1 - 0.99 ** (y - 1)) / 1.05 ** y for y in range(1, 21))
    assert flat["npv_eur"] - deg["npv_eur"] == pytest.approx(lost, rel=1e-9)


def test_payback_never_and_nothing_invested():
    never = run(imp=4900.0, exp=0.0, gen=100.0)     # 35 EUR/a savings, 150 EUR/a O&M
    assert never["discounted_payback_a"] == math.inf
    assert never["npv_eur"] < -14_000
    assert format_value("discounted_payback_a", never["discounted_payback_a"]) == \
        "not within lifetime"
    none = run(kwp=0.0, gen=0.0, imp=DEMAND, exp=0.0)
    assert math.isnan(none["discounted_payback_a"]) and math.isnan(none["lcoe_eur_per_kwh"])
    assert none["npv_eur"] == 0.0 and none["capex_eur"] == 0.0
    assert format_value("lcoe_eur_per_kwh", 0.11779) == "€0.118/kWh"


def test_params_fall_back_for_old_tables():
    full = read_assumptions()
    p = ec.EconParams.from_assumptions(full)
    assert p.pv_capex_eur_per_kwp == (1500.0, 1300.0, 1100.0, 950.0)
    assert p.pv_class_max_kwp == (10.0, 30.0, 100.0) and p.discount_rate == 0.04
    old = Assumptions(tuple(r for r in full.rows if not r.key.startswith("econ.")))
    assert ec.EconParams.from_assumptions(old) == ec.EconParams()
    flat = Assumptions.from_records([*old.records(), {"key": "econ.pv_capex_eur_per_kwp",
                                                      "value": "1300"}])
    pf = ec.EconParams.from_assumptions(flat)
    assert ec.pv_capex_eur(np.array([5.0, 50.0, 500.0]), pf) == pytest.approx(
        [6500.0, 65_000.0, 650_000.0])


def test_old_district_file_evaluates(district):
    """A district file stores the assumptions table it was built with; one from before the
    size classes (tests/data/assumptions_v1.csv, the table as released before them: a flat
    1,300 EUR/kWp, no discount rate, lifetimes or battery EUR/kW) evaluates with its flat
    price and the defaults for the rest."""
    import dataclasses
    from pathlib import Path

    from dashboard.io.assumptions import read_assumptions

    a = read_assumptions(Path(__file__).parent / "data" / "assumptions_v1.csv")
    district = dataclasses.replace(district, assumptions=a)
    assert "econ.discount_rate" not in a and "econ.pv_capex_by_class_eur_per_kwp" not in a
    ids = list(district.buildings["building_id"].astype(str)[:2])
    scenario = dc.Scenario(name="old").with_pv(PvPlacement(ids[0], 8.0, 30.0, 180.0),
                                               PvPlacement(ids[1], 60.0, 30.0, 180.0))
    scenario = scenario.with_battery(BatteryPlacement(ids[0], 10.0, 5.0))
    r = dc.evaluate(district, scenario, resilience=False)
    d = ec.EconParams()
    want = 68 * 1300.0 + 10 * a.number("econ.battery_capex_eur_per_kwh") \
        + 5 * d.battery_eur_per_kw
    assert r.summary["capex_eur"] == pytest.approx(want)
    assert math.isfinite(r.summary["npv_eur"])
    b = r.buildings.loc[ids[0]]
    assert b["capex_eur"] == pytest.approx(8 * 1300.0 + 10 * 600.0 + 5 * 100.0)


def test_community_view_is_the_hand_sum_on_three_buildings(district):
    """A three-building transformer: capex, savings, community gain, NPV, LCOE and payback
    of the transformer row and of the district summary against sums and loops by hand."""
    b = district.buildings
    tid = b["transformer_id"].iloc[0]
    three = b[b["transformer_id"] == tid].iloc[:3]
    small = dataclasses.replace(
        district, buildings=three,
        transformers=district.transformers[district.transformers["transformer_id"] == tid],
        lines=district.lines[district.lines["transformer_id"].astype(str) == str(tid)])
    new_rows = read_assumptions()
    small = dataclasses.replace(small, assumptions=Assumptions(tuple(
        r for r in small.assumptions.rows if not r.key.startswith("econ.")) + tuple(
        r for r in new_rows.rows if r.key.startswith("econ."))))
    ids = list(three["building_id"].astype(str))
    sizes = [8.0, 25.0, 40.0]                  # one per size class
    scenario = dc.Scenario(name="three").with_pv(
        *[PvPlacement(i, k, 30.0, 180.0) for i, k in zip(ids, sizes, strict=True)])
    scenario = scenario.with_battery(BatteryPlacement(ids[1], 10.0, 5.0)
                                     ).with_community_battery(CommunityBattery(str(tid), 50.0,
                                                                               25.0))
    r = dc.evaluate(small, scenario, resilience=False)
    bl, tr = r.buildings.loc[ids], r.transformers.loc[str(tid)]
    p = ec.EconParams.from_assumptions(small.assumptions)
    # owners: size-class prices by hand (1500, 1300, 1100 EUR/kWp), battery 600/kWh + 100/kW
    owner_capex = [8 * 1500.0, 25 * 1300.0 + 10 * 600.0 + 5 * 100.0, 40 * 1100.0]
    assert list(bl["capex_eur"]) == pytest.approx(owner_capex)
    own_sav = [(x.demand_kwh - x.import_kwh) * 0.25 + x.export_kwh * 0.06
               for x in bl.itertuples()]
    assert list(bl["annual_savings_eur"]) == pytest.approx(own_sav)
    comm = 50 * 400.0 + 25 * 150.0
    capex = sum(owner_capex) + comm
    savings = (tr["demand_kwh"] - tr["import_kwh"]) * 0.25 + tr["export_kwh"] * 0.06
    assert tr["capex_eur"] == pytest.approx(capex)
    assert tr["annual_savings_eur"] == pytest.approx(savings)
    assert tr["community_gain_eur_per_a"] == pytest.approx(savings - sum(own_sav))
    assert tr["community_gain_eur_per_a"] > 0      # neighbours use each other's surplus
    npv, lcoe, payback = hand(capex, 10 * 600.0 + 5 * 100.0 + comm, savings, 73 * 20.0,
                              tr["pv_kwh"], p)
    assert tr["npv_eur"] == pytest.approx(npv, rel=1e-9)
    assert tr["lcoe_eur_per_kwh"] == pytest.approx(lcoe, rel=1e-9)
    assert tr["discounted_payback_a"] == pytest.approx(payback, rel=1e-9, nan_ok=False)
    s = r.summary
    assert s["npv_eur"] == pytest.approx(npv, rel=1e-9)
    assert s["owner_npv_eur"] == pytest.approx(bl["npv_eur"].sum(), rel=1e-12)
    for x, c, sv in zip(bl.itertuples(), owner_capex, own_sav, strict=True):
        bat = 6500.0 if x.building_id == ids[1] else 0.0
        assert x.npv_eur == pytest.approx(
            hand(c, bat, sv, x.pv_kwp * 20.0, x.pv_kwh, p)[0], rel=1e-9)
    assert s["capex_eur"] == pytest.approx(capex)
    assert s["community_gain_eur_per_a"] == pytest.approx(savings - sum(own_sav))
