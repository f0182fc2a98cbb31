"""Outage survival: the O(n log n) method equals brute-force simulation of every start hour."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.energy.resilience import hist_stats, survival_hist
from tests.reference import survival

# Quarter-kW steps and efficiencies 1 or 1/2 keep every sum exact in binary floating point, so
# "identical" means identical, ties included.
quarters = st.integers(0, 12).map(lambda i: i / 4)


@st.composite
def outage_case(draw):
    n = draw(st.integers(1, 48))
    crit = np.array(draw(st.lists(quarters, min_size=n, max_size=n)))
    pv = np.array(draw(st.lists(quarters, min_size=n, max_size=n)))
    cap = draw(quarters)
    power = draw(quarters)
    eta_c = draw(st.sampled_from([1.0, 0.5]))
    eta_d = draw(st.sampled_from([1.0, 0.5]))
    soc = np.minimum(cap, np.array(draw(st.lists(quarters, min_size=n, max_size=n))))
    horizon = draw(st.integers(1, 80))
    return crit, pv, soc, cap, power, eta_c, eta_d, horizon


@settings(max_examples=600, deadline=None)
@given(outage_case())
def test_survival_identical_to_brute_force(case):
    crit, pv, soc, cap, power, eta_c, eta_d, horizon = case
    hist = np.zeros(horizon + 1, np.uint16)
    survival_hist(crit, pv, soc, cap, power, eta_c, eta_d, horizon, hist)
    ref = np.bincount(survival(crit, pv, soc, cap, power, eta_c, eta_d, horizon),
                      minlength=horizon + 1)
    assert np.array_equal(hist, ref)


def test_survival_by_hand():
    # 4 hours, critical load 1 kW, PV 0/3/3/0, battery 1 kWh / 1 kW lossless.
    crit = np.array([1.0, 1.0, 1.0, 1.0])
    pv = np.array([0.0, 3.0, 3.0, 0.0])
    soc = np.array([0.0, 0.0, 1.0, 1.0])
    hist = np.zeros(5, np.uint16)
    survival_hist(crit, pv, soc, 1.0, 1.0, 1.0, 1.0, 4, hist)
    # start 0: empty, no sun -> 0 h; start 1: charge, full, serve hour 3, fail at hour 0 -> 3 h;
    # start 2: 2 h; start 3: 1 h
    assert hist.tolist() == [1, 1, 1, 1, 0]
    stats = hist_stats(hist, (1.0, 3.0, 8.0))
    assert stats["survival_mean_h"][0] == pytest.approx(1.5)
    assert stats["survival_min_h"][0] == 0 and stats["survival_max_h"][0] == 3
    assert stats["p_survive_1h"][0] == pytest.approx(0.75)
    assert stats["p_survive_3h"][0] == pytest.approx(0.25)
    assert stats["p_survive_8h"][0] == 0.0


def test_survival_on_a_real_year_matches_brute_force():
    rng = np.random.default_rng(3)
    n = 8760
    hours = np.arange(n)
    crit = 0.4 + 0.2 * rng.random(n)
    pv = np.clip(4 * np.sin((hours % 24 - 6) / 12 * np.pi), 0, None) * rng.random(n)
    cap, power, eff = 10.0, 4.0, 0.95
    soc = np.clip(5 + 5 * np.sin(hours / 50), 0, cap)
    hist = np.zeros(169, np.uint16)
    survival_hist(crit, pv, soc, cap, power, eff, eff, 168, hist)
    ref = np.bincount(survival(crit, pv, soc, cap, power, eff, eff, 168), minlength=169)
    # random floats: the two summation orders may differ in the last bit at a tie; allow a
    # handful of start hours out of 8760 to land one bin apart
    assert np.abs(hist.astype(int) - ref).sum() <= 4
    assert abs((hist * np.arange(169)).sum() - (ref * np.arange(169)).sum()) <= 4


@settings(max_examples=150, deadline=None)
@given(outage_case(), st.integers(1, 8))
def test_more_storage_never_shortens_survival(case, extra_quarters):
    crit, pv, soc, cap, power, eta_c, eta_d, horizon = case
    bigger = cap + extra_quarters / 4
    base = survival(crit, pv, soc, cap, power, eta_c, eta_d, horizon)
    hist_a = np.zeros(horizon + 1, np.uint16)
    hist_b = np.zeros(horizon + 1, np.uint16)
    survival_hist(crit, pv, soc, cap, power, eta_c, eta_d, horizon, hist_a)
    survival_hist(crit, pv, soc, bigger, power, eta_c, eta_d, horizon, hist_b)
    assert sum(base) == (hist_a * np.arange(horizon + 1)).sum()
    assert (hist_b * np.arange(horizon + 1)).sum() >= (hist_a * np.arange(horizon + 1)).sum()
