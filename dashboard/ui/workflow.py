"""Callbacks around scenarios: saving and sharing, upload / download, exports, comparison and
presentation. Thin: the store, the engine, the exporters and the figure builders do the work."""

from __future__ import annotations

import base64
import math
import time
from typing import Any
from urllib.parse import parse_qs

import numpy as np
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update
from flask import request

import dashboard as dc
from dashboard.cli import export_bytes
from dashboard.domain.errors import DecentraError
from dashboard.domain.indicators import INDICATORS_BY_KEY, delta, format_value
from dashboard.domain.scenario import Scenario
from dashboard.figures import charts
from dashboard.figures.maps import (
    COLOR_SPECS,
    building_frame,
    class_breaks,
    legend_items,
    planning_map,
    view_center,
)
from dashboard.io.staging import safe_name
from dashboard.store import ScenarioStore
from dashboard.ui import ids, state
from dashboard.ui.callbacks import AppContext, message
from dashboard.ui.components import kpi_cards
from dashboard.ui.jobs import failure_text
from dashboard.ui.layout import EXPORTS
from dashboard.ui.workspace import current_workspace, workspace_url

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
CURRENT = "current"
EXTENSIONS = {"png": ("png", "image/png"), "svg": ("svg", "image/svg+xml"),
              "pdf": ("pdf", "application/pdf"), "html": ("html", "text/html"),
              "geojson": ("geojson", "application/geo+json"),
              "gpkg": ("gpkg", "application/geopackage+sqlite3"), "csv": ("csv", "text/csv"),
              "summary-csv": ("indicators.csv", "text/csv"),
              "hourly-csv": ("hourly-transformers.csv", "text/csv"),
              "report": ("report.pdf", "application/pdf"),
              "pandapower": ("pandapower.json", "application/json")}


def share_url(token: str | None) -> str:
    """The link that opens a read-only copy of a saved scenario (its share token)."""
    if not token:
        return ""
    try:
        base = request.host_url
    except RuntimeError:          # outside a request (tests)
        base = "/"
    return f"{base}?share={token}"


