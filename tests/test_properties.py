"""Property tests on random small districts (hypothesis): indicators stay in range, energy
balances close, and more PV or more storage never makes self-sufficiency or survival worse."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.energy import grid
from dashboard.engine import building_hourly, model_from_arrays, placements_from_arrays, simulate
from tests.reference import dispatch


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


def setup(case, kwp_scale=1.0, cap_add=0.0, new_batteries=0.0, comm_kwh=0.0):
    """Model and placements; ``cap_add`` enlarges existing batteries, ``new_batteries`` adds
    that many kWh to buildings without one, ``comm_kwh`` puts a community battery (with
    half as many kW) behind every transformer."""
    model = model_from_arrays(case["load"], case["prof"], case["annual"], case["tr"],
                              np.full(case["k"], 50.0), crit_frac=case["crit"], horizon_h=24)
    cap = case["cap"] + cap_add * (case["cap"] > 0) + new_batteries * (case["cap"] == 0)
    k = case["k"]
    pl = placements_from_arrays(model, case["unit"], case["pv_idx"], case["kwp"] * kwp_scale,
                                cap_kwh=cap, power_kw=case["power"], soc0_kwh=0.5 * cap,
                                round_trip=case["rt"], comm_kwh=np.full(k, comm_kwh),
                                comm_kw=np.full(k, comm_kwh / 2),
                                comm_soc0_kwh=np.full(k, comm_kwh / 2))
    return model, pl


def run(case, **kw):
    return simulate(*setup(case, **kw))


def self_sufficiency(stats, d_col, i_col):
    d, i = stats[:, d_col], stats[:, i_col]
    return np.where(d > 0, (d - i) / np.where(d > 0, d, 1), 0.0)


def mean_survival(hist):
    return (hist * np.arange(hist.shape[1])).sum(axis=1) / hist.sum(axis=1)


@settings(max_examples=150, deadline=None)
@given(districts())
def test_indicators_in_range_and_balances_close(case):
    model, pl = setup(case, comm_kwh=case["annual"].mean() / 20)
    sim = simulate(model, pl)
    b = sim.b_stats
    d, g = b[:, grid.B_DEMAND], b[:, grid.B_PV]
    imp, exp = b[:, grid.B_IMPORT], b[:, grid.B_EXPORT]
    eta = np.sqrt(case["rt"])
    for i in range(len(case["annual"])):
        # every building-hour of the engine's hourly dispatch against the plain hour-by-hour
        # reference (tests/reference.py, no shared code): charge, discharge, import, export
        h = building_hourly(model, pl, i)
        ref = dispatch(h["demand"].to_numpy(), h["pv"].to_numpy(), pl.cap_kwh[i],
                       pl.battery_kw[i], case["rt"], pl.soc0_kwh[i])
        for col, key in (("battery_charge", "charge"), ("battery_discharge", "discharge"),
                         ("import", "import"), ("export", "export")):
            want = np.array([r[key] for r in ref])
            assert np.abs(h[col].to_numpy() - want).max() <= 1e-9 * max(1.0, want.max()), col
        # the state of charge (at the start of each hour) is the reference's, follows the
        # storage equation and stays in bounds
        soc = h["soc_kwh"].to_numpy()
        assert np.abs(soc - [r["soc_start"] for r in ref]).max() <= 1e-9 * max(1.0, soc.max())
        step = eta * h["battery_charge"].to_numpy() - h["battery_discharge"].to_numpy() / eta
        assert np.abs(np.diff(soc) - step[:-1]).max(initial=0) < 1e-9 * max(1.0, pl.cap_kwh[i])
        assert soc.min() >= -1e-9 and soc.max() <= pl.cap_kwh[i] + 1e-9
        # and its sums are what the engine's kernel found (an interleaved code path)
        for col, key in (("import", grid.B_IMPORT), ("export", grid.B_EXPORT),
                         ("battery_charge", grid.B_CHARGE),
                         ("battery_discharge", grid.B_DISCHARGE)):
            assert abs(h[col].sum() - b[i, key]) <= 1e-5 * max(1.0, h[col].sum())
    ss = (d - imp) / d
    assert np.all(ss >= -1e-9) and np.all(ss <= 1 + 1e-9)
    lit = g > 1e-9
    sc = (g[lit] - exp[lit]) / g[lit]
    assert np.all(sc >= -1e-6) and np.all(sc <= 1 + 1e-9)
    t = sim.t_stats
    used = np.unique(case["tr"])
    tss = self_sufficiency(t[used], grid.T_DEMAND, grid.T_IMPORT)
    assert np.all(tss >= -1e-6) and np.all(tss <= 1 + 1e-9)
    tlit = used[t[used, grid.T_PV] > 1e-9]
    tsc = (t[tlit, grid.T_PV] - t[tlit, grid.T_EXPORT]) / t[tlit, grid.T_PV]
    assert np.all(tsc >= -1e-6) and np.all(tsc <= 1 + 1e-6)
    # district: energy shared hour by hour behind each transformer (and community batteries)
    # can only lower imports, so it is at least the buildings' own aggregate, and at most 1
    dss = 1 - t[used, grid.T_IMPORT].sum() / t[used, grid.T_DEMAND].sum()
    assert (d - imp).sum() / d.sum() - 1e-6 <= dss <= 1 + 1e-9
    for hist in (sim.b_hist, sim.t_hist[used]):
        probs = np.cumsum(hist[:, ::-1], axis=1)[:, ::-1] / hist.sum(axis=1, keepdims=True)
        assert probs.min() >= 0 and probs.max() <= 1 + 1e-12
        assert np.all(np.diff(probs, axis=1) <= 1e-12)   # P(survive >= d) falls with d
    for j in used:
        rows = sim.series[j]
        assert rows[grid.S_SOC_BTM].min() >= -1e-6
        assert rows[grid.S_SOC_BTM].max() <= pl.cap_kwh[case["tr"] == j].sum() + 1e-4
        assert rows[grid.S_SOC_COMMUNITY].min() >= -1e-6
        assert rows[grid.S_SOC_COMMUNITY].max() <= pl.comm_cap_kwh[j] + 1e-4


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
@given(districts(), st.floats(0.5, 20.0), st.sampled_from(["larger", "new", "community"]))
def test_more_storage_never_hurts(case, extra_kwh, how):
    """Larger batteries, new batteries in buildings without one, or a community battery
    never lower self-sufficiency or survival where the storage is: behind the meter for a
    building's battery, behind the transformer for a community battery. (A building's battery
    can lower its transformer's pooled self-sufficiency a little: it stores, with losses,
    surplus a neighbour would have used at once — physics, not a bug.)"""
    kw = {"larger": {"cap_add": extra_kwh}, "new": {"new_batteries": extra_kwh},
          "community": {"comm_kwh": extra_kwh}}[how]
    a, b = run(case), run(case, **kw)
    slack = 2 / len(case["load"])
    assert np.all(self_sufficiency(b.b_stats, grid.B_DEMAND, grid.B_IMPORT)
                  >= self_sufficiency(a.b_stats, grid.B_DEMAND, grid.B_IMPORT) - 1e-7)
    assert np.all(mean_survival(b.b_hist) >= mean_survival(a.b_hist) - slack)
    if how == "community":
        used = np.unique(case["tr"])
        assert np.all(self_sufficiency(b.t_stats[used], grid.T_DEMAND, grid.T_IMPORT)
                      >= self_sufficiency(a.t_stats[used], grid.T_DEMAND, grid.T_IMPORT)
                      - 1e-6)
        assert np.all(mean_survival(b.t_hist[used]) >= mean_survival(a.t_hist[used]) - slack)
