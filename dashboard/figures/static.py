"""Self-contained map figures for exports (images, standalone HTML, the report).

Unlike the app's map, nothing here points at the app's server: every GeoJSON is inline.
``export_map`` uses MapLibre (``white-bg`` style, no network) for images and the report.
``export_geo_map`` draws the same map on plotly's SVG "geo" subplot, for the standalone HTML:
MapLibre needs a web worker, which browsers refuse to start for a page opened from disk
(file://), while SVG draws anywhere. Classes and colours are those of the app.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.domain.district import District
from dashboard.domain.result import Result
from dashboard.figures.maps import (
    COLOR_SPECS,
    LINE_CLASSES,
    N_CLASSES,
    NA_COLOR,
    TRANSFORMER_HOVER,
    MapBase,
    building_frame,
    class_breaks,
    classify,
    geometry_strings,
    legend_items,
    line_class,
    tip_table,
    transformer_colors,
    transformer_custom,
    transformer_sizes,
)

FONT = "Inter, system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"


def _collection(geometries: Sequence[str], ids: Sequence[str] | None = None) -> dict:
    feats = []
    for i, g in enumerate(geometries):
        feat: dict = {"type": "Feature", "properties": {}, "geometry": json.loads(g)}
        if ids is not None:
            feat["id"] = ids[i]
        feats.append(feat)
    return {"type": "FeatureCollection", "features": feats}


def export_map(district: District, result: Result, color_key: str = "self_sufficiency",
               title: str | None = None, subtitle: str | None = None,
               breaks: Sequence[float] | None = None, show_legend: bool = True) -> go.Figure:
    """A map of ``result`` on ``district`` with buildings coloured by ``color_key`` (classes
    as in the app, or ``breaks`` shared between several maps), feeders, transformers, PV and
    batteries, a legend and a title."""
    spec = COLOR_SPECS.get(color_key) or COLOR_SPECS["self_sufficiency"]
    frame = building_frame(district, result)
    values = frame[spec.key].to_numpy(float) * spec.factor
    if breaks is None:
        reference = (district.buildings["pv_potential_kwp"].to_numpy(float)
                     if spec.key in ("pv_kwp", "pv_potential_kwp") else values)
        breaks = class_breaks(spec, reference)
    classes = classify(values, breaks)
    colors = [*spec.colors(), NA_COLOR]
    n = N_CLASSES + 1
    scale: list[list] = []
    for i, c in enumerate(colors):       # a step colourscale: class i -> colour i
        scale += [[i / n, c], [(i + 1) / n, c]]
    ids = district.buildings["building_id"].astype(str).tolist()
    polygons = _collection(geometry_strings(np.asarray(district.buildings.geometry.values)),
                           ids)
    tips = tip_table(frame, values)
    base = MapBase.from_district(district.buildings, district.transformers)
    t = result.transformers

    owner = pd.Index(district.transformers["transformer_id"].astype(str)).get_indexer(
        district.lines["transformer_id"].astype(str))
    t_class = line_class(t["loading_pct"].to_numpy(float), t["reverse_flow_hours"].to_numpy(float))
    line_geoms = geometry_strings(np.asarray(district.lines.geometry.values))
    layers = []
    for k, (name, color, _) in enumerate(LINE_CLASSES):
        rows = np.flatnonzero(t_class[owner] == k)
        if len(rows):
            layers.append({"sourcetype": "geojson", "type": "line", "color": color,
                           "line": {"width": 1.2 if name == "normal" else 2.2},
                           "source": _collection([line_geoms[i] for i in rows]),
                           "below": "traces"})

    fig = go.Figure()
    fig.add_trace(go.Choroplethmap(
        geojson=polygons, locations=ids, z=classes, zmin=-0.5, zmax=n - 0.5,
        colorscale=scale, marker={"line": {"width": 0.5, "color": "#52606d"}, "opacity": 0.92},
        customdata=tips, showscale=False, name="Buildings",
        hovertemplate=("<b>%{location}</b><br>" + spec.label + ": %{customdata[0]:,.1f} "
                       + spec.unit + "<br>Demand %{customdata[1]:,.1f} MWh/a<br>PV "
                       "%{customdata[2]:,.1f} kWp · battery %{customdata[3]:,.1f} kWh<br>"
                       "Self-sufficiency %{customdata[4]:.1f} %<br>Outage survival "
                       "%{customdata[5]:.1f} h<extra></extra>")))
    pv = frame["pv_kwp"].to_numpy(float) > 0
    bat = frame["battery_kwh"].to_numpy(float) > 0
    fig.add_trace(go.Scattermap(lon=base.b_lon[pv], lat=base.b_lat[pv], mode="markers",
                                marker={"size": 6, "color": "#f7b32b"}, name="Rooftop PV",
                                hoverinfo="skip"))
    fig.add_trace(go.Scattermap(lon=base.b_lon[bat] + 0.00004, lat=base.b_lat[bat],
                                mode="markers", marker={"size": 6, "color": "#2bb673"},
                                name="Battery", hoverinfo="skip"))
    fig.add_trace(go.Scattermap(
        lon=base.t_lon, lat=base.t_lat, mode="markers", text=base.transformer_ids,
        customdata=transformer_custom(t), hovertemplate=TRANSFORMER_HOVER,
        marker={"size": transformer_sizes(base.rating_kva), "color": transformer_colors(t)},
        name="Transformer"))
    if show_legend:
        present = set(t_class.tolist())
        for k, (_, color, label) in enumerate(LINE_CLASSES):
            if k in present:
                fig.add_trace(go.Scattermap(lon=[None], lat=[None], mode="lines",
                                            line={"color": color, "width": 3},
                                            name=f"Feeder: {label}", showlegend=True))
        for color, label in legend_items(spec, breaks):
            fig.add_trace(go.Scattermap(lon=[None], lat=[None], mode="markers",
                                        marker={"size": 12, "color": color, "symbol": "circle"},
                                        name=f"{label} {spec.unit}",
                                        legendgroup="classes", showlegend=True))
    for trace in fig.data[1:4]:
        trace.showlegend = show_legend
    heading = title or result.scenario.name
    fig.update_layout(
        map={"style": "white-bg", "center": base.center, "zoom": base.zoom, "layers": layers},
        margin={"l": 0, "r": 0, "t": 56 if heading else 0, "b": 22},
        font={"family": FONT, "size": 12}, paper_bgcolor="white",
        title={"text": f"<b>{heading}</b>" + (f"<br><span style='font-size:12px;color:#616e7c'>"
                                              f"{subtitle}</span>" if subtitle else ""),
               "x": 0.01, "xanchor": "left", "y": 0.985, "font": {"size": 18}},
        legend={"title": {"text": f"{spec.label} [{spec.unit}]"}, "x": 0.995, "xanchor": "right",
                "y": 0.97, "bgcolor": "rgba(255,255,255,0.9)", "bordercolor": "#d9e2ec",
                "borderwidth": 1},
        annotations=[{"text": "Buildings © OpenStreetMap contributors (ODbL) · feeders "
                              "synthesized · Decentra", "x": 0.0, "y": 0.0, "xref": "paper",
                      "yref": "paper", "xanchor": "left", "yanchor": "top", "yshift": -4,
                      "showarrow": False, "font": {"size": 10, "color": "#7b8794"}}])
    return fig


def _lines_lonlat(geoms: Sequence | np.ndarray) -> tuple[list, list]:
    """Line coordinates joined with None separators (one trace draws many lines)."""
    lon: list = []
    lat: list = []
    for g in geoms:
        for part in getattr(g, "geoms", [g]):
            xs, ys = part.xy
            lon += [*xs, None]
            lat += [*ys, None]
    return lon, lat


def export_geo_map(district: District, result: Result, color_key: str = "self_sufficiency",
                   title: str | None = None, subtitle: str | None = None) -> go.Figure:
    """The export map on an SVG geo subplot (works from file://, no WebGL, no network)."""
    spec = COLOR_SPECS.get(color_key) or COLOR_SPECS["self_sufficiency"]
    frame = building_frame(district, result)
    values = frame[spec.key].to_numpy(float) * spec.factor
    reference = (district.buildings["pv_potential_kwp"].to_numpy(float)
                 if spec.key in ("pv_kwp", "pv_potential_kwp") else values)
    breaks = class_breaks(spec, reference)
    classes = classify(values, breaks)
    colors = [*spec.colors(), NA_COLOR]
    n = N_CLASSES + 1
    scale: list[list] = []
    for i, c in enumerate(colors):
        scale += [[i / n, c], [(i + 1) / n, c]]
    ids = district.buildings["building_id"].astype(str).tolist()
    polygons = _collection(geometry_strings(np.asarray(district.buildings.geometry.values)),
                           ids)
    tips = tip_table(frame, values)
    base = MapBase.from_district(district.buildings, district.transformers)
    t = result.transformers
    owner = pd.Index(district.transformers["transformer_id"].astype(str)).get_indexer(
        district.lines["transformer_id"].astype(str))
    t_class = line_class(t["loading_pct"].to_numpy(float), t["reverse_flow_hours"].to_numpy(float))
    fig = go.Figure()
    line_geoms = np.asarray(district.lines.geometry.values)
    main = district.lines["kind"].to_numpy() == "main"   # SVG draws lines over buildings
    for k, (name, color, label) in enumerate(LINE_CLASSES):
        rows = np.flatnonzero((t_class[owner] == k) & main)
        if len(rows):
            lon, lat = _lines_lonlat(line_geoms[rows])
            fig.add_trace(go.Scattergeo(lon=lon, lat=lat, mode="lines", hoverinfo="skip",
                                        line={"color": color,
                                              "width": 1.0 if name == "normal" else 2.0},
                                        name=f"Feeder: {label}"))
    fig.add_trace(go.Choropleth(
        geojson=polygons, locations=ids, z=classes, zmin=-0.5, zmax=n - 0.5, colorscale=scale,
        marker={"line": {"width": 0.4, "color": "#52606d"}}, customdata=tips, showscale=False,
        name="Buildings", showlegend=False,
        hovertemplate=("<b>%{location}</b><br>" + spec.label + ": %{customdata[0]:,.1f} "
                       + spec.unit + "<br>Demand %{customdata[1]:,.1f} MWh/a<br>PV "
                       "%{customdata[2]:,.1f} kWp · battery %{customdata[3]:,.1f} kWh<br>"
                       "Self-sufficiency %{customdata[4]:.1f} %<br>Outage survival "
                       "%{customdata[5]:.1f} h<extra></extra>")))
    pv = frame["pv_kwp"].to_numpy(float) > 0
    bat = frame["battery_kwh"].to_numpy(float) > 0
    fig.add_trace(go.Scattergeo(lon=base.b_lon[pv], lat=base.b_lat[pv], mode="markers",
                                marker={"size": 5, "color": "#f7b32b"}, name="Rooftop PV",
                                hoverinfo="skip"))
    fig.add_trace(go.Scattergeo(lon=base.b_lon[bat] + 0.00004, lat=base.b_lat[bat],
                                mode="markers", marker={"size": 5, "color": "#2bb673"},
                                name="Battery", hoverinfo="skip"))
    fig.add_trace(go.Scattergeo(
        lon=base.t_lon, lat=base.t_lat, mode="markers", text=base.transformer_ids,
        customdata=transformer_custom(t), hovertemplate=TRANSFORMER_HOVER,
        marker={"size": transformer_sizes(base.rating_kva), "color": transformer_colors(t)},
        name="Transformer"))
    for color, label in legend_items(spec, breaks):
        fig.add_trace(go.Scattergeo(lon=[None], lat=[None], mode="markers",
                                    marker={"size": 11, "color": color},
                                    name=f"{label} {spec.unit}"))
    heading = title or result.scenario.name
    # plotly's fitbounds crops custom GeoJSON here; frame the district explicitly. At scale 1
    # the world's 360 deg span the smaller side of the plot area (nominal 1200 x 780 px).
    minx, miny, maxx, maxy = district.buildings.total_bounds
    lat_mid = np.radians((miny + maxy) / 2)
    plot_w, plot_h = 1200.0, 780.0
    span_x = max(maxx - minx, 1e-5)
    span_y = max((maxy - miny) / max(np.cos(lat_mid), 0.1), 1e-5)
    px_per_deg = 0.88 * min(plot_w / span_x, plot_h / span_y)
    fig.update_geos(projection_type="mercator", visible=False, bgcolor="white",
                    center={"lon": (minx + maxx) / 2, "lat": (miny + maxy) / 2},
                    projection_scale=float(px_per_deg * 360.0 / min(plot_w, plot_h)))
    fig.update_layout(
        margin={"l": 0, "r": 0, "t": 56, "b": 22}, font={"family": FONT, "size": 12},
        paper_bgcolor="white", dragmode="pan",
        title={"text": f"<b>{heading}</b>" + (f"<br><span style='font-size:12px;color:#616e7c'>"
                                              f"{subtitle}</span>" if subtitle else ""),
               "x": 0.01, "xanchor": "left", "y": 0.985, "font": {"size": 18}},
        legend={"title": {"text": f"{spec.label} [{spec.unit}]"}, "x": 0.995, "xanchor": "right",
                "y": 0.97, "bgcolor": "rgba(255,255,255,0.9)", "bordercolor": "#d9e2ec",
                "borderwidth": 1},
        annotations=[{"text": "Buildings © OpenStreetMap contributors (ODbL) · feeders "
                              "synthesized · Decentra", "x": 0.0, "y": 0.0, "xref": "paper",
                      "yref": "paper", "xanchor": "left", "yanchor": "top", "yshift": -4,
                      "showarrow": False, "font": {"size": 10, "color": "#7b8794"}}])
    return fig
