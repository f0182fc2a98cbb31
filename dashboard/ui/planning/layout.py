"""The planning view: the map with its tools and legends, the KPI strip, the placement panels
and the details charts."""

from __future__ import annotations

from dash import dcc, html

from dashboard.figures.charts import WEEKS, empty_chart
from dashboard.figures.maps import (
    BATTERY_COLOR,
    COLOR_SPECS,
    COMMUNITY_COLOR,
    CRITICAL_COLOR,
    PV_COLOR,
    SELECTION_COLOR,
)
from dashboard.ui import ids
from dashboard.ui.grid.logic import feeder_legend
from dashboard.ui.widgets import button, number_field

SELECT_MODES = [{"label": "Pan / click", "value": "pan"}, {"label": "Box", "value": "select"},
                {"label": "Lasso", "value": "lasso"}]


def map_toolbar(basemap: str) -> html.Div:
    """Always visible under the map: how buildings are coloured, how to select, the base map
    and the layers shown."""
    return html.Div([
        html.Div([html.Span("Colour by", className="tool-label"),
                  dcc.Dropdown(id=ids.COLOR_BY, clearable=False, searchable=False,
                               value="self_sufficiency", className="color-by",
                               options=[{"label": f"{s.label} [{s.unit}]", "value": k}
                                        for k, s in COLOR_SPECS.items()])],
                 className="tool"),
        html.Div([html.Span("Select", className="tool-label"),
                  dcc.RadioItems(id=ids.DRAG_MODE, inline=True, className="radio segmented",
                                 value="pan", options=SELECT_MODES)],
                 className="tool", title="Click a building (shift-click adds more), or drag a "
                                         "box or a lasso around several"),
        html.Div([html.Span("Base map", className="tool-label"),
                  dcc.RadioItems(id=ids.BASEMAP, inline=True, className="radio", value=basemap,
                                 options=[{"label": "OpenStreetMap", "value": "osm"},
                                          {"label": "Plain", "value": "plain"}])],
                 className="tool"),
        html.Div([html.Span("Feeders by", className="tool-label"),
                  dcc.RadioItems(id=ids.GRID_LAYER, inline=True, className="radio",
                                 value="power-flow",
                                 options=[{"label": "power flow", "value": "power-flow"},
                                          {"label": "estimate", "value": "estimate"}])],
                 className="tool"),
        html.Div([html.Span("Show", className="tool-label"),
                  dcc.Checklist(id=ids.LAYERS, inline=True, className="radio",
                                value=["feeders", "transformers", "pv", "batteries",
                                       "critical"],
                                options=[{"label": "Feeders", "value": "feeders"},
                                         {"label": "Transformers", "value": "transformers"},
                                         {"label": "PV", "value": "pv"},
                                         {"label": "Batteries", "value": "batteries"},
                                         {"label": "Critical facilities",
                                          "value": "critical"}])],
                 className="tool"),
    ], className="map-toolbar")


def marker_legend() -> html.Div:
    """Every marker colour on the map, and the grid's colours (set by the Grid callbacks)."""
    def dot(color: str, label: str, ring: bool = False) -> html.Span:
        style = {"background": color} if not ring else {"border": f"2px solid {color}",
                                                         "background": "transparent"}
        return html.Span([html.B(className="dot", style=style), label],
                         className="legend-item")
    return html.Div([dot(PV_COLOR, "rooftop PV"), dot(BATTERY_COLOR, "battery"),
                     html.Span([html.B(className="dot big", style={"background":
                                                                   COMMUNITY_COLOR}),
                                "community battery"], className="legend-item"),
                     dot(CRITICAL_COLOR, "critical facility", ring=True),
                     dot(SELECTION_COLOR, "selected", ring=True),
                     html.Span(feeder_legend(), id=ids.GRID_LEGEND)],
                    className="line-legend")


def map_pane(figure: object, basemap: str, notice: html.Div | None,
             present: html.Div) -> html.Div:
    return html.Div([
        dcc.Graph(id=ids.MAP, figure=figure, className="map",
                  config={"scrollZoom": True, "displaylogo": False, "responsive": True,
                          "displayModeBar": False}),
        map_toolbar(basemap),
        html.Div(id=ids.MAP_LEGEND, className="class-legend"),
        marker_legend(),
        html.Div(id=ids.BASEMAP_NOTE, className="basemap-note", role="status"),
        html.Div(notice, id=ids.MESSAGE, className="toast", role="status"),
        html.Div(id=ids.MAP_FITTED, style={"display": "none"}),
        present,
    ], className="map-pane")


