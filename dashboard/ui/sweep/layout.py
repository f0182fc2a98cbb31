"""The "As PV grows" section of the Details tab: one chart of the penetration sweep."""

from __future__ import annotations

from dash import dcc, html

from dashboard.figures.charts import empty_chart
from dashboard.ui import ids
from dashboard.ui.widgets import button, number_field

ORDER_OPTIONS = [{"label": "Largest roofs first", "value": "largest roofs first"},
                 {"label": "Best yield first", "value": "best yield first"}]
DEFAULT_BATTERY_KWH_PER_KWP = 1.0


def sweep_section() -> html.Div:
    return html.Div([
        html.H4("As PV grows"),
        html.P("Self-sufficiency, P(survive 24 h) and the transformers' hosting headroom as "
               "rooftop PV fills 0 to 100 % of the district's potential, roof by roof in the "
               "order chosen, each with the battery given per kWp. Outage settings are the "
               "scenario's.", className="hint"),
        html.Div([
            dcc.Dropdown(id=ids.SWEEP_ORDER, value=ORDER_OPTIONS[0]["value"], clearable=False,
                         searchable=False, options=ORDER_OPTIONS, className="week"),
            number_field(ids.SWEEP_BATTERY, DEFAULT_BATTERY_KWH_PER_KWP, "kWh/kWp",
                         "Battery per kWp"),
        ], className="row2"),
        html.Div([button(ids.SWEEP_RUN, "Run sweep", "ghost"),
                  html.Span(id=ids.SWEEP_STATUS, className="progress-text")],
                 className="actions"),
        dcc.Graph(id=ids.SWEEP_CHART, figure=empty_chart("Run the sweep to see the chart"),
                  config={"displaylogo": False, "displayModeBar": False}, className="chart"),
    ], className="tab-body sweep")


__all__ = ["sweep_section"]
