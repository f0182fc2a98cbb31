"""The Grid tab: the power flow's status, the transformer table and the violation list."""

from __future__ import annotations

from dash import dash_table, html

from dashboard.ui import ids
from dashboard.ui.grid.logic import TRANSFORMER_COLUMNS, TRANSFORMER_HEADER_TIPS
from dashboard.ui.widgets import button


def transformer_tab() -> html.Div:
    return html.Div([
        html.Div([html.B("Full-year power flow"),
                  html.Span(id=ids.GRID_STATUS, className="grid-status")],
                 className="grid-head"),
        html.Div([button(ids.GRID_RUN, "Run power flow", "ghost"),
                  html.Span([html.Progress(id=ids.GRID_PROGRESS, value="0", max="100",
                                           className="progress"),
                             html.Span(id=ids.GRID_PROGRESS_TEXT, className="progress-text")],
                            id=ids.GRID_RUNNING, style={"visibility": "hidden"})],
                 className="actions"),
        html.P(["Basis ", html.B("power flow"), ": AC power flow of every hour of the year "
                "(pandapower's network model): loading of the transformer and its lines, "
                "voltages, and the PV the transformer can still host before a voltage or "
                "loading limit breaks. ", html.B("estimate"), ": energy balance only (max "
                "|net| / (power factor × rating); PV before reverse flow exceeds the rating) "
                "until the power flow has run."], className="hint"),
        dash_table.DataTable(  # type: ignore[attr-defined]
            id=ids.TRANSFORMER_TABLE,
            columns=[{"name": n, "id": k, "type": t} for k, n, t in TRANSFORMER_COLUMNS],
            data=[], sort_action="native", page_size=15, row_selectable=False,
            tooltip_header=TRANSFORMER_HEADER_TIPS, tooltip_delay=300, tooltip_duration=None,
            style_table={"overflowX": "auto"},
            style_cell={"fontFamily": "inherit", "fontSize": 11.5, "padding": "3px 4px",
                        "textAlign": "right", "minWidth": 36, "whiteSpace": "normal"},
            style_cell_conditional=[{"if": {"column_id": "transformer_id"},
                                     "textAlign": "left", "fontWeight": 600},
                                    {"if": {"column_id": "voltage_pu"}, "fontSize": 10.5}],
            style_header={"backgroundColor": "#f5f7fa", "fontWeight": 600,
                          "fontFamily": "inherit", "whiteSpace": "normal", "height": "auto"},
            style_data_conditional=[
                {"if": {"filter_query": "{loading_pct} > 100", "column_id": "loading_pct"},
                 "backgroundColor": "#fde8e8", "color": "#b42318", "fontWeight": 600},
                {"if": {"filter_query": "{loading_pct} > 80 && {loading_pct} <= 100",
                        "column_id": "loading_pct"}, "backgroundColor": "#fff4e5"},
                {"if": {"filter_query": "{reverse_flow_hours} > 0",
                        "column_id": "reverse_flow_hours"}, "color": "#1f5fbf"},
                {"if": {"filter_query": "{hours_outside} > 0", "column_id": "hours_outside"},
                 "backgroundColor": "#fde8e8", "color": "#b42318", "fontWeight": 600},
                {"if": {"filter_query": '{basis} = "estimate"'},
                 "fontStyle": "italic", "color": "#8a5a00"},
            ]),
        html.H4("Limits broken (power flow)"),
        html.Div(id=ids.GRID_VIOLATIONS, className="violations"),
    ], className="tab-body")
