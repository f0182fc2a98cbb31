"""The sweep section's callback, called as the app calls it (no browser)."""

from __future__ import annotations

import numpy as np

import dashboard as dc
from dashboard.sweep import penetration_sweep
from dashboard.ui.sweep import callbacks


def test_run_sweep_draws_the_sweep_of_the_district_on_screen(deps, session, district):
    got = callbacks.run_sweep(deps, 1, session, "best yield first", 1.0)
    want = penetration_sweep(district, order="best yield first", battery_kwh_per_kwp=1.0)
    traces = {t.name: t for t in got["figure"].data}
    assert set(traces) == {"Self-sufficiency", "P(survive 24 h)",
                           "P(survive 24 h), microgrids", "Hosting headroom [kWp]"}
    assert np.allclose(traces["Self-sufficiency"].x, 100 * want["share"])
    assert np.allclose(traces["Self-sufficiency"].y, 100 * want["self_sufficiency"])
    assert np.allclose(traces["P(survive 24 h)"].y, 100 * want["p_survive_24h"])
    assert np.allclose(traces["Hosting headroom [kWp]"].y, want["hosting_headroom_kwp"])
    assert traces["Hosting headroom [kWp]"].yaxis == "y2"
    assert "11 steps" in got["status"]


def test_the_scenarios_outage_settings_apply(deps, session, district):
    from dashboard.ui import state

    scen = dc.Scenario(name="short").with_params(outage_horizon_h=12)
    sess = dict(state.new_session(district, scen))
    got = callbacks.run_sweep(deps, 1, sess, "largest roofs first", 2.0)
    p24 = next(t for t in got["figure"].data if t.name == "P(survive 24 h)")
    assert max(p24.y) == 0.0          # nothing survives 24 h when outages end at 12 h
    full = callbacks.run_sweep(deps, 1, session, "largest roofs first", 2.0)
    assert max(next(t for t in full["figure"].data if t.name == "P(survive 24 h)").y) > 0


def test_bad_battery_ratio_is_a_message_not_a_traceback(deps, session):
    got = callbacks.run_sweep(deps, 1, session, "largest roofs first", -3)
    assert "battery per PV" in got["status"]
    assert got["figure"].layout.annotations[0].text == got["status"]