def placement_panel() -> html.Div:
    single = html.Div([
        html.Div(id="single-info", className="info"),
        html.H4("Rooftop PV"),
        html.Div([number_field(ids.PV_KWP, None, "kWp", "Size"),
                  number_field(ids.PV_TILT, 30, "°", "Tilt"),
                  number_field(ids.PV_AZIMUTH, 180, "°", "Azimuth")], className="row3"),
        html.Div([button(ids.PV_APPLY, "Add / update PV"),
                  button(ids.PV_REMOVE, "Remove PV", "ghost")], className="actions"),
        html.H4("Battery"),
        html.Div([number_field(ids.BAT_KWH, 10, "kWh", "Capacity"),
                  number_field(ids.BAT_KW, 5, "kW", "Power")], className="row2"),
        html.Div([button(ids.BAT_APPLY, "Add / update battery"),
                  button(ids.BAT_REMOVE, "Remove battery", "ghost")], className="actions"),
        html.H4("Critical facility"),
        html.Div([button(ids.CRIT_MARK, "Mark critical", "ghost",
                         "Must keep critical.load_share of its demand running in an outage"),
                  button(ids.CRIT_UNMARK, "Unmark", "ghost")], className="actions"),
    ], id=ids.SINGLE_PANEL, className="panel", style={"display": "none"})
    multi = html.Div([
        html.Div(id="multi-info", className="info"),
        html.H4("Rooftop PV on every selected roof"),
        html.Div([number_field(ids.SEL_COVERAGE, 60, "% of roof", "Coverage")],
                 className="row2"),
        html.Div([button(ids.SEL_PV_APPLY, "Add PV to selection")], className="actions"),
        html.H4("A battery in every selected building"),
        html.Div([number_field(ids.SEL_BAT_KWH, 10, "kWh", "Capacity"),
                  number_field(ids.SEL_BAT_KW, 5, "kW", "Power")], className="row2"),
        html.Div([button(ids.SEL_BAT_APPLY, "Add batteries to selection")],
                 className="actions"),
        html.Div([button(ids.SEL_CRIT_MARK, "Mark critical", "ghost"),
                  button(ids.SEL_CRIT_UNMARK, "Unmark critical", "ghost")],
                 className="actions"),
        html.Div([button(ids.SEL_REMOVE, "Remove PV and batteries", "ghost"),
                  button(ids.SEL_CLEAR, "Clear selection", "ghost")], className="actions"),
    ], id=ids.MULTI_PANEL, className="panel", style={"display": "none"})
    transformer = html.Div([
        html.Div(id="transformer-info", className="info"),
        html.H4("Community battery"),
        html.Div([number_field(ids.COMM_KWH, 200, "kWh", "Capacity"),
                  number_field(ids.COMM_KW, 100, "kW", "Power")], className="row2"),
        dcc.RadioItems(id=ids.COMM_MODE, value="self_consumption", inline=True,
                       className="radio", options=[
                           {"label": "Self-consumption", "value": "self_consumption"},
                           {"label": "Peak shaving", "value": "peak_shaving"}]),
        html.Div([number_field(ids.COMM_IMPORT_LIMIT, None, "kW", "Import limit"),
                  number_field(ids.COMM_EXPORT_LIMIT, None, "kW", "Export limit")],
                 className="row2", title="Peak shaving keeps the transformer's import and "
                 "export at or below these (blank: no limit on that side)"),
        html.Div([button(ids.COMM_APPLY, "Add / update community battery"),
                  button(ids.COMM_REMOVE, "Remove", "ghost")], className="actions"),
    ], id=ids.TRANSFORMER_PANEL, className="panel", style={"display": "none"})
    rule = html.Div([
        html.H4("Place by rule"),
        html.Div([number_field(ids.RULE_MIN_ROOF, 200, "m²", "Roofs of at least"),
                  number_field(ids.RULE_COVERAGE, 60, "%", "at coverage")],
                 className="row2"),
        html.Div([button(ids.RULE_APPLY, "Apply rule to the district"),
                  html.Span(className="busy dark", id=ids.RULE_BUSY, title="placing PV"),
                  html.Span(id=ids.RULE_PROGRESS, className="progress-text")],
                 className="actions"),
        html.H4("PV export limit"),
        html.Div([number_field(ids.PV_LIMIT, None, "% of kWp", "Export at most")],
                 className="row2"),
        html.Div([button(ids.PV_LIMIT_APPLY, "Set for all PV", "ghost",
                         "PV above this share of its kWp (after the building's battery) is "
                         "curtailed at every meter; blank: no limit")], className="actions"),
    ], className="panel rule")
    return html.Div([
        html.Div([html.H3("Nothing selected", id=ids.PANEL_TITLE),
                  html.P("Click a building or a transformer on the map (shift-click adds "
                         "buildings), or choose Box or Lasso under the map to select "
                         "several.", id=ids.PANEL_HINT, className="hint")]),
        single, multi, transformer, rule,
    ], className="tab-body")


def details_tab() -> html.Div:
    return html.Div([
        html.H3("District", id=ids.DETAIL_TITLE),
        html.Div([
            dcc.Dropdown(id=ids.DETAIL_WEEK, value="summer", clearable=False, searchable=False,
                         options=[{"label": label, "value": k} for k, (label, _) in
                                  WEEKS.items()], className="week"),
            dcc.Checklist(id=ids.DETAIL_DAY, options=[{"label": "Typical day", "value": "day"}],
                          value=[], inline=True, className="radio"),
        ], className="row2"),
        dcc.Graph(id=ids.WEEK_CHART, figure=empty_chart("Select a building or transformer"),
                  config={"displaylogo": False, "displayModeBar": False},
                  className="chart"),
        dcc.Graph(id=ids.SURVIVAL_CHART, figure=empty_chart(""),
                  config={"displaylogo": False, "displayModeBar": False}, className="chart"),
        html.H3("Resilience hubs"),
        html.Div(id=ids.HUBS),
    ], className="tab-body")


__all__ = ["details_tab", "map_pane", "map_toolbar", "marker_legend", "placement_panel"]
