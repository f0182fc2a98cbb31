"""The planning map as a plotly figure (MapLibre). No Dash imports, no energy computation.

Why layers rather than traces: plotly re-sends every trace of a map to MapLibre whenever any
part of the figure changes (at 10,000 buildings a choropleth trace costs about 2 s per update in
a software-rendered browser). So everything large is a ``layout.map.layers`` entry whose source
is a URL of GeoJSON served by the app, **content-addressed**: a layer whose content did not
change keeps its URL and plotly leaves it alone, and MapLibre parses GeoJSON off the main
thread. Buildings are drawn as one fill layer per colour class (a classed choropleth); PV,
batteries and the current selection are point / line layers; only the
transformers (a few markers) are traces. Building clicks and hover are handled in the browser
(``assets/map.js``) on the rendered features, which carry the building's figures.

Layer order (indices into ``layout.map.layers``): base-map raster, feeder line classes, building
classes (filled, with outlines), selection, PV points, battery points (see ``LAYER``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import shapely
from plotly.colors import sample_colorscale

from dashboard.domain.district import District
from dashboard.domain.result import Result
from dashboard.io.tiles import OSM_TILES as OSM_TILES  # re-exported; defined once there

if TYPE_CHECKING:                 # annotations only: the maps need no power-flow code
    from dashboard.gridstudy import GridStudy

OSM_ATTRIBUTION = "© OpenStreetMap contributors"
BACKGROUND = "#f4f6f8"
NA_COLOR = "#d5dbe1"

# The colour language: one meaning per colour, a legend entry for each.
#   buildings: one sequential teal scale, light = low, dark = high, whatever the indicator;
#   grid (lines, transformers, buses): grey within limits, amber near a limit, red a limit
#     broken, blue reverse flow (energy-balance estimate only);
#   markers: yellow rooftop PV, purple storage (building batteries small, community batteries
#     large), near-black outline the selection.
WITHIN, NEAR, BROKEN, REVERSE = "#8895a3", "#e8a317", "#d32f2f", "#3b7dd8"
PV_COLOR, BATTERY_COLOR, COMMUNITY_COLOR = "#f5b700", "#7048e8", "#7048e8"
SELECTION_COLOR = "#1f2933"
CRITICAL_COLOR = "#d6336c"      # outline of critical facilities (resilience hubs)
BUILDING_SCALE = "Tealgrn"

# Feeder line classes, from calm to alarming (also used for transformer markers).
LINE_CLASSES: tuple[tuple[str, str, str], ...] = (
    ("normal", WITHIN, "loading ≤ 80 %, no reverse flow"),
    ("reverse", REVERSE, "reverse flow, within rating"),
    ("high", NEAR, "loading 80–100 %"),
    ("over", BROKEN, "loading > 100 %"),
)

N_CLASSES = 8    # colour classes for buildings; one more layer holds "no value"


@dataclass(frozen=True)
class ColorSpec:
    """How buildings are coloured: a result column, its display factor, unit and breaks."""

    key: str
    label: str
    unit: str
    scale_name: str
    factor: float = 1.0
    breaks: tuple[float, ...] | None = None   # N_CLASSES + 1 edges; None: from the data
    categories: tuple[str, ...] = ()          # labels of the values 0, 1, ... (categorical)

    def colors(self) -> list[str]:
        if self.categories:       # the same scale, one step per category (padded)
            k = len(self.categories)
            steps = sample_colorscale(self.scale_name, list(np.linspace(0.08, 1.0, k)))
            return steps + [steps[-1]] * (N_CLASSES - k)
        return sample_colorscale(self.scale_name, list(np.linspace(0.08, 1.0, N_CLASSES)))


COLOR_SPECS: dict[str, ColorSpec] = {s.key: s for s in (
    ColorSpec("self_sufficiency", "Self-sufficiency", "%", BUILDING_SCALE, 100.0,
              (0, 5, 10, 20, 30, 40, 50, 75, 100)),
    ColorSpec("pv_kwp", "PV installed", "kWp", BUILDING_SCALE),
    ColorSpec("pv_potential_kwp", "PV potential", "kWp", BUILDING_SCALE),
    ColorSpec("demand_kwh", "Annual demand", "MWh/a", BUILDING_SCALE, 1e-3),
    ColorSpec("survival_mean_h", "Outage survival (mean)", "h", BUILDING_SCALE, 1.0,
              (0, 1, 2, 4, 8, 12, 24, 48, 168)),
    ColorSpec("p_survive_24h", "P(survive 24 h)", "%", BUILDING_SCALE, 100.0,
              (0, 1, 5, 10, 25, 50, 75, 90, 100)),
    ColorSpec("peak_export_kw", "Peak export", "kW", BUILDING_SCALE),
    ColorSpec("self_consumption", "Self-consumption", "%", BUILDING_SCALE, 100.0,
              (0, 10, 20, 30, 40, 50, 60, 80, 100)),
    # how many of storeys, use type and demand came from the data (the rest assumed): light =
    # all assumed, dark = all from data (categories 0..3 on the building scale)
    ColorSpec("data_known", "Data vs assumed", "of 3 from data", BUILDING_SCALE, 1.0,
              tuple(float(i) for i in range(N_CLASSES + 1)),
              ("all assumed", "1 of storeys, use, demand from data",
               "2 of storeys, use, demand from data", "storeys, use and demand from data")),
)}

# The flags a "Data vs assumed" map counts (district building columns).
ASSUMED_FLAGS = ("storeys_assumed", "use_type_assumed", "demand_assumed")


def nice_breaks(top: float, n: int = N_CLASSES) -> tuple[float, ...]:
    """n + 1 round class edges from 0 to at least ``top`` (1-2-5 steps, geometric)."""
    top = max(float(top), 1e-9)
    steps = [m * 10.0 ** e for e in range(-3, 8) for m in (1, 2, 5)]
    upper = next(s for s in steps if s >= top)
    candidates = [s for s in steps if s < upper]
    inner = candidates[-(n - 1):] if len(candidates) >= n - 1 else candidates
    edges = [0.0, *inner, upper]
    while len(edges) < n + 1:                       # tiny ranges: pad linearly
        edges.insert(-1, edges[-2] + (upper - edges[-2]) / 2)
    return tuple(edges[: n + 1])


def class_breaks(spec: ColorSpec, reference: np.ndarray) -> tuple[float, ...]:
    """The spec's fixed breaks, or round breaks up to the largest ``reference`` value (a
    district property such as the largest roof potential, so classes stay fixed while
    planning)."""
    if spec.breaks is not None:
        return spec.breaks
    finite = reference[np.isfinite(reference)]
    return nice_breaks(float(finite.max()) if len(finite) else 1.0)


def classify(values: np.ndarray, breaks: Sequence[float]) -> np.ndarray:
    """Class index 0..N_CLASSES-1 per value (edges inclusive at the top); N_CLASSES = n/a."""
    edges = np.asarray(breaks, dtype=float)
    idx = np.searchsorted(edges, values, side="right") - 1
    idx = np.clip(idx, 0, len(edges) - 2)
    idx = np.where(values >= edges[-1], len(edges) - 2, idx)
    return np.where(np.isfinite(values), idx, N_CLASSES).astype(np.int64)


def legend_items(spec: ColorSpec, breaks: Sequence[float]) -> list[tuple[str, str]]:
    """(colour, label) of each class, for the HTML legend."""
    def fmt(x: float) -> str:
        return f"{x:,.0f}" if abs(x) >= 10 or x == int(x) else f"{x:,.1f}"
    colors = spec.colors()
    if spec.categories:
        return list(zip(colors, spec.categories, strict=False))
    return [(colors[i], f"{fmt(breaks[i])}–{fmt(breaks[i + 1])}") for i in range(N_CLASSES)]


def class_name(spec: ColorSpec, label: str) -> str:
    """A legend entry's text: the class label with the unit (categories carry none)."""
    return label if spec.categories else f"{label} {spec.unit}"