def file_stem(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_" else "-" for c in name.strip())
    return "-".join(p for p in keep.split("-") if p)[:60] or "scenario"


def saved_rows(store: ScenarioStore, workspace: str, district_hash: str,
               current_id: str | None) -> list:
    items = store.list(workspace, district_hash)
    if not items:
        return [html.P("Nothing saved yet for this district.", className="hint")]
    rows = []
    for s in items:
        k = s.kpis
        figures = (f"{format_value('self_sufficiency', k.get('self_sufficiency'))} self-sufficient"
                   f" · {format_value('pv_kwp', k.get('pv_kwp'))} · "
                   f"{format_value('survival_mean_h', k.get('survival_mean_h'))} survival · "
                   f"{format_value('payback_years', k.get('payback_years'))} payback")
        rows.append(html.Div([
            html.Div([
                dcc.Input(id={"type": "saved-name", "id": s.id}, value=s.name, debounce=True,
                          className="saved-name", maxLength=200),
                html.Div([figures, html.Span(
                    f" · saved {time.strftime('%d %b %H:%M', time.localtime(s.updated_utc))}",
                    className="muted")], className="saved-kpis"),
            ], className="saved-main"),
            html.Div([
                html.Button("Open", id={"type": "saved-load", "id": s.id}, n_clicks=0,
                            className="btn small"),
                html.Button("Copy", id={"type": "saved-dup", "id": s.id}, n_clicks=0,
                            className="btn small ghost"),
                html.Button("Delete", id={"type": "saved-del", "id": s.id}, n_clicks=0,
                            className="btn small ghost danger"),
            ], className="saved-actions"),
        ], className="saved-row" + (" current" if s.id == current_id else "")))
    return rows


def register_workflow(app: Dash, context: AppContext, store: ScenarioStore) -> None:

    # ---- save -------------------------------------------------------------------------------
    @app.callback(
        Output(ids.SESSION, "data", allow_duplicate=True),
        Output(ids.MESSAGE, "children", allow_duplicate=True),
        Output(ids.SHARE_URL, "value"),
        Input(ids.SAVE, "n_clicks"), Input(ids.SAVE_NEW, "n_clicks"),
        State(ids.SESSION, "data"),
        prevent_initial_call=True,
    )
    def save(_n: int, _m: int, session_data: Any) -> tuple:
        try:
            ws = current_workspace()
            session, district, scenario = context.current(session_data)
            kpis = dc.evaluate(district, scenario).summary
            target = None if ctx.triggered_id == ids.SAVE_NEW else session["saved_id"]
            try:
                sid = store.save(ws, district.content_hash, scenario, kpis, scenario_id=target)
            except DecentraError:           # deleted meanwhile, or not this workspace's
                sid = store.save(ws, district.content_hash, scenario, kpis)
            token = store.load(ws, sid).share_token
        except DecentraError as err:
            return no_update, message(str(err)), no_update
        return (state.with_saved_id(session, sid),
                message(f"Saved “{scenario.name}”", "ok"), share_url(token))

    # ---- share links: /?share=<token> opens a read-only copy of a saved scenario -----------
    @app.callback(
        Output(ids.SESSION_BG, "data", allow_duplicate=True),
        Output(ids.MESSAGE, "children", allow_duplicate=True),
        Output(ids.SHARE_URL, "value", allow_duplicate=True),
        Input(ids.URL, "search"), State(ids.SESSION, "data"),
        prevent_initial_call="initial_duplicate",
    )
    def open_shared(search: str | None, session_data: Any) -> tuple:
        token = parse_qs((search or "").lstrip("?")[:400]).get("share", [None])[0]
        if not token:
            return no_update, no_update, no_update
        try:
            session = state.parse_session(session_data)
            saved = store.load_shared(token)
            if saved.district_hash != session["district"]:
                raise DecentraError("the shared scenario was made for another district")
        except DecentraError as err:
            return no_update, message(str(err)), no_update
        # a read-only copy: not tied to the sender's entry, "Save" keeps the visitor's own
        # copy in their workspace, so the shared scenario is never overwritten
        return (state.loaded(session, saved.scenario, None),
                message(f"Opened a copy of the shared scenario “{saved.name}” (Save keeps "
                        "it in your workspace)", "ok"), share_url(token))

    # ---- the list of saved scenarios, and the pickers fed by it -----------------------------
    @app.callback(
        Output(ids.SAVED_LIST, "children"), Output(ids.COMPARE_PICK, "options"),
        Output(ids.PRESENT_SWITCH, "options"), Output(ids.PRESENT_SWITCH, "value"),
        Output(ids.WORKSPACE_URL, "value"),
        Input(ids.SESSION, "data"), Input(ids.SAVED_ACTION, "data"), Input(ids.VIEW, "data"),
        Input(ids.TABS, "value"),
    )
    def refresh(session_data: Any, _action: Any, view: str, tab: str) -> tuple:
        if tab != "saved" and view == "plan":     # nothing on screen needs the list
            return no_update, no_update, no_update, no_update, no_update
        try:
            ws = current_workspace()
            session = state.parse_session(session_data)
            items = store.list(ws, session["district"])
        except DecentraError as err:
            return [html.P(str(err), className="hint")], [], [], no_update, no_update
        options = [{"label": "Current scenario (with unsaved changes)", "value": CURRENT},
                   *[{"label": s.name, "value": s.id} for s in items]]
        mine = session["saved_id"] if any(s.id == session["saved_id"] for s in items) else None
        return (saved_rows(store, ws, session["district"], mine), options, options,
                mine or CURRENT, workspace_url(ws))

    # ---- open / copy / delete / rename a saved scenario -------------------------------------
    @app.callback(
        Output(ids.SESSION_BG, "data", allow_duplicate=True),
        Output(ids.SAVED_ACTION, "data"),
        Output(ids.MESSAGE, "children", allow_duplicate=True),
        Input({"type": "saved-load", "id": ALL}, "n_clicks"),
        Input({"type": "saved-dup", "id": ALL}, "n_clicks"),
        Input({"type": "saved-name", "id": ALL}, "value"),
        State(ids.SESSION, "data"),
        prevent_initial_call=True,
    )
    def saved_action(_l: list, _d: list, names: list, session_data: Any) -> tuple:
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not any(t.get("value") for t in ctx.triggered):
            return no_update, no_update, no_update
        sid, kind = trigger["id"], trigger["type"]
        try:
            ws = current_workspace()
            session = state.parse_session(session_data)
            if kind == "saved-load":
                saved = store.load(ws, sid)
                if saved.district_hash != session["district"]:
                    raise DecentraError("that scenario was made for another district")
                return (state.loaded(session, saved.scenario, sid), time.time(),
                        message(f"Opened “{saved.name}”", "ok"))
            if kind == "saved-dup":
                new_id = store.duplicate(ws, sid)
                return no_update, time.time(), message(
                    f"Copied as “{store.load(ws, new_id).name}”", "ok")
            new_name = next((t["value"] for t in ctx.triggered), None)
            if not new_name or store.load(ws, sid).name == str(new_name).strip():
                return no_update, no_update, no_update
            store.rename(ws, sid, str(new_name))
            return no_update, time.time(), message(f"Renamed to “{new_name}”", "ok")
        except DecentraError as err:
            return no_update, time.time(), message(str(err))

    # ---- delete: asks first (a saved scenario may be someone's council option) -------------
    @app.callback(
        Output(ids.CONFIRM_DELETE, "displayed"), Output(ids.CONFIRM_DELETE, "message"),
        Output(ids.PENDING_DELETE, "data"),
        Input({"type": "saved-del", "id": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def ask_delete(_clicks: list) -> tuple:
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not any(t.get("value") for t in ctx.triggered):
            return no_update, no_update, no_update
        try:
            name = store.load(current_workspace(), trigger["id"]).name
        except DecentraError:
            return no_update, no_update, no_update
        return True, (f"Delete “{name}”? Share links to it will stop working. This cannot "
                      "be undone."), trigger["id"]

    @app.callback(
        Output(ids.SESSION_BG, "data", allow_duplicate=True),
        Output(ids.SAVED_ACTION, "data", allow_duplicate=True),
        Output(ids.MESSAGE, "children", allow_duplicate=True),
        Input(ids.CONFIRM_DELETE, "submit_n_clicks"),
        State(ids.PENDING_DELETE, "data"), State(ids.SESSION, "data"),
        prevent_initial_call=True,
    )
    def delete(_n: int, sid: str | None, session_data: Any) -> tuple:
        if not sid:
            return no_update, no_update, no_update
        try:
            ws = current_workspace()
            session = state.parse_session(session_data)
            name = store.load(ws, sid).name
            store.delete(ws, sid)
        except DecentraError as err:
            return no_update, time.time(), message(str(err))
        out = state.with_saved_id(session, None) if session["saved_id"] == sid else no_update
        return out, time.time(), message(f"Deleted “{name}”", "ok")

    # ---- upload / download the scenario as JSON ---------------------------------------------
    @app.callback(
        Output(ids.SESSION_BG, "data", allow_duplicate=True),
        Output(ids.MESSAGE, "children", allow_duplicate=True),
        Input(ids.UPLOAD, "contents"), State(ids.UPLOAD, "filename"),
        State(ids.SESSION, "data"),
        prevent_initial_call=True,
    )
    def upload(contents: str | None, filename: str | None, session_data: Any) -> tuple:
        if not contents:
            return no_update, no_update
        name = safe_name(filename)
        try:
            session, district, _ = context.current(session_data)
            scenario = parse_upload(contents, name)
            dc.validate(district, scenario)
        except DecentraError as err:
            shown = err if err.source is not None else DecentraError(
                err.message, source=name, rows=err.rows)
            return no_update, message(str(shown))
        return state.loaded(session, scenario, None), message(
            f"Loaded “{scenario.name}” from {name}", "ok")

    @app.callback(
        Output(ids.DOWNLOAD, "data"), Input(ids.DOWNLOAD_JSON, "n_clicks"),
        State(ids.SESSION, "data"), prevent_initial_call=True,
    )
    def download_json(_n: int, session_data: Any) -> Any:
        try:
            _, _, scenario = context.current(session_data)
        except DecentraError:
            return no_update
        return dcc.send_string(scenario.to_json(), f"{file_stem(scenario.name)}.json")

    # ---- exports: every file is made in a background job with a progress bar ---------------
    def export_failed(err: Exception) -> tuple:
        return no_update, html.Span(f"The export failed: {failure_text(err)}. Press the button "
                                    "again to retry.", className="error-text")

    @app.callback(
        Output(ids.DOWNLOAD, "data", allow_duplicate=True),
        Output(ids.EXPORT_STATUS, "children"),
        Input({"type": "export", "format": ALL}, "n_clicks"), Input(ids.REPORT, "n_clicks"),
        State(ids.SESSION, "data"), State(ids.COLOR_BY, "value"), State(ids.BASEMAP, "value"),
        background=True,
        running=[(Output(ids.REPORT, "disabled"), True, False),
                 (Output(ids.EXPORT_GRID, "className"), "export-grid busy", "export-grid"),
                 (Output(ids.EXPORT_PROGRESS, "style"), {"visibility": "visible"},
                  {"visibility": "hidden"})],
        progress=[Output(ids.EXPORT_PROGRESS, "value"), Output(ids.EXPORT_STATUS, "children")],
        on_error=export_failed,
        prevent_initial_call=True,
    )
    def export(set_progress: Any, _clicks: list, _report: int, session_data: Any,
               color_by: str | None, basemap: str | None) -> tuple:
        trigger = ctx.triggered_id
        if trigger == ids.REPORT:
            fmt = "report"
        elif isinstance(trigger, dict) and any(t.get("value") for t in ctx.triggered):
            fmt = str(trigger["format"])
        else:
            return no_update, no_update
        label = dict(EXPORTS).get(fmt, "Report")
        try:
            set_progress(("5", f"{label}: evaluating …"))
            _, district, scenario = context.current(session_data)
            result = dc.evaluate(district, scenario)
            baseline = dc.baseline(district)
            set_progress(("20", f"{label}: drawing …"))
            data = export_bytes(
                district, result, baseline, fmt, color_by or "self_sufficiency",
                tiles_url=context.tiles_url if basemap == "osm" else None,
                progress=lambda f, m: set_progress((str(int(20 + 75 * f)), f"{label}: {m}")))
        except DecentraError as err:
            set_progress(("0", ""))
            return no_update, html.Span(str(err), className="error-text")
        ext, _mime = EXTENSIONS[fmt]
        name = (f"{file_stem(scenario.name)}-report.pdf" if fmt == "report"
                else f"{file_stem(scenario.name)}.{ext}")
        size = f"{len(data) / 1e6:.1f} MB" if len(data) >= 1e5 else f"{len(data) / 1e3:.0f} kB"
        return dcc.send_bytes(data, name), f"{label} ready ({size}): {name}"

    # ---- views: plan / compare / present ----------------------------------------------------
    @app.callback(
        Output(ids.VIEW, "data"), Output(ids.APP, "className"),
        Output(ids.PRESENT_ORIGIN, "data"),
        Output(ids.MESSAGE, "children", allow_duplicate=True),
        Input(ids.COMPARE, "n_clicks"), Input(ids.COMPARE_CLOSE, "n_clicks"),
        Input(ids.PRESENT, "n_clicks"), Input(ids.PRESENT_CLOSE, "n_clicks"),
        State(ids.SESSION, "data"),
        prevent_initial_call=True,
    )
    def switch_view(*args: Any) -> tuple:
        session_data = args[-1]
        view = {ids.COMPARE: "compare", ids.PRESENT: "present"}.get(str(ctx.triggered_id),
                                                                     "plan")
        # entering the presentation: remember the scenario on screen ("Current" returns to
        # it) and clear messages left from planning
        origin: Any = no_update
        if view == "present":
            try:
                origin = state.parse_session(session_data)["scenario"]
            except DecentraError:
                origin = None
        return view, f"app view-{view}", origin, None

    @app.callback(
        Output(ids.PRESENT_KPIS, "children"),
        Input(ids.SESSION, "data"), Input(ids.VIEW, "data"),
    )
    def present_kpis(session_data: Any, view: str) -> Any:
        if view != "present":
            return no_update
        try:
            _, district, scenario = context.current(session_data)
        except DecentraError:
            return no_update
        result = dc.evaluate(district, scenario)
        return [html.Div(scenario.name, className="present-title"),
                *kpi_cards(result.summary, dc.baseline(district).summary)[:6]]

    @app.callback(
        Output(ids.SESSION_BG, "data", allow_duplicate=True),
        Input(ids.PRESENT_SWITCH, "value"), State(ids.SESSION, "data"),
        State(ids.VIEW, "data"), State(ids.PRESENT_ORIGIN, "data"),
        prevent_initial_call=True,
    )
    def present_switch(value: str | None, session_data: Any, view: str,
                       origin: str | None) -> Any:
        if view != "present" or not value:
            return no_update
        try:
            session = state.parse_session(session_data)
            if value == CURRENT:       # back to what was on screen when the talk began
                if not origin or origin == session["scenario"]:
                    return no_update
                return state.loaded(session, state.get_scenario(origin), None)
            if session["saved_id"] == value:
                return no_update
            saved = store.load(current_workspace(), value)
            return state.loaded(session, saved.scenario, value)
        except DecentraError:
            return no_update

    @app.callback(
        Output(ids.COMPARE_BODY, "children"),
        Input(ids.COMPARE_PICK, "value"), Input(ids.VIEW, "data"),
        State(ids.SESSION, "data"),
    )
    def compare(picked: list[str] | None, view: str, session_data: Any) -> Any:
        if view != "compare":
            return no_update
        picked = list(picked or [])
        if len(picked) < 2:
            return html.P("Pick 2 to 4 scenarios: the current one and saved ones.",
                          className="hint big")
        extra = None
        if len(picked) > 4:
            extra = html.P(f"At most 4 side by side: showing the first 4 of {len(picked)}; "
                           "remove one to bring in another.", className="hint warn")
            picked = picked[:4]
        try:
            ws = current_workspace()
            _, district, scenario = context.current(session_data)
            chosen = {}
            for key in picked:
                s = scenario if key == CURRENT else store.load(ws, key).scenario
                name = s.name if s.name not in chosen else f"{s.name} ({key})"
                chosen[name] = dc.evaluate(district, s)
        except DecentraError as err:
            return html.P(str(err), className="hint big")
        body = compare_body(context, district, chosen, dc.baseline(district))
        return [extra, *body] if extra is not None else body


def parse_upload(contents: str, filename: str) -> Scenario:
    """A dcc.Upload payload (data URL) as a Scenario, with clear errors."""
    if not isinstance(contents, str) or "," not in contents:
        raise DecentraError("the upload is not readable", source=filename)
    _header, b64 = contents.split(",", 1)
    if len(b64) * 3 // 4 > MAX_UPLOAD_BYTES:          # before decoding anything
        raise DecentraError(f"the file is larger than {MAX_UPLOAD_BYTES // 2**20} MB",
                            source=filename)
    try:
        raw = base64.b64decode(b64, validate=True)
    except (ValueError, TypeError):
        raise DecentraError("the upload is not readable", source=filename) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DecentraError("not a text file: a scenario is JSON (UTF-8)",
                            source=filename) from None
    try:
        return Scenario.from_json(text)
    except DecentraError as err:
        raise DecentraError(err.message, source=filename, rows=err.rows) from None


COMPARE_KPIS = ("self_sufficiency", "self_consumption", "pv_kwp", "battery_kwh",
                "grid_import_kwh", "peak_import_kw", "peak_export_kw", "reverse_flow_hours_max",
                "max_transformer_loading_pct", "survival_mean_h", "p_survive_24h",
                "survival_pooled_mean_h", "capex_eur", "annual_savings_eur", "payback_years",
                "co2_avoided_t")


def compare_body(context: AppContext, district: Any, results: dict, baseline: Any) -> list:
    names = list(results)
    first = results[names[0]].summary
    head = html.Tr([html.Th("Indicator"), html.Th("Today"),
                    *[html.Th(n) for n in names]])
    rows = []
    for key in COMPARE_KPIS:
        ind = INDICATORS_BY_KEY[key]
        cells = [html.Td(ind.label, title=ind.formula),
                 html.Td(format_value(key, baseline.summary.get(key)), className="muted")]
        for i, n in enumerate(names):
            v = results[n].summary.get(key, math.nan)
            text = format_value(key, v)
            change, kind = ("", "") if i == 0 else delta(key, v, first.get(key, math.nan))
            cells.append(html.Td([text, html.Span(f" {change}" if change else "",
                                                  className=f"delta-inline {kind}")]))
        rows.append(html.Tr(cells))
    spec = COLOR_SPECS["self_sufficiency"]   # fixed breaks: one colour scale for all maps
    maps = []
    base = context.base(district)
    for n in names:
        r = results[n]
        urls, _ = context.layers.view(district, building_frame(district, r), spec,
                                      r.transformers, [])
        fig = planning_map(base, spec, urls, r.transformers, "plain")
        _, zoom = view_center(district.buildings.total_bounds, 560.0, 320.0)
        fig.update_layout(dragmode=False, uirevision=n, map_zoom=zoom)
        maps.append(html.Div([html.Div(n, className="multiple-title"),
                              dcc.Graph(figure=fig, className="multiple",
                                        config={"staticPlot": False, "displayModeBar": False,
                                                "scrollZoom": True})],
                             className="multiple-box"))
    frames = {n: results[n].transformers for n in names}
    return [
        html.Table([html.Thead(head), html.Tbody(rows)], className="compare-table"),
        html.Div([html.Span("Buildings: self-sufficiency, one scale for every map",
                            className="legend-head"),
                  *[html.Span([html.I(style={"background": color}), f"{label} %"],
                              className="class-item inline")
                    for color, label in legend_items(spec, class_breaks(spec, np.zeros(1)))],
                  html.Span("· feeders by their transformer's loading and reverse flow",
                            className="hint")], className="compare-legend"),
        html.Div(maps, className=f"multiples n{len(names)}"),
        html.Div([
            dcc.Graph(figure=charts.transformer_bars(frames, "self_sufficiency",
                                                     "Self-sufficiency by transformer", "%",
                                                     100.0), config={"displaylogo": False}),
            dcc.Graph(figure=charts.transformer_bars(frames, "pooled_survival_mean_h",
                                                     "Outage survival of transformer microgrids "
                                                     "(mean)", "h"),
                      config={"displaylogo": False}),
        ], className="compare-charts"),
    ]


