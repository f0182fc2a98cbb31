"""The presentation overlay: a scenario switcher and the headline figures over a clean map."""

from __future__ import annotations

from dash import dcc, html

from dashboard.ui import ids
from dashboard.ui.widgets import button


def present_overlay() -> html.Div:
    return html.Div([
        html.Div([dcc.Dropdown(id=ids.PRESENT_SWITCH, clearable=False, searchable=False,
                               className="present-switch", placeholder="Scenario"),
                  button(ids.PRESENT_CLOSE, "Exit (Esc)", "ghost",
                         "leave the presentation (Esc)")],
                 className="present-bar"),
        html.Div(id=ids.PRESENT_KPIS, className="present-kpis"),
    ], className="present-overlay", id="present-overlay")


__all__ = ["present_overlay"]