# ---- base map ------------------------------------------------------------------------------
def basemap_style() -> str:
    """The map's style: plotly's built-in ``white-bg``, which loads nothing. It never changes:
    plotly compares styles between updates and a dict style (which MapLibre annotates in place)
    would look changed on every update and be reloaded, dropping every layer. OpenStreetMap
    tiles are a raster layer shown on request."""
    return "white-bg"


def osm_layer(tiles_url: str = OSM_TILES, visible: bool = True) -> dict:
    return {"sourcetype": "raster", "type": "raster", "source": [tiles_url], "sourceattribution":
            OSM_ATTRIBUTION, "below": "traces", "visible": bool(visible), "opacity": 0.75,
            "name": "basemap"}


# Bus voltage classes of the power-flow layer (limits from the assumptions table).
VOLTAGE_CLASSES: tuple[tuple[str, str, str], ...] = (
    ("under", BROKEN, "below the minimum"),
    ("normal", WITHIN, "within limits"),
    ("high", NEAR, "within 2 % of the maximum"),
    ("over", BROKEN, "above the maximum"),
)


def voltage_class(vm_max: np.ndarray, vm_min: np.ndarray, v_lo: float, v_hi: float
                  ) -> np.ndarray:
    """Index into VOLTAGE_CLASSES for each bus: above the maximum beats below the minimum."""
    out = np.ones(len(vm_max), dtype=np.int64)
    out[vm_min < v_lo] = 0
    out[vm_max > v_hi - 0.02] = 2
    out[vm_max > v_hi] = 3
    return out


