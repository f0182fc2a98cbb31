"""Self-contained map figures for exports (images, standalone HTML, the report).

Nothing here points at the app's server: every geometry is inline. ``export_geo_map`` draws
the map on plotly's SVG "geo" subplot: vector in SVG and PDF (print quality), no WebGL, no
network, and it opens from disk (file://), where browsers refuse MapLibre's web worker. It is
the map of every static export and of the standalone HTML. ``export_map`` draws the same
layers on MapLibre, only for a PNG over OpenStreetMap tiles when they can be reached. Classes
and colours are those of the app; credits come from the district's own sources.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.domain.district import District
from dashboard.domain.result import Result
from dashboard.figures.maps import (
    BATTERY_COLOR,
    COLOR_SPECS,
    COMMUNITY_COLOR,
    LINE_CLASSES,
    N_CLASSES,
    NA_COLOR,
    OSM_ATTRIBUTION,
    PV_COLOR,
    TRANSFORMER_HOVER,
    VOLTAGE_CLASSES,
    MapBase,
    building_frame,
    class_breaks,
    class_name,
    classify,
    community_sizes,
    geometry_strings,
    legend_items,
    osm_layer,
    tip_table,
    transformer_classes,
    transformer_colors,
    transformer_custom,
    transformer_sizes,
)

FONT = "Inter, system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"
STREET_COLOR = "#d5dbe3"
BUILDING_HOVER = ("<b>%{location}</b><br>{label}: %{customdata[0]:,.1f} {unit}<br>Demand "
                  "%{customdata[1]:,.1f} MWh/a<br>PV %{customdata[2]:,.1f} kWp · battery "
                  "%{customdata[3]:,.1f} kWh<br>Self-sufficiency %{customdata[4]:.1f} %<br>"
                  "Outage survival %{customdata[5]:.1f} h<extra></extra>")


def credit_line(district: District) -> str:
    """Where the district's data come from, for the foot of every map."""
    meta: Mapping[str, str] = district.meta or {}
    buildings = meta.get("buildings_source", "")
    if "OpenStreetMap" in buildings or "momepy" in buildings or not buildings:
        who = "Buildings © OpenStreetMap contributors (ODbL)"
    else:
        who = f"Buildings: {buildings}"
    grid = meta.get("network_source", "")
    feeders = ("feeders synthesized along the streets" if "synthesized" in grid or not grid
               else f"grid: {grid.split(';')[0]}")
    tag = " · synthetic city" if district.is_synthetic else ""
    return f"{who} · {feeders}{tag} · Decentra"


def _title(heading: str | None, subtitle: str | None) -> list[dict]:
    """Title and subtitle as annotations in the top margin (a two-line layout title is
    placed too high by plotly and clipped)."""
    out = []
    if heading:
        out.append({"text": f"<b>{heading}</b>", "x": 0.0, "y": 1.0, "xref": "paper",
                    "yref": "paper", "xanchor": "left", "yanchor": "bottom",
                    "yshift": 30 if subtitle else 12, "xshift": 14, "showarrow": False,
                    "font": {"size": 18, "color": "#102a43"}})
    if subtitle:
        out.append({"text": subtitle, "x": 0.0, "y": 1.0, "xref": "paper", "yref": "paper",
                    "xanchor": "left", "yanchor": "bottom", "yshift": 10, "xshift": 14,
                    "showarrow": False, "font": {"size": 12, "color": "#616e7c"}})
    return out


def _collection(geometries: Sequence[str], ids: Sequence[str] | None = None) -> dict:
    feats = []
    for i, g in enumerate(geometries):
        feat: dict = {"type": "Feature", "properties": {}, "geometry": json.loads(g)}
        if ids is not None:
            feat["id"] = ids[i]
        feats.append(feat)
    return {"type": "FeatureCollection", "features": feats}


