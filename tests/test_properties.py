"""Property tests on random small districts (hypothesis): indicators stay in range, energy
balances close, and more PV or more storage never makes self-sufficiency or survival worse."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.energy import grid
from dashboard.engine import model_from_arrays, placements_from_arrays, simulate


@st.composite
def districts(draw):
    hours = draw(st.integers(4, 48))
    n = draw(st.integers(1, 10))
    k = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    load = rng.random((hours, 2)) + 0.05
    load /= load.sum(axis=0)
    sun = np.clip(np.sin(np.arange(hours) / 24 * 2 * np.pi - np.pi / 2), 0, None)
    unit = np.column_stack([np.zeros(hours), sun * rng.uniform(0.3, 1.0, hours),
                            sun * rng.uniform(0.1, 0.6, hours)])
    annual = rng.uniform(hours * 0.5, hours * 5, n)
    return dict(load=load, unit=unit, prof=rng.integers(0, 2, n), k=k,
                tr=rng.integers(0, k, n), annual=annual,
                pv_idx=rng.integers(1, 3, n), kwp=rng.uniform(0, 4, n) * (rng.random(n) < 0.8),
                cap=rng.uniform(0, 10, n) * (rng.random(n) < 0.6), power=rng.uniform(0.5, 5, n),
                rt=draw(st.sampled_from([1.0, 0.9, 0.8])), crit=draw(st.floats(0.1, 1.0)))


def run(case, kwp_scale=1.0, cap_add=0.0):
    model = model_from_arrays(case["load"], case["prof"], case["annual"], case["tr"],
                              np.full(case["k"], 50.0), crit_frac=case["crit"], horizon_h=24)
    cap = case["cap"] + cap_add * (case["cap"] > 0)
    pl = placements_from_arrays(model, case["unit"], case["pv_idx"], case["kwp"] * kwp_scale,
                                cap_kwh=cap, power_kw=case["power"], soc0_kwh=0.5 * cap,
                                round_trip=case["rt"])
    return simulate(model, pl)


def self_sufficiency(stats, d_col, i_col):
    d, i = stats[:, d_col], stats[:, i_col]
    return np.where(d > 0, (d - i) / np.where(d > 0, d, 1), 0.0)


def mean_survival(hist):
    return (hist * np.arange(hist.shape[1])).sum(axis=1) / hist.sum(axis=1)


@settings(max_examples=150, deadline=None)
@given(districts())
def test_indicators_in_range_and_balances_close(case):
    sim = run(case)
    b = sim.b_stats
    d, g = b[:, grid.B_DEMAND], b[:, grid.B_PV]
    imp, exp = b[:, grid.B_IMPORT], b[:, grid.B_EXPORT]
    ch, dis = b[:, grid.B_CHARGE], b[:, grid.B_DISCHARGE]
    # annual balance of every building: D + charge + export = G + discharge + import
    assert np.allclose(d + ch + exp, g + dis + imp, rtol=1e-6, atol=1e-6)
    ss = (d - imp) / d
    assert np.all(ss >= -1e-9) and np.all(ss <= 1 + 1e-9)
    lit = g > 1e-9
    sc = (g[lit] - exp[lit]) / g[lit]
    assert np.all(sc >= -1e-6) and np.all(sc <= 1 + 1e-9)
    t = sim.t_stats
    used = np.unique(case["tr"])
    tss = self_sufficiency(t[used], grid.T_DEMAND, grid.T_IMPORT)
    assert np.all(tss >= -1e-6) and np.all(tss <= 1 + 1e-9)
    # pooled hourly series balance: net = demand - pv + battery charge - discharge
    for j in used:
        rows = sim.series[j]
        assert np.all(np.abs(rows[grid.S_NET] - rows[grid.S_NET_BTM]) < 1e-9)  # no community
        assert rows[grid.S_SOC_BTM].min() >= -1e-6


@settings(max_examples=120, deadline=None)
@given(districts(), st.floats(1.0, 3.0))
def test_more_pv_never_hurts(case, scale):
    a, b = run(case), run(case, kwp_scale=scale)
    assert np.all(self_sufficiency(b.b_stats, grid.B_DEMAND, grid.B_IMPORT)
                  >= self_sufficiency(a.b_stats, grid.B_DEMAND, grid.B_IMPORT) - 1e-7)
    assert np.all(self_sufficiency(b.t_stats, grid.T_DEMAND, grid.T_IMPORT)
                  >= self_sufficiency(a.t_stats, grid.T_DEMAND, grid.T_IMPORT) - 1e-6)
    assert np.all(mean_survival(b.b_hist) >= mean_survival(a.b_hist) - 2 / len(case["load"]))
    used = np.unique(case["tr"])
    assert np.all(mean_survival(b.t_hist[used]) >= mean_survival(a.t_hist[used])
                  - 2 / len(case["load"]))


@settings(max_examples=120, deadline=None)
@given(districts(), st.floats(0.5, 20.0))
def test_more_storage_never_hurts(case, extra_kwh):
    a, b = run(case), run(case, cap_add=extra_kwh)
    assert np.all(self_sufficiency(b.b_stats, grid.B_DEMAND, grid.B_IMPORT)
                  >= self_sufficiency(a.b_stats, grid.B_DEMAND, grid.B_IMPORT) - 1e-7)
    assert np.all(mean_survival(b.b_hist) >= mean_survival(a.b_hist) - 2 / len(case["load"]))