def loading_class(loading_pct: np.ndarray) -> np.ndarray:
    """Index into LINE_CLASSES of each line by its own power-flow loading (the "reverse"
    class is not used: direction is shown by the voltage layer)."""
    out = np.zeros(len(loading_pct), dtype=np.int64)
    out[loading_pct > 80] = 2
    out[loading_pct > 100] = 3
    return out


def pf_line_classes(district: District, study: GridStudy) -> np.ndarray:
    """Class (LINE_CLASSES index) of every district line by its own power-flow loading; -1
    (not drawn) for lines without a result (not fed, or merged away as zero length): they
    must not look verified."""
    loading = study.lines["loading_max_pct"].reindex(
        district.lines["line_id"].astype(str)).to_numpy(float)
    return np.where(np.isfinite(loading), loading_class(np.nan_to_num(loading)), -1)


def pf_transformer_classes(district: District, study: GridStudy) -> np.ndarray:
    """LINE_CLASSES index of each district transformer by its power-flow loading; -1 without
    a result."""
    loading = study.transformers["trafo_loading_max_pct"].reindex(
        district.transformers["transformer_id"].astype(str)).to_numpy(float)
    return np.where(np.isfinite(loading), loading_class(np.nan_to_num(loading)), -1)


def pf_buses(study: GridStudy) -> tuple[pd.DataFrame, np.ndarray]:
    """The buses the maps show (LV buses where the grid has any: the MV side of a substation
    is the ideal source; only those with a position) and their VOLTAGE_CLASSES index."""
    b = study.buses
    if (b["vn_kv"] < 1.0).any():
        b = b[b["vn_kv"] < 1.0]
    b = b[np.isfinite(b["lon"]) & np.isfinite(b["lat"])]
    classes = voltage_class(b["vm_max_pu"].to_numpy(float), b["vm_min_pu"].to_numpy(float),
                            study.limits["voltage_min_pu"], study.limits["voltage_max_pu"])
    return b, classes


# ---- layer indices -------------------------------------------------------------------------
class LAYER:
    """Indices into ``layout.map.layers``, drawn bottom to top: feeders lie under the
    buildings, so service lines disappear under the footprints they reach."""

    OSM = 0
    LINE0 = 1                                    # len(LINE_CLASSES) feeder layers
    CLASS0 = LINE0 + len(LINE_CLASSES)           # N_CLASSES + 1 building class layers
    CRITICAL = CLASS0 + N_CLASSES + 1            # outlines of critical facilities
    SELECTION = CRITICAL + 1
    BUS0 = SELECTION + 1                         # len(VOLTAGE_CLASSES) bus voltage layers
    PV = BUS0 + len(VOLTAGE_CLASSES)             # markers on top of the grid's dots
    BATTERY = PV + 1
    COUNT = BATTERY + 1


