"""Saved scenarios, share links, scenario files and the comparison, as plain values."""

from __future__ import annotations

import base64
import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from dash import dcc, html
from flask import request

from dashboard.domain.errors import DecentraError
from dashboard.domain.indicators import INDICATORS_BY_KEY, delta, format_value
from dashboard.domain.scenario import MAX_SCENARIO_JSON_BYTES, Scenario
from dashboard.figures import charts
from dashboard.figures.maps import (
    COLOR_SPECS,
    building_frame,
    class_breaks,
    legend_items,
    planning_map,
    view_center,
)
from dashboard.store import ScenarioStore
from dashboard.ui.base import Deps

CURRENT = "current"
COMPARE_KPIS = ("self_sufficiency", "self_consumption", "pv_kwp", "battery_kwh",
                "grid_import_kwh", "peak_import_kw", "peak_export_kw", "reverse_flow_hours_max",
                "max_transformer_loading_pct", "survival_mean_h", "p_survive_24h",
                "survival_pooled_mean_h", "capex_eur", "annual_savings_eur", "payback_years",
                "co2_avoided_t")


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


def saved_rows(store: ScenarioStore, workspace: str, district_hash: str | Sequence[str],
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


def parse_upload(contents: Any, filename: str) -> Scenario:
    """A dcc.Upload payload (data URL) as a Scenario, with clear errors; the size is checked
    before anything is decoded."""
    if not isinstance(contents, str) or "," not in contents:
        raise DecentraError("the upload is not readable", source=filename)
    _header, b64 = contents.split(",", 1)
    if len(b64) * 3 // 4 > MAX_SCENARIO_JSON_BYTES:
        raise DecentraError(f"the file is larger than {MAX_SCENARIO_JSON_BYTES // 2**20} MB",
                            source=filename)
    try:
        raw = base64.b64decode(b64, validate=True)
    except (ValueError, TypeError):
        raise DecentraError("the upload is not readable", source=filename) from None
    try:
        return Scenario.from_json(raw)
    except DecentraError as err:
        raise DecentraError(err.message, source=filename, rows=err.rows) from None


def compare_body(deps: Deps, district: Any, results: dict, baseline: Any) -> list:
    """The comparison: indicator table with changes against the first, maps on one colour
    scale, self-sufficiency and microgrid survival by transformer."""
    names = list(results)
    first = results[names[0]].summary
    head = html.Tr([html.Th("Indicator"), html.Th("Today"), *[html.Th(n) for n in names]])
    rows = []
    for key in COMPARE_KPIS:
        ind = INDICATORS_BY_KEY[key]
        cells = [html.Td(ind.label, title=ind.formula),
                 html.Td(format_value(key, baseline.summary.get(key)), className="muted")]
        for i, n in enumerate(names):
            v = results[n].summary.get(key, math.nan)
            change, kind = ("", "") if i == 0 else delta(key, v, first.get(key, math.nan))
            cells.append(html.Td([format_value(key, v),
                                  html.Span(f" {change}" if change else "",
                                            className=f"delta-inline {kind}")]))
        rows.append(html.Tr(cells))
    spec = COLOR_SPECS["self_sufficiency"]   # fixed breaks: one colour scale for all maps
    maps = []
    base = deps.base(district)
    for n in names:
        r = results[n]
        urls, _ = deps.layers.view(district, building_frame(district, r), spec,
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


__all__ = ["COMPARE_KPIS", "CURRENT", "compare_body", "file_stem", "parse_upload",
           "saved_rows", "share_url"]