def _lines_lonlat(geoms: Sequence | np.ndarray) -> tuple[list, list]:
    """Line coordinates joined with None separators (one trace draws many lines)."""
    lon: list = []
    lat: list = []
    for g in geoms:
        if g is None or g.is_empty:
            continue
        for part in getattr(g, "geoms", [g]):
            xs, ys = part.xy
            lon += [*xs, None]
            lat += [*ys, None]
    return lon, lat


class _Classes:
    """The building colour classes of one map."""

    def __init__(self, district: District, result: Result, color_key: str,
                 breaks: Sequence[float] | None) -> None:
        self.spec = COLOR_SPECS.get(color_key) or COLOR_SPECS["self_sufficiency"]
        self.frame = building_frame(district, result)
        self.values = self.frame[self.spec.key].to_numpy(float) * self.spec.factor
        if breaks is None:
            reference = (district.buildings["pv_potential_kwp"].to_numpy(float)
                         if self.spec.key in ("pv_kwp", "pv_potential_kwp") else self.values)
            breaks = class_breaks(self.spec, reference)
        self.breaks = list(breaks)
        self.classes = classify(self.values, self.breaks)
        colors = [*self.spec.colors(), NA_COLOR]
        n = N_CLASSES + 1
        self.zmax = n - 0.5
        self.scale: list[list] = []
        for i, c in enumerate(colors):       # a step colourscale: class i -> colour i
            self.scale += [[i / n, c], [(i + 1) / n, c]]

    @property
    def hover(self) -> str:
        return BUILDING_HOVER.replace("{label}", self.spec.label).replace("{unit}",
                                                                          self.spec.unit)


def _map_parts(district: District, result: Result, color_key: str,
               breaks: Sequence[float] | None
               ) -> tuple[_Classes, list[str], dict, MapBase, np.ndarray]:
    """What both map builders draw from: the building classes, building ids and footprint
    GeoJSON, the map base, and the class (LINE_CLASSES index) of every district line by its
    transformer."""
    ids = district.buildings["building_id"].astype(str).tolist()
    polygons = _collection(geometry_strings(np.asarray(district.buildings.geometry.values)),
                           ids)
    owner = pd.Index(district.transformers["transformer_id"].astype(str)).get_indexer(
        district.lines["transformer_id"].astype(str))
    line_cls = transformer_classes(result.transformers)[owner]
    return (_Classes(district, result, color_key, breaks), ids, polygons,
            MapBase.from_district(district.buildings, district.transformers), line_cls)


def _scale_bar_m(span_m: float) -> float:
    """A round length of about a quarter of ``span_m``."""
    target = span_m / 4
    step = 10 ** math.floor(math.log10(max(target, 1.0)))
    return float(max((m * step for m in (1, 2, 5) if m * step <= target), default=step))


