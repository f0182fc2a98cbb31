"""The import dialog: a city's own files become a district the planner sees before using it.

Uploads are staged on disk (:mod:`dashboard.io.staging`) as they arrive; "Check import" runs
:func:`dashboard.importer.import_district` as a background job and shows its report (counts,
area, the attribute mapping, what was assumed). Only then does "Open this district" load it, by
a link to ``/?district=<content hash>``: a failed import changes nothing, and the tab's current
district stays until the user chooses to leave it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from dash import Dash, Input, Output, State, ctx, dash_table, dcc, html, no_update

from dashboard.cache import cache_dir
from dashboard.domain.errors import DecentraError
from dashboard.importer import FEEDER_KINDS, ImportResult, feeder_file_kind, source_layers
from dashboard.io.formats import Limits
from dashboard.io.staging import StagedFile, stage_upload, staged_file
from dashboard.io.weather import read_weather_file
from dashboard.ui import ids, state
from dashboard.ui.callbacks import AppContext
from dashboard.ui.jobs import failure_text

GRID_KIND_LABELS = {"auto": "detect", "network": "pandapower network",
                    "transformers": "transformer points (and lines)", "streets": "street lines"}


def staging_root() -> Path:
    return cache_dir("uploads")


def _upload(id_: str, info_id: str, text: str, limits: Limits) -> html.Div:
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
        _upload(ids.IMPORT_BUILDINGS, ids.IMPORT_BUILDINGS_INFO, "Footprints", limits),
        html.Div(f"GeoJSON, GeoPackage, zipped Shapefile or OpenStreetMap .osm.pbf · {cap}",
                 className="hint small"),
        html.Div(id=ids.IMPORT_BUILDINGS_INFO, className="file-info"),
        html.Div([html.Span("Layer", className="field-label"),
                  dcc.Dropdown(id=ids.IMPORT_LAYER, options=[], clearable=False,
                               searchable=False, className="layer-pick")],
                 id=ids.IMPORT_LAYER_BOX, className="field", style={"display": "none"}),
        html.H4("2 · Grid (optional)"),
        _upload(ids.IMPORT_GRID, ids.IMPORT_GRID_INFO, "Feeders", limits),
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
        _upload(ids.IMPORT_WEATHER, ids.IMPORT_WEATHER_INFO, "Weather", limits),
        html.Div("EPW, TMY3 or DWD TRY. Without one, the nearest bundled DWD test reference "
                 "year is used.", className="hint small"),
        html.Div(id=ids.IMPORT_WEATHER_INFO, className="file-info"),
        dcc.Checklist(id=ids.IMPORT_PVGIS, className="radio", value=[],
                      options=[{"label": "Download a typical year from PVGIS instead (needs "
                                         "internet)", "value": "pvgis"}]),
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


def file_chip(staged: StagedFile, detail: str = "") -> html.Div:
    size = staged.size_bytes
    shown = f"{size / 2**20:,.1f} MB" if size >= 2**20 else f"{size / 1024:,.0f} kB"
    return html.Div([html.Span("✓", className="ok-mark"), html.B(staged.name),
                     html.Span(f" · {shown}" + (f" · {detail}" if detail else ""),
                               className="muted")], className="chip")


def error_box(err: DecentraError, tail: str = "") -> html.Div:
    return html.Div([html.B("Not imported. "), str(err), html.Br() if tail else None,
                     tail or None], className="import-error", role="alert")


def district_url(district_hash: str, placements_key: str | None = None) -> str:
    query = {"district": district_hash}
    if placements_key:
        query["placements"] = placements_key
    return "/?" + urlencode(query)


def report_view(result: ImportResult, url: str) -> html.Div:
    rep = result.report
    lines = rep.summary_lines()
    mapping = rep.mapping_rows()
    table = dash_table.DataTable(  # type: ignore[attr-defined]
        columns=[{"name": "Decentra attribute", "id": "attribute"},
                 {"name": "from the file's column", "id": "column"},
                 {"name": "buildings assumed", "id": "assumed"}],
        data=mapping, style_as_list_view=True,
        style_cell={"fontFamily": "inherit", "fontSize": 12, "padding": "3px 6px",
                    "textAlign": "left"},
        style_header={"backgroundColor": "#f5f7fa", "fontWeight": 600},
        style_data_conditional=[{"if": {"filter_query": "{column} = '(not in the file)'"},
                                 "color": "#8a5a00"}]) if mapping else None
    return html.Div([
        html.Div([html.B(f"Ready: {rep.name}"), html.Span(f" from {rep.source}",
                                                          className="muted")],
                 className="ready-head"),
        html.Ul([html.Li(line) for line in lines], className="report-lines"),
        html.H4("Attribute mapping") if table is not None else None,
        table,
        html.Div([html.A(f"Open {rep.name}", href=url, className="btn primary",
                         id=ids.IMPORT_ACCEPT),
                  html.Span("The current scenario stays in Saved if you saved it.",
                            className="hint small")], className="actions"),
    ], className="import-ok")


def run_import(files: dict[str, Any], layer: str | None, grid_kind: str | None,
               pvgis: bool, name: str | None, root: Path,
               progress: Callable[[str], None] = lambda _s: None) -> ImportResult:
    """The import of the staged files (the callback's work, without Dash). Raises
    DecentraError."""
    from dashboard.importer import import_district

    for role, entry in (files or {}).items():
        if isinstance(entry, dict) and entry.get("refused"):
            raise DecentraError(f"the {role} file was not accepted ({entry['refused']}); "
                                "upload a valid one, or reload the page to import without it")
    if not (files or {}).get("buildings"):
        raise DecentraError("upload a buildings file first")
    buildings = staged_file(root, files["buildings"].get("token"))
    options: dict[str, Any] = {"layer": layer or None, "name": (name or "").strip() or None}
    grid = (files or {}).get("grid")
    if grid:
        grid_path = staged_file(root, grid.get("token"))
        kind = grid_kind if grid_kind in FEEDER_KINDS else feeder_file_kind(grid_path)
        options[kind] = grid_path
    weather = (files or {}).get("weather")
    if pvgis:
        options["weather"] = "pvgis"
    elif weather:
        options["weather"] = staged_file(root, weather.get("token"))
    progress("Reading the files and filling in what they lack …")
    return import_district(buildings, **options)


def register_import(app: Dash, context: AppContext) -> None:
    app.clientside_callback(
        """function(open, close) {
            const id = window.dash_clientside.callback_context.triggered_id;
            return {display: id === 'import-open' ? 'flex' : 'none'};
        }""",
        Output(ids.IMPORT_DIALOG, "style"),
        Input(ids.IMPORT_OPEN, "n_clicks"), Input(ids.IMPORT_CLOSE, "n_clicks"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.IMPORT_FILES, "data"), Output(ids.IMPORT_BUILDINGS_INFO, "children"),
        Output(ids.IMPORT_LAYER, "options"), Output(ids.IMPORT_LAYER, "value"),
        Output(ids.IMPORT_LAYER_BOX, "style"), Output(ids.IMPORT_GRID_INFO, "children"),
        Output(ids.IMPORT_GRID_KIND, "value"), Output(ids.IMPORT_GRID_BOX, "style"),
        Output(ids.IMPORT_WEATHER_INFO, "children"), Output(ids.IMPORT_RUN, "disabled"),
        Output(ids.IMPORT_RESULT, "children"),
        Input(ids.IMPORT_BUILDINGS, "contents"), Input(ids.IMPORT_GRID, "contents"),
        Input(ids.IMPORT_WEATHER, "contents"),
        State(ids.IMPORT_BUILDINGS, "filename"), State(ids.IMPORT_GRID, "filename"),
        State(ids.IMPORT_WEATHER, "filename"), State(ids.IMPORT_FILES, "data"),
        prevent_initial_call=True,
    )
    def stage(b_contents: str | None, g_contents: str | None, w_contents: str | None,
              b_name: str | None, g_name: str | None, w_name: str | None,
              files: dict | None) -> tuple:
        files = dict(files or {})
        out: list[Any] = [no_update] * 11
        role = {ids.IMPORT_BUILDINGS: "buildings", ids.IMPORT_GRID: "grid",
                ids.IMPORT_WEATHER: "weather"}.get(str(ctx.triggered_id))
        if role is None:
            return tuple(out)
        contents, filename = {"buildings": (b_contents, b_name), "grid": (g_contents, g_name),
                              "weather": (w_contents, w_name)}[role]
        info_slot = {"buildings": 1, "grid": 5, "weather": 8}[role]
        out[10] = None        # a new file makes an earlier report stale
        files.pop(role, None)
        try:
            staged = stage_upload(contents, filename, staging_root())
            files[role] = staged.to_dict()
            if role == "buildings":
                layers = source_layers(staged_file(staging_root(), staged.token))
                many = len(layers) > 1
                preferred = next((n for n in layers if "build" in n.lower()), None)
                out[2] = [{"label": n, "value": n} for n in layers]
                out[3] = (preferred or layers[0]) if layers else None
                out[4] = {"display": "flex"} if many else {"display": "none"}
                detail = f"{len(layers)} layers: choose one below" if many else ""
                out[1] = file_chip(staged, detail)
            elif role == "grid":
                kind = feeder_file_kind(staged_file(staging_root(), staged.token))
                out[5] = file_chip(staged, f"read as {GRID_KIND_LABELS[kind]}")
                out[6] = kind
                out[7] = {"display": "block"}
            else:
                rows, meta = read_weather_file(staged_file(staging_root(), staged.token))
                out[8] = file_chip(staged, str(meta.get("source", f"{len(rows):,} hours")))
        except DecentraError as err:
            # kept as refused: "Check import" says so instead of importing without it
            files[role] = {"refused": str(err)[:300]} if role != "buildings" else None
            if files[role] is None:
                files.pop(role)
            out[info_slot] = html.Div(str(err), className="import-error small")
            if role == "grid":
                out[7] = {"display": "block"}
        out[0] = files
        out[9] = "buildings" not in files
        return tuple(out)

    def check_failed(err: Exception) -> Any:
        return error_box(DecentraError(f"the check failed: {failure_text(err)}"),
                         "The current district is unchanged. Press Check import to retry.")

    @app.callback(
        Output(ids.IMPORT_RESULT, "children", allow_duplicate=True),
        Input(ids.IMPORT_RUN, "n_clicks"),
        State(ids.IMPORT_FILES, "data"), State(ids.IMPORT_LAYER, "value"),
        State(ids.IMPORT_GRID_KIND, "value"), State(ids.IMPORT_PVGIS, "value"),
        State(ids.IMPORT_NAME, "value"),
        background=True,
        running=[(Output(ids.IMPORT_RUN, "disabled"), True, False)],
        progress=[Output(ids.IMPORT_PROGRESS, "children")],
        on_error=check_failed,
        interval=500,
        prevent_initial_call=True,
    )
    def check(set_progress: Callable, _n: int, files: dict | None, layer: str | None,
              grid_kind: str | None, pvgis: list[str] | None, name: str | None) -> Any:
        try:
            result = run_import(files or {}, layer, grid_kind, "pvgis" in (pvgis or []),
                                name, staging_root(),
                                progress=lambda text: set_progress((text,)))
            set_progress(("Preparing the district …",))
            key = context.registry.add(result.district)
            placements = state.put_scenario(result.scenario) if result.scenario else None
        except DecentraError as err:
            set_progress(("",))
            return error_box(err, "The current district is unchanged.")
        set_progress(("",))
        return report_view(result, district_url(key, placements))
