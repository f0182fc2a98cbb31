"""Importing a city's own data, without Dash: staged uploads, the import run, its report.

Uploads are staged on disk (:mod:`dashboard.io.staging`) in the private cache folder as they
arrive; the check runs :func:`dashboard.importer.import_district` (a background job) and its
report shows counts, area, the attribute mapping and what was assumed. Only then does "Open
this district" load it, by a link to ``/?district=<content hash>``: a failed import changes
nothing, and the tab's district stays until the user chooses to leave it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from dash import dash_table, html

from dashboard.cache import cache_dir
from dashboard.domain.errors import DecentraError
from dashboard.importer import FAR_WEATHER_MARK, FEEDER_KINDS, ImportResult, feeder_file_kind
from dashboard.io.staging import StagedFile, staged_file
from dashboard.ui import ids


def staging_root() -> Path:
    return cache_dir("uploads")


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
        html.Ul([html.Li(line, className="warn" if FAR_WEATHER_MARK in line else None)
                 for line in lines], className="report-lines"),
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
    meters = (files or {}).get("meters")
    if meters:
        options["meter_data"] = staged_file(root, meters.get("token"))
    pv = (files or {}).get("pv")
    if pv:
        options["pv_data"] = staged_file(root, pv.get("token"))
    progress("Reading the files and filling in what they lack …")
    return import_district(buildings, **options)




def stage_file(role: str, contents: Any, filename: Any, files: dict | None,
               root: Path) -> dict[str, Any]:
    """Stage one upload of the dialog (buildings, grid, weather, meters or pv) and say what it is:
    the named outputs of the stage callback. A refused grid, weather or meter file is kept as
    refused,
    so that "Check import" says so instead of importing without it."""
    from dashboard.importer import source_layers
    from dashboard.io.staging import stage_upload
    from dashboard.io.timeseries import describe_measured_csv
    from dashboard.io.weather import read_weather_file
    from dashboard.ui.importing.layout import GRID_KIND_LABELS

    files = dict(files or {})
    info = {"buildings": "buildings_info", "grid": "grid_info", "weather": "weather_info",
            "meters": "meters_info", "pv": "pv_info"}[role]
    shown: dict[str, Any] = {"result": None}     # a new file makes an earlier report stale
    files.pop(role, None)
    try:
        staged = stage_upload(contents, filename, root)
        files[role] = staged.to_dict()
        path = staged_file(root, staged.token)
        if role == "buildings":
            layers = source_layers(path)
            many = len(layers) > 1
            preferred = next((n for n in layers if "build" in n.lower()), None)
            shown.update(layer_options=[{"label": n, "value": n} for n in layers],
                         layer=(preferred or layers[0]) if layers else None,
                         layer_box={"display": "flex" if many else "none"},
                         buildings_info=file_chip(
                             staged, f"{len(layers)} layers: choose one below" if many else ""))
        elif role == "grid":
            kind = feeder_file_kind(path)
            shown.update(grid_info=file_chip(staged, f"read as {GRID_KIND_LABELS[kind]}"),
                         grid_kind=kind, grid_box={"display": "block"})
        elif role in ("meters", "pv"):
            what = "meter data" if role == "meters" else "PV output"
            shown[info] = file_chip(staged, describe_measured_csv(path, what)
                                    + " · checked against the buildings on import")
        else:
            rows, meta = read_weather_file(path)
            shown.update(weather_info=file_chip(staged, str(meta.get(
                "source", f"{len(rows):,} hours"))))
    except DecentraError as err:
        files.pop(role, None)
        if role != "buildings":
            files[role] = {"refused": str(err)[:300]}
        shown[info] = html.Div(str(err), className="import-error small")
        if role == "grid":
            shown["grid_box"] = {"display": "block"}
    shown.update(files=files, run_disabled="buildings" not in files)
    return shown


__all__ = ["district_url", "error_box", "file_chip", "report_view", "run_import",
           "stage_file", "staging_root"]
