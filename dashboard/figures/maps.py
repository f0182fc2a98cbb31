"""The planning map as plotly figures (MapLibre ``*map`` traces). No Dash imports, no energy.

Trace order is fixed so callbacks can patch by index (see ``TRACE``). Building polygons and
feeder lines are not inlined: the figure points at GeoJSON served by the app (``geojson`` as a
URL, ``layout.map.layers[].source`` as a URL), so a page load carries ids and values only.

Base maps: the style is an inline plain background that needs no remote style.json; OpenStreetMap
raster tiles are a map layer shown on request. When tiles cannot be reached every trace still
draws on the plain background. ``plain`` loads nothing at all (offline, tests, exports).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import shapely
from plotly.colors import get_colorscale

TRACE = {"buildings": 0, "selection": 1, "pv": 2, "battery": 3, "transformers": 4,
         "community": 5}

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = "© OpenStreetMap contributors"
BACKGROUND = "#eef1f4"

# Line classes drawn as map layers, from calm to alarming.
LINE_CLASSES: tuple[tuple[str, str, str], ...] = (
    ("normal", "#7b8794", "loading ≤ 80 %, no reverse flow"),
    ("reverse", "#2f80ed", "reverse flow, within rating"),
    ("high", "#f2994a", "loading 80–100 %"),
    ("over", "#d64545", "loading > 100 %"),
)


@dataclass(frozen=True)
class ColorSpec:
    key: str
    label: str
    unit: str
    scale_name: str
    factor: float = 1.0
    zmin: float | None = 0.0
    zmax: float | None = None

    @property
    def colorscale(self) -> list[list]:
        """Resolved [[position, colour], ...]: patches go straight to plotly.js, which knows
        only a few scales by name."""
        return [[float(p), c] for p, c in get_colorscale(self.scale_name)]


COLOR_SPECS: dict[str, ColorSpec] = {s.key: s for s in (
    ColorSpec("self_sufficiency", "Self-sufficiency", "%", "Tealgrn", 100.0, 0.0, 100.0),
    ColorSpec("pv_kwp", "PV installed", "kWp", "YlOrRd"),
    ColorSpec("pv_potential_kwp", "PV potential", "kWp", "YlOrRd"),
    ColorSpec("demand_kwh", "Annual demand", "MWh/a", "Purples", 1e-3),
    ColorSpec("survival_mean_h", "Outage survival (mean)", "h", "Blues", 1.0, 0.0, None),
    ColorSpec("p_survive_24h", "P(survive 24 h)", "%", "Blues", 100.0, 0.0, 100.0),
    ColorSpec("peak_export_kw", "Peak export", "kW", "Oranges"),
    ColorSpec("self_consumption", "Self-consumption", "%", "Tealgrn", 100.0, 0.0, 100.0),
)}


def basemap_style() -> str:
    """The map's style: plotly's built-in ``white-bg``, which loads nothing. It never changes:
    plotly compares styles between updates and a dict style (which MapLibre annotates in place)
    would look changed on every update and be reloaded, dropping the trace layers. The
    OpenStreetMap tiles are a map layer that is shown or hidden (``OSM_LAYER``)."""
    return "white-bg"


OSM_LAYER = 0            # index in layout.map.layers of the raster base map
FIRST_LINE_LAYER = 1     # feeder line classes follow


def osm_layer(tiles_url: str = OSM_TILES, visible: bool = True) -> dict:
    return {"sourcetype": "raster", "source": [tiles_url], "sourceattribution":
            OSM_ATTRIBUTION, "below": "traces", "visible": bool(visible), "opacity": 0.8,
            "name": "basemap"}


# ---- GeoJSON payloads ----------------------------------------------------------------------
def _features(ids: Sequence[str], geoms: np.ndarray, props: list[dict] | None = None) -> list[str]:
    geo = shapely.to_geojson(shapely.set_precision(geoms, 1e-6))
    if props is None:
        return [f'{{"type":"Feature","id":{json.dumps(i)},"properties":{{}},"geometry":{g}}}'
                for i, g in zip(ids, geo, strict=True)]
    return [f'{{"type":"Feature","id":{json.dumps(i)},"properties":{json.dumps(p)},'
            f'"geometry":{g}}}' for i, p, g in zip(ids, props, geo, strict=True)]


def feature_collection_bytes(features: Sequence[str]) -> bytes:
    return ('{"type":"FeatureCollection","features":[' + ",".join(features) + "]}").encode()


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


def building_features(buildings: pd.DataFrame) -> list[str]:
    return _features(buildings["building_id"].astype(str).tolist(),
                     np.asarray(buildings.geometry.values))


def line_features(lines: pd.DataFrame) -> list[str]:
    return _features(lines["line_id"].astype(str).tolist(), np.asarray(lines.geometry.values),
                     [{"transformer_id": t} for t in lines["transformer_id"]])


def line_class(loading_pct: np.ndarray, reverse_hours: np.ndarray) -> np.ndarray:
    """Index into LINE_CLASSES for each transformer."""
    out = np.zeros(len(loading_pct), dtype=np.int64)
    out[reverse_hours > 0] = 1
    out[loading_pct > 80] = 2
    out[loading_pct > 100] = 3
    return out


# ---- traces --------------------------------------------------------------------------------
def building_values(buildings: pd.DataFrame, spec: ColorSpec) -> np.ndarray:
    """Colour values of ``spec`` from a frame with the needed column (result or district)."""
    values = buildings[spec.key].to_numpy(float) * spec.factor
    return np.round(values, 3)


HOVER_COLUMNS = ("demand_kwh", "pv_kwp", "battery_kwh", "self_sufficiency", "survival_mean_h")


def hover_data(frame: pd.DataFrame) -> np.ndarray:
    """customdata rows for building hover: demand MWh/a, PV kWp, battery kWh, SS %, survival h."""
    cols = [frame["demand_kwh"] / 1000, frame["pv_kwp"], frame["battery_kwh"],
            frame["self_sufficiency"] * 100, frame["survival_mean_h"]]
    data = np.column_stack([np.nan_to_num(c.to_numpy(float)) for c in cols])
    return np.round(data, 1)


BUILDING_HOVER = ("<b>%{location}</b><br>%{meta}: %{z}<br>Demand %{customdata[0]:,.1f} MWh/a"
                  "<br>PV %{customdata[1]:,.1f} kWp · battery %{customdata[2]:,.1f} kWh"
                  "<br>Self-sufficiency %{customdata[3]:.1f} %"
                  "<br>Outage survival %{customdata[4]:.1f} h (mean)<extra></extra>")


def color_range(spec: ColorSpec, values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    lo = spec.zmin if spec.zmin is not None else (float(finite.min()) if len(finite) else 0.0)
    hi = spec.zmax if spec.zmax is not None else (float(finite.max()) if len(finite) else 1.0)
    return lo, max(hi, lo + 1e-9)


def buildings_trace(ids: Sequence[str], z: np.ndarray, custom: np.ndarray, spec: ColorSpec,
                    geojson_url: str, zrange: tuple[float, float]) -> go.Choroplethmap:
    return go.Choroplethmap(
        geojson=geojson_url, locations=list(ids), z=z, customdata=custom,
        colorscale=spec.colorscale, zmin=zrange[0], zmax=zrange[1],
        marker={"opacity": 0.85, "line": {"width": 0.6, "color": "#52606d"}},
        colorbar={"title": {"text": f"{spec.label} [{spec.unit}]", "side": "right"},
                  "thickness": 12, "len": 0.55, "x": 0.995, "xanchor": "right", "y": 0.5,
                  "bgcolor": "rgba(255,255,255,0.85)", "outlinewidth": 0},
        hovertemplate=BUILDING_HOVER, meta=spec.label, name="Buildings", showlegend=False)


def selection_trace(geojson_url: str, ids: Sequence[str]) -> go.Choroplethmap:
    return go.Choroplethmap(
        geojson=geojson_url, locations=list(ids), z=[1] * len(ids),
        colorscale=[[0, "rgba(255,196,0,0.35)"], [1, "rgba(255,196,0,0.35)"]],
        showscale=False, marker={"line": {"width": 3, "color": "#f5a623"}},
        hoverinfo="skip", name="Selection", showlegend=False)


def point_trace(name: str, lon: np.ndarray, lat: np.ndarray, ids: Sequence[str],
                size: np.ndarray, color: str | np.ndarray | list[str], hover: str,
                custom: np.ndarray | None = None, symbol_line: str = "#ffffff",
                colorscale: str | None = None, cmin: float | None = None,
                cmax: float | None = None) -> go.Scattermap:
    marker: dict = {"size": size, "color": color, "opacity": 0.95}
    if colorscale is not None:
        marker.update(colorscale=colorscale, cmin=cmin, cmax=cmax, showscale=False)
    return go.Scattermap(lon=lon, lat=lat, mode="markers", name=name, ids=list(ids),
                         text=list(ids), customdata=custom, marker=marker,
                         hovertemplate=hover, showlegend=False)


PV_HOVER = "<b>%{text}</b><br>PV %{customdata[0]:,.1f} kWp<extra>Rooftop PV</extra>"
BATTERY_HOVER = "<b>%{text}</b><br>Battery %{customdata[0]:,.1f} kWh<extra>Battery</extra>"
TRANSFORMER_HOVER = ("<b>Transformer %{text}</b><br>Rating %{customdata[0]:,.0f} kVA"
                     "<br>Loading %{customdata[1]:.0f} %<br>Reverse flow %{customdata[2]:,.0f}"
                     " h/a<br>Hosting capacity %{customdata[3]:,.0f} kWp (estimate)"
                     "<br>Community battery %{customdata[4]:,.0f} kWh<extra></extra>")
COMMUNITY_HOVER = ("<b>%{text}</b><br>Community battery %{customdata[0]:,.0f} kWh"
                   "<extra></extra>")


def marker_sizes(values: np.ndarray, lo: float = 6.0, hi: float = 14.0) -> np.ndarray:
    """Marker size per value; 0 (hidden) where the value is 0."""
    v = np.asarray(values, float)
    top = v.max() if len(v) and v.max() > 0 else 1.0
    size = lo + (hi - lo) * np.sqrt(np.clip(v, 0, None) / top)
    return np.where(v > 0, np.round(size, 1), 0.0)


def line_layers(urls: Sequence[str], visible: Sequence[bool]) -> list[dict]:
    layers: list[dict] = []
    for (name, color, _), url, show in zip(LINE_CLASSES, urls, visible, strict=True):
        layers.append({"sourcetype": "geojson", "source": url, "type": "line",
                       "color": color, "line": {"width": 2.2 if name != "normal" else 1.4},
                       "opacity": 0.9, "visible": bool(show), "below": "traces",
                       "name": name})
    return layers


def map_layout(style: str, center: dict, zoom: float, layers: list[dict]) -> go.Layout:
    return go.Layout(
        map={"style": style, "center": center, "zoom": zoom, "layers": layers},
        margin={"l": 0, "r": 0, "t": 0, "b": 0}, uirevision="district",
        dragmode="pan", clickmode="event+select", paper_bgcolor=BACKGROUND,
        legend={"x": 0.01, "y": 0.99, "xanchor": "left", "yanchor": "top",
                "itemsizing": "constant",
                "bgcolor": "rgba(255,255,255,0.88)", "bordercolor": "#d9e2ec",
                "borderwidth": 1, "font": {"size": 12}},
        hoverlabel={"bgcolor": "white", "font": {"size": 12}},
        font={"family": "Inter, system-ui, -apple-system, Segoe UI, Roboto, sans-serif"},
    )


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


# ---- the whole planning map ----------------------------------------------------------------
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

    @classmethod
    def from_district(cls, buildings: pd.DataFrame, transformers: pd.DataFrame) -> MapBase:
        pts = buildings.geometry.representative_point()
        center, zoom = view_center(buildings.total_bounds)
        return cls(buildings["building_id"].astype(str).tolist(), np.round(pts.x.to_numpy(), 6),
                   np.round(pts.y.to_numpy(), 6),
                   transformers["transformer_id"].astype(str).tolist(),
                   np.round(transformers.geometry.x.to_numpy(), 6),
                   np.round(transformers.geometry.y.to_numpy(), 6),
                   transformers["rating_kva"].to_numpy(float), center, zoom)


def transformer_custom(transformers: pd.DataFrame) -> np.ndarray:
    cols = ["rating_kva", "loading_pct", "reverse_flow_hours", "hosting_capacity_kwp",
            "community_battery_kwh"]
    data = transformers[cols].to_numpy(float)
    return np.round(np.where(np.isfinite(data), data, -1), 1)


def transformer_colors(transformers: pd.DataFrame) -> list[str]:
    classes = line_class(transformers["loading_pct"].to_numpy(float),
                         transformers["reverse_flow_hours"].to_numpy(float))
    return [LINE_CLASSES[c][1] for c in classes]


def planning_map(base: MapBase, buildings: pd.DataFrame, transformers: pd.DataFrame,
                 spec: ColorSpec, zrange: tuple[float, float], geojson_url: str,
                 line_urls: Sequence[str], selection: Sequence[str], basemap: str,
                 tiles_url: str = OSM_TILES,
                 show: Sequence[str] = ("feeders", "transformers", "pv", "batteries"),
                 ) -> go.Figure:
    """The planning map: buildings coloured by ``spec`` (values from ``buildings``, a frame
    in district row order), feeders as line layers, transformers, PV and battery markers."""
    z = building_values(buildings, spec)
    layers = [osm_layer(tiles_url, basemap == "osm"),
              *line_layers(line_urls, [("feeders" in show)] * len(LINE_CLASSES))]
    fig = go.Figure(layout=map_layout(basemap_style(), base.center, base.zoom, layers))
    fig.add_trace(buildings_trace(base.building_ids, z, hover_data(buildings), spec,
                                  geojson_url, zrange))
    fig.add_trace(selection_trace(geojson_url, selection))
    pv = buildings["pv_kwp"].to_numpy(float)
    fig.add_trace(point_trace("Rooftop PV", base.b_lon, base.b_lat, base.building_ids,
                              marker_sizes(pv, 5, 12), "#f7b32b", PV_HOVER,
                              custom=np.round(pv, 1)[:, None]))
    bat = buildings["battery_kwh"].to_numpy(float)
    fig.add_trace(point_trace("Battery", base.b_lon + 0.00004, base.b_lat - 0.00003,
                              base.building_ids, marker_sizes(bat, 5, 11), "#2bb673",
                              BATTERY_HOVER, custom=np.round(bat, 1)[:, None]))
    fig.add_trace(point_trace("Transformer", base.t_lon, base.t_lat, base.transformer_ids,
                              np.round(10 + 8 * np.sqrt(base.rating_kva / 630.0), 1),
                              transformer_colors(transformers), TRANSFORMER_HOVER,
                              custom=transformer_custom(transformers)))
    comm = transformers["community_battery_kwh"].to_numpy(float)
    fig.add_trace(point_trace("Community battery", base.t_lon + 0.00012, base.t_lat,
                              base.transformer_ids, marker_sizes(comm, 9, 18), "#7b61ff",
                              COMMUNITY_HOVER, custom=np.round(comm, 0)[:, None]))
    for name, idx in (("pv", TRACE["pv"]), ("batteries", TRACE["battery"]),
                      ("transformers", TRACE["transformers"]),
                      ("transformers", TRACE["community"])):
        fig.data[idx].visible = name in show
    return fig