TRACE = {"transformers": 0, "community": 1}

EMPTY_GEOJSON = {"type": "FeatureCollection", "features": []}


def building_class_layers(urls: Sequence[str | None], colors: Sequence[str]) -> list[dict]:
    layers = []
    for i, url in enumerate(urls):
        color = colors[i] if i < N_CLASSES else NA_COLOR
        layers.append({"sourcetype": "geojson", "source": url or EMPTY_GEOJSON, "type": "fill",
                       "color": color, "opacity": 0.9, "fill": {"outlinecolor": "#52606d"},
                       "below": "traces", "name": f"buildings-{i}"})
    return layers


def selection_layer(url: str | None) -> dict:
    return {"sourcetype": "geojson", "source": url or EMPTY_GEOJSON, "type": "line",
            "color": SELECTION_COLOR, "line": {"width": 3.0}, "opacity": 1.0, "below": "traces",
            "name": "selection"}


def critical_layer(url: str | None, visible: bool = True) -> dict:
    """Outlines of the critical facilities (under the selection outline)."""
    return {"sourcetype": "geojson", "source": url or EMPTY_GEOJSON, "type": "line",
            "color": CRITICAL_COLOR, "line": {"width": 2.2}, "opacity": 1.0,
            "visible": visible, "below": "traces", "name": "critical"}


def line_layers(urls: Sequence[str | None], visible: bool) -> list[dict]:
    return [{"sourcetype": "geojson", "source": url or EMPTY_GEOJSON, "type": "line",
             "color": color, "line": {"width": 1.3 if name == "normal" else 2.4},
             "opacity": 0.9, "visible": visible, "below": "traces", "name": name}
            for (name, color, _), url in zip(LINE_CLASSES, urls, strict=True)]


def bus_layers(urls: Sequence[str | None], visible: bool) -> list[dict]:
    """Buses of the power flow, one circle layer per voltage class (under the PV and battery
    markers; buses within limits small and faint)."""
    return [{"sourcetype": "geojson", "source": url or EMPTY_GEOJSON, "type": "circle",
             "color": color, "circle": {"radius": 1.6 if name == "normal" else 3.5},
             "opacity": 0.6 if name == "normal" else 0.95, "visible": visible,
             "below": "traces", "name": f"bus-{name}"}
            for (name, color, _), url in zip(VOLTAGE_CLASSES, urls, strict=True)]


def point_layer(url: str | None, color: str, radius: float, visible: bool, name: str) -> dict:
    return {"sourcetype": "geojson", "source": url or EMPTY_GEOJSON, "type": "circle",
            "color": color, "circle": {"radius": radius}, "opacity": 0.95,
            "visible": visible, "below": "traces", "name": name}


# ---- GeoJSON payloads ----------------------------------------------------------------------
def geometry_strings(geoms: np.ndarray, grid_deg: float = 1e-6) -> list[str]:
    """GeoJSON text of each geometry, coordinates snapped to ``grid_deg`` degrees."""
    return list(shapely.to_geojson(shapely.set_precision(geoms, grid_deg)))


def feature_collection(geometries: Sequence[str], props: Sequence[str]) -> bytes:
    """GeoJSON FeatureCollection from pre-serialised geometries and property objects."""
    body = ",".join(f'{{"type":"Feature","properties":{p},"geometry":{g}}}'
                    for g, p in zip(geometries, props, strict=True))
    return ('{"type":"FeatureCollection","features":[' + body + "]}").encode()


def gzip_bytes(data: bytes) -> bytes:
    """Fast gzip (large payloads are sent once; speed matters more than the last 10 %)."""
    return gzip.compress(data, compresslevel=1 if len(data) > 2_000_000 else 6, mtime=0)


