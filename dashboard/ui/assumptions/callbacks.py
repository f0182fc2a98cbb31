"""Callbacks of the Assumptions tab: its rows follow the scenario on screen; an edit makes a
new scenario (undoable like any edit) and updates everything that shows it."""

from __future__ import annotations

from typing import Any

from dash import ALL, Dash, Input, Output, State

from dashboard.domain.errors import DecentraError
from dashboard.ui import ids, state
from dashboard.ui.assumptions import logic
from dashboard.ui.base import Deps, bind, message, out
from dashboard.ui.planning import logic as planning
from dashboard.ui.planning.callbacks import VIEW, VIEW_STATE

ROWS = {"rows": Output(ids.ASSUME_ROWS, "children"),
        "status": Output(ids.ASSUME_STATUS, "children")}
EDIT = {"session": Output(ids.SESSION, "data", allow_duplicate=True),
        "message": Output(ids.MESSAGE, "children", allow_duplicate=True),
        "rows": Output(ids.ASSUME_ROWS, "children", allow_duplicate=True), **VIEW}


def show_rows(deps: Deps, session: Any) -> dict:
    """The rows of the scenario on screen (after any edit, undo or opened scenario)."""
    try:
        _, district, scenario = deps.current(session)
    except DecentraError as err:
        return out(ROWS, status=str(err))
    n = len(scenario.assumptions)
    return out(ROWS, rows=logic.row_views(logic.rows(district, scenario)),
               status=f"{n} override{'s' * (n != 1)}" if n else "district values")


def edit(deps: Deps, values: Any, resets: Any, reset_all: Any, session: Any,
         selection: Any, view: dict, trigger: Any = None, triggered_value: Any = None) -> dict:
    """One edit of the panel; an impossible value is a message and the scenario stays."""
    key = trigger.get("key") if isinstance(trigger, dict) else None
    if isinstance(trigger, dict) and trigger.get("type") == ids.ASSUME_RESET:
        triggered_value = None
    try:
        sess, _district, current = deps.current(session)
        new = logic.edited(current, key, triggered_value, trigger == ids.ASSUME_RESET_ALL)
        if new == current:
            return out(EDIT)
        pushed = state.push(sess, new)
        shown = planning.view(deps, pushed, view["color"], view["layers"], view["basemap"],
                              selection, view["grid_mode"], clean=view.get("page") == "present")
    except DecentraError as err:
        return out(EDIT, message=message(str(err)),
                   rows=show_rows(deps, session)["rows"])
    note = logic.warnings_text(new)
    return out(EDIT, session=pushed, message=message(note, "info") if note else None,
               **shown)


def register(app: Dash, deps: Deps) -> None:
    app.callback(output=ROWS, inputs={"session": Input(ids.SESSION, "data")})(
        bind(show_rows, deps))
    app.callback(
        output=EDIT,
        inputs={"values": Input({"type": ids.ASSUME_INPUT, "key": ALL}, "value"),
                "resets": Input({"type": ids.ASSUME_RESET, "key": ALL}, "n_clicks"),
                "reset_all": Input(ids.ASSUME_RESET_ALL, "n_clicks")},
        state={"session": State(ids.SESSION, "data"), "selection": State(ids.SELECTION, "data"),
               "view": VIEW_STATE},
        running=[(Output(ids.BUSY, "className"), "busy on", "busy")],
        prevent_initial_call=True,
    )(bind(edit, deps))


__all__ = ["edit", "register", "show_rows"]
