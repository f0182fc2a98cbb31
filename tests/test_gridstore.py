"""Storage and PV for the grid: peak-shaving community batteries and PV export limits, against
a plain hour-by-hour loop, the linear-programming optimum (HiGHS) and hand calculations."""

from __future__ import annotations

import json
import math
from pathlib import Path

import highspy
import numpy as np
import pytest

from dashboard.domain.errors import DecentraError
from dashboard.domain.scenario import CommunityBattery, PvPlacement, Scenario
from dashboard.energy import grid
from dashboard.energy.storage import peak_shave_series, peak_shave_step, peak_shave_target
from dashboard.engine import model_from_arrays, placements_from_arrays, simulate
from tests.reference import dispatch

BIG = grid.NO_LIMIT
DATA = Path(__file__).parent / "data"


# ---- the rule, written out hour by hour in plain Python ---------------------------------------
def shave_loop(net, cap, power, round_trip, soc0, imp_lim, exp_lim, target):
    eta = math.sqrt(round_trip)
    soc, out = soc0, []
    for x in net:
        ch = dis = 0.0
        if x > imp_lim:
            dis = min(x - imp_lim, power, soc * eta)
        elif -x > exp_lim:
            ch = min(-x - exp_lim, power, (cap - soc) / eta)
        elif soc < target:
            ch = max(0.0, min(imp_lim - x, power, (cap - soc) / eta, (target - soc) / eta))
        elif soc > target:
            dis = max(0.0, min(x + exp_lim, power, soc * eta, (soc - target) * eta))
        soc = min(max(soc + ch * eta - dis / eta, 0.0), cap)
        out.append((ch, dis, x + ch - dis))
    return out


def test_peak_shave_step_by_hand():
    # import 150 over a 100 kW limit: discharge 50
    assert peak_shave_step(150.0, 80.0, 100.0, 60.0, 1.0, 1.0, 100.0, BIG, 100.0) == (
        0.0, 50.0, 30.0)
    # power-limited: 200 - 100 = 100 wanted, 60 possible
    assert peak_shave_step(200.0, 80.0, 100.0, 60.0, 1.0, 1.0, 100.0, BIG, 100.0)[1] == 60.0
    # 40 kW below the limit with 90 kWh stored: recharge 10 to the target (full)
    assert peak_shave_step(60.0, 90.0, 100.0, 60.0, 1.0, 1.0, 100.0, BIG, 100.0) == (
        10.0, 0.0, 100.0)
    # 95 kW import, 5 kW headroom: recharge only 5 so the import stays at the limit
    assert peak_shave_step(95.0, 0.0, 100.0, 60.0, 1.0, 1.0, 100.0, BIG, 100.0) == (
        5.0, 0.0, 5.0)
    # export 80 over a 50 kW export limit: charge 30
    assert peak_shave_step(-80.0, 0.0, 100.0, 60.0, 1.0, 1.0, BIG, 50.0, 0.0) == (
        30.0, 0.0, 30.0)
    # export-only limit, 20 kW import, 30 kWh stored: empty toward 0 (room for the next
    # surplus) as far as the export stays within 50 kW: all 30 (net 20 - 30 = -10)
    assert peak_shave_step(20.0, 30.0, 100.0, 60.0, 1.0, 1.0, BIG, 50.0, 0.0) == (
        0.0, 30.0, 0.0)
    # ... and with 45 kW export already, only 5
    assert peak_shave_step(-45.0, 30.0, 100.0, 60.0, 1.0, 1.0, BIG, 50.0, 0.0) == (
        0.0, 5.0, 25.0)
    assert peak_shave_target(100.0, True, False) == 100.0
    assert peak_shave_target(100.0, False, True) == 0.0
    assert peak_shave_target(100.0, True, True) == 50.0


@pytest.mark.parametrize("seed", range(6))
def test_peak_shave_series_matches_the_plain_loop(seed):
    rng = np.random.default_rng(seed)
    net = rng.normal(20.0, 60.0, 300)
    cap, power, rt = 150.0, 40.0, 0.9
    imp, exp = [(60.0, BIG), (BIG, 40.0), (70.0, 30.0)][seed % 3]
    target = peak_shave_target(cap, imp < BIG, exp < BIG)
    eta = math.sqrt(rt)
    ch, dis, soc = peak_shave_series(net, cap, power, eta, eta, 30.0, imp, exp, target)
    ref = shave_loop(net, cap, power, rt, 30.0, imp, exp, target)
    np.testing.assert_allclose(ch, [r[0] for r in ref], atol=1e-9)
    np.testing.assert_allclose(dis, [r[1] for r in ref], atol=1e-9)
    assert soc[0] == 30.0 and (soc >= -1e-9).all() and (soc <= cap + 1e-9).all()


