"""The import dialog: upload slots for buildings, grid, weather and meter data, and where the
check's report appears."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboard.io.formats import Limits
from dashboard.ui import ids

GRID_KIND_LABELS = {"auto": "detect", "network": "pandapower network",
                    "transformers": "transformer points (and lines)", "streets": "street lines"}


def upload_slot(id_: str, info_id: str, text: str, limits: Limits) -> html.Div:
    """A drop zone that takes any file (a wrong one gets a message from the server, not a
    silent refusal in the browser); assets/upload.js refuses files over the size cap."""
    zone = dcc.Upload(html.Div([html.B(text), html.Span(" — drop a file here or click")]),
                      id=id_, multiple=False, className="dropzone", max_size=-1)
    data: dict[str, Any] = {"data-max-bytes": str(limits.max_file_bytes),
                            "data-info": info_id}
    return html.Div(zone, **data)


def import_dialog(limits: Limits | None = None) -> html.Div:
    limits = limits or Limits()
    cap = f"up to {limits.max_file_bytes / 2**20:,.0f} MB"
    return html.Div(html.Div([
        html.Div([html.H2("Import a city"),
                  html.Button("×", id=ids.IMPORT_CLOSE, n_clicks=0, className="btn ghost x",
                              title="close")], className="dialog-head"),
        html.P("Bring building footprints; Decentra fills in what they lack (use, storeys, "
               "demand, roofs, feeders, weather) and tells you what it assumed before you "
               "use the district. Your current district stays open until you choose to open "
               "the new one.", className="hint"),
        html.H4("1 · Buildings (required)"),
        upload_slot(ids.IMPORT_BUILDINGS, ids.IMPORT_BUILDINGS_INFO, "Footprints", limits),
        html.Div(f"GeoJSON, GeoPackage, zipped Shapefile or OpenStreetMap .osm.pbf · {cap}",
                 className="hint small"),
        html.Div(id=ids.IMPORT_BUILDINGS_INFO, className="file-info"),
        html.Div([html.Span("Layer", className="field-label"),
                  dcc.Dropdown(id=ids.IMPORT_LAYER, options=[], clearable=False,
                               searchable=False, className="layer-pick")],
                 id=ids.IMPORT_LAYER_BOX, className="field", style={"display": "none"}),
        html.H4("2 · Grid (optional)"),
        upload_slot(ids.IMPORT_GRID, ids.IMPORT_GRID_INFO, "Feeders", limits),
        html.Div("A pandapower network (pandapower.to_json, with geodata), transformer points "
                 "(optionally with a lines layer) or street lines. Without one, feeders are "
                 "synthesized along the streets.", className="hint small"),
        html.Div([html.Div(id=ids.IMPORT_GRID_INFO, className="file-info"),
                  html.Div([html.Span("Read it as", className="field-label"),
                            dcc.Dropdown(id=ids.IMPORT_GRID_KIND, value="auto",
                                         clearable=False, searchable=False,
                                         className="layer-pick",
                                         options=[{"label": v, "value": k}
                                                  for k, v in GRID_KIND_LABELS.items()])],
                           className="field")], id=ids.IMPORT_GRID_BOX,
                 style={"display": "none"}),
        html.H4("3 · Weather (optional)"),
        upload_slot(ids.IMPORT_WEATHER, ids.IMPORT_WEATHER_INFO, "Weather", limits),
        html.Div("EPW, TMY3 or DWD TRY. Without one, PVGIS when online, else the bundled DWD "
                 "test reference year of the site's region or nearest station.",
                 className="hint small"),
        html.Div(id=ids.IMPORT_WEATHER_INFO, className="file-info"),
        dcc.Checklist(id=ids.IMPORT_PVGIS, className="radio", value=[],
                      options=[{"label": "Download a typical year from PVGIS instead (needs "
                                         "internet)", "value": "pvgis"}]),
        html.H4("4 · Meter data (optional)"),
        upload_slot(ids.IMPORT_METERS, ids.IMPORT_METERS_INFO, "Measured demand", limits),
        html.Div("CSV: a 'timestamp' column (ISO 8601, hourly or 15-minute, one calendar "
                 "year) and one column per building id with average power in kW. Measured "
                 "buildings use their series, the others standard load profiles.",
                 className="hint small"),
        html.Div(id=ids.IMPORT_METERS_INFO, className="file-info"),
        html.H4("5 · Existing PV output (optional)"),
        upload_slot(ids.IMPORT_PV, ids.IMPORT_PV_INFO, "Measured PV output", limits),
        html.Div("The same CSV format with the measured AC output [kW] of existing PV systems. "
                 "They are placed in the imported scenario (kWp from the buildings' pv_kwp, "
                 "else estimated) and keep their measured output.", className="hint small"),
        html.Div(id=ids.IMPORT_PV_INFO, className="file-info"),
        html.Div([html.Span("District name", className="field-label"),
                  dcc.Input(id=ids.IMPORT_NAME, value="", placeholder="from the file name",
                            className="num", maxLength=200)], className="field name-field"),
        html.Div([html.Button("Check import", id=ids.IMPORT_RUN, n_clicks=0,
                              className="btn primary", disabled=True),
                  html.Span(id=ids.IMPORT_PROGRESS, className="progress-text")],
                 className="actions"),
        html.Div(id=ids.IMPORT_RESULT, className="import-result"),
        dcc.Store(id=ids.IMPORT_FILES, data={}),
    ], className="dialog"), id=ids.IMPORT_DIALOG, className="dialog-backdrop",
        style={"display": "none"})



__all__ = ["GRID_KIND_LABELS", "import_dialog"]
