"""Callbacks of the grid physics: the full-year power flow as a background job after every
edit (districts up to AUTO_MAX_BUILDINGS; larger ones on request), its layers on the map, the
verified transformer table and the violation list that zooms the map to each place."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from dash import ALL, Dash, Input, Output, Patch, State, ctx, no_update

import dashboard as dc
from dashboard.domain.errors import DecentraError
from dashboard.figures.maps import EMPTY_GEOJSON, LAYER
from dashboard.ui import ids
from dashboard.ui.callbacks import AppContext, message
from dashboard.ui.components import transformer_rows
from dashboard.ui.gridview import (
    AUTO_MAX_BUILDINGS,
    cached_study,
    grid_patch,
    status_text,
    store_study,
    violation_items,
)
from dashboard.ui.jobs import failure_text
from dashboard.ui.layout import feeder_legend

EDIT_PAUSE_S = 1.5            # the power flow starts once edits pause this long


def register_grid(app: Dash, context: AppContext) -> None:

    # the power flow starts once the editing pauses: a burst of edits makes one job, not one
    # per edit competing with the next edits for the CPU
    app.clientside_callback(
        f"""function(session) {{
            window.__decentraGridSeq = (window.__decentraGridSeq || 0) + 1;
            const mine = window.__decentraGridSeq;
            const wait = mine === 1 ? 50 : {int(EDIT_PAUSE_S * 1000)};
            return new Promise(resolve => setTimeout(() => resolve(
                mine === window.__decentraGridSeq ? session : window.dash_clientside.no_update
            ), wait));
        }}""",
        Output(ids.GRID_TRIGGER, "data"), Input(ids.SESSION, "data"))

    def grid_failed(err: Exception) -> dict:
        """The power-flow job failed, timed out or was lost: the Grid tab says so (the
        figures stay the estimate's) and "Run power flow" retries."""
        logging.getLogger(__name__).error("power flow job: %s", failure_text(err))
        return {"ready": False, "failed": True, "error": failure_text(err)}

    @app.callback(
        Output(ids.GRID_STORE, "data"),
        Input(ids.GRID_TRIGGER, "data"), Input(ids.GRID_RUN, "n_clicks"),
        State(ids.SESSION, "data"),
        background=True,
        running=[(Output(ids.GRID_RUN, "disabled"), True, False),
                 (Output(ids.GRID_RUNNING, "style"), {"visibility": "visible"},
                  {"visibility": "hidden"})],
        progress=[Output(ids.GRID_PROGRESS, "value"), Output(ids.GRID_PROGRESS_TEXT,
                                                             "children")],
        on_error=grid_failed,
        prevent_initial_call=True,
    )
    def run_grid(set_progress: Callable, settled: Any, _n: int, session_data: Any) -> Any:
        try:
            session, district, scenario = context.current(session_data)
        except DecentraError:
            return no_update
        tag = {"scenario": session["scenario"], "district": session["district"]}
        asked = ctx.triggered_id == ids.GRID_RUN
        if cached_study(district, scenario) is not None:
            return {**tag, "ready": True}
        if district.n_buildings > AUTO_MAX_BUILDINGS and not asked:
            return {**tag, "ready": False}
        try:
            study = dc.grid_study(district, scenario, progress=lambda f, m: set_progress(
                (str(int(100 * f)), f"running: {m} …" if m else "")))
        except DecentraError as err:
            return {**tag, "ready": False, "error": str(err)}
        except Exception as err:  # a bug must not leave the status at "running" for ever
            logging.getLogger(__name__).exception("power flow failed")
            return {**tag, "ready": False, "failed": True,
                    "error": f"the power flow failed ({type(err).__name__}: {err})"}
        store_study(district, scenario, study)
        return {**tag, "ready": True}

    @app.callback(
        Output(ids.MAP, "figure", allow_duplicate=True),
        Output(ids.TRANSFORMER_TABLE, "data", allow_duplicate=True),
        Output(ids.GRID_VIOLATIONS, "children", allow_duplicate=True),
        Output(ids.GRID_STATUS, "children", allow_duplicate=True),
        Output(ids.GRID_LEGEND, "children", allow_duplicate=True),
        Output(ids.MESSAGE, "children", allow_duplicate=True),
        Input(ids.GRID_STORE, "data"), Input(ids.GRID_LAYER, "value"),
        State(ids.SESSION, "data"), State(ids.LAYERS, "value"),
        prevent_initial_call=True,
    )
    def render_grid(store: dict | None, mode: str | None, session_data: Any,
                    show: list[str] | None) -> tuple:
        try:
            session, district, scenario = context.current(session_data)
        except DecentraError:
            return (no_update,) * 6
        shown = session["scenario"]
        stale = isinstance(store, dict) and store.get("scenario", shown) != shown
        if ctx.triggered_id == ids.GRID_STORE and stale:
            return (no_update,) * 6          # a study of an earlier edit: a newer one is due
        study = cached_study(district, scenario)
        result = dc.evaluate(district, scenario)
        mode = mode or "power-flow"
        patch = grid_patch(Patch(), context.layers, district, study, mode,
                           set(show or []), result.transformers)
        if mode != "power-flow" or study is None:
            # back to the estimate's colours (by transformer)
            urls = context.layers.lines(district, result.transformers)
            for i, url in enumerate(urls):
                patch["layout"]["map"]["layers"][LAYER.LINE0 + i]["source"] = \
                    url or EMPTY_GEOJSON
        error = None if stale or study is not None else (store or {}).get("error")
        note = message(f"Power flow: {error}") if error else no_update
        status = status_text(study, district, scenario, error)
        legend = feeder_legend(mode if study is not None else "estimate",
                               study.limits if study is not None else None)
        return (patch, transformer_rows(result.transformers, study),
                violation_items(study, district, error),
                status, legend, note)

    @app.callback(
        Output(ids.MAP, "figure", allow_duplicate=True),
        Input({"type": "violation", "index": ALL}, "n_clicks"),
        State(ids.SESSION, "data"),
        prevent_initial_call=True,
    )
    def zoom_to(clicks: list[int], session_data: Any) -> Any:
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not any(t.get("value") for t in ctx.triggered):
            return no_update
        try:
            _, district, scenario = context.current(session_data)
            study = cached_study(district, scenario)
        except DecentraError:
            return no_update
        if study is None or trigger["index"] >= len(study.violations):
            return no_update
        row = study.violations.iloc[int(trigger["index"])]
        if not (np.isfinite(row["lon"]) and np.isfinite(row["lat"])):
            return no_update                 # an element without coordinates
        patch = Patch()
        patch["layout"]["map"]["center"] = {"lon": float(row["lon"]), "lat": float(row["lat"])}
        patch["layout"]["map"]["zoom"] = 18.5
        return patch


__all__ = ["register_grid"]