def content_key(*parts: object) -> str:
    """Short hash of arrays / values: the URL of a layer whose content it describes."""
    h = hashlib.blake2b(digest_size=12)
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(np.ascontiguousarray(part).tobytes())
        else:
            h.update(repr(part).encode())
        h.update(b"|")
    return h.hexdigest()


# ---- building figures shown in hover ------------------------------------------------------
def tip_table(frame: pd.DataFrame, values: np.ndarray) -> np.ndarray:
    """Per building: shown value, demand MWh/a, PV kWp, battery kWh, self-sufficiency %,
    mean survival h (rounded; these travel with each building feature for the hover)."""
    cols = [values, frame["demand_kwh"] / 1000, frame["pv_kwp"], frame["battery_kwh"],
            frame["self_sufficiency"] * 100, frame["survival_mean_h"]]
    data = np.column_stack([np.asarray(c, dtype=float) for c in cols])
    return np.round(data, 1)


def props_json(ids: Sequence[str], tips: np.ndarray) -> list[str]:
    """Feature properties {"b": id, "v": value, "d", "p", "s", "ss", "h"} as JSON text."""
    def num(x: float) -> str:
        return repr(x) if math.isfinite(x) else "null"
    return [f'{{"b":{json.dumps(bid)},"v":{num(r[0])},"d":{num(r[1])},"p":{num(r[2])},'
            f'"s":{num(r[3])},"ss":{num(r[4])},"h":{num(r[5])}}}'
            for bid, r in zip(ids, tips.tolist(), strict=True)]


def line_class(loading_pct: np.ndarray, reverse_hours: np.ndarray) -> np.ndarray:
    """Index into LINE_CLASSES for each transformer."""
    out = np.zeros(len(loading_pct), dtype=np.int64)
    out[reverse_hours > 0] = 1
    out[loading_pct > 80] = 2
    out[loading_pct > 100] = 3
    return out


# ---- traces --------------------------------------------------------------------------------
TRANSFORMER_HOVER = ("<b>Transformer %{text}</b><br>Rating %{customdata[0]:,.0f} kVA"
                     "<br>Max loading %{customdata[1]:.0f} %<br>Reverse flow "
                     "%{customdata[2]:,.0f} h/a<br>Hosting capacity %{customdata[3]:,.0f} kWp "
                     "(estimate)<br>Community battery %{customdata[4]:,.0f} kWh"
                     "%{hovertext}<extra></extra>")
TRANSFORMER_HOVER_VERIFIED = TRANSFORMER_HOVER.replace(
    "(estimate)", "(verified by power flow)").replace(
    "Max loading %{customdata[1]:.0f} %", "Max loading %{customdata[1]:.0f} % (power flow)"
    "<br>Voltage %{customdata[6]:.3f}–%{customdata[5]:.3f} pu")
TRANSFORMER_HOVER_NO_HOSTING = TRANSFORMER_HOVER_VERIFIED.replace(
    "Hosting capacity %{customdata[3]:,.0f} kWp (verified by power flow)",
    "Hosting capacity not computed")
COMMUNITY_HOVER = ("<b>%{text}</b><br>Community battery %{customdata[0]:,.0f} kWh"
                   "<extra></extra>")


def transformer_custom(transformers: pd.DataFrame) -> np.ndarray:
    cols = ["rating_kva", "loading_pct", "reverse_flow_hours", "hosting_capacity_kwp",
            "community_battery_kwh"]
    data = transformers[cols].to_numpy(float)
    return np.round(np.where(np.isfinite(data), data, -1), 1)


def transformer_classes(transformers: pd.DataFrame) -> np.ndarray:
    """LINE_CLASSES index of each transformer (rows of a Result's transformer table), from
    its energy-balance loading and reverse-flow hours."""
    return line_class(transformers["loading_pct"].to_numpy(float),
                      transformers["reverse_flow_hours"].to_numpy(float))


def transformer_colors(transformers: pd.DataFrame) -> list[str]:
    return [LINE_CLASSES[c][1] for c in transformer_classes(transformers)]


def community_sizes(kwh: np.ndarray) -> list[float]:
    v = np.asarray(kwh, dtype=float)
    return [float(round(10 + 8 * math.sqrt(min(x, 2000.0) / 2000.0), 1)) if x > 0 else 0.0
            for x in v]


