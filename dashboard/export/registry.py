"""Every export format once: name, label, file suffix, MIME type and writer. The CLI's
``export -f`` choices, the app's export buttons and the downloads' names and types all come
from :data:`FORMATS`."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dashboard.domain.district import District
from dashboard.domain.errors import DecentraError
from dashboard.domain.result import Result
from dashboard.export.council import ReportOptions

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ExportFormat:
    name: str              # the CLI's -f value and the button's id
    label: str             # the button's text
    suffix: str            # appended to the scenario's file stem
    mime: str
    group: str             # "map", "data" or "report" (buttons are grouped by it)


FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat("png", "Map · PNG", "png", "image/png", "map"),
    ExportFormat("svg", "Map · SVG", "svg", "image/svg+xml", "map"),
    ExportFormat("pdf", "Map · PDF", "pdf", "application/pdf", "map"),
    ExportFormat("html", "Interactive map · HTML", "html", "text/html", "map"),
    ExportFormat("geojson", "Placements · GeoJSON", "geojson", "application/geo+json", "data"),
    ExportFormat("gpkg", "Placements · GeoPackage", "gpkg",
                 "application/geopackage+sqlite3", "data"),
    ExportFormat("csv", "Buildings · CSV", "csv", "text/csv", "data"),
    ExportFormat("summary-csv", "Indicators · CSV", "indicators.csv", "text/csv", "data"),
    ExportFormat("hourly-csv", "Hourly transformers · CSV", "hourly-transformers.csv",
                 "text/csv", "data"),
    ExportFormat("pandapower", "Grid · pandapower JSON", "pandapower.json",
                 "application/json", "data"),
    ExportFormat("report", "Report (PDF)", "report.pdf", "application/pdf",
                 "report"),
)
BY_NAME = {f.name: f for f in FORMATS}
NAMES = tuple(f.name for f in FORMATS)


def format_of(name: str) -> ExportFormat:
    try:
        return BY_NAME[name]
    except KeyError:
        raise DecentraError(f"unknown export format {name!r}; one of "
                            f"{', '.join(NAMES)}") from None


def file_name(stem: str, name: str) -> str:
    fmt = format_of(name)
    sep = "-" if name == "report" else "."
    return f"{stem}{sep}{fmt.suffix}"


def export_bytes(district: District, result: Result, baseline: Result, name: str,
                 color_by: str = "self_sufficiency", width: int = 1400, height: int = 900,
                 progress: Progress | None = None, tiles_url: str | None = None, *,
                 alternatives: Sequence[Result] = (), options: ReportOptions | None = None
                 ) -> bytes:
    """One export format as bytes. Maps are vector (SVG geo subplot); a PNG with
    ``tiles_url`` is drawn over those OpenStreetMap tiles when they can be fetched, else
    without them. The report compares ``result`` with ``alternatives`` and takes its
    question, consultant and logo from ``options``."""
    from dashboard.export import geodata, report
    from dashboard.export.images import figure_bytes
    from dashboard.figures.static import export_geo_map, export_map

    format_of(name)
    if name in ("png", "svg", "pdf"):
        subtitle = district.name
        if name == "png" and tiles_url:
            from dashboard.io.tiles import probe_tiles

            if probe_tiles(tiles_url):
                try:
                    return figure_bytes(export_map(district, result, color_by,
                                                   subtitle=subtitle, tiles_url=tiles_url),
                                        name, width, height)
                except DecentraError:
                    pass          # tiles failed while drawing: the vector map below
        fig = export_geo_map(district, result, color_by, subtitle=subtitle, width=width,
                             height=height)
        return figure_bytes(fig, name, width, height)
    writers: dict[str, Callable[[], Any]] = {
        "html": lambda: report.standalone_html(district, result, color_by),
        "geojson": lambda: geodata.without_infinity(geodata.buildings_layer(
            district, result)).to_json(na="null", drop_id=True),
        "csv": lambda: geodata.indicators_csv(result),
        "summary-csv": lambda: geodata.summary_csv(result, baseline),
        "hourly-csv": lambda: geodata.hourly_transformers_csv(result),
        "report": lambda: report.report_pdf(district, result, baseline, progress,
                                             alternatives=alternatives, options=options),
        "pandapower": lambda: _pandapower(district, result),
        "gpkg": lambda: _geopackage(district, result),
    }
    data = writers[name]()
    return data.encode() if isinstance(data, str) else data


def _pandapower(district: District, result: Result) -> str:
    from dashboard.io.pandapower_net import scenario_network

    return scenario_network(district, result.scenario)


def _geopackage(district: District, result: Result) -> bytes:
    from dashboard.cache import cache_dir
    from dashboard.export import geodata

    with tempfile.TemporaryDirectory(dir=cache_dir("scratch")) as tmp:
        return geodata.write_geopackage(district, result, Path(tmp) / "export.gpkg").read_bytes()


__all__ = ["BY_NAME", "FORMATS", "NAMES", "ExportFormat", "export_bytes", "file_name",
           "format_of"]
