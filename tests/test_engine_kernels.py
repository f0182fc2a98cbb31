"""The array engine on hand-made inputs: values checked on paper, and the fast paths (closed
form for buildings without storage, pooled series) against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.energy import grid
from dashboard.energy.closedform import build_pair, pair_stats
from dashboard.engine import model_from_arrays, placements_from_arrays, simulate
from tests.reference import dispatch, survival

# Two buildings, four hours (see the docstring of test_two_buildings_by_hand).
LOAD = np.full((4, 1), 0.25)                      # flat profile: 1/4 of annual energy per hour
PV = np.array([[0.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 0.0]])  # col 0 = no PV


def two_buildings(same_transformer: bool = True, **kw):
    model = model_from_arrays(LOAD, prof_idx=[0, 0], annual_kwh=[8.0, 4.0],
                              building_transformer=[0, 0] if same_transformer else [0, 1],
                              rating_kva=[100.0] if same_transformer else [100.0, 100.0],
                              crit_frac=0.5, horizon_h=4, **kw)
    pl = placements_from_arrays(model, PV, pv_idx=[1, 0], kwp=[3.0, 0.0], cap_kwh=[1.0, 0.0],
                                power_kw=[1.0, 0.0], soc0_kwh=[0.0, 0.0], round_trip=1.0)
    return model, pl


def test_two_buildings_by_hand():
    """Building 1: 8 kWh/a flat = 2 kW, 3 kWp with PV 0/1/1/0 kWh per kWp -> 0/3/3/0 kW, a
    lossless 1 kWh / 1 kW battery, empty at the start. Building 2: 1 kW, nothing installed.

    hour  b1: load pv  battery        grid      b2 grid   pooled net
      0        2   0   empty          import 2  import 1      3
      1        2   3   charge 1       0         import 1      1
      2        2   3   full           export 1  import 1      0
      3        2   0   discharge 1    import 1  import 1      2
    b1: D 8, G 6, I 3, E 1 -> self-sufficiency 5/8, self-consumption 5/6.
    Transformer: D 12, G 6, I 6, E 0 -> self-sufficiency 1/2, self-consumption 1.
    """
    model, pl = two_buildings()
    sim = simulate(model, pl)
    b1, b2 = sim.b_stats
    assert b1[grid.B_DEMAND] == pytest.approx(8) and b1[grid.B_PV] == pytest.approx(6)
    assert b1[grid.B_IMPORT] == pytest.approx(3) and b1[grid.B_EXPORT] == pytest.approx(1)
    assert b1[grid.B_PEAK_IMPORT] == pytest.approx(2) and b1[grid.B_PEAK_EXPORT] == pytest.approx(1)
    assert b1[grid.B_CHARGE] == pytest.approx(1) and b1[grid.B_DISCHARGE] == pytest.approx(1)
    assert b2[grid.B_IMPORT] == pytest.approx(4) and b2[grid.B_EXPORT] == 0
    series = sim.series[0]
    assert series[grid.S_NET].tolist() == pytest.approx([3, 1, 0, 2])
    assert series[grid.S_SOC_BTM].tolist() == pytest.approx([0, 0, 1, 1])
    assert series[grid.S_CRITICAL].tolist() == pytest.approx([1.5] * 4)
    t = sim.t_stats[0]
    assert t[grid.T_IMPORT] == pytest.approx(6) and t[grid.T_EXPORT] == pytest.approx(0)
    assert t[grid.T_REVERSE_HOURS] == 0
    assert t[grid.T_PEAK_IMPORT] == pytest.approx(3)
    # Outage survival of building 1 (critical 1 kW): starts 0..3 survive 0, 3, 2, 1 hours.
    assert sim.b_hist[0].tolist() == [1, 1, 1, 1, 0]
    # Building 2 has nothing: every outage fails in its first hour.
    assert sim.b_hist[1].tolist() == [4, 0, 0, 0, 0]


def test_separate_transformers_see_reverse_flow():
    model, pl = two_buildings(same_transformer=False)
    sim = simulate(model, pl)
    t1 = sim.t_stats[0]
    # b1 alone exports 1 kW in hour 2: one reverse-flow hour, peak export 1 kW
    assert t1[grid.T_REVERSE_HOURS] == 1
    assert t1[grid.T_PEAK_EXPORT] == pytest.approx(1)
    assert t1[grid.T_MAX_ABS_NET] == pytest.approx(2)


def test_community_battery_by_hand():
    """Same two buildings on one transformer with a 2 kWh / 2 kW lossless community battery that
    starts full: hour 0 it delivers its 2 kW (net 3 -> 1) and is empty; hour 2 has no surplus to
    refill it, so the pooled net 3, 1, 0, 2 becomes 1, 1, 0, 2."""
    model, _ = two_buildings()
    pl2 = placements_from_arrays(model, PV, pv_idx=[1, 0], kwp=[3.0, 0.0], cap_kwh=[1.0, 0.0],
                                 power_kw=[1.0, 0.0], soc0_kwh=[0.0, 0.0], round_trip=1.0,
                                 comm_kwh=[2.0], comm_kw=[2.0], comm_soc0_kwh=[2.0])
    sim = simulate(model, pl2)
    assert sim.series[0][grid.S_NET].tolist() == pytest.approx([1, 1, 0, 2])
    assert sim.series[0][grid.S_SOC_COMMUNITY].tolist() == pytest.approx([2, 0, 0, 0])
    assert sim.t_stats[0][grid.T_IMPORT] == pytest.approx(4)
    assert sim.t_stats[0][grid.T_DISCHARGE] == pytest.approx(2)


def test_hosting_capacity_estimate_by_hand():
    # pooled net 3, 1, 0, 2; rating 2 kW (power factor 1); added PV unit profile 0, 1, 1, 0:
    # extra x kWp keeps net - x * u >= -2 -> x <= min(1 + 2, 0 + 2) = 2 kWp
    model = model_from_arrays(LOAD, [0, 0], [8.0, 4.0], [0, 0], [2.0], crit_frac=0.5,
                              horizon_h=4, hosting_unit=np.array([0, 1, 1, 0]))
    pl = placements_from_arrays(model, PV, pv_idx=[1, 0], kwp=[3.0, 0.0], cap_kwh=[1.0, 0.0],
                                power_kw=[1.0, 0.0], soc0_kwh=[0.0, 0.0], round_trip=1.0)
    sim = simulate(model, pl)
    assert sim.t_stats[0][grid.T_HOSTING_KWP] == pytest.approx(2.0)


@st.composite
def random_district(draw):
    hours = draw(st.integers(2, 30))
    n = draw(st.integers(1, 8))
    k = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    load = rng.random((hours, 2)) + 0.01
    load /= load.sum(axis=0)
    unit = np.column_stack([np.zeros(hours), rng.random((hours, 2)) * 0.8])
    annual = rng.uniform(50, 500, n)
    kwp = np.where(rng.random(n) < 0.7, rng.uniform(0, 0.5, n) * annual / hours * 4, 0.0)
    batt = rng.random(n) < 0.5
    cap = np.where(batt, rng.uniform(0, 30, n), 0.0)
    power = np.where(batt, rng.uniform(0.1, 20, n), 0.0)
    comm = rng.random(k) < draw(st.sampled_from([0.0, 0.5]))
    comm_cap = np.where(comm, rng.uniform(1, 60, k), 0.0)
    return dict(hours=hours, load=load, unit=unit, prof=rng.integers(0, 2, n),
                transformer=np.sort(rng.integers(0, k, n)), k=k, annual=annual,
                pv_idx=np.where(kwp > 0, rng.integers(1, 3, n), 0), kwp=kwp, cap=cap,
                power=power, soc0=cap * rng.random(n), rt=draw(st.sampled_from([1.0, 0.9])),
                comm_cap=comm_cap, comm_kw=np.where(comm, rng.uniform(1, 30, k), 0.0),
                comm_soc0=comm_cap * rng.random(k))


def survival_sum(hist: np.ndarray) -> int:
    return int((hist * np.arange(len(hist))).sum())


@settings(max_examples=150, deadline=None)
@given(random_district())
def test_engine_matches_hour_by_hour_reference(case):
    """Every building, every transformer and every microgrid against plain loops: the
    greedy dispatch per building, the community battery on the pooled net, the pooled
    indicators, and outage survival islanded and pooled (tests/reference.py)."""
    k, hours, horizon = case["k"], case["hours"], 12
    present = np.unique(case["transformer"])
    model = model_from_arrays(case["load"], case["prof"], case["annual"], case["transformer"],
                              np.full(k, 1e3), crit_frac=0.5, horizon_h=horizon)
    pl = placements_from_arrays(model, case["unit"], case["pv_idx"], case["kwp"],
                                cap_kwh=case["cap"], power_kw=case["power"],
                                soc0_kwh=case["soc0"], round_trip=case["rt"],
                                comm_kwh=case["comm_cap"], comm_kw=case["comm_kw"],
                                comm_soc0_kwh=case["comm_soc0"])
    sim = simulate(model, pl)
    eta = np.sqrt(case["rt"])
    pooled = np.zeros((k, hours))
    crit, pv, soc = np.zeros((k, hours)), np.zeros((k, hours)), np.zeros((k, hours))
    for b in range(len(case["annual"])):
        d = case["annual"][b] * case["load"][:, case["prof"][b]].astype(np.float32)
        g = case["kwp"][b] * case["unit"][:, case["pv_idx"][b]].astype(np.float32)
        d = d.astype(float)
        g = g.astype(float)
        rows = dispatch(d, g, case["cap"][b], case["power"][b], case["rt"], case["soc0"][b])
        imp = np.array([r["import"] for r in rows])
        exp = np.array([r["export"] for r in rows])
        got = sim.b_stats[b]
        assert got[grid.B_DEMAND] == pytest.approx(d.sum(), rel=1e-6)
        assert got[grid.B_PV] == pytest.approx(g.sum(), rel=1e-6, abs=1e-9)
        assert got[grid.B_IMPORT] == pytest.approx(imp.sum(), rel=1e-6, abs=1e-6)
        assert got[grid.B_EXPORT] == pytest.approx(exp.sum(), rel=1e-6, abs=1e-6)
        assert got[grid.B_CHARGE] == pytest.approx(sum(r["charge"] for r in rows), rel=1e-6,
                                                   abs=1e-6)
        assert got[grid.B_DISCHARGE] == pytest.approx(sum(r["discharge"] for r in rows),
                                                      rel=1e-6, abs=1e-6)
        assert got[grid.B_PEAK_IMPORT] == pytest.approx(imp.max(), rel=1e-6, abs=1e-6)
        assert got[grid.B_PEAK_EXPORT] == pytest.approx(exp.max(), rel=1e-6, abs=1e-6)
        j = case["transformer"][b]
        pooled[j] += imp - exp
        crit[j] += 0.5 * d
        pv[j] += g
        soc[j] += [r["soc_start"] for r in rows]
        # survival of the building islanded alone
        ref = survival(0.5 * d, g, [r["soc_start"] for r in rows], case["cap"][b],
                       case["power"][b] if case["cap"][b] > 0 else 0.0, eta, eta, horizon)
        assert abs(survival_sum(sim.b_hist[b]) - sum(ref)) <= 2  # float ties at most
    for j in present:
        rows = sim.series[j]
        assert rows[grid.S_NET_BTM] == pytest.approx(pooled[j], rel=1e-5, abs=1e-4)
        # the community battery works on the pooled net load
        comm = dispatch(pooled[j], np.zeros(hours), case["comm_cap"][j], case["comm_kw"][j],
                        case["rt"], case["comm_soc0"][j])
        net = np.array([r["net"] for r in comm])
        assert rows[grid.S_NET] == pytest.approx(net, rel=1e-5, abs=1e-4)
        t = sim.t_stats[j]
        assert t[grid.T_IMPORT] == pytest.approx(np.clip(net, 0, None).sum(), rel=1e-5,
                                                 abs=1e-4)
        assert t[grid.T_EXPORT] == pytest.approx(np.clip(-net, 0, None).sum(), rel=1e-5,
                                                 abs=1e-4)
        assert t[grid.T_PEAK_IMPORT] == pytest.approx(max(net.max(), 0), rel=1e-5, abs=1e-4)
        assert t[grid.T_PEAK_EXPORT] == pytest.approx(max(-net.min(), 0), rel=1e-5, abs=1e-4)
        clear = np.abs(net) > 1e-3          # hours not within float noise of zero
        assert (t[grid.T_REVERSE_HOURS] - (net[clear] < 0).sum()) in range(
            0, int((~clear).sum()) + 1)
        # the microgrid: buildings behind the transformer share PV and every battery
        members = case["transformer"] == j
        cap = case["cap"][members].sum() + case["comm_cap"][j]
        power = case["power"][members].sum() + case["comm_kw"][j]
        pooled_soc = soc[j] + np.array([r["soc_start"] for r in comm])
        ref = survival(crit[j], pv[j], pooled_soc, cap, power, eta, eta, horizon)
        assert abs(survival_sum(sim.t_hist[j]) - sum(ref)) <= 2


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**31), st.floats(0, 5), st.integers(3, 200))
def test_closed_form_equals_hourly_sums(seed, ratio, hours):
    rng = np.random.default_rng(seed)
    load = rng.random(hours) + 1e-3
    load /= load.sum()
    unit = np.where(rng.random(hours) < 0.5, 0.0, rng.random(hours))
    a = rng.uniform(100, 10_000, 5)
    k = a * ratio / hours * rng.random(5)
    table = build_pair(load, unit)
    got = pair_stats(table, a, k)
    net = a[:, None] * load[None, :] - k[:, None] * unit[None, :]
    assert got["import"] == pytest.approx(np.clip(net, 0, None).sum(axis=1), rel=1e-9, abs=1e-9)
    assert got["export"] == pytest.approx(np.clip(-net, 0, None).sum(axis=1), rel=1e-9,
                                          abs=1e-7)
    assert got["peak_import"] == pytest.approx(np.clip(net, 0, None).max(axis=1), rel=1e-9,
                                               abs=1e-12)
    assert got["peak_export"] == pytest.approx(np.clip(-net, 0, None).max(axis=1), rel=1e-9,
                                               abs=1e-12)