def lp_min_peak(net, cap, power, eta, soc0, side):
    """The smallest achievable peak import (side=+1) or export (side=-1) of ``net`` with a
    battery (charge c, discharge d, state s), by mixed-integer linear programming (HiGHS): a
    binary per hour forbids charging and discharging at once (which would burn energy in
    losses, something no real dispatch does)."""
    t_n = len(net)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    # columns: c[0:T], d[T:2T], s[2T:3T] (state after hour t), P
    for _ in range(t_n):
        h.addVar(0.0, power)
    for _ in range(t_n):
        h.addVar(0.0, power)
    for _ in range(t_n):
        h.addVar(0.0, cap)
    h.addVar(-inf, inf)
    p = 3 * t_n
    h.changeColCost(p, 1.0)
    for _ in range(t_n):
        h.addVar(0.0, 1.0)
    h.changeColsIntegrality(t_n, np.arange(p + 1, p + 1 + t_n, dtype=np.int32),
                            np.full(t_n, highspy.HighsVarType.kInteger))
    for t in range(t_n):    # c_t <= power z_t, d_t <= power (1 - z_t)
        z = p + 1 + t
        h.addRow(-inf, 0.0, 2, np.array([t, z], np.int32), np.array([1.0, -power]))
        h.addRow(-inf, power, 2, np.array([t_n + t, z], np.int32), np.array([1.0, power]))
    for t in range(t_n):
        # side * (net + c - d) <= P
        h.addRow(-inf, -side * net[t], 3, np.array([t, t_n + t, p], np.int32),
                 np.array([side, -side, -1.0]))
        # s_t - s_{t-1} - eta c + d / eta = 0 (s_{-1} = soc0)
        if t == 0:
            h.addRow(soc0, soc0, 3, np.array([2 * t_n, 0, t_n], np.int32),
                     np.array([1.0, -eta, 1.0 / eta]))
        else:
            h.addRow(0.0, 0.0, 4, np.array([2 * t_n + t, 2 * t_n + t - 1, t, t_n + t], np.int32),
                     np.array([1.0, -1.0, -eta, 1.0 / eta]))
    h.run()
    return float(h.getInfo().objective_function_value)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("side", [1, -1])
def test_heuristic_reaches_the_lp_optimum_peak(seed, side):
    """Whenever the LP says a peak P is reachable, the rule with limit P holds it; a limit a
    little below P* cannot be held (so the test would catch a rule that claims too much)."""
    rng = np.random.default_rng(100 + seed)
    hours = np.arange(96)
    net = side * (50.0 + 40.0 * np.sin(2 * np.pi * hours / 24) + rng.normal(0, 10, 96))
    cap, power, rt, soc0 = 120.0, 30.0, 0.81, 60.0
    eta = math.sqrt(rt)
    best = lp_min_peak(net, cap, power, eta, soc0, side)
    assert best < side * net.max() * side - 1.0 if side > 0 else best < -net.min() - 1.0
    lim = best + 1e-6
    imp, exp = (lim, BIG) if side > 0 else (BIG, lim)
    target = peak_shave_target(cap, side > 0, side < 0)
    ch, dis, _ = peak_shave_series(net, cap, power, eta, eta, soc0, imp, exp, target)
    assert (side * (net + ch - dis)).max() <= lim + 1e-6
    lim = best - 0.5
    imp, exp = (lim, BIG) if side > 0 else (BIG, lim)
    ch, dis, _ = peak_shave_series(net, cap, power, eta, eta, soc0, imp, exp, target)
    assert (side * (net + ch - dis)).max() > lim + 1e-3


