"""The page: map dominant on the left, indicators and placement panels on the right."""

from __future__ import annotations

from dash import dash_table, dcc, html

from dashboard.figures.charts import WEEKS, empty_chart
from dashboard.figures.maps import COLOR_SPECS, LINE_CLASSES, VOLTAGE_CLASSES
from dashboard.ui import ids
from dashboard.ui.components import TRANSFORMER_COLUMNS
from dashboard.ui.importing import import_dialog


def _num(id_: str, value: float | None, unit: str = "", label: str = "") -> html.Label:
    """A number field. It has no HTML min / max / step: the browser would turn a value outside
    them into "no number" before the server sees it, and the message would then name the wrong
    problem; the server checks every bound and says which one was broken."""
    return html.Label([
        html.Span(label, className="field-label"),
        html.Span([dcc.Input(id=id_, type="number", value=value, step="any",
                             debounce=False, className="num"),
                   html.Span(unit, className="unit")], className="field-input"),
    ], className="field")


def _button(id_: str, text: str, kind: str = "primary") -> html.Button:
    return html.Button(text, id=id_, n_clicks=0, className=f"btn {kind}")


def map_toolbar(basemap: str) -> html.Div:
    return html.Div([
        html.Div([html.Span("Colour buildings by", className="tool-label"),
                  dcc.Dropdown(id=ids.COLOR_BY, clearable=False, searchable=False,
                               value="self_sufficiency", className="color-by",
                               options=[{"label": f"{s.label} [{s.unit}]", "value": k}
                                        for k, s in COLOR_SPECS.items()])],
                 className="tool"),
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
                                value=["feeders", "transformers", "pv", "batteries"],
                                options=[{"label": "Feeders", "value": "feeders"},
                                         {"label": "Transformers", "value": "transformers"},
                                         {"label": "PV", "value": "pv"},
                                         {"label": "Batteries", "value": "batteries"}])],
                 className="tool"),
    ], className="map-toolbar")


def feeder_legend(mode: str = "estimate", limits: dict[str, float] | None = None) -> list:
    """Legend items of the feeder colours: by transformer (estimate) or by each line's own
    power-flow loading, with the bus voltage classes."""
    def item(color: str, label: str, title: str, dot: bool = False) -> html.Span:
        mark = html.B(className="dot", style={"background": color}) if dot else \
            html.I(style={"background": color})
        return html.Span([mark, label], className="legend-item", title=title)

    if mode != "power-flow":
        return [html.Span("Feeders and transformers (●), estimate:", className="legend-title"),
                *[item(color, label.split(",")[0], label) for _, color, label in LINE_CLASSES]]
    lim = limits or {"voltage_min_pu": 0.95, "voltage_max_pu": 1.05}
    lo, hi = lim["voltage_min_pu"], lim["voltage_max_pu"]
    lines = [item(LINE_CLASSES[0][1], "≤ 80 %", "line loading up to 80 % of its rating"),
             item(LINE_CLASSES[2][1], "80–100 %", "line loading 80-100 %"),
             item(LINE_CLASSES[3][1], "> 100 %", "line loading above its rating")]
    buses = [item(color, {"under": f"< {lo:g} pu", "normal": "within",
                          "high": f"≥ {hi - 0.02:g} pu", "over": f"> {hi:g} pu"}[name],
                  title, dot=True) for name, color, title in VOLTAGE_CLASSES]
    return [html.Span("Lines (power flow):", className="legend-title"), *lines,
            html.Span("Buses:", className="legend-title"), *buses]


def legend() -> html.Div:
    markers = [("#f7b32b", "rooftop PV"), ("#2bb673", "battery"), ("#7b61ff",
                                                                   "community battery")]
    dots = [html.Span([html.B(className="dot", style={"background": c}), label],
                      className="legend-item") for c, label in markers]
    return html.Div([*dots, html.Span(feeder_legend(), id=ids.GRID_LEGEND)],
                    className="line-legend")


