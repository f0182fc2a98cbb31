"""The export job: any format of the registry, with progress, as a download."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dash import ALL, Dash, Input, Output, State, dcc, html

import dashboard as dc
from dashboard.domain.errors import DecentraError
from dashboard.export.registry import export_bytes, file_name, format_of
from dashboard.ui import ids
from dashboard.ui.base import Deps, bind, out
from dashboard.ui.export import logic
from dashboard.ui.jobs import failure_text
from dashboard.ui.scenarios.logic import file_stem
from dashboard.ui.workspace import current_workspace

EXPORT = {"file": Output(ids.DOWNLOAD, "data", allow_duplicate=True),
          "status": Output(ids.EXPORT_STATUS, "children")}
CHOICES = {"options": Output(ids.REPORT_COMPARE, "options")}
ALTS = {"alts": Output(ids.REPORT_ALTS, "data"),
        "status": Output(ids.EXPORT_STATUS, "children", allow_duplicate=True)}
LOGO = {"logo": Output(ids.REPORT_LOGO_DATA, "data"),
        "status": Output(ids.REPORT_LOGO_STATUS, "children")}


def report_choices(deps: Deps, tab: Any, session: Any) -> dict:
    """The workspace's saved scenarios of this district, offered as alternatives (when the
    Export tab opens)."""
    if tab != "export":
        return out(CHOICES)
    try:
        _, district, _ = deps.current(session)
        return out(CHOICES, options=logic.saved_choices(deps.store, current_workspace(),
                                                        district.lineage))
    except DecentraError:
        return out(CHOICES, options=[])


def pick_alternatives(deps: Deps, chosen: Any) -> dict:
    """Keep the chosen alternatives where the report's background job finds them."""
    try:
        return out(ALTS, alts=logic.alternative_keys(deps.store, current_workspace(), chosen))
    except DecentraError as err:
        return out(ALTS, alts=[], status=html.Span(str(err), className="error-text"))


def logo_upload(deps: Deps, contents: Any, filename: Any) -> dict:
    """Check the uploaded logo at once: re-encoded and kept, or one message."""
    if not contents:
        return out(LOGO)
    try:
        logo = logic.read_logo_upload(contents, filename)
    except DecentraError as err:
        return out(LOGO, logo=None, status=html.Span(str(err), className="error-text"))
    return out(LOGO, logo=logo, status=f"Logo ready: {str(filename or 'logo')[:60]}")


def export(deps: Deps, set_progress: Callable, clicks: Any, report: Any, session: Any,
           color_by: Any, basemap: Any, question: Any = None, consultant: Any = None,
           alts: Any = None, logo: Any = None, trigger: Any = None) -> dict:
    """Make one file of the scenario on screen (a background job with progress)."""
    if trigger == ids.REPORT:
        name = "report"
    elif isinstance(trigger, dict):
        name = str(trigger.get("format"))
    else:
        return out(EXPORT)
    try:
        label = format_of(name).label
        set_progress(("5", f"{label}: evaluating …"))
        _, district, scenario = deps.current(session)
        result = dc.evaluate(district, scenario)
        extra = logic.report_extras(district, name, question, consultant, alts, logo)
        set_progress(("20", f"{label}: drawing …"))
        data = export_bytes(district, result, dc.baseline(district), name,
                            str(color_by or "self_sufficiency"),
                            tiles_url=deps.tiles_url if basemap == "osm" else None,
                            progress=lambda f, m: set_progress((str(int(20 + 75 * f)),
                                                                f"{label}: {m}")),
                            **extra)
    except DecentraError as err:
        set_progress(("0", ""))
        return out(EXPORT, status=html.Span(str(err), className="error-text"))
    fname = file_name(file_stem(scenario.name), name)
    size = f"{len(data) / 1e6:.1f} MB" if len(data) >= 1e5 else f"{len(data) / 1e3:.0f} kB"
    return out(EXPORT, file=dcc.send_bytes(data, fname),
               status=f"{label} ready ({size}): {fname}")


def export_failed(err: Exception) -> dict:
    return out(EXPORT, status=html.Span(f"The export failed: {failure_text(err)}. Press the "
                                        "button again to retry.", className="error-text"))


def register(app: Dash, deps: Deps) -> None:
    app.callback(
        output=EXPORT,
        inputs={"clicks": Input({"type": "export", "format": ALL}, "n_clicks"),
                "report": Input(ids.REPORT, "n_clicks")},
        state={"session": State(ids.SESSION, "data"), "color_by": State(ids.COLOR_BY, "value"),
               "basemap": State(ids.BASEMAP, "value"),
               "question": State(ids.REPORT_QUESTION, "value"),
               "consultant": State(ids.REPORT_CONSULTANT, "value"),
               "alts": State(ids.REPORT_ALTS, "data"), "logo": State(ids.REPORT_LOGO_DATA, "data")},
        background=True, interval=500,
        running=[(Output(ids.REPORT, "disabled"), True, False),
                 (Output(ids.EXPORT_GRID, "className"), "export-grid busy", "export-grid"),
                 (Output(ids.EXPORT_PROGRESS, "style"), {"visibility": "visible"},
                  {"visibility": "hidden"})],
        progress=[Output(ids.EXPORT_PROGRESS, "value"), Output(ids.EXPORT_STATUS, "children")],
        on_error=export_failed, prevent_initial_call=True,
    )(bind(export, deps))
    app.callback(output=CHOICES, inputs={"tab": Input(ids.TABS, "value")},
                 state={"session": State(ids.SESSION, "data")},
                 prevent_initial_call=True)(bind(report_choices, deps))
    app.callback(output=ALTS, inputs={"chosen": Input(ids.REPORT_COMPARE, "value")},
                 prevent_initial_call=True)(bind(pick_alternatives, deps))
    app.callback(output=LOGO, inputs={"contents": Input(ids.REPORT_LOGO, "contents")},
                 state={"filename": State(ids.REPORT_LOGO, "filename")},
                 prevent_initial_call=True)(bind(logo_upload, deps))


__all__ = ["export", "logo_upload", "pick_alternatives", "register", "report_choices"]