def export_geo_map(district: District, result: Result, color_key: str = "self_sufficiency",
                   title: str | None = None, subtitle: str | None = None,
                   breaks: Sequence[float] | None = None, show_legend: bool = True,
                   width: int = 1400, height: int = 900) -> go.Figure:
    """The scenario map as vector graphics: buildings coloured by ``color_key`` (classes as
    in the app, or ``breaks`` shared between several maps), streets, feeders coloured by their
    transformer's loading and reverse flow, transformers, PV, batteries and community
    batteries, a legend, a scale bar, a title and the data credits. ``width`` / ``height``
    [px] are the size it will be drawn at (the district is framed for it)."""
    c, ids, polygons, base, line_cls = _map_parts(district, result, color_key, breaks)
    t = result.transformers
    # plotly.js fetches world topojson from its CDN when the first geo trace is a choropleth
    # (even with custom GeoJSON): an empty Scattergeo first keeps the map offline
    fig = go.Figure(go.Scattergeo(lon=[None], lat=[None], mode="markers", hoverinfo="skip",
                                  showlegend=False, name="anchor"))
    if len(district.streets):
        lon, lat = _lines_lonlat(np.asarray(district.streets.geometry.values))
        fig.add_trace(go.Scattergeo(lon=lon, lat=lat, mode="lines", hoverinfo="skip",
                                    line={"color": STREET_COLOR, "width": 3.0}, name="Streets",
                                    showlegend=False))
    line_geoms = np.asarray(district.lines.geometry.values)
    main = district.lines["kind"].to_numpy() != "service"
    present = set()
    for k, (_name, color, label) in enumerate(LINE_CLASSES):
        for is_main in (False, True):   # service lines first, thinner
            rows = np.flatnonzero((line_cls == k) & (main == is_main))
            if not len(rows):
                continue
            present.add(k)
            lon, lat = _lines_lonlat(line_geoms[rows])
            fig.add_trace(go.Scattergeo(
                lon=lon, lat=lat, mode="lines", hoverinfo="skip",
                line={"color": color, "width": 1.8 if is_main else 0.7},
                name=label, legendgroup="network", legendgrouptitle={"text": "Feeders"},
                showlegend=bool(show_legend and is_main)))
    fig.add_trace(go.Choropleth(
        geojson=polygons, locations=ids, z=c.classes, zmin=-0.5, zmax=c.zmax,
        colorscale=c.scale, marker={"line": {"width": 0.4, "color": "#52606d"}},
        customdata=tip_table(c.frame, c.values), showscale=False, name="Buildings",
        showlegend=False, hovertemplate=c.hover))
    pv = c.frame["pv_kwp"].to_numpy(float) > 0
    bat = c.frame["battery_kwh"].to_numpy(float) > 0
    comm = t["community_battery_kwh"].to_numpy(float)
    marker = 4.5 if len(ids) > 2000 else 6
    fig.add_trace(go.Scattergeo(lon=base.b_lon[pv], lat=base.b_lat[pv], mode="markers",
                                marker={"size": marker, "color": PV_COLOR,
                                        "line": {"width": 0.5, "color": "white"}},
                                name="Rooftop PV", hoverinfo="skip", legendgroup="der",
                                legendgrouptitle={"text": "Energy resources"},
                                showlegend=bool(show_legend and pv.any())))
    fig.add_trace(go.Scattergeo(lon=base.b_lon[bat] + 0.00005, lat=base.b_lat[bat],
                                mode="markers", marker={"size": marker, "color": BATTERY_COLOR,
                                                        "symbol": "square",
                                                        "line": {"width": 0.5,
                                                                 "color": "white"}},
                                name="Battery", hoverinfo="skip", legendgroup="der",
                                showlegend=bool(show_legend and bat.any())))
    fig.add_trace(go.Scattergeo(
        lon=base.t_lon, lat=base.t_lat, mode="markers", text=base.transformer_ids,
        customdata=transformer_custom(t), hovertemplate=TRANSFORMER_HOVER,
        marker={"size": transformer_sizes(base.rating_kva), "color": transformer_colors(t),
                "line": {"width": 1, "color": "white"}},
        name="Transformer (size: rating)", legendgroup="network",
        showlegend=bool(show_legend)))
    has_comm = comm > 0
    fig.add_trace(go.Scattergeo(
        lon=base.t_lon[has_comm] + 0.00018, lat=base.t_lat[has_comm], mode="markers",
        text=np.asarray(base.transformer_ids)[has_comm],
        customdata=np.round(comm[has_comm], 0)[:, None],
        hovertemplate="<b>Community battery at %{text}</b><br>%{customdata[0]:,.0f} kWh"
                      "<extra></extra>",
        marker={"size": community_sizes(comm[has_comm]), "color": COMMUNITY_COLOR,
                "symbol": "diamond", "line": {"width": 1, "color": "white"}},
        name="Community battery", legendgroup="der",
        showlegend=bool(show_legend and has_comm.any())))
    if show_legend:
        for color, label in legend_items(c.spec, c.breaks):
            fig.add_trace(go.Scattergeo(
                lon=[None], lat=[None], mode="markers", name=class_name(c.spec, label),
                marker={"size": 11, "color": color, "symbol": "square"},
                legendgroup="classes",
                legendgrouptitle={"text": f"Buildings: {c.spec.label}"}))

    # the map fills the plot area left of the legend, framed on the buildings by plotly
    heading = title if title is not None else result.scenario.name
    top, bottom = (64 if heading else 8), 30
    legend_frac = min(0.4, 250.0 / max(width, 1)) if show_legend else 0.0
    fig.update_geos(projection_type="mercator", visible=False, bgcolor="white",
                    fitbounds="locations", domain={"x": [0.0, 1.0 - legend_frac], "y": [0, 1]})

    # scale bar under the district's south-west corner (inside the framing margin), in metres
    minx, miny, maxx, maxy = (float(v) for v in district.buildings.total_bounds)
    m_per_deg = 111_320.0 * math.cos(math.radians((miny + maxy) / 2))
    bar_m = _scale_bar_m((maxx - minx) * m_per_deg)
    y_bar = miny - 0.03 * (maxy - miny)
    fig.add_trace(go.Scattergeo(lon=[minx, minx + bar_m / m_per_deg], lat=[y_bar, y_bar],
                                mode="lines+text", text=["", f"{bar_m:,.0f} m"],
                                textposition="top left",
                                textfont={"size": 11, "color": "#52606d"},
                                line={"color": "#52606d", "width": 3}, hoverinfo="skip",
                                showlegend=False, name="scale"))

    fig.update_layout(
        margin={"l": 0, "r": 0, "t": top, "b": bottom}, font={"family": FONT, "size": 12},
        paper_bgcolor="white", dragmode="pan", width=None, height=None,
        legend={"x": 0.995, "xanchor": "right", "y": 0.99, "yanchor": "top",
                "bgcolor": "rgba(255,255,255,0.92)", "bordercolor": "#d9e2ec", "borderwidth": 1,
                "font": {"size": 11}, "groupclick": "toggleitem", "tracegroupgap": 6},
        showlegend=show_legend,
        annotations=[*_title(heading, subtitle),
                     {"text": credit_line(district), "x": 0.005, "y": 0.0, "xref": "paper",
                      "yref": "paper", "xanchor": "left", "yanchor": "top", "yshift": -6,
                      "showarrow": False, "font": {"size": 10, "color": "#7b8794"}}])
    return fig


