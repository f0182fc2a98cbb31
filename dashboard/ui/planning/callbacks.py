"""Callbacks of the planning view: edits, rule placement, what shows a scenario, framing the
district, selection, the panels and the detail charts.

The map is only ever patched (``dash.Patch``): after a single edit the building layer changes
in the edited buildings' rows only, so a click sends a few numbers, not the district.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dash import Dash, Input, Output, Patch, State, no_update

import dashboard as dc
from dashboard.domain.errors import DecentraError
from dashboard.figures import charts
from dashboard.figures.maps import EMPTY_GEOJSON, LAYER, framed_view
from dashboard.ui import ids, state
from dashboard.ui.base import Deps, bind, message, out
from dashboard.ui.planning import logic

# what shows a scenario (every callback that changes the scenario on screen sets all of it)
VIEW = {
    "figure": Output(ids.MAP, "figure", allow_duplicate=True),
    "kpis": Output(ids.KPIS, "children", allow_duplicate=True),
    "table": Output(ids.TRANSFORMER_TABLE, "data", allow_duplicate=True),
    "status": Output(ids.SCENARIO_STATUS, "children", allow_duplicate=True),
    "undo": Output(ids.UNDO, "disabled", allow_duplicate=True),
    "redo": Output(ids.REDO, "disabled", allow_duplicate=True),
    "legend": Output(ids.MAP_LEGEND, "children", allow_duplicate=True),
    "name": Output(ids.SCENARIO_NAME, "value", allow_duplicate=True),
    "grid_status": Output(ids.GRID_STATUS, "children", allow_duplicate=True),
    "violations": Output(ids.GRID_VIOLATIONS, "children", allow_duplicate=True),
    "grid_legend": Output(ids.GRID_LEGEND, "children", allow_duplicate=True),
    "transformer_info": Output("transformer-info", "children", allow_duplicate=True),
}
VIEW_STATE = {"color": State(ids.COLOR_BY, "value"), "layers": State(ids.LAYERS, "value"),
              "basemap": State(ids.BASEMAP, "value"), "grid_mode": State(ids.GRID_LAYER, "value"),
              "page": State(ids.VIEW, "data")}
EDIT = {"session": Output(ids.SESSION, "data"), "message": Output(ids.MESSAGE, "children"),
        **VIEW}
EDIT_BUTTONS = (ids.PV_APPLY, ids.PV_REMOVE, ids.BAT_APPLY, ids.BAT_REMOVE, ids.SEL_PV_APPLY,
                ids.SEL_BAT_APPLY, ids.SEL_REMOVE, ids.COMM_APPLY, ids.COMM_REMOVE, ids.UNDO,
                ids.REDO, ids.RESET, ids.CRIT_MARK, ids.CRIT_UNMARK, ids.SEL_CRIT_MARK,
                ids.SEL_CRIT_UNMARK, ids.PV_LIMIT_APPLY)
FORM = {"pv_kwp": State(ids.PV_KWP, "value"), "pv_tilt": State(ids.PV_TILT, "value"),
        "pv_azimuth": State(ids.PV_AZIMUTH, "value"), "bat_kwh": State(ids.BAT_KWH, "value"),
        "bat_kw": State(ids.BAT_KW, "value"), "coverage": State(ids.SEL_COVERAGE, "value"),
        "sel_kwh": State(ids.SEL_BAT_KWH, "value"), "sel_kw": State(ids.SEL_BAT_KW, "value"),
        "comm_kwh": State(ids.COMM_KWH, "value"), "comm_kw": State(ids.COMM_KW, "value"),
        "comm_mode": State(ids.COMM_MODE, "value"),
        "comm_import": State(ids.COMM_IMPORT_LIMIT, "value"),
        "comm_export": State(ids.COMM_EXPORT_LIMIT, "value"),
        "pv_limit": State(ids.PV_LIMIT, "value")}
RULE = {"session": Output(ids.SESSION_BG, "data"),
        "message": Output(ids.MESSAGE, "children", allow_duplicate=True)}
RENDER = {"session": Output(ids.SESSION, "data", allow_duplicate=True), **VIEW,
          "message": Output(ids.MESSAGE, "children", allow_duplicate=True)}
FIT = {"figure": Output(ids.MAP, "figure", allow_duplicate=True),
       "fitted": Output(ids.MAP_FITTED, "children")}
SELECT = {"selection": Output(ids.SELECTION, "data")}
PANEL = {"figure": Output(ids.MAP, "figure", allow_duplicate=True),
         "single": Output(ids.SINGLE_PANEL, "style"), "multi": Output(ids.MULTI_PANEL, "style"),
         "transformer": Output(ids.TRANSFORMER_PANEL, "style"),
         "title": Output(ids.PANEL_TITLE, "children"), "hint": Output(ids.PANEL_HINT, "style"),
         "single_info": Output("single-info", "children"),
         "multi_info": Output("multi-info", "children"),
         "pv_kwp": Output(ids.PV_KWP, "value"), "pv_tilt": Output(ids.PV_TILT, "value"),
         "pv_azimuth": Output(ids.PV_AZIMUTH, "value"), "bat_kwh": Output(ids.BAT_KWH, "value"),
         "bat_kw": Output(ids.BAT_KW, "value"), "comm_kwh": Output(ids.COMM_KWH, "value"),
         "comm_kw": Output(ids.COMM_KW, "value"), "comm_mode": Output(ids.COMM_MODE, "value"),
         "comm_import": Output(ids.COMM_IMPORT_LIMIT, "value"),
         "comm_export": Output(ids.COMM_EXPORT_LIMIT, "value")}
INFO = {"info": Output("transformer-info", "children")}
DETAILS = {"week": Output(ids.WEEK_CHART, "figure"),
           "survival": Output(ids.SURVIVAL_CHART, "figure"),
           "title": Output(ids.DETAIL_TITLE, "children")}
HUBS = {"hubs": Output(ids.HUBS, "children")}
DRAG = {"figure": Output(ids.MAP, "figure", allow_duplicate=True)}


def _view(deps: Deps, session: Any, view: dict, selection: Any) -> dict:
    return logic.view(deps, session, view["color"], view["layers"], view["basemap"],
                      selection, view["grid_mode"], clean=view.get("page") == "present")


def edit(deps: Deps, clicks: dict, name: Any, session: Any, selection: Any, form: dict,
         view: dict, trigger: Any = None) -> dict:
    """One round trip: the new scenario (or undo / redo / rename) and everything it shows."""
    try:
        sess = state.parse_session(session)
        current = state.get_scenario(sess["scenario"])
        if trigger == ids.SCENARIO_NAME:
            if str(name or "").strip() == current.name:
                return out(EDIT)
            new_session = state.push(sess, current.renamed(str(name or "")))
            return out(EDIT, session=new_session, message=None,
                       **_view(deps, new_session, view, selection))
        if trigger in (ids.UNDO, ids.REDO):
            new_session = state.undo(sess) if trigger == ids.UNDO else state.redo(sess)
            return out(EDIT, session=new_session,
                       message=message("Undone" if trigger == ids.UNDO else "Redone", "ok"),
                       **_view(deps, new_session, view, selection))
        district = deps.district(sess["district"])
        new = logic.edited(str(trigger), district, current, logic.Form(selection or {}, **form))
        if new == current and new.name == current.name:
            return out(EDIT, message=message("Nothing changed", "info"))
        new_session = state.push(sess, new)
        # None clears a message left from an earlier refused edit; a warning does not refuse
        warning = logic.edit_warning(district, new, str(trigger))
        return out(EDIT, session=new_session, message=warning and message(warning, "warn"),
                   **_view(deps, new_session, view, selection))
    except DecentraError as err:
        return out(EDIT, message=message(str(err)))


def apply_rule(deps: Deps, set_progress: Callable, clicks: Any, session: Any, min_roof: Any,
               coverage: Any) -> dict:
    """PV by rule on the whole district (a background job: long on a large district)."""
    try:
        set_progress(("Placing PV …",))
        sess, district, scenario = deps.current(session)
        new = logic.apply_rule(district, scenario, min_roof, coverage)
        set_progress(("Saving …",))
        pushed = state.push(sess, new)
        added = len(new.pv) - len(scenario.pv)
        set_progress(("",))
        return out(RULE, session=pushed, message=message(
            f"PV placed on roofs of at least {float(min_roof):,.0f} m² ({len(new.pv)} roofs "
            f"with PV, {added:+d})", "ok"))
    except DecentraError as err:
        set_progress(("",))
        return out(RULE, message=message(str(err)))


def render(deps: Deps, session_bg: Any, color: Any, layers: Any, basemap: Any, page: Any,
           session: Any, selection: Any, grid_mode: Any, trigger: Any = None) -> dict:
    """View changes (presentation: a clean map), the page's first call, and sessions made by
    background jobs."""
    promoted = trigger == ids.SESSION_BG and session_bg is not None
    view = {"color": color, "layers": layers, "basemap": basemap, "grid_mode": grid_mode,
            "page": page}
    if promoted and logic.overtaken(session_bg, session):
        return out(RENDER, message=message(
            "A job started before your last edit finished; its result was computed on an "
            "earlier scenario and was not applied. Run it again.", "warn"))
    try:
        sess = state.parse_session(session_bg if promoted else session)
        shown = _view(deps, sess, view, selection)
    except DecentraError as err:
        return out(RENDER, message=message(str(err)))
    if trigger is None:
        # first load: the page's figure already shows this scenario; patching it now would
        # only make the browser re-process the map while it is still loading
        shown["figure"] = no_update
    return out(RENDER, session=sess if promoted else no_update, **shown)


def fit(deps: Deps, size: Any, session: Any, moved: Any) -> dict:
    """Frame the district in the visible part of the map; ``map-fitted`` says it is done."""
    if isinstance(size, dict) and size.get("reason") == "load" and isinstance(moved, dict) \
            and any(k.startswith("map.") for k in moved):
        return out(FIT, fitted="kept")        # the user already moved the map
    try:
        view = logic.parse_map_size(size)
        district = deps.district(state.parse_session(session)["district"])
    except DecentraError:
        return out(FIT, fitted="kept")
    centre, zoom = framed_view(district.buildings.total_bounds, **view)
    patch = Patch()
    patch["layout"]["map"]["center"] = centre
    patch["layout"]["map"]["zoom"] = zoom
    return out(FIT, figure=patch, fitted="fitted")


def select(deps: Deps, building_click: Any, click: Any, region: Any, clear: Any,
           session: Any, current: Any, trigger: Any = None) -> dict:
    """A building click, a transformer marker click, a box or lasso, or Clear."""
    if trigger == ids.SEL_CLEAR:
        return out(SELECT, selection=dict(logic.NO_SELECTION))
    if trigger == ids.MAP_CLICK:
        chosen = logic.selection_from_click(building_click, current)
        return out(SELECT, selection=chosen if chosen is not None else no_update)
    if trigger == ids.MAP:
        return out(SELECT, selection=logic.selection_from_points(
            (click or {}).get("points") or []))
    try:
        base = deps.base(deps.district(state.parse_session(session)["district"]))
    except DecentraError:
        return out(SELECT)
    return out(SELECT, selection=logic.selection_from_region(base, region or {}))


def show_selection(deps: Deps, selection: Any, session: Any) -> dict:
    """The selection outline on the map, the panel that fits it, and its form defaults."""
    try:
        _, district, scenario = deps.current(session)
    except DecentraError:
        return out(PANEL)
    chosen = [str(b) for b in (selection or {}).get("buildings") or []]
    patch = Patch()
    url = deps.layers.selection(district, chosen)
    patch["layout"]["map"]["layers"][LAYER.SELECTION]["source"] = url or EMPTY_GEOJSON
    panel = logic.panel_for(district, scenario, selection)
    shown = {k: {"display": "block" if panel.which == k else "none"}
             for k in ("single", "multi", "transformer")}
    info = {"single_info": panel.info} if panel.which == "single" else (
        {"multi_info": panel.info} if panel.which == "multi" else {})
    return out(PANEL, figure=patch, title=panel.title,
               hint={"display": "block" if panel.which == "none" else "none"},
               **shown, **info, **dict(panel.defaults or {}))


def transformer_info(deps: Deps, selection: Any, grid: Any, session: Any) -> dict:
    """The transformer panel when a transformer is chosen or its power flow comes back."""
    tid = (selection or {}).get("transformer")
    if not tid:
        return out(INFO)
    try:
        _, district, scenario = deps.current(session)
        from dashboard.ui.grid.logic import transformer_panel

        return out(INFO, info=transformer_panel(district, scenario, str(tid)))
    except (DecentraError, KeyError):
        return out(INFO)


def details(deps: Deps, selection: Any, session: Any, week: Any, day: Any, tab: Any) -> dict:
    """The week (or typical day) and outage survival charts, built only while on screen."""
    if tab != "details":
        return out(DETAILS)
    try:
        _, district, scenario = deps.current(session)
        result = dc.evaluate(district, scenario)
    except DecentraError:
        return out(DETAILS)
    chosen = (selection or {}).get("buildings") or []
    tid = (selection or {}).get("transformer")
    if tid:
        title = f"Transformer {tid}"
        hourly = result.hourly(transformer_id=tid)
        curves = {"Microgrid (shared PV + storage)": result.survival_curve(transformer_id=tid)}
    elif len(chosen) == 1:
        title = f"Building {chosen[0]}"
        hourly = result.hourly(building_id=chosen[0])
        t = result.buildings.loc[chosen[0], "transformer_id"]
        curves = {"Building alone": result.survival_curve(building_id=chosen[0]),
                  f"Microgrid of {t}": result.survival_curve(transformer_id=t)}
    else:
        title, hourly = "District", result.hourly()
        curves = {"A building at random": result.survival_curve()}
    return out(DETAILS, title=title,
               week=charts.week_chart(hourly, title, week, "day" in (day or [])),
               survival=charts.survival_chart(curves, "Outage survival"))


def hubs(deps: Deps, session: Any, tab: Any) -> dict:
    """The resilience hubs table of the scenario, built only while the Details tab shows."""
    if tab != "details":
        return out(HUBS)
    try:
        _, district, scenario = deps.current(session)
        result = dc.evaluate(district, scenario)
    except DecentraError:
        return out(HUBS)
    return out(HUBS, hubs=logic.hubs_view(dc.critical_facilities(district, result)))


def drag_mode(deps: Deps, mode: Any) -> dict:
    """Pan (and click), or draw a box or a lasso to select buildings."""
    patch = Patch()
    patch["layout"]["dragmode"] = mode if mode in ("pan", "select", "lasso") else "pan"
    return out(DRAG, figure=patch)


def register(app: Dash, deps: Deps) -> None:
    session = State(ids.SESSION, "data")
    selection = State(ids.SELECTION, "data")
    app.callback(
        output=EDIT,
        inputs={"clicks": {b: Input(b, "n_clicks") for b in EDIT_BUTTONS},
                "name": Input(ids.SCENARIO_NAME, "value")},
        state={"session": session, "selection": selection, "form": FORM, "view": VIEW_STATE},
        running=[(Output(ids.BUSY, "className"), "busy on", "busy")],
        prevent_initial_call=True,
    )(bind(edit, deps))
    app.callback(
        output=RULE, inputs={"clicks": Input(ids.RULE_APPLY, "n_clicks")},
        state={"session": session, "min_roof": State(ids.RULE_MIN_ROOF, "value"),
               "coverage": State(ids.RULE_COVERAGE, "value")},
        background=True, interval=500,
        running=[(Output(ids.RULE_APPLY, "disabled"), True, False),
                 (Output(ids.RULE_BUSY, "className"), "busy on dark", "busy dark")],
        progress=[Output(ids.RULE_PROGRESS, "children")], prevent_initial_call=True,
    )(bind(apply_rule, deps))
    app.callback(
        output=RENDER,
        inputs={"session_bg": Input(ids.SESSION_BG, "data"), "color": Input(ids.COLOR_BY, "value"),
                "layers": Input(ids.LAYERS, "value"), "basemap": Input(ids.BASEMAP, "value"),
                "page": Input(ids.VIEW, "data")},
        state={"session": session, "selection": selection,
               "grid_mode": State(ids.GRID_LAYER, "value")},
        running=[(Output(ids.BUSY, "className"), "busy on", "busy")],
        prevent_initial_call="initial_duplicate",
    )(bind(render, deps))
    app.clientside_callback("function(view) { return window.decentraMeasureMap(); }",
                            Output(ids.MAP_SIZE, "data"), Input(ids.VIEW, "data"))
    app.callback(output=FIT, inputs={"size": Input(ids.MAP_SIZE, "data")},
                 state={"session": session, "moved": State(ids.MAP, "relayoutData")},
                 prevent_initial_call=True)(bind(fit, deps))
    app.callback(
        output=SELECT,
        inputs={"building_click": Input(ids.MAP_CLICK, "data"),
                "click": Input(ids.MAP, "clickData"), "region": Input(ids.MAP_REGION, "data"),
                "clear": Input(ids.SEL_CLEAR, "n_clicks")},
        state={"session": session, "current": selection}, prevent_initial_call=True,
    )(bind(select, deps))
    app.callback(output=PANEL, inputs={"selection": Input(ids.SELECTION, "data")},
                 state={"session": session}, prevent_initial_call=True
                 )(bind(show_selection, deps))
    app.callback(output=INFO, inputs={"selection": Input(ids.SELECTION, "data"),
                                      "grid": Input(ids.GRID_STORE, "data")},
                 state={"session": session}, prevent_initial_call=True
                 )(bind(transformer_info, deps))
    app.callback(
        output=DETAILS,
        inputs={"selection": Input(ids.SELECTION, "data"), "session": Input(ids.SESSION, "data"),
                "week": Input(ids.DETAIL_WEEK, "value"), "day": Input(ids.DETAIL_DAY, "value"),
                "tab": Input(ids.TABS, "value")},
    )(bind(details, deps))
    app.callback(output=HUBS, inputs={"session": Input(ids.SESSION, "data"),
                                      "tab": Input(ids.TABS, "value")},
                 )(bind(hubs, deps))
    app.callback(output=DRAG, inputs={"mode": Input(ids.DRAG_MODE, "value")},
                 prevent_initial_call=True)(bind(drag_mode, deps))


__all__ = ["apply_rule", "details", "drag_mode", "edit", "fit", "hubs", "register", "render",
           "select", "show_selection", "transformer_info"]
