"""Callbacks of the views: plan / compare / present, and the presentation's figures and
scenario switcher."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, html

import dashboard as dc
from dashboard.domain.errors import DecentraError
from dashboard.ui import ids, state
from dashboard.ui.base import Deps, bind, out
from dashboard.ui.formats import headline
from dashboard.ui.scenarios.logic import CURRENT
from dashboard.ui.workspace import current_workspace

SWITCH = {"view": Output(ids.VIEW, "data"), "app": Output(ids.APP, "className"),
          "origin": Output(ids.PRESENT_ORIGIN, "data"),
          "message": Output(ids.MESSAGE, "children", allow_duplicate=True)}
KPIS = {"kpis": Output(ids.PRESENT_KPIS, "children")}
PICK = {"session": Output(ids.SESSION_BG, "data", allow_duplicate=True)}
VIEWS = {ids.COMPARE: "compare", ids.PRESENT: "present"}


def switch_view(deps: Deps, compare: Any, close_compare: Any, present: Any,
                close_present: Any, session: Any, trigger: Any = None) -> dict:
    """Entering the presentation remembers the scenario on screen ("Current" returns to it)
    and clears messages left from planning."""
    view = VIEWS.get(str(trigger), "plan")
    origin: Any = None
    if view == "present":
        try:
            origin = state.parse_session(session)["scenario"]
        except DecentraError:
            origin = None
        return out(SWITCH, view=view, app=f"app view-{view}", origin=origin, message=None)
    return out(SWITCH, view=view, app=f"app view-{view}", message=None)


def present_kpis(deps: Deps, session: Any, view: Any) -> dict:
    """What a council sees: the scenario's name and its headline figures (investment,
    payback and CO2 included) against the district without DER."""
    if view != "present":
        return out(KPIS)
    try:
        _, district, scenario = deps.current(session)
    except DecentraError:
        return out(KPIS)
    result = dc.evaluate(district, scenario)
    return out(KPIS, kpis=[html.Div(scenario.name, className="present-title"),
                           *headline(result.summary, dc.baseline(district).summary)])


def present_switch(deps: Deps, value: Any, session: Any, view: Any, origin: Any) -> dict:
    """Show another saved scenario of the workspace, or go back to the one on screen when
    the talk began."""
    if view != "present" or not value:
        return out(PICK)
    try:
        sess = state.parse_session(session)
        if value == CURRENT:
            if not origin or origin == sess["scenario"]:
                return out(PICK)
            return out(PICK, session=state.loaded(sess, state.get_scenario(origin), None))
        if sess["saved_id"] == value:
            return out(PICK)
        saved = deps.store.load(current_workspace(), value)
        return out(PICK, session=state.loaded(sess, saved.scenario, value))
    except DecentraError:
        return out(PICK)


def register(app: Dash, deps: Deps) -> None:
    session = State(ids.SESSION, "data")
    app.callback(output=SWITCH,
                 inputs={"compare": Input(ids.COMPARE, "n_clicks"),
                         "close_compare": Input(ids.COMPARE_CLOSE, "n_clicks"),
                         "present": Input(ids.PRESENT, "n_clicks"),
                         "close_present": Input(ids.PRESENT_CLOSE, "n_clicks")},
                 state={"session": session}, prevent_initial_call=True
                 )(bind(switch_view, deps))
    app.callback(output=KPIS, inputs={"session": Input(ids.SESSION, "data"),
                                      "view": Input(ids.VIEW, "data")})(bind(present_kpis, deps))
    app.callback(output=PICK, inputs={"value": Input(ids.PRESENT_SWITCH, "value")},
                 state={"session": session, "view": State(ids.VIEW, "data"),
                        "origin": State(ids.PRESENT_ORIGIN, "data")},
                 prevent_initial_call=True)(bind(present_switch, deps))


__all__ = ["present_kpis", "present_switch", "register", "switch_view"]