# ---- the engine: curtailment and a peak-shaving community battery --------------------------
def small_area(export_share=None, comm_imp=None, comm_exp=None, comm_kwh=0.0, comm_kw=0.0):
    """Four buildings behind one 40 kVA transformer over 48 hours: a sunny midday, an evening
    peak. Buildings 0 and 2 have PV, building 0 a battery."""
    t = np.arange(48)
    load = np.column_stack([1.0 + 0.8 * np.cos(2 * np.pi * (t - 19) / 24)]).clip(0.05)
    load = load / load.sum()
    sun = np.clip(np.sin(np.pi * (t % 24 - 6) / 12), 0, None)
    pv = np.column_stack([np.zeros(48), sun])
    model = model_from_arrays(load, prof_idx=[0, 0, 0, 0], annual_kwh=[400, 300, 250, 500],
                              building_transformer=[0, 0, 0, 0], rating_kva=[40.0],
                              hosting_unit=sun.astype(np.float32))
    kwp = np.array([30.0, 0.0, 20.0, 0.0])
    lim = None if export_share is None else np.where(kwp > 0, export_share * kwp, BIG)
    pl = placements_from_arrays(
        model, pv, pv_idx=[1, 0, 1, 0], kwp=kwp, cap_kwh=[10.0, 0, 0, 0],
        power_kw=[5.0, 0, 0, 0], soc0_kwh=[2.0, 0, 0, 0], round_trip=0.9,
        comm_kwh=[comm_kwh], comm_kw=[comm_kw], comm_soc0_kwh=[0.0], export_lim_kw=lim,
        comm_import_lim_kw=None if comm_imp is None else [comm_imp],
        comm_export_lim_kw=None if comm_exp is None else [comm_exp])
    return model, pl, load, pv, kwp


def test_curtailment_against_a_hand_loop_and_the_balance_closes():
    model, pl, load, pv, kwp = small_area(export_share=0.4)
    sim = simulate(model, pl, resilience=False)
    annual = [400, 300, 250, 500]
    caps = [(10.0, 5.0, 2.0), (0, 0, 0), (0, 0, 0), (0, 0, 0)]
    pooled_net = np.zeros(48)
    pooled_curt = np.zeros(48)
    for b in range(4):
        d = annual[b] * load[:, 0]
        g = kwp[b] * pv[:, 1 if kwp[b] else 0]
        rows = dispatch(d, g, caps[b][0], caps[b][1], 0.9, caps[b][2])
        imp = exp = cur = 0.0
        for t, r in enumerate(rows):
            x = d[t] - g[t] + r["charge"] - r["discharge"]
            c = max(-x - 0.4 * kwp[b], 0.0) if kwp[b] else 0.0
            x += c
            imp, exp, cur = imp + max(x, 0), exp + max(-x, 0), cur + c
            pooled_net[t] += x
            pooled_curt[t] += c
        st = sim.b_stats[b]
        assert st[grid.B_CURTAIL] == pytest.approx(cur, rel=1e-6)
        assert st[grid.B_IMPORT] == pytest.approx(imp, rel=1e-6)
        assert st[grid.B_EXPORT] == pytest.approx(exp, abs=1e-4)
        assert st[grid.B_PV] == pytest.approx(g.sum() - cur, abs=1e-4)
        # demand = self-consumed PV + import - net battery energy (losses)
        assert st[grid.B_DEMAND] == pytest.approx(
            (st[grid.B_PV] - st[grid.B_EXPORT]) + st[grid.B_IMPORT]
            - (st[grid.B_CHARGE] - st[grid.B_DISCHARGE]), abs=1e-4)
    assert sim.b_stats[0, grid.B_CURTAIL] > 1.0 and sim.b_stats[2, grid.B_CURTAIL] > 1.0
    np.testing.assert_allclose(sim.series[0, grid.S_NET], pooled_net, atol=1e-4)
    np.testing.assert_allclose(sim.series[0, grid.S_CURTAIL], pooled_curt, atol=1e-4)
    t = sim.t_stats[0]
    assert t[grid.T_CURTAIL] == pytest.approx(pooled_curt.sum(), abs=1e-3)
    assert t[grid.T_PV] == pytest.approx(sim.b_stats[:, grid.B_PV].sum(), abs=1e-3)
    assert t[grid.T_PEAK_EXPORT] == pytest.approx(max(-pooled_net.min(), 0), abs=1e-4)


def test_no_export_limit_changes_nothing():
    model, pl, *_ = small_area()
    model, pl1, *_ = small_area(export_share=1e9)
    a, b = simulate(model, pl, resilience=False), simulate(model, pl1, resilience=False)
    np.testing.assert_allclose(a.b_stats, b.b_stats, atol=1e-4)
    assert (a.b_stats[:, grid.B_CURTAIL] == 0).all()