def placement_panel() -> html.Div:
    single = html.Div([
        html.Div(id="single-info", className="info"),
        html.H4("Rooftop PV"),
        html.Div([_num(ids.PV_KWP, None, "kWp", "Size"),
                  _num(ids.PV_TILT, 30, "°", "Tilt"),
                  _num(ids.PV_AZIMUTH, 180, "°", "Azimuth")], className="row3"),
        html.Div([_button(ids.PV_APPLY, "Add / update PV"),
                  _button(ids.PV_REMOVE, "Remove PV", "ghost")], className="actions"),
        html.H4("Battery"),
        html.Div([_num(ids.BAT_KWH, 10, "kWh", "Capacity"),
                  _num(ids.BAT_KW, 5, "kW", "Power")], className="row2"),
        html.Div([_button(ids.BAT_APPLY, "Add / update battery"),
                  _button(ids.BAT_REMOVE, "Remove battery", "ghost")], className="actions"),
    ], id=ids.SINGLE_PANEL, className="panel", style={"display": "none"})
    multi = html.Div([
        html.Div(id="multi-info", className="info"),
        html.H4("Rooftop PV on every selected roof"),
        html.Div([_num(ids.SEL_COVERAGE, 60, "% of roof", "Coverage")],
                 className="row2"),
        html.Div([_button(ids.SEL_PV_APPLY, "Add PV to selection")], className="actions"),
        html.H4("A battery in every selected building"),
        html.Div([_num(ids.SEL_BAT_KWH, 10, "kWh", "Capacity"),
                  _num(ids.SEL_BAT_KW, 5, "kW", "Power")], className="row2"),
        html.Div([_button(ids.SEL_BAT_APPLY, "Add batteries to selection")],
                 className="actions"),
        html.Div([_button(ids.SEL_REMOVE, "Remove PV and batteries", "ghost"),
                  _button(ids.SEL_CLEAR, "Clear selection", "ghost")], className="actions"),
    ], id=ids.MULTI_PANEL, className="panel", style={"display": "none"})
    transformer = html.Div([
        html.Div(id="transformer-info", className="info"),
        html.H4("Community battery"),
        html.Div([_num(ids.COMM_KWH, 200, "kWh", "Capacity"),
                  _num(ids.COMM_KW, 100, "kW", "Power")], className="row2"),
        html.Div([_button(ids.COMM_APPLY, "Add / update community battery"),
                  _button(ids.COMM_REMOVE, "Remove", "ghost")], className="actions"),
    ], id=ids.TRANSFORMER_PANEL, className="panel", style={"display": "none"})
    rule = html.Div([
        html.H4("Place by rule"),
        html.Div([_num(ids.RULE_MIN_ROOF, 200, "m²", "Roofs of at least"),
                  _num(ids.RULE_COVERAGE, 60, "%", "at coverage")],
                 className="row2"),
        html.Div([_button(ids.RULE_APPLY, "Apply rule to the district"),
                  html.Span(className="busy dark", id=ids.RULE_BUSY, title="placing PV"),
                  html.Span(id=ids.RULE_PROGRESS, className="progress-text")],
                 className="actions"),
    ], className="panel rule")
    return html.Div([
        html.Div([html.H3("Nothing selected", id=ids.PANEL_TITLE),
                  html.P("Click a building or a transformer on the map (shift-click adds "
                         "buildings), or drag a box / lasso (toolbar top right of the map) to "
                         "select several buildings.",
                         id=ids.PANEL_HINT, className="hint")]),
        single, multi, transformer, rule,
    ], className="tab-body")


def transformer_tab() -> html.Div:
    return html.Div([
        html.Div([html.B("Full-year power flow"),
                  html.Span(id=ids.GRID_STATUS, className="grid-status")],
                 className="grid-head"),
        html.Div([_button(ids.GRID_RUN, "Run power flow", "ghost"),
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
            style_table={"overflowX": "auto"},
            style_cell={"fontFamily": "inherit", "fontSize": 11.5, "padding": "3px 5px",
                        "textAlign": "right", "minWidth": 40, "whiteSpace": "normal"},
            style_cell_conditional=[{"if": {"column_id": "transformer_id"},
                                     "textAlign": "left", "fontWeight": 600},
                                    {"if": {"column_id": "basis"}, "textAlign": "left",
                                     "fontSize": 11}],
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
                {"if": {"filter_query": '{basis} = "power flow"', "column_id": "basis"},
                 "color": "#05603a", "fontWeight": 600},
                {"if": {"filter_query": '{basis} = "estimate"', "column_id": "basis"},
                 "color": "#8a5a00"},
            ]),
        html.H4("Limits broken (power flow)"),
        html.Div(id=ids.GRID_VIOLATIONS, className="violations"),
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
                  config={"displaylogo": False}),
        dcc.Graph(id=ids.SURVIVAL_CHART, figure=empty_chart(""), config={"displaylogo": False}),
    ], className="tab-body")


