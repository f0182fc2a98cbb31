"""The Export tab: one button per format of the export registry, and the report."""

from __future__ import annotations

from dash import html

from dashboard.export.registry import FORMATS
from dashboard.ui import ids
from dashboard.ui.widgets import button


def export_tab() -> html.Div:
    files = [f for f in FORMATS if f.group != "report"]
    return html.Div([
        html.P("Files of the current scenario. Maps are vector graphics (SVG, PDF) that "
               "show every layer with or without internet; the PNG uses OpenStreetMap tiles "
               "when that base map is on.", className="hint"),
        html.Div([html.Button(f.label, id={"type": "export", "format": f.name}, n_clicks=0,
                              className="btn ghost export-btn") for f in files],
                 className="export-grid", id=ids.EXPORT_GRID),
        html.H4("Stakeholder report"),
        html.P("A4 PDF: maps before and after, indicators against today, outage survival, "
               "transformers, assumptions and data sources.", className="hint"),
        html.Div([button(ids.REPORT, "Create report (PDF)")], className="actions"),
        html.Div([html.Progress(id=ids.EXPORT_PROGRESS, value="0", max="100",
                                className="progress", style={"visibility": "hidden"}),
                  html.Div(id=ids.EXPORT_STATUS, className="hint")], className="export-state"),
    ], className="tab-body")


__all__ = ["export_tab"]