def transformer_sizes(rating_kva: np.ndarray) -> np.ndarray:
    """Marker size by rating; smaller when there are many (a city seen whole)."""
    scale = 1.0 if len(rating_kva) <= 30 else 0.55
    # capped: an imported MV network's 25 MVA substations would otherwise be 55 px discs
    return np.round(scale * np.minimum(11 + 7 * np.sqrt(rating_kva / 630.0), 24.0), 1)


def transformer_trace(base: MapBase, transformers: pd.DataFrame, visible: bool) -> go.Scattermap:
    return go.Scattermap(
        lon=base.t_lon, lat=base.t_lat, mode="markers", name="Transformer",
        text=base.transformer_ids, customdata=transformer_custom(transformers),
        hovertext=base.t_note,
        marker={"size": transformer_sizes(base.rating_kva),
                "color": transformer_colors(transformers), "opacity": 0.95},
        hovertemplate=TRANSFORMER_HOVER, showlegend=False, visible=visible)


def community_trace(base: MapBase, transformers: pd.DataFrame, visible: bool) -> go.Scattermap:
    kwh = transformers["community_battery_kwh"].to_numpy(float)
    return go.Scattermap(
        lon=base.t_lon + 0.00012, lat=base.t_lat, mode="markers", name="Community battery",
        text=base.transformer_ids, customdata=np.round(kwh, 0)[:, None],
        marker={"size": community_sizes(kwh), "color": COMMUNITY_COLOR, "opacity": 0.95},
        hovertemplate=COMMUNITY_HOVER, showlegend=False, visible=visible)


# ---- the figure ----------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class MapBase:
    """Static geometry of a district needed by the map (computed once per district)."""

    building_ids: list[str]
    b_lon: np.ndarray
    b_lat: np.ndarray
    transformer_ids: list[str]
    t_lon: np.ndarray
    t_lat: np.ndarray
    rating_kva: np.ndarray
    center: dict
    zoom: float
    t_note: list[str] = field(default_factory=list)   # hover lines: MV connection, limits

    @classmethod
    def from_district(cls, buildings: pd.DataFrame, transformers: pd.DataFrame) -> MapBase:
        pts = buildings.geometry.representative_point()
        center, zoom = view_center(buildings.total_bounds)
        return cls(buildings["building_id"].astype(str).tolist(), np.round(pts.x.to_numpy(), 6),
                   np.round(pts.y.to_numpy(), 6),
                   transformers["transformer_id"].astype(str).tolist(),
                   np.round(transformers.geometry.x.to_numpy(), 6),
                   np.round(transformers.geometry.y.to_numpy(), 6),
                   transformers["rating_kva"].to_numpy(float), center, zoom,
                   transformer_notes(transformers))


def transformer_notes(transformers: pd.DataFrame) -> list[str]:
    """Hover lines of each transformer: an MV-connected building's own substation, and a
    synthesized substation the planning could not keep within its limits."""
    n = len(transformers)
    conn = transformers.get("connection", pd.Series([""] * n, index=transformers.index))
    note = transformers.get("note", pd.Series([""] * n, index=transformers.index))
    out = []
    for c, w in zip(conn.fillna("").astype(str), note.fillna("").astype(str), strict=True):
        text = "<br>MV connection: the building's own customer substation" \
            if c == "MV connection" else ""
        if w:
            text += f"<br>⚠ synthesized beyond the planning limits: {w}"
        out.append(text)
    return out


def view_center(bounds: Sequence[float], width_px: float = 800.0,
                height_px: float = 620.0) -> tuple[dict, float]:
    """Centre and the zoom level (MapLibre, 512 px tiles) at which lon/lat ``bounds``
    (minx, miny, maxx, maxy) fill about ``width_px`` x ``height_px``."""
    minx, miny, maxx, maxy = bounds
    lat = np.radians((miny + maxy) / 2)
    span_x = max(maxx - minx, 1e-5)
    span_y = max((maxy - miny) / max(np.cos(lat), 0.1), 1e-5)  # Mercator stretch
    px_per_deg = min(width_px / span_x, height_px / span_y)
    zoom = float(np.clip(np.log2(px_per_deg * 360.0 / 512.0), 2, 18))
    return {"lon": (minx + maxx) / 2, "lat": (miny + maxy) / 2}, round(zoom, 2)


