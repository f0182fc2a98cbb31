"""The optimizer against an exact MILP (HiGHS), simple rules, the budget and hosting capacity."""

from __future__ import annotations

import dataclasses
import json

import highspy
import numpy as np
import pytest

import dashboard as dc
from dashboard.cli import main
from dashboard.domain.scenario import PvPlacement, Scenario
from dashboard.energy.economics import EconParams, pv_capex_eur
from dashboard.suggest import PV_FRACTIONS, npv_eur, suggest

FEEDER = "T02"          # 20 buildings behind a 250 kVA transformer


@pytest.fixture(scope="module")
def district():
    return dc.load_district()


@pytest.fixture(scope="module")
def feeder(district):
    """A 20-building feeder cut from the default district (one transformer, its lines)."""
    b = district.buildings
    keep = b[b["transformer_id"] == FEEDER].reset_index(drop=True)
    assert len(keep) == 20
    return dataclasses.replace(
        district, name="feeder T02", buildings=keep,
        transformers=district.transformers[district.transformers["transformer_id"] == FEEDER]
        .reset_index(drop=True),
        lines=district.lines[district.lines["transformer_id"].astype(str) == FEEDER]
        .reset_index(drop=True))


def pv_cost(district, kwp):
    """The engine's PV price (size classes) of systems of ``kwp`` [EUR], same shape."""
    p = EconParams.from_assumptions(district.assumptions)
    k = np.asarray(kwp, float)
    return pv_capex_eur(k.ravel(), p).reshape(k.shape)


def milp_pv_self_sufficiency(district, budget_eur: float, cap_kwp: float):
    """Exact optimum of the district's annual self-sufficiency with PV only: binary size
    choice per building, hourly served_t <= demand_t and <= PV_t, budget and hosting
    constraints. Hourly demand and per-kWp PV profiles are read from the engine's
    published series (PV is linear in kWp)."""
    b = district.buildings
    ids = b["building_id"].astype(str).tolist()
    pot = b["pv_potential_kwp"].to_numpy(float)
    full = Scenario(name="full", pv=tuple(
        PvPlacement(i, round(float(k), 3), float(t), float(a))
        for i, k, t, a in zip(ids, pot, b["roof_tilt_deg"], b["azimuth_deg"], strict=True)))
    res = dc.evaluate(district, full, resilience=False)
    demand = res.hourly()["demand"].to_numpy(float)
    unit = np.stack([res.hourly(building_id=i)["pv"].to_numpy(float) / round(float(k), 3)
                     for i, k in zip(ids, pot, strict=True)])            # (N, T) kWh/kWp
    sizes = np.round(np.outer(pot, PV_FRACTIONS), 3)                      # (N, S)
    cost = pv_cost(district, sizes)                                      # (N, S) EUR
    n, s_count, t_count = len(ids), len(PV_FRACTIONS), len(demand)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 1e-6)
    inf = highspy.kHighsInf
    # variables: x[b, s] binary (first n*S), served[t] continuous
    nx = n * s_count
    for _ in range(nx):
        h.addVar(0.0, 1.0)
    for t in range(t_count):
        h.addVar(0.0, float(demand[t]))
    h.changeColsIntegrality(nx, np.arange(nx, dtype=np.int32),
                            np.full(nx, highspy.HighsVarType.kInteger))
    h.changeColsCost(t_count, np.arange(nx, nx + t_count, dtype=np.int32),
                     np.full(t_count, -1.0))
    for i in range(n):              # one size per building at most
        h.addRow(-inf, 1.0, s_count, np.arange(i * s_count, (i + 1) * s_count, dtype=np.int32),
                 np.ones(s_count))
    idx = np.arange(nx, dtype=np.int32)
    h.addRow(-inf, budget_eur, nx, idx, cost.ravel())
    h.addRow(-inf, cap_kwp, nx, idx, sizes.ravel())
    pv_coef = (sizes[:, :, None] * unit[:, None, :]).reshape(nx, t_count)   # (N*S, T)
    for t in range(t_count):        # served_t - sum x * kwp * unit_t <= 0
        h.addRow(-inf, 0.0, nx + 1, np.append(idx, nx + t).astype(np.int32),
                 np.append(-pv_coef[:, t], 1.0))
    h.run()
    sol = np.asarray(h.getSolution().col_value)
    x = sol[:nx].reshape(n, s_count).round()
    chosen = Scenario(name="milp", pv=tuple(
        PvPlacement(ids[i], float(sizes[i, j]), float(b["roof_tilt_deg"].iloc[i]),
                    float(b["azimuth_deg"].iloc[i]))
        for i in range(n) for j in range(s_count) if x[i, j] > 0.5))
    return sol[nx:].sum() / demand.sum(), chosen