def test_hosting_estimate_with_an_export_limit_meets_its_definition():
    """Added PV injects min(u_t, share) per kWp: the estimate is the largest x with
    net_t - x min(u_t, share) >= -rating in every hour (checked by scanning x)."""
    hosted = {}
    for share in (None, 0.5):
        model, pl, *_ = small_area()
        if share is not None:
            from dataclasses import replace
            pl = replace(pl, pv_export_share=share)
        sim = simulate(model, pl, resilience=False)
        host = sim.t_stats[0, grid.T_HOSTING_KWP]
        net = sim.series[0, grid.S_NET].astype(float)
        u = model.hosting_unit.astype(float)
        inj = u if share is None else np.minimum(u, share)
        ok = [x for x in np.linspace(0, 400, 40001) if (net - x * inj >= -40.0 - 1e-6).all()]
        assert host == pytest.approx(max(ok), abs=0.02)
        hosted[share] = host
    assert hosted[0.5] > 1.5 * hosted[None]


def test_peak_shaving_holds_the_transformer_where_greedy_does_not():
    # pooled export at midday is far above 20 kW: a 100 kWh / 40 kW battery shaves it to 20
    model, pl, *_ = small_area(comm_exp=20.0, comm_kwh=100.0, comm_kw=40.0)
    shaved = simulate(model, pl, resilience=False)
    net_btm = shaved.series[0, grid.S_NET_BTM].astype(float)
    assert -net_btm.min() > 30.0
    ref = shave_loop(net_btm, 100.0, 40.0, 0.9, 0.0, BIG, 20.0, 0.0)
    np.testing.assert_allclose(shaved.series[0, grid.S_NET], [r[2] for r in ref], atol=1e-3)
    assert -shaved.series[0, grid.S_NET].min() <= 20.0 + 1e-3
    t = shaved.t_stats[0]
    assert t[grid.T_CHARGE] == pytest.approx(sum(r[0] for r in ref), abs=1e-3)


# ---- the scenario file ----------------------------------------------------------------------
def test_version_1_file_opens_with_the_defaults():
    text = (DATA / "scenario_v1_gridstore.json").read_text()
    assert json.loads(text)["version"] == 1
    s = Scenario.from_json(text)
    c = s.community_battery_of("T01")
    assert c.mode == "self_consumption" and c.import_limit_kw is None
    assert s.params.pv_export_limit_share is None and s.pv_of("B001").export_limit_share is None
    back = Scenario.from_json(s.to_json())
    assert back == s and json.loads(s.to_json())["version"] == 2
    assert "mode" not in json.loads(s.to_json())["community_batteries"][0]


def test_new_fields_round_trip_and_change_the_hash():
    base = Scenario(pv=(PvPlacement("B1", 10.0),),
                    community_batteries=(CommunityBattery("T1", 200, 100),))
    shaved = base.with_community_battery(CommunityBattery("T1", 200, 100, "peak_shaving",
                                                          import_limit_kw=400.0))
    limited = base.with_params(pv_export_limit_share=0.6)
    one = base.with_pv(PvPlacement("B1", 10.0, export_limit_share=0.5))
    hashes = {x.content_hash() for x in (base, shaved, limited, one)}
    assert len(hashes) == 4
    for x in (shaved, limited, one):
        back = Scenario.from_json(x.to_json())
        assert back == x and back.content_hash() == x.content_hash()


@pytest.mark.parametrize("kwargs, message", [
    ({"mode": "arbitrage"}, "mode"),
    ({"mode": "peak_shaving"}, "needs an import limit"),
    ({"mode": "peak_shaving", "import_limit_kw": -1.0}, "import limit"),
])
def test_bad_battery_modes_are_refused(kwargs, message):
    with pytest.raises(DecentraError, match=message):
        CommunityBattery("T1", 100, 50, **kwargs)


def test_bad_export_share_is_refused():
    with pytest.raises(DecentraError, match="export limit"):
        Scenario().with_params(pv_export_limit_share=1.5)
    with pytest.raises(DecentraError, match="export limit"):
        PvPlacement("B1", 5.0, export_limit_share=-0.1)


# ---- the power flow: injections with curtailment and peak shaving, hosting with a limit ------
@pytest.fixture(scope="module")
def limited_scenario(district):
    import dashboard as dc
    s = dc.place_pv_by_rule(district, dc.Scenario(name="limited"), min_roof_m2=250,
                            coverage=0.5)
    bats = [dc.BatteryPlacement(p.building_id, 20.0, 10.0) for p in s.pv[::3]]
    return (s.with_battery(*bats).with_params(pv_export_limit_share=0.5)
            .with_community_battery(CommunityBattery("T01", 400.0, 150.0, "peak_shaving",
                                                     export_limit_kw=300.0)))