def framed_view(bounds: Sequence[float], width_px: float, height_px: float,
                right_px: float = 0.0, bottom_px: float = 0.0, top_px: float = 0.0,
                left_px: float = 0.0, margin_px: float = 24.0) -> tuple[dict, float]:
    """Centre and zoom that show lon/lat ``bounds`` whole in a map of ``width_px`` x
    ``height_px`` whose edges are partly covered (legend on the right, toolbar at the bottom,
    ...), centred in the free part."""
    free_w = max(width_px - right_px - left_px - 2 * margin_px, 80.0)
    free_h = max(height_px - bottom_px - top_px - 2 * margin_px, 80.0)
    centre, zoom = view_center(bounds, free_w, free_h)
    # shift the centre so the district sits in the middle of the free area
    px_per_deg = 512.0 * 2 ** zoom / 360.0
    lat = np.radians(centre["lat"])
    dx_deg = (right_px - left_px) / 2 / px_per_deg
    dy_deg = (bottom_px - top_px) / 2 / px_per_deg * np.cos(lat)
    return {"lon": round(centre["lon"] + dx_deg, 6),
            "lat": round(centre["lat"] - dy_deg, 6)}, zoom


@dataclass(frozen=True)
class LayerUrls:
    """Where each layer's GeoJSON is served (None: empty)."""

    classes: tuple[str | None, ...]        # N_CLASSES + 1
    selection: str | None
    lines: tuple[str | None, ...]          # len(LINE_CLASSES)
    pv: str | None
    battery: str | None
    critical: str | None = None            # outlines of the critical facilities


def planning_map(base: MapBase, spec: ColorSpec, urls: LayerUrls,
                 transformers: pd.DataFrame, basemap: str, tiles_url: str = OSM_TILES,
                 show: Sequence[str] = ("feeders", "transformers", "pv", "batteries",
                                        "critical"),
                 ) -> go.Figure:
    layers = [osm_layer(tiles_url, basemap == "osm"),
              *line_layers(urls.lines, "feeders" in show),
              *building_class_layers(urls.classes, spec.colors()),
              critical_layer(urls.critical, "critical" in show),
              selection_layer(urls.selection),
              *bus_layers([None] * len(VOLTAGE_CLASSES), False),
              point_layer(urls.pv, PV_COLOR, 4.5, "pv" in show, "pv"),
              point_layer(urls.battery, BATTERY_COLOR, 3.0, "batteries" in show, "batteries")]
    assert len(layers) == LAYER.COUNT
    layout = go.Layout(
        map={"style": basemap_style(), "center": base.center, "zoom": base.zoom,
             "layers": layers},
        margin={"l": 0, "r": 0, "t": 0, "b": 0}, uirevision="district", dragmode="pan",
        clickmode="event", paper_bgcolor=BACKGROUND, showlegend=False,
        hoverlabel={"bgcolor": "white", "font": {"size": 12}},
        font={"family": "Inter, system-ui, -apple-system, Segoe UI, Roboto, sans-serif"})
    fig = go.Figure(layout=layout)
    fig.add_trace(transformer_trace(base, transformers, "transformers" in show))
    fig.add_trace(community_trace(base, transformers, "transformers" in show))
    return fig


def building_frame(district: District, result: Result) -> pd.DataFrame:
    """Result per building plus district attributes, in district row order."""
    frame = result.buildings.reset_index(drop=True)
    frame["pv_potential_kwp"] = district.buildings["pv_potential_kwp"].to_numpy(float)
    assumed = district.buildings[list(ASSUMED_FLAGS)].to_numpy(bool).sum(axis=1)
    frame["data_known"] = (len(ASSUMED_FLAGS) - assumed).astype(float)
    return frame