def export_map(district: District, result: Result, color_key: str = "self_sufficiency",
               title: str | None = None, subtitle: str | None = None,
               breaks: Sequence[float] | None = None, show_legend: bool = True,
               tiles_url: str | None = None) -> go.Figure:
    """The map on MapLibre with an OpenStreetMap raster base (``tiles_url``): for a PNG with
    tiles. Without tiles use :func:`export_geo_map` (vector, works offline)."""
    c, ids, polygons, base, line_cls = _map_parts(district, result, color_key, breaks)
    t = result.transformers
    line_geoms = geometry_strings(np.asarray(district.lines.geometry.values))
    layers = [osm_layer(tiles_url)] if tiles_url else []
    for k, (name, color, _) in enumerate(LINE_CLASSES):
        rows = np.flatnonzero(line_cls == k)
        if len(rows):
            layers.append({"sourcetype": "geojson", "type": "line", "color": color,
                           "line": {"width": 1.2 if name == "normal" else 2.2},
                           "source": _collection([line_geoms[i] for i in rows]),
                           "below": "traces"})
    fig = go.Figure()
    fig.add_trace(go.Choroplethmap(
        geojson=polygons, locations=ids, z=c.classes, zmin=-0.5, zmax=c.zmax,
        colorscale=c.scale, marker={"line": {"width": 0.5, "color": "#52606d"}, "opacity": 0.9},
        customdata=tip_table(c.frame, c.values), showscale=False, name="Buildings",
        showlegend=False, hovertemplate=c.hover))
    pv = c.frame["pv_kwp"].to_numpy(float) > 0
    bat = c.frame["battery_kwh"].to_numpy(float) > 0
    fig.add_trace(go.Scattermap(lon=base.b_lon[pv], lat=base.b_lat[pv], mode="markers",
                                marker={"size": 6, "color": PV_COLOR}, name="Rooftop PV",
                                hoverinfo="skip", showlegend=show_legend))
    fig.add_trace(go.Scattermap(lon=base.b_lon[bat] + 0.00004, lat=base.b_lat[bat],
                                mode="markers", marker={"size": 6, "color": BATTERY_COLOR},
                                name="Battery", hoverinfo="skip", showlegend=show_legend))
    fig.add_trace(go.Scattermap(
        lon=base.t_lon, lat=base.t_lat, mode="markers", text=base.transformer_ids,
        customdata=transformer_custom(t), hovertemplate=TRANSFORMER_HOVER,
        marker={"size": transformer_sizes(base.rating_kva), "color": transformer_colors(t)},
        name="Transformer", showlegend=show_legend))
    if show_legend:
        for k, (_, color, label) in enumerate(LINE_CLASSES):
            if k in set(transformer_classes(t).tolist()):
                fig.add_trace(go.Scattermap(lon=[None], lat=[None], mode="lines",
                                            line={"color": color, "width": 3},
                                            name=f"Feeder: {label}"))
        for color, label in legend_items(c.spec, c.breaks):
            fig.add_trace(go.Scattermap(lon=[None], lat=[None], mode="markers",
                                        marker={"size": 12, "color": color},
                                        name=class_name(c.spec, label)))
    heading = title if title is not None else result.scenario.name
    credit = credit_line(district) + (f" · map tiles {OSM_ATTRIBUTION}" if tiles_url else "")
    fig.update_layout(
        map={"style": "white-bg", "center": base.center, "zoom": base.zoom, "layers": layers},
        margin={"l": 0, "r": 0, "t": 64 if heading else 0, "b": 24},
        font={"family": FONT, "size": 12}, paper_bgcolor="white",
        legend={"title": {"text": f"{c.spec.label} [{c.spec.unit}]"}, "x": 0.995,
                "xanchor": "right", "y": 0.97, "bgcolor": "rgba(255,255,255,0.9)",
                "bordercolor": "#d9e2ec", "borderwidth": 1},
        annotations=[*_title(heading, subtitle),
                     {"text": credit, "x": 0.005, "y": 0.0, "xref": "paper", "yref": "paper",
                      "xanchor": "left", "yanchor": "top", "yshift": -4, "showarrow": False,
                      "font": {"size": 10, "color": "#7b8794"}}])
    return fig