def test_injections_with_curtailment_and_peak_shaving_equal_runpp(district, limited_scenario):
    """Each building's net load by hand (greedy battery, then PV above 0.5 x kWp curtailed),
    the community battery by the plain peak-shaving loop on the pooled net; pandapower's runpp
    with these injections gives the study's voltages and line loadings."""

    import dashboard as dc
    from dashboard import gridstudy as gs
    from dashboard.energy import powerflow as pf
    from dashboard.engine import build_placements, district_model
    from tests.test_powerflow import TOL_PU, runpp_hour

    s = limited_scenario
    nm, model = gs.net_model(district), district_model(district)
    pl = build_placements(model, s)
    result = dc.evaluate(district, s, resilience=False)
    tan_phi = np.tan(np.arccos(model.power_factor))
    nets = {}
    curtailed_total = 0.0
    for bid in model.building_ids:
        h = result.hourly(building_id=bid)
        d, g = h["demand"].to_numpy(), (h["pv"] + h["pv_curtailed"]).to_numpy()
        bat, pv = s.battery_of(bid), s.pv_of(bid)
        rt = model.round_trip
        cap = bat.capacity_kwh * (1 - model.min_soc) if bat else 0.0
        soc0 = bat.capacity_kwh * max(model.initial_soc - model.min_soc, 0) if bat else 0.0
        rows = dispatch(d, g, cap, bat.power_kw if bat else 0.0, rt, soc0)
        x = np.array([r["net"] for r in rows])
        c = np.clip(-x - 0.5 * pv.kwp, 0, None) if pv else np.zeros_like(x)
        curtailed_total += c.sum()
        nets[bid] = x + c
    assert curtailed_total > 1000.0
    assert result.summary["pv_curtailed_kwh"] == pytest.approx(curtailed_total, rel=1e-4)
    # the community battery at T01 shaves its pooled net export to 300 kW where it can
    k = int(np.flatnonzero(model.transformer_ids == "T01")[0])
    behind = model.building_ids[model.building_transformer == k]
    pooled = np.sum([nets[b] for b in behind], axis=0)
    cap = 400.0 * (1 - model.min_soc)
    ref = shave_loop(pooled, cap, 150.0, model.round_trip,
                     400.0 * max(model.initial_soc - model.min_soc, 0), BIG, 300.0, 0.0)
    comm_ref = np.array([r[0] - r[1] for r in ref])
    community = gs.community_kw(district, s)
    np.testing.assert_allclose(community[k], comm_ref, atol=2e-2)
    over_before = int((-pooled > 300.0 + 1e-6).sum())
    assert over_before > 50 and (-(pooled + comm_ref) > 300.0 + 1e-6).sum() < 0.7 * over_before
    net_kw = result.district_net_kw
    hours = sorted({int(net_kw.argmin()), int(net_kw.argmax()), 4500})
    solved = {}
    for i in range(nm.n_islands):
        inj = gs.island_injections(nm, model, pl, i, community)
        sol = pf.solve_island(nm.grid.islands[i],
                              gs.s_pu(nm, inj.p_kw, inj.d_kw, tan_phi)[hours].T)
        assert sol.converged.all()
        v, line, _ = gs.island_flows(nm, i, sol.v_pq)
        solved[i] = (v, line)
    dnet = nm.dnet
    for col, h in enumerate(hours):
        p = np.array([nets[b][h] for b in model.building_ids])
        q = np.array([tan_phi * model.annual_kwh[j] * model.load_prof[h, model.prof_idx[j]]
                      for j in range(model.n_buildings)])
        vm_ref, line_ref = runpp_hour(dnet, p, q, community[:, h])
        line_ref = line_ref.to_numpy()
        for i, (v, line) in solved.items():
            isl = nm.grid.islands[i]
            order = np.concatenate([isl.pq, isl.slack])
            buses = nm.bus_table.set_index("ppc").loc[order, "bus"].to_numpy()
            assert np.abs(np.abs(v[:, col]) - vm_ref.loc[buses].to_numpy()).max() < 20 * TOL_PU
            rows = gs.island_branches(nm, i).line_rows
            assert np.abs(line[:, col] - line_ref[rows]).max() < 1e-3


