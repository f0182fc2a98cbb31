"""Callbacks of the grid physics: the full-year power flow as a background job once edits pause
(districts up to AUTO_MAX_BUILDINGS; larger ones on request), its layers on the map, the
verified transformer table and the violation list that zooms the map to each place."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from dash import ALL, Dash, Input, Output, Patch, State, no_update

import dashboard as dc
from dashboard.domain.errors import DecentraError
from dashboard.figures.maps import EMPTY_GEOJSON, LAYER
from dashboard.ui import ids
from dashboard.ui.base import Deps, bind, message, out
from dashboard.ui.grid import logic
from dashboard.ui.jobs import failure_text

EDIT_PAUSE_S = 1.5            # the power flow starts once edits pause this long
log = logging.getLogger(__name__)

RUN = {"store": Output(ids.GRID_STORE, "data")}
RENDER = {
    "figure": Output(ids.MAP, "figure", allow_duplicate=True),
    "table": Output(ids.TRANSFORMER_TABLE, "data", allow_duplicate=True),
    "violations": Output(ids.GRID_VIOLATIONS, "children", allow_duplicate=True),
    "status": Output(ids.GRID_STATUS, "children", allow_duplicate=True),
    "legend": Output(ids.GRID_LEGEND, "children", allow_duplicate=True),
    "message": Output(ids.MESSAGE, "children", allow_duplicate=True),
}
ZOOM = {"figure": Output(ids.MAP, "figure", allow_duplicate=True)}


def run_grid(deps: Deps, set_progress: Callable, settled: Any, run: int, session: Any,
             trigger: Any = None) -> dict:
    """The power flow of the scenario on screen (a background job). Its result goes to the
    shared cache; the store says for which scenario, and whether it failed."""
    try:
        sess, district, scenario = deps.current(session)
    except DecentraError:
        return out(RUN)
    tag = {"scenario": sess["scenario"], "district": sess["district"]}
    if logic.cached_study(district, scenario) is not None:
        return out(RUN, store={**tag, "ready": True})
    if district.n_buildings > logic.AUTO_MAX_BUILDINGS and trigger != ids.GRID_RUN:
        return out(RUN, store={**tag, "ready": False})
    try:
        study = dc.grid_study(district, scenario, progress=lambda f, m: set_progress(
            (str(int(100 * f)), f"running: {m} …" if m else "")))
    except DecentraError as err:
        return out(RUN, store={**tag, "ready": False, "error": str(err)})
    except Exception as err:  # a bug must not leave the status at "running" for ever
        log.exception("power flow failed")
        return out(RUN, store={**tag, "ready": False, "failed": True,
                               "error": f"the power flow failed ({type(err).__name__}: {err})"})
    logic.store_study(district, scenario, study)
    return out(RUN, store={**tag, "ready": True})


def grid_failed(err: Exception) -> dict:
    """The power-flow job failed, timed out or was lost: the Grid tab says so (the figures
    stay the estimate's) and "Run power flow" retries."""
    log.error("power flow job: %s", failure_text(err))
    return out(RUN, store={"ready": False, "failed": True, "error": failure_text(err)})


def render_grid(deps: Deps, store: Any, mode: Any, session: Any, show: Any,
                page: Any = None, trigger: Any = None) -> dict:
    """The power flow's figures on the map and in the Grid tab, for the scenario on screen
    only: a study of an earlier edit is ignored (a newer one is due). A study that arrives
    during the presentation keeps its map clean (no feeders or buses)."""
    try:
        sess, district, scenario = deps.current(session)
    except DecentraError:
        return out(RENDER)
    shown = sess["scenario"]
    stale = isinstance(store, dict) and store.get("scenario", shown) != shown
    if trigger == ids.GRID_STORE and stale:
        return out(RENDER)
    study = logic.cached_study(district, scenario)
    t = dc.evaluate(district, scenario).transformers
    mode = mode or "power-flow"
    shown_layers = set(show or []) - ({"feeders"} if page == "present" else set())
    patch = logic.grid_patch(Patch(), deps.layers, district, study, mode, shown_layers, t)
    if mode != "power-flow" or study is None:      # the estimate's colours (by transformer)
        for i, url in enumerate(deps.layers.lines(district, t)):
            patch["layout"]["map"]["layers"][LAYER.LINE0 + i]["source"] = url or EMPTY_GEOJSON
    error = None if stale or study is not None else (store or {}).get("error")
    return out(RENDER, figure=patch, table=logic.transformer_rows(t, study),
               violations=logic.violation_items(study, district, error),
               status=logic.status_text(study, district, scenario, error),
               legend=logic.feeder_legend(mode if study is not None else "estimate",
                                          study.limits if study is not None else None),
               message=message(f"Power flow: {error}") if error else no_update)


def zoom_to(deps: Deps, clicks: list, session: Any, trigger: Any = None) -> dict:
    """Centre the map on the violation clicked."""
    if not isinstance(trigger, dict):
        return out(ZOOM)
    try:
        _, district, scenario = deps.current(session)
    except DecentraError:
        return out(ZOOM)
    study = logic.cached_study(district, scenario)
    if study is None or int(trigger["index"]) >= len(study.violations):
        return out(ZOOM)
    row = study.violations.iloc[int(trigger["index"])]
    if not (np.isfinite(row["lon"]) and np.isfinite(row["lat"])):
        return out(ZOOM)                    # an element without coordinates
    patch = Patch()
    patch["layout"]["map"]["center"] = {"lon": float(row["lon"]), "lat": float(row["lat"])}
    patch["layout"]["map"]["zoom"] = 18.5
    return out(ZOOM, figure=patch)


DEBOUNCE_JS = f"""function(session) {{
    window.__decentraGridSeq = (window.__decentraGridSeq || 0) + 1;
    const mine = window.__decentraGridSeq;
    const wait = mine === 1 ? 50 : {int(EDIT_PAUSE_S * 1000)};
    return new Promise(resolve => setTimeout(() => resolve(
        mine === window.__decentraGridSeq ? session : window.dash_clientside.no_update
    ), wait));
}}"""


def register(app: Dash, deps: Deps) -> None:
    # the power flow starts once the editing pauses: a burst of edits makes one job
    app.clientside_callback(DEBOUNCE_JS, Output(ids.GRID_TRIGGER, "data"),
                            Input(ids.SESSION, "data"))
    app.callback(
        output=RUN,
        inputs={"settled": Input(ids.GRID_TRIGGER, "data"), "run": Input(ids.GRID_RUN,
                                                                          "n_clicks")},
        state={"session": State(ids.SESSION, "data")},
        background=True, interval=500,
        running=[(Output(ids.GRID_RUN, "disabled"), True, False),
                 (Output(ids.GRID_RUNNING, "style"), {"visibility": "visible"},
                  {"visibility": "hidden"})],
        progress=[Output(ids.GRID_PROGRESS, "value"),
                  Output(ids.GRID_PROGRESS_TEXT, "children")],
        on_error=grid_failed, prevent_initial_call=True,
    )(bind(run_grid, deps))
    app.callback(
        output=RENDER,
        inputs={"store": Input(ids.GRID_STORE, "data"), "mode": Input(ids.GRID_LAYER, "value")},
        state={"session": State(ids.SESSION, "data"), "show": State(ids.LAYERS, "value"),
               "page": State(ids.VIEW, "data")},
        prevent_initial_call=True,
    )(bind(render_grid, deps))
    app.callback(
        output=ZOOM,
        inputs={"clicks": Input({"type": "violation", "index": ALL}, "n_clicks")},
        state={"session": State(ids.SESSION, "data")},
        prevent_initial_call=True,
    )(bind(zoom_to, deps))


__all__ = ["register", "render_grid", "run_grid", "zoom_to"]
