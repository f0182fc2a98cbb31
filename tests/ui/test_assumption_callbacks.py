"""The Assumptions tab's callbacks, called as the app calls them (no browser)."""

from __future__ import annotations

import pytest

import dashboard as dc
from dashboard.domain.scenario import PvPlacement
from dashboard.ui import ids, state
from dashboard.ui.assumptions import callbacks

VIEW = {"color": "self_sufficiency", "layers": [], "basemap": "plain",
        "grid_mode": "estimate", "page": "plan"}
PRICE = "econ.import_price_eur_per_kwh"


def text(component) -> str:
    """All text of a component tree."""
    if component is None:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list):
        return " ".join(text(c) for c in component)
    children = getattr(component, "children", None)
    value = getattr(component, "value", None)
    return " ".join(filter(None, [text(children), str(value) if value else ""]))


@pytest.fixture()
def pv_session(district, bound_cache):
    ids_ = list(district.buildings["building_id"].astype(str)[:3])
    scen = dc.Scenario(name="pv").with_pv(*(PvPlacement(b, 6.0) for b in ids_))
    return dict(state.new_session(district, scen))


def edit(deps, session, key, value, kind=ids.ASSUME_INPUT):
    return callbacks.edit(deps, [], [], 0, session, {}, VIEW,
                          trigger={"type": kind, "key": key}, triggered_value=value)


def test_rows_show_district_values_and_overrides(deps, pv_session, district):
    got = callbacks.show_rows(deps, pv_session)
    shown = text(got["rows"])
    assert "Import tariff (flat / off-peak)" in shown and "0.25" in shown
    assert "Critical load share, residential" in shown
    assert got["status"] == "district values"


def test_an_override_updates_kpis_and_is_undoable(deps, pv_session, district):
    before = dc.evaluate(district, state.get_scenario(pv_session["scenario"]))
    got = edit(deps, pv_session, PRICE, "0.40")
    new = state.get_scenario(got["session"]["scenario"])
    assert new.assumption_overrides() == {PRICE: 0.40}
    assert got["session"]["undo"] == [pv_session["scenario"]]
    after = dc.evaluate(district, new)
    # the KPI strip shows the re-priced savings: 0.15 EUR/kWh more for every kWh not imported
    d = before.summary
    want = d["annual_savings_eur"] + 0.15 * (d["demand_kwh"] - d["grid_import_kwh"])
    assert after.summary["annual_savings_eur"] == pytest.approx(want, rel=1e-6)
    from dashboard.domain.indicators import format_value

    new_payback = format_value("payback_years", after.summary["payback_years"])
    assert new_payback in text(got["kpis"])           # the KPI strip shows the new payback
    assert new_payback != format_value("payback_years", d["payback_years"])
    rows = callbacks.show_rows(deps, got["session"])
    assert rows["status"] == "1 override"
    assert "0.4" in text(rows["rows"])
    # reset: back to the district's value, the original content
    back = edit(deps, got["session"], PRICE, None, kind=ids.ASSUME_RESET)
    assert state.get_scenario(back["session"]["scenario"]).content_hash() == \
        state.get_scenario(pv_session["scenario"]).content_hash()


def test_implausible_is_a_warning_impossible_an_error(deps, pv_session):
    warned = edit(deps, pv_session, PRICE, "2,5")         # 2.5 EUR/kWh: implausible, possible
    assert state.get_scenario(warned["session"]["scenario"]).assumption_overrides() == {
        PRICE: 2.5}
    assert "outside the usual" in text(warned["message"])
    assert "outside the usual" in text(callbacks.show_rows(deps, warned["session"])["rows"])
    no_update = callbacks.out(callbacks.EDIT)["session"]
    for key, value, why in (("econ.discount_rate", "3", "impossible"),
                            (PRICE, "25", "impossible"),          # cents typed as euros
                            ("econ.pv_capex_by_class_eur_per_kwp", "1000;900", "one price more")):
        refused = edit(deps, warned["session"], key, value)
        assert refused["session"] is no_update and refused["kpis"] is no_update  # state kept
        assert why in text(refused["message"])
        assert "2.5" in text(refused["rows"])          # the rows show the scenario kept


def test_reset_all(deps, pv_session):
    one = edit(deps, pv_session, PRICE, "0.3")
    two = edit(deps, one["session"], "econ.discount_rate", "0.05")
    assert len(state.get_scenario(two["session"]["scenario"]).assumptions) == 2
    got = callbacks.edit(deps, [], [], 1, two["session"], {}, VIEW,
                         trigger=ids.ASSUME_RESET_ALL, triggered_value=1)
    assert state.get_scenario(got["session"]["scenario"]).assumptions == ()
