"""The community battery's mode and limits and the PV export limit in the planning view,
called as Dash calls the callbacks (no browser)."""

from __future__ import annotations

import pytest
from dash import no_update

import dashboard as dc
from dashboard.domain.errors import DecentraError
from dashboard.ui import ids, state
from dashboard.ui.planning import callbacks as planning
from dashboard.ui.planning import logic
from tests.ui.test_callbacks import edit


def with_rule_pv(session, district):
    scenario = dc.place_pv_by_rule(district, dc.Scenario(name="rule"), min_roof_m2=150,
                                   coverage=0.6)
    return dict(state.push(state.parse_session(session), scenario))


def test_peak_shaving_battery_from_the_panel_cuts_hours_above_rating(deps, session, district):
    sess = with_rule_pv(session, district)
    before = dc.evaluate(district, state.get_scenario(sess["scenario"]))
    hours0 = before.transformers.loc["T02", "hours_above_rating"]
    rating_kw = 250.0 * district.assumptions.number("grid.power_factor")
    assert hours0 > 100
    sel = {"buildings": [], "transformer": "T02"}
    out = edit(deps, sess, ids.COMM_APPLY, sel, comm_kwh=400, comm_kw=200,
               comm_mode="peak_shaving", comm_import="", comm_export=rating_kw)
    new = state.get_scenario(out["session"]["scenario"])
    c = new.community_battery_of("T02")
    assert (c.mode, c.import_limit_kw, c.export_limit_kw) == ("peak_shaving", None, rating_kw)
    assert out["message"] is None                       # a plausible battery: no warning
    after = dc.evaluate(district, new)
    assert after.transformers.loc["T02", "hours_above_rating"] < 0.5 * hours0
    assert "shaving peaks: export ≤" in str(out["transformer_info"])
    panel = planning.show_selection(deps, sel, out["session"])
    assert panel["comm_mode"] == "peak_shaving" and panel["comm_export"] == rating_kw
    assert panel["comm_import"] is None
    # self-consumption ignores the limit fields
    plain = edit(deps, sess, ids.COMM_APPLY, sel, comm_kwh=400, comm_kw=200,
                 comm_mode="self_consumption", comm_export=100)
    c = state.get_scenario(plain["session"]["scenario"]).community_battery_of("T02")
    assert c.mode == "self_consumption" and c.export_limit_kw is None


def test_an_absurd_battery_is_applied_with_a_warning(deps, session):
    sel = {"buildings": [], "transformer": "T01"}
    out = edit(deps, session, ids.COMM_APPLY, sel, comm_kwh=100_000, comm_kw=50_000)
    assert out["session"] is not no_update                       # applied, not refused
    text = str(out["message"])
    assert "Check this battery" in text and "warn" in text
    assert "× the transformer's" in text and "days of its area's demand" in text
    warnings = dc.battery_warnings(district := deps.district(session["district"]),
                                   state.get_scenario(out["session"]["scenario"]))
    assert len(warnings) == 2
    # the numbers: 50 MW over 630 kVA x power factor, 100 MWh over the area's daily demand
    pf = district.assumptions.number("grid.power_factor")
    b = district.buildings
    day = b.loc[b["transformer_id"] == "T01", "annual_demand_kwh"].sum() / 365.0
    assert f"{50_000 / (630 * pf):,.0f}×" in warnings[0]
    assert f"{100_000 / day:,.0f} days" in warnings[1]
    # a peak-shaving limit needs a number
    bad = edit(deps, session, ids.COMM_APPLY, sel, comm_kwh=200, comm_kw=100,
               comm_mode="peak_shaving")
    assert bad["session"] is no_update and "needs an import limit" in str(bad["message"])


def test_pv_export_limit_field(deps, session, district):
    sess = with_rule_pv(session, district)
    out = edit(deps, sess, ids.PV_LIMIT_APPLY, pv_limit=60)
    new = state.get_scenario(out["session"]["scenario"])
    assert new.params.pv_export_limit_share == pytest.approx(0.6)
    result = dc.evaluate(district, new)
    assert result.summary["pv_curtailed_kwh"] > 0
    assert result.transformers["pv_curtailed_kwh"].sum() == pytest.approx(
        result.summary["pv_curtailed_kwh"])
    cleared = edit(deps, out["session"], ids.PV_LIMIT_APPLY, pv_limit=None)
    assert state.get_scenario(cleared["session"]["scenario"]).params.pv_export_limit_share \
        is None
    bad = edit(deps, sess, ids.PV_LIMIT_APPLY, pv_limit=150)
    assert bad["session"] is no_update and "PV export limit" in str(bad["message"])


def test_logic_without_dash(district):
    s = logic.set_community(district, dc.Scenario(), "T01", 300, 100, "peak_shaving", 400,
                            None)
    assert s.community_battery_of("T01").import_limit_kw == 400.0
    with pytest.raises(DecentraError, match="Import limit"):
        logic.set_community(district, dc.Scenario(), "T01", 300, 100, "peak_shaving", -5, None)
    assert logic.edit_warning(district, s, ids.COMM_APPLY) is None
    assert logic.edit_warning(district, s, ids.PV_APPLY) is None
    assert logic.set_pv_limit(dc.Scenario(), "").params.pv_export_limit_share is None