@pytest.mark.parametrize("budget_eur", [40_000.0, 120_000.0])
def test_greedy_within_2pct_of_milp_on_a_20_building_feeder(feeder, budget_eur):
    # PV only, like the reference; same budget, same hosting cap
    s = suggest(feeder, budget_eur, "self_sufficiency", batteries=False, grid_check=False)
    assert not s.scenario.batteries
    cap = float(s.hosting_cap_kwp[FEEDER])
    opt, chosen = milp_pv_self_sufficiency(feeder, budget_eur, cap)
    engine_opt = dc.evaluate(feeder, chosen, resilience=False).summary["self_sufficiency"]
    assert engine_opt == pytest.approx(opt, rel=1e-3)     # the MILP models the engine
    assert s.objective_end >= 0.98 * engine_opt
    assert s.spent_eur <= budget_eur


def _spend(district, scenario):
    return dc.evaluate(district, scenario, resilience=False).summary["capex_eur"]


def largest_roofs_first(district, budget_eur, cap):
    """Rule: full roof potential on the largest roofs while budget and hosting allow."""
    b = district.buildings.sort_values("roof_area_m2", ascending=False)
    added: dict[str, float] = {}
    out, spent = [], 0.0
    for row in b.itertuples():
        kwp = round(float(row.pv_potential_kwp), 3)
        t = str(row.transformer_id)
        price = float(pv_cost(district, np.array([kwp]))[0])
        if spent + price <= budget_eur and added.get(t, 0.0) + kwp <= cap[t]:
            out.append(PvPlacement(str(row.building_id), kwp, float(row.roof_tilt_deg),
                                   float(row.azimuth_deg)))
            spent += price
            added[t] = added.get(t, 0.0) + kwp
    return Scenario(name="largest roofs first", pv=tuple(out))


def all_roofs_above(district, budget_eur):
    """Rule: every roof of at least X m² at full potential, X the smallest that fits."""
    b = district.buildings
    for x in np.sort(b["roof_area_m2"].unique()):
        sel = b[b["roof_area_m2"] >= x]
        if pv_cost(district, sel["pv_potential_kwp"].round(3).to_numpy()).sum() <= budget_eur:
            return Scenario(name=f"roofs >= {x:.0f}", pv=tuple(
                PvPlacement(str(r.building_id), round(float(r.pv_potential_kwp), 3),
                            float(r.roof_tilt_deg), float(r.azimuth_deg))
                for r in sel.itertuples()))
    return Scenario(name="none")


@pytest.mark.parametrize("objective", ["self_sufficiency", "npv"])
def test_beats_simple_rules_at_equal_budget_and_respects_budget_and_hosting(district,
                                                                           objective):
    budget = 300_000.0
    s = suggest(district, budget, objective)
    assert s.spent_eur <= budget
    assert s.result.summary["capex_eur"] == pytest.approx(s.spent_eur, rel=1e-6)
    assert (s.added_kwp <= s.hosting_cap_kwp + 1e-6).all()
    kwp = s.result.transformers["pv_kwp"]
    assert (kwp <= s.hosting_cap_kwp.reindex(kwp.index) + 1e-6).all()
    value = {"self_sufficiency": lambda r: r.summary["self_sufficiency"],
             "npv": lambda r: npv_eur(r, district)}[objective]
    assert value(s.result) == pytest.approx(s.objective_end)
    for rule in (largest_roofs_first(district, budget, s.hosting_cap_kwp),
                 all_roofs_above(district, budget)):
        assert _spend(district, rule) <= budget
        assert value(dc.evaluate(district, rule, resilience=False)) <= s.objective_end, rule.name


def test_hosting_capacity_binds(feeder):
    """A budget far above the transformer's hosting capacity stops at the capacity."""
    s = suggest(feeder, 5_000_000.0, "self_sufficiency", grid_check=False)
    cap = float(s.hosting_cap_kwp[FEEDER])
    added = float(s.result.transformers.loc[FEEDER, "pv_kwp"])
    assert added <= cap + 1e-6
    assert added > 0.5 * cap        # it did spend up to the cap, not stop early
    assert s.spent_eur < 5_000_000.0


