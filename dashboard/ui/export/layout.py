"""The Export tab: one button per format of the export registry, and the report."""

from __future__ import annotations

from dash import dcc, html

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
        html.P("A4 PDF opening with an executive summary: the question, this scenario against "
               "the alternatives, cost, gains and what the grid needs (verified when its "
               "power flow has run in the Grid tab), then placements, grid limits, critical "
               "facilities, assumptions and sources.", className="hint"),
        report_fields(),
        html.Div([button(ids.REPORT, "Create report (PDF)")], className="actions"),
        html.Div([html.Progress(id=ids.EXPORT_PROGRESS, value="0", max="100",
                                className="progress", style={"visibility": "hidden"}),
                  html.Div(id=ids.EXPORT_STATUS, className="hint")], className="export-state"),
    ], className="tab-body")


def report_fields() -> html.Div:
    """The report dialog: question, alternatives (saved scenarios), consultant and logo."""
    return html.Div([
        html.Label("Question the report answers", className="field-label",
                   htmlFor=ids.REPORT_QUESTION),
        dcc.Textarea(id=ids.REPORT_QUESTION, value="", maxLength=600, rows=2,
                     className="report-question",
                     placeholder="default: names the district and the objective"),
        html.Span("Compare with (saved scenarios)", className="field-label"),
        dcc.Checklist(id=ids.REPORT_COMPARE, options=[], value=[],
                      className="report-compare", inputClassName="check"),
        dcc.Store(id=ids.REPORT_ALTS, data=[]),
        html.Label("Consultant", className="field-label", htmlFor=ids.REPORT_CONSULTANT),
        dcc.Input(id=ids.REPORT_CONSULTANT, value="", maxLength=120, debounce=False,
                  className="num", placeholder="name shown on the report"),
        dcc.Upload(html.Button("Logo (PNG or JPEG)", className="btn ghost small", n_clicks=0),
                   id=ids.REPORT_LOGO, accept=".png,.jpg,.jpeg,image/png,image/jpeg",
                   max_size=2 * 2**20, className="upload"),
        dcc.Store(id=ids.REPORT_LOGO_DATA, data=None),
        html.Div(id=ids.REPORT_LOGO_STATUS, className="hint"),
    ], className="report-fields")


__all__ = ["export_tab", "report_fields"]
