"""What the map and the Grid tab show of a power-flow study (no callbacks here).

Studies are kept in the shared cache (:func:`dashboard.gridstudy.cached_study`) under the
district's and the scenario's content hashes, so every worker, background job and tab finds the
study of a scenario once it has run.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from dash import Patch, html

from dashboard.domain.district import District
from dashboard.domain.scenario import Scenario
from dashboard.figures.maps import (
    EMPTY_GEOJSON,
    LAYER,
    LINE_CLASSES,
    TRACE,
    TRANSFORMER_HOVER,
    TRANSFORMER_HOVER_VERIFIED,
    VOLTAGE_CLASSES,
    loading_class,
    voltage_class,
)
from dashboard.gridstudy import AUTO_MAX_BUILDINGS, GridStudy, cached_study, store_study
from dashboard.ui.layers import LayerService


def line_classes(district: District, study: GridStudy) -> np.ndarray:
    """Class (LINE_CLASSES index) of every district line by its own power-flow loading; -1
    (not drawn) for lines without a result (not fed, or merged away as zero length): they
    must not look verified."""
    loading = study.lines["loading_max_pct"].reindex(
        district.lines["line_id"].astype(str)).to_numpy(float)
    return np.where(np.isfinite(loading), loading_class(np.nan_to_num(loading)), -1)


def bus_view(study: GridStudy) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """lon, lat, voltage class and hover text of the buses shown (LV buses where the grid
    has any: the MV side of a substation is the ideal source)."""
    b = study.buses
    if (b["vn_kv"] < 1.0).any():
        b = b[b["vn_kv"] < 1.0]
    b = b[np.isfinite(b["lon"]) & np.isfinite(b["lat"])]
    lo, hi = study.limits["voltage_min_pu"], study.limits["voltage_max_pu"]
    classes = voltage_class(b["vm_max_pu"].to_numpy(float), b["vm_min_pu"].to_numpy(float),
                            lo, hi)
    tips = [f"{r.vm_min_pu:.3f}–{r.vm_max_pu:.3f} pu · {int(r.overvoltage_hours):,} h > "
            f"{hi:g} · {int(r.undervoltage_hours):,} h < {lo:g}"
            for r in b.itertuples()]
    return b["lon"].to_numpy(float), b["lat"].to_numpy(float), classes, tips


def grid_patch(patch: Patch, layers: LayerService, district: District,
               study: GridStudy | None, mode: str, show: set[str],
               transformers: pd.DataFrame) -> Patch:
    """Feeder and bus layers (power flow or estimate) and the transformer hover, into
    ``patch`` (the estimate's line layers are set by the caller's own view)."""
    map_layers = patch["layout"]["map"]["layers"]
    pf_on = mode == "power-flow" and study is not None
    if pf_on:
        assert study is not None
        line_urls = layers.lines_by_class(district, line_classes(district, study))
        for i, url in enumerate(line_urls):
            map_layers[LAYER.LINE0 + i]["source"] = url or EMPTY_GEOJSON
            map_layers[LAYER.LINE0 + i]["visible"] = "feeders" in show
        lon, lat, classes, tips = bus_view(study)
        bus_urls = layers.buses(district, lon, lat, classes, tips, len(VOLTAGE_CLASSES))
    else:
        bus_urls = (None,) * len(VOLTAGE_CLASSES)
    for i, url in enumerate(bus_urls):
        map_layers[LAYER.BUS0 + i]["source"] = url or EMPTY_GEOJSON
        map_layers[LAYER.BUS0 + i]["visible"] = bool(pf_on and "feeders" in show)
    custom, verified = transformer_custom_pf(transformers, study)
    patch["data"][TRACE["transformers"]]["customdata"] = custom.tolist()
    patch["data"][TRACE["transformers"]]["hovertemplate"] = (
        TRANSFORMER_HOVER_VERIFIED if verified else TRANSFORMER_HOVER)
    return patch


def transformer_custom_pf(transformers: pd.DataFrame, study: GridStudy | None
                          ) -> tuple[np.ndarray, bool]:
    """Hover data of the transformer markers: rating, loading, reverse flow, hosting
    capacity, community battery, voltage max / min — from the power flow where it ran."""
    t = transformers
    data = np.column_stack([t["rating_kva"], t["loading_pct"], t["reverse_flow_hours"],
                            t["hosting_capacity_kwp"], t["community_battery_kwh"],
                            np.full(len(t), np.nan), np.full(len(t), np.nan)]).astype(float)
    verified = study is not None and set(t.index) <= set(study.transformers.index)
    if verified:
        assert study is not None
        p = study.transformers.reindex(t.index)
        data[:, 1] = np.maximum(p["trafo_loading_max_pct"], p["line_loading_max_pct"])
        data[:, 3] = p["hosting_capacity_kwp"]
        data[:, 5] = p["vm_max_pu"]
        data[:, 6] = p["vm_min_pu"]
    return np.round(np.where(np.isfinite(data), data, -1), 3), verified


KIND_LABEL = {"overvoltage": "Overvoltage", "undervoltage": "Undervoltage",
              "line overload": "Line above rating",
              "transformer overload": "Transformer above rating"}


def violation_items(study: GridStudy | None, district: District | None = None,
                    error: str | None = None, limit: int = 60) -> list:
    """The violation list of the scenario on screen: each a button that zooms the map to the
    place. Without this scenario's study, no list (an earlier scenario's would be wrong)."""
    if study is None:
        if error:
            text = ("No verified limits for this scenario: the power flow failed. Press "
                    "Run power flow to try again.")
        elif district is not None and district.n_buildings > AUTO_MAX_BUILDINGS:
            text = "The power flow has not run for this scenario: press Run power flow."
        else:
            text = ("The power flow is being recomputed for the scenario on screen; the "
                    "limits it breaks are listed when it is back.")
        return [html.P(text, className="hint stale-text")]
    v = study.violations
    if v.empty:
        return [html.P(f"No limit broken in any of the 8,760 hours (voltage "
                       f"{study.limits['voltage_min_pu']:g}–{study.limits['voltage_max_pu']:g}"
                       f" pu, loading up to {study.limits['loading_max_pct']:g} %).",
                       className="hint ok-text")]
    items: list[Any] = []
    for i, r in enumerate(v.head(limit).itertuples()):
        worst = f"{r.worst:.3f} pu" if r.unit == "pu" else f"{r.worst:,.0f} %"
        items.append(html.Button([
            html.Span(KIND_LABEL.get(r.kind, r.kind), className=f"v-kind {r.kind.split()[0]}"),
            html.Span(f"{r.element} · {r.transformer_id or ''}", className="v-el"),
            html.Span(f"{worst} · {int(r.hours):,} h", className="v-val")],
            id={"type": "violation", "index": i}, n_clicks=0, className="violation",
            title="zoom the map to it"))
    if len(v) > limit:
        items.append(html.P(f"… and {len(v) - limit:,} more (in the export).",
                            className="hint"))
    return items


def status_text(study: GridStudy | None, district: District, scenario: Scenario,
                error: str | None = None) -> str:
    """The Grid tab's status line for the scenario on screen: "verified" only with that
    scenario's own study."""
    if study is None:
        if error:
            return (f"failed: {error} — press Run power flow to try again (figures below "
                    "are estimates)")
        if district.n_buildings > AUTO_MAX_BUILDINGS:
            return (f"not run: {district.n_buildings:,} buildings — press Run power flow "
                    "(figures below are estimates)")
        return ("out of date: recomputing for this scenario … (figures below are "
                "estimates until then)")
    t = study.timings_ms.get("total_ms", math.nan)
    parts = [f"verified · 8,760 h · {len(study.transformers)} transformers"]
    if study.fallback_hours:
        parts.append(f"{study.fallback_hours} h by pandapower runpp")
    if study.nonconverged_hours:
        parts.append(f"{study.nonconverged_hours} h did not converge (left out)")
    if math.isfinite(t):
        parts.append(f"{t / 1000:.1f} s")
    return " · ".join(parts)


__all__ = ["AUTO_MAX_BUILDINGS", "LINE_CLASSES", "cached_study", "grid_patch", "status_text",
           "store_study", "violation_items"]