def export_grid_map(district: District, line_class: np.ndarray, bus_lon: np.ndarray,
                    bus_lat: np.ndarray, bus_class: np.ndarray, transformer_class: np.ndarray,
                    title: str, subtitle: str | None = None, width: int = 1240,
                    height: int = 690) -> go.Figure:
    """A power-flow map as vector graphics: footprints in grey, every district line in the
    colour of its own loading class (``line_class``: LINE_CLASSES index, -1 = no result, drawn
    thin and dashed so it never looks verified), buses in the colour of their voltage class
    (``bus_class``: VOLTAGE_CLASSES index; with buses the lines are plain grey context) and
    transformers in the colour of their loading class. Nothing is computed here: the classes
    come from the caller's study."""
    fig = go.Figure(go.Scattergeo(lon=[None], lat=[None], mode="markers", hoverinfo="skip",
                                  showlegend=False, name="anchor"))
    ids = district.buildings["building_id"].astype(str).tolist()
    polygons = _collection(geometry_strings(np.asarray(district.buildings.geometry.values)),
                           ids)
    fig.add_trace(go.Choropleth(geojson=polygons, locations=ids, z=np.zeros(len(ids)),
                                colorscale=[[0, "#eef1f4"], [1, "#eef1f4"]], showscale=False,
                                marker={"line": {"width": 0.4, "color": "#9aa5b1"}},
                                hoverinfo="skip", showlegend=False, name="Buildings"))
    geoms = np.asarray(district.lines.geometry.values)
    rows = np.flatnonzero(np.asarray(line_class) < 0)
    if len(rows):
        lon, lat = _lines_lonlat(geoms[rows])
        fig.add_trace(go.Scattergeo(lon=lon, lat=lat, mode="lines", hoverinfo="skip",
                                    line={"color": "#c3cad3", "width": 0.8, "dash": "dot"},
                                    name="no power-flow result", legendgroup="lines",
                                    legendgrouptitle={"text": "Lines (own loading)"}))
    for k, (_name, color, label) in enumerate(LINE_CLASSES):
        rows = np.flatnonzero(np.asarray(line_class) == k)
        if not len(rows):
            continue
        lon, lat = _lines_lonlat(geoms[rows])
        plain = len(bus_class) != 0      # a voltage map: lines only as context
        fig.add_trace(go.Scattergeo(lon=lon, lat=lat, mode="lines", hoverinfo="skip",
                                    line={"color": "#b0b8c1" if plain else color,
                                          "width": 1.2 if plain else 2.2},
                                    name="feeders" if plain
                                    else label.replace(", no reverse flow", ""),
                                    legendgroup="lines",
                                    legendgrouptitle={"text": "Lines (own loading)"}))
    for k, (_name, color, label) in enumerate(VOLTAGE_CLASSES):
        on = np.asarray(bus_class) == k
        if not on.any():
            continue
        fig.add_trace(go.Scattergeo(lon=np.asarray(bus_lon)[on], lat=np.asarray(bus_lat)[on],
                                    mode="markers", hoverinfo="skip",
                                    marker={"size": 7, "color": color,
                                            "line": {"width": 0.4, "color": "white"}},
                                    name=f"voltage {label}", legendgroup="buses",
                                    legendgrouptitle={"text": "Buses (voltage band)"}))
    base = MapBase.from_district(district.buildings, district.transformers)
    colors = [LINE_CLASSES[max(int(c), 0)][1] for c in np.asarray(transformer_class)]
    fig.add_trace(go.Scattergeo(lon=base.t_lon, lat=base.t_lat, mode="markers+text",
                                text=base.transformer_ids, textposition="top center",
                                textfont={"size": 10, "color": "#334e68"}, hoverinfo="skip",
                                marker={"size": transformer_sizes(base.rating_kva),
                                        "color": colors, "symbol": "square",
                                        "line": {"width": 1, "color": "white"}},
                                name="Transformer (colour: own loading)"))
    legend_frac = min(0.4, 260.0 / max(width, 1))
    fig.update_geos(projection_type="mercator", visible=False, bgcolor="white",
                    fitbounds="locations", domain={"x": [0.0, 1.0 - legend_frac], "y": [0, 1]})
    fig.update_layout(
        margin={"l": 0, "r": 0, "t": 64, "b": 30}, font={"family": FONT, "size": 12},
        paper_bgcolor="white", width=None, height=None,
        legend={"x": 0.995, "xanchor": "right", "y": 0.99, "yanchor": "top",
                "bgcolor": "rgba(255,255,255,0.92)", "bordercolor": "#d9e2ec", "borderwidth": 1,
                "font": {"size": 11}, "tracegroupgap": 6},
        annotations=[*_title(title, subtitle),
                     {"text": credit_line(district), "x": 0.005, "y": 0.0, "xref": "paper",
                      "yref": "paper", "xanchor": "left", "yanchor": "top", "yshift": -6,
                      "showarrow": False, "font": {"size": 10, "color": "#7b8794"}}])
    return fig