def test_power_flow_hosting_with_an_export_limit_holds_under_runpp(tmp_path):
    """Added PV injects min(u_t, 0.3) per kWp: just below the capacity pandapower keeps every
    limit at the binding hour, just above it breaks one; the limit raises the capacity."""
    import dashboard as dc
    from dashboard import gridstudy as gs
    from dashboard.engine import build_placements, district_model
    from tests.test_powerflow import runpp_hour, small_feeder

    d = small_feeder(tmp_path)
    nm, model = gs.net_model(d), district_model(d)
    limits = gs.limits_of(d)
    tan_phi = np.tan(np.arccos(model.power_factor))
    out = {}
    for share in (None, 0.3):
        pl = build_placements(model, dc.Scenario().with_params(pv_export_limit_share=share))
        island = int(nm.transformer_island[0])
        inj = gs.island_injections(nm, model, pl, island)
        s0 = gs.s_pu(nm, inj.p_kw, inj.d_kw, tan_phi)
        out[share] = gs.hosting_capacity(nm, model, pl, 0, s0, limits, cap_kwp=5000.0,
                                         tol_kwp=0.5)
    hc = out[0.3]
    assert 0 < hc.kwp < 5000 and hc.kwp > out[None].kwp * 1.3
    rows = np.flatnonzero(model.building_transformer == 0)
    room = np.maximum(model.roof_area_m2[rows] / model.module_area_m2_per_kwp, 0)
    h = hc.hour
    p_b = model.annual_kwh * model.load_prof[h, model.prof_idx]
    add = np.zeros(len(p_b))
    add[rows] = room / room.sum() * min(float(model.hosting_unit[h]), 0.3)

    def worst(x):
        vm, line = runpp_hour(nm.dnet, p_b - x * add, tan_phi * p_b)
        return vm.max(), line.max(), nm.dnet.net.res_trafo["loading_percent"].max()

    below, above = worst(0.98 * hc.kwp), worst(1.02 * hc.kwp)
    assert below[0] <= limits["voltage_max_pu"] + 1e-9 and below[1] <= 100 + 1e-6 \
        and below[2] <= 100 + 1e-6
    assert above[0] > limits["voltage_max_pu"] or above[1] > 100 or above[2] > 100


# ---- the command line with a version-2 scenario ----------------------------------------------
def test_cli_evaluate_grid_and_report_with_the_new_fields(tmp_path, district):
    import dashboard as dc
    from tests.test_cli import run

    s = dc.place_pv_by_rule(district, dc.Scenario(name="grid storage cli"), min_roof_m2=150,
                            coverage=0.6)
    s = (s.with_params(pv_export_limit_share=0.6)
         .with_community_battery(CommunityBattery("T02", 400.0, 200.0, "peak_shaving",
                                                  export_limit_kw=237.5),
                                 CommunityBattery("T01", 100_000.0, 50_000.0)))
    path = tmp_path / "s.json"
    path.write_text(s.to_json())
    expected = dc.evaluate(district, Scenario.from_json(path.read_text()), resilience=False)
    out = run("evaluate", "--scenario", str(path), "--json", "--no-resilience")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["summary"]["pv_curtailed_kwh"] == pytest.approx(
        expected.summary["pv_curtailed_kwh"], rel=1e-9)
    assert data["summary"]["pv_curtailed_kwh"] > 0
    assert len(data["warnings"]) == 2 and "T01" in data["warnings"][0]
    t02 = next(t for t in data["transformers"] if t["transformer_id"] == "T02")
    assert t02["hours_above_rating"] == expected.transformers.loc["T02", "hours_above_rating"]
    text = run("evaluate", "--scenario", str(path), "--no-resilience")
    assert "warning: community battery at T01" in text.stdout and "PV curtailed" in text.stdout
    v1 = run("evaluate", "--scenario", str(DATA / "scenario_v1_gridstore.json"), "--json",
             "--no-resilience")
    assert v1.returncode == 0, v1.stderr
    grid_out = run("grid", "--scenario", str(path), "--json", "--no-hosting")
    assert grid_out.returncode == 0, grid_out.stderr
    assert json.loads(grid_out.stdout)["converged"]
    pdf = tmp_path / "report.pdf"
    rep = run("export", "--scenario", str(path), "-f", "report", "-o", str(pdf))
    assert rep.returncode == 0, rep.stderr
    from pypdf import PdfReader
    text = " ".join(" ".join((p.extract_text() or "").split())
                    for p in PdfReader(str(pdf)).pages)
    assert "Storage and PV for the grid" in text and "peak shaving" in text
    assert "PV export limited to 60 %" in text and "community battery at T01" in text