def test_resilience_places_batteries_and_gains(feeder):
    s = suggest(feeder, 60_000.0, "resilience", grid_check=False)
    p24 = s.result.buildings["p_survive_24h"].mean()
    assert p24 == pytest.approx(s.objective_end)
    assert s.objective_end > s.objective_start
    assert len(s.scenario.batteries) > 0
    assert s.spent_eur <= 60_000.0


def test_critical_only_without_marks_is_a_clear_error(feeder):
    with pytest.raises(dc.DecentraError, match="no critical buildings marked"):
        suggest(feeder, 10_000.0, "resilience", critical_only=True)


def test_critical_only_places_only_on_critical_buildings(feeder):
    b = feeder.buildings.copy()
    b["critical"] = False
    # the two smallest demands under a fair roof: PV and a battery can carry them
    two = b[b["pv_potential_kwp"] >= 10].sort_values("annual_demand_kwh").index[:2]
    b.loc[two, "critical"] = True
    marked = dataclasses.replace(feeder, buildings=b)
    s = suggest(marked, 120_000.0, "resilience", critical_only=True, grid_check=False)
    placed = {p.building_id for p in s.scenario.pv} | {x.building_id
                                                        for x in s.scenario.batteries}
    assert placed and placed <= set(b.loc[two, "building_id"].astype(str))
    crit = s.result.buildings.loc[list(b.loc[two, "building_id"]), "p_survive_24h"].mean()
    assert crit == pytest.approx(s.objective_end)


def test_cli_writes_a_scenario_the_app_opens(district, tmp_path, capsys):
    out = tmp_path / "s.json"
    assert main(["suggest", "--budget-eur", "80000", "--objective", "self_sufficiency",
                 "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "per kEUR" in printed
    scenario = Scenario.from_json(out.read_text())
    assert "gain" in scenario.notes and scenario.pv
    r = dc.evaluate(district, scenario, resilience=False)
    assert r.summary["capex_eur"] <= 80_000
    assert json.loads(out.read_text())["notes"] == scenario.notes
    assert main(["suggest", "--budget-eur", "1000", "--objective", "resilience",
                 "--critical-only", "-o", str(tmp_path / "x.json")]) == 2
    assert "no critical buildings marked" in capsys.readouterr().err


def test_the_planners_critical_marks_count(feeder):
    """Critical facilities are the district's flags with the scenario's marks applied: marks
    in the starting scenario alone restrict --critical-only and the resilience objective."""
    from dashboard.domain.scenario import CriticalMark

    b = feeder.buildings
    two = b[b["pv_potential_kwp"] >= 10].sort_values("annual_demand_kwh")["building_id"] \
        .astype(str).iloc[:2].tolist()
    start = Scenario(name="marked", critical=tuple(CriticalMark(i, True) for i in two))
    s = suggest(feeder, 120_000.0, "resilience", start=start, critical_only=True,
                grid_check=False)
    placed = {p.building_id for p in s.scenario.pv} | {x.building_id
                                                        for x in s.scenario.batteries}
    assert placed and placed <= set(two)
    crit = s.result.buildings.set_index("building_id").loc[two, "p_survive_24h"].mean()
    assert crit == pytest.approx(s.objective_end)


def test_the_start_scenarios_price_overrides_are_the_prices_spent(feeder):
    """A scenario whose Inputs tab doubled the PV prices: the optimizer spends at those prices
    (the engine's capex of what it placed, with the same overrides), not the district's."""
    prices = [2 * p for p in EconParams.from_assumptions(feeder.assumptions).pv_capex_eur_per_kwp]
    start = Scenario(name="dear PV").with_assumptions(
        {"econ.pv_capex_by_class_eur_per_kwp": prices})
    s = suggest(feeder, 40_000.0, "self_sufficiency", start=start, batteries=False,
                grid_check=False)
    assert s.scenario.assumptions == start.assumptions
    capex = dc.evaluate(feeder, s.scenario).summary["capex_eur"]
    assert capex == pytest.approx(s.spent_eur, rel=1e-9)
    assert 20_000.0 < capex <= 40_000.0
    kwp = np.array([p.kwp for p in s.scenario.pv])
    assert capex == pytest.approx(pv_cost(feeder, kwp).sum() * 2, rel=1e-9)
