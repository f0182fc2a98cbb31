"""Callbacks of the import dialog: open / close, stage each upload, check the import (a
background job) and show its report."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dash import Dash, Input, Output, State

from dashboard.domain.errors import DecentraError
from dashboard.ui import ids, state
from dashboard.ui.base import Deps, bind, out
from dashboard.ui.importing import logic
from dashboard.ui.jobs import failure_text

STAGE = {"files": Output(ids.IMPORT_FILES, "data"),
         "buildings_info": Output(ids.IMPORT_BUILDINGS_INFO, "children"),
         "layer_options": Output(ids.IMPORT_LAYER, "options"),
         "layer": Output(ids.IMPORT_LAYER, "value"),
         "layer_box": Output(ids.IMPORT_LAYER_BOX, "style"),
         "grid_info": Output(ids.IMPORT_GRID_INFO, "children"),
         "grid_kind": Output(ids.IMPORT_GRID_KIND, "value"),
         "grid_box": Output(ids.IMPORT_GRID_BOX, "style"),
         "weather_info": Output(ids.IMPORT_WEATHER_INFO, "children"),
         "meters_info": Output(ids.IMPORT_METERS_INFO, "children"),
         "pv_info": Output(ids.IMPORT_PV_INFO, "children"),
         "run_disabled": Output(ids.IMPORT_RUN, "disabled"),
         "result": Output(ids.IMPORT_RESULT, "children")}
CHECK = {"result": Output(ids.IMPORT_RESULT, "children", allow_duplicate=True)}
ROLES = {ids.IMPORT_BUILDINGS: "buildings", ids.IMPORT_GRID: "grid",
         ids.IMPORT_WEATHER: "weather", ids.IMPORT_METERS: "meters",
         ids.IMPORT_PV: "pv"}
TOGGLE_JS = """function(open, close) {
    const id = window.dash_clientside.callback_context.triggered_id;
    return {display: id === 'import-open' ? 'flex' : 'none'};
}"""


def stage(deps: Deps, contents: dict, names: dict, files: Any, trigger: Any = None) -> dict:
    """A file dropped on one of the dialog's slots: staged and described (or refused)."""
    role = ROLES.get(str(trigger))
    if role is None:
        return out(STAGE)
    return out(STAGE, **logic.stage_file(role, contents.get(role), names.get(role), files,
                                         logic.staging_root()))


def check(deps: Deps, set_progress: Callable, run: Any, files: Any, layer: Any,
          grid_kind: Any, pvgis: Any, name: Any) -> dict:
    """The import of the staged files (a background job): the report and a link that opens
    the district, or one message and the current district unchanged."""
    try:
        result = logic.run_import(files or {}, layer, grid_kind, "pvgis" in (pvgis or []),
                                  name, logic.staging_root(),
                                  progress=lambda text: set_progress((text,)))
        set_progress(("Preparing the district …",))
        key = deps.registry.add(result.district)
        placements = state.put_scenario(result.scenario) if result.scenario else None
    except DecentraError as err:
        set_progress(("",))
        return out(CHECK, result=logic.error_box(err, "The current district is unchanged."))
    set_progress(("",))
    return out(CHECK, result=logic.report_view(result, logic.district_url(key, placements)))


def check_failed(err: Exception) -> dict:
    return out(CHECK, result=logic.error_box(
        DecentraError(f"the check failed: {failure_text(err)}"),
        "The current district is unchanged. Press Check import to retry."))


def register(app: Dash, deps: Deps) -> None:
    app.clientside_callback(TOGGLE_JS, Output(ids.IMPORT_DIALOG, "style"),
                            Input(ids.IMPORT_OPEN, "n_clicks"),
                            Input(ids.IMPORT_CLOSE, "n_clicks"), prevent_initial_call=True)
    app.callback(
        output=STAGE,
        inputs={"contents": {r: Input(i, "contents") for i, r in ROLES.items()}},
        state={"names": {r: State(i, "filename") for i, r in ROLES.items()},
               "files": State(ids.IMPORT_FILES, "data")},
        prevent_initial_call=True,
    )(bind(stage, deps))
    app.callback(
        output=CHECK, inputs={"run": Input(ids.IMPORT_RUN, "n_clicks")},
        state={"files": State(ids.IMPORT_FILES, "data"), "layer": State(ids.IMPORT_LAYER, "value"),
               "grid_kind": State(ids.IMPORT_GRID_KIND, "value"),
               "pvgis": State(ids.IMPORT_PVGIS, "value"), "name": State(ids.IMPORT_NAME, "value")},
        background=True, interval=500,
        running=[(Output(ids.IMPORT_RUN, "disabled"), True, False)],
        progress=[Output(ids.IMPORT_PROGRESS, "children")],
        on_error=check_failed, prevent_initial_call=True,
    )(bind(check, deps))


__all__ = ["check", "register", "stage"]
