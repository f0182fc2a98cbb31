"""The Assumptions tab: per row the district's value and the scenario's override."""

from __future__ import annotations

from dash import html

from dashboard.ui import ids
from dashboard.ui.widgets import button


def assumptions_tab() -> html.Div:
    return html.Div([
        html.H4("Assumptions of this scenario"),
        html.P("Prices, costs and shares this scenario uses. Type a value to override the "
               "district's (lists: numbers separated by ';'; Enter applies); ↺ goes back to "
               "the district's. Money and CO2 update without simulating again.",
               className="hint"),
        html.Div([button(ids.ASSUME_RESET_ALL, "Reset all overrides", "ghost"),
                  html.Span(id=ids.ASSUME_STATUS, className="progress-text")],
                 className="actions"),
        html.Div(id=ids.ASSUME_ROWS, className="assume-rows"),
    ], className="tab-body assumptions")


__all__ = ["assumptions_tab"]