EXPORTS = [("png", "Map · PNG"), ("svg", "Map · SVG"), ("pdf", "Map · PDF"),
           ("html", "Interactive map · HTML"), ("geojson", "Placements · GeoJSON"),
           ("gpkg", "Placements · GeoPackage"), ("csv", "Buildings · CSV"),
           ("summary-csv", "Indicators · CSV"), ("hourly-csv", "Hourly transformers · CSV"),
           ("pandapower", "Grid · pandapower JSON")]


def saved_tab() -> html.Div:
    return html.Div([
        html.Div([_button(ids.SAVE, "Save"), _button(ids.SAVE_NEW, "Save as new", "ghost"),
                  html.Button("Download JSON", id=ids.DOWNLOAD_JSON, n_clicks=0,
                              className="btn ghost"),
                  dcc.Upload(html.Button("Upload JSON", className="btn ghost", n_clicks=0),
                             id=ids.UPLOAD, accept=".json,application/json",
                             max_size=50 * 1024 * 1024, className="upload")],
                 className="actions"),
        html.Div([html.Span("Share link", className="field-label"),
                  html.Div([dcc.Input(id=ids.SHARE_URL, value="", readOnly=True,
                                      className="num share", placeholder="save to get a link"),
                            dcc.Clipboard(target_id=ids.SHARE_URL, id=ids.SHARE_COPY,
                                          className="copy", title="copy the link")],
                           className="field-input")], className="field share-box"),
        html.P("The share link opens a read-only copy: whoever opens it can save their own "
               "copy, never change yours.", className="hint small"),
        html.H4("Saved scenarios of this district (your workspace)"),
        html.Div(id=ids.SAVED_LIST, className="saved-list"),
        html.P("Compare (top bar) puts 2–4 of these, and the current scenario, side by side.",
               className="hint"),
        html.Div([html.Span("Workspace link", className="field-label"),
                  html.Div([dcc.Input(id=ids.WORKSPACE_URL, value="", readOnly=True,
                                      className="num share"),
                            dcc.Clipboard(target_id=ids.WORKSPACE_URL, id=ids.WORKSPACE_COPY,
                                          className="copy", title="copy the link")],
                           className="field-input")], className="field share-box"),
        html.P("Your saved scenarios belong to this browser's workspace. The workspace link "
               "opens them in another browser — keep it private, like a password.",
               className="hint small"),
    ], className="tab-body")


def export_tab() -> html.Div:
    return html.Div([
        html.P("Files of the current scenario. Maps are vector graphics (SVG, PDF) that "
               "show every layer with or without internet; the PNG uses OpenStreetMap tiles "
               "when that base map is on.", className="hint"),
        html.Div([html.Button(label, id={"type": "export", "format": fmt}, n_clicks=0,
                              className="btn ghost export-btn") for fmt, label in EXPORTS],
                 className="export-grid", id=ids.EXPORT_GRID),
        html.H4("Stakeholder report"),
        html.P("A4 PDF: maps before and after, indicators against today, outage survival, "
               "transformers, assumptions and data sources.", className="hint"),
        html.Div([_button(ids.REPORT, "Create report (PDF)")], className="actions"),
        html.Div([html.Progress(id=ids.EXPORT_PROGRESS, value="0", max="100",
                                className="progress", style={"visibility": "hidden"}),
                  html.Div(id=ids.EXPORT_STATUS, className="hint")], className="export-state"),
    ], className="tab-body")


def compare_view() -> html.Div:
    return html.Div([
        html.Div([html.H2("Compare scenarios"),
                  dcc.Dropdown(id=ids.COMPARE_PICK, multi=True, placeholder="Pick 2–4 saved "
                               "scenarios", className="compare-pick"),
                  _button(ids.COMPARE_CLOSE, "Back to the map", "ghost")],
                 className="compare-head"),
        html.Div(id=ids.COMPARE_BODY, className="compare-body"),
    ], className="compare-view", id="compare-view")


def present_overlay() -> html.Div:
    return html.Div([
        html.Div([dcc.Dropdown(id=ids.PRESENT_SWITCH, clearable=False, searchable=False,
                               className="present-switch", placeholder="Scenario"),
                  _button(ids.PRESENT_CLOSE, "Exit presentation", "ghost")],
                 className="present-bar"),
        html.Div(id=ids.PRESENT_KPIS, className="present-kpis"),
    ], className="present-overlay", id="present-overlay")


def credits(meta: dict[str, str] | None = None) -> list:
    """Sources and licences of the district on screen (from its meta)."""
    meta = meta or {}
    if not meta.get("description", "").startswith("Imported"):
        return ["Weather DWD TRY2010 · loads BDEW/demandlib · PV pvlib · buildings © ",
                html.A("OpenStreetMap contributors", href="https://www.openstreetmap.org/"
                       "copyright", target="_blank"), " (ODbL) · feeders synthesized"]
    return [f"Buildings: {meta.get('buildings_source', '?')} · weather: "
            f"{meta.get('weather_source', '?')} · grid: {meta.get('network_source', '?')} · "
            "loads BDEW/demandlib · PV pvlib"]


def page(district_name: str, synthetic: bool, figure: object, session: dict,
         basemap: str, meta: dict[str, str] | None = None,
         notice: html.Div | None = None) -> html.Div:
    imported = (meta or {}).get("description", "").startswith("Imported")
    header = html.Header([
        html.A([html.Img(src="/assets/logo.svg", className="logo", alt=""),
                html.Span("Decentra", className="brand")], className="brand-box", href="/",
               title="back to the embedded district"),
        html.Div([html.Span(district_name, className="district"),
                  html.Span("synthetic", className="badge") if synthetic else None,
                  html.Span("imported", className="badge imported") if imported else None],
                 className="district-box"),
        html.Div([
            dcc.Input(id=ids.SCENARIO_NAME, value="Untitled scenario", debounce=True,
                      className="scenario-name", maxLength=200),
            html.Span(id=ids.SCENARIO_STATUS, className="status"),
        ], className="scenario-box"),
        html.Div([_button(ids.UNDO, "↶ Undo", "ghost"), _button(ids.REDO, "↷ Redo", "ghost"),
                  _button(ids.RESET, "Reset", "ghost"),
                  html.Span(className="sep"),
                  _button(ids.COMPARE, "Compare", "ghost"),
                  _button(ids.PRESENT, "Present", "ghost"),
                  _button(ids.IMPORT_OPEN, "Import city", "ghost"),
                  html.Span(className="busy", id=ids.BUSY, title="computing")],
                 className="history"),
    ], className="topbar")
    body = html.Div([
        html.Div([
            dcc.Graph(id=ids.MAP, figure=figure, className="map",
                      config={"scrollZoom": True, "displaylogo": False, "responsive": True,
                              "modeBarButtonsToRemove": ["toImage"]}),
            map_toolbar(basemap),
            html.Div(id=ids.MAP_LEGEND, className="class-legend"),
            legend(),
            html.Div(notice, id=ids.MESSAGE, className="toast", role="status"),
            html.Div(id=ids.MAP_FITTED, style={"display": "none"}),
            present_overlay(),
        ], className="map-pane"),
        html.Aside([
            html.Div(id=ids.KPIS, className="kpis"),
            dcc.Tabs([
                dcc.Tab(placement_panel(), label="Place", value="place", id="tab-place"),
                dcc.Tab(transformer_tab(), label="Grid", value="transformers",
                        id="tab-transformers"),
                dcc.Tab(details_tab(), label="Details", value="details", id="tab-details"),
                dcc.Tab(saved_tab(), label="Saved", value="saved", id="tab-saved"),
                dcc.Tab(export_tab(), label="Export", value="export", id="tab-export"),
            ], value="place", className="tabs", id=ids.TABS),
            html.Footer(credits(meta), className="credits"),
        ], className="side"),
        compare_view(),
    ], className="main")
    return html.Div([
        dcc.Store(id=ids.SESSION, data=session, storage_type="memory"),
        dcc.Store(id=ids.SELECTION, data={"buildings": [], "transformer": None}),
        dcc.Store(id=ids.MAP_CLICK, data=None),
        dcc.Store(id=ids.MAP_REGION, data=None),
        dcc.Store(id=ids.MAP_SIZE, data=None),
        dcc.Store(id=ids.SESSION_BG, data=None),
        dcc.Store(id=ids.VIEW, data="plan"),
        dcc.Store(id=ids.PRESENT_ORIGIN, data=None),
        dcc.Location(id=ids.URL, refresh=False),
        dcc.Download(id=ids.DOWNLOAD),   # outside the tabs: hidden tabs are not rendered
        dcc.Store(id=ids.SAVED_ACTION, data=None),
        dcc.Store(id=ids.PENDING_DELETE, data=None),
        dcc.Store(id=ids.GRID_STORE, data=None),
        dcc.Store(id=ids.GRID_TRIGGER, data=None),
        dcc.ConfirmDialog(id=ids.CONFIRM_DELETE, message=""),
        header, body, import_dialog(),
    ], className="app view-plan", id=ids.APP)
