"""What the Grid tab and the map show of a power-flow study, as plain values (no callbacks).

Studies are kept in the shared cache (:func:`dashboard.gridstudy.cached_study`) under the
district's and the scenario's content hashes, so every worker, background job and tab finds the
study of a scenario once it has run; a study is only ever shown for its own scenario.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from dash import Patch, html

import dashboard as dc
from dashboard.domain.district import District
from dashboard.domain.indicators import NOT_COMPUTED, hosting_text
from dashboard.domain.scenario import Scenario
from dashboard.figures.maps import (
    BROKEN,
    EMPTY_GEOJSON,
    LAYER,
    LINE_CLASSES,
    NEAR,
    REVERSE,
    TRACE,
    TRANSFORMER_HOVER,
    TRANSFORMER_HOVER_NO_HOSTING,
    TRANSFORMER_HOVER_VERIFIED,
    VOLTAGE_CLASSES,
    WITHIN,
    building_frame,
    loading_class,
    pf_buses,
    pf_line_classes,
)
from dashboard.gridstudy import AUTO_MAX_BUILDINGS, GridStudy, cached_study, store_study
from dashboard.ui.layers import LayerService


def bus_view(study: GridStudy) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """lon, lat, voltage class and hover text of the buses shown (figures.maps.pf_buses)."""
    b, classes = pf_buses(study)
    lo, hi = study.limits["voltage_min_pu"], study.limits["voltage_max_pu"]
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
        line_urls = layers.lines_by_class(district, pf_line_classes(district, study))
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
    no_hosting = verified and study is not None and bool(
        study.transformers["hosting_capacity_kwp"].isna().all())
    patch["data"][TRACE["transformers"]]["hovertemplate"] = (
        TRANSFORMER_HOVER_NO_HOSTING if no_hosting
        else TRANSFORMER_HOVER_VERIFIED if verified else TRANSFORMER_HOVER)
    if pf_on and verified and study is not None:
        # the discs in the power flow's legend colours: by the transformer's own loading
        loading = study.transformers.reindex(transformers.index)["trafo_loading_max_pct"]
        patch["data"][TRACE["transformers"]]["marker"]["color"] = [
            LINE_CLASSES[c][1] for c in loading_class(loading.fillna(0).to_numpy(float))]
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
    warn = synthesis_warning(district)
    if study is None:
        if error:
            text = ("No verified limits for this scenario: the power flow failed. Press "
                    "Run power flow to try again.")
        elif district is not None and district.n_buildings > AUTO_MAX_BUILDINGS:
            text = "The power flow has not run for this scenario: press Run power flow."
        else:
            text = ("The power flow is being recomputed for the scenario on screen; the "
                    "limits it breaks are listed when it is back.")
        return [*warn, html.P(text, className="hint stale-text")]
    v = study.violations
    if v.empty:
        return [*warn, html.P(f"No limit broken in any of the 8,760 hours (voltage "
                       f"{study.limits['voltage_min_pu']:g}–{study.limits['voltage_max_pu']:g}"
                       f" pu, loading up to {study.limits['loading_max_pct']:g} %).",
                       className="hint ok-text")]
    items: list[Any] = list(warn)
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


def synthesis_warning(district: District | None) -> list:
    """A synthesized grid that could not be kept within the planning limits says where."""
    if district is None or "note" not in district.transformers:
        return []
    t = district.transformers
    bad = t[t["note"].fillna("").astype(str) != ""]
    if bad.empty:
        return []
    where = "; ".join(f"{r.transformer_id}: {r.note}" for r in bad.head(5).itertuples())
    return [html.P(f"The synthesized grid could not be kept within the planning limits at "
                   f"{len(bad):,} substation(s) — {where}"
                   + (" …" if len(bad) > 5 else "") + ". Upload the real feeders for these "
                   "streets.", className="hint stale-text")]


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



def feeder_legend(mode: str = "estimate", limits: dict[str, float] | None = None) -> list:
    """The grid's legend: one colour per meaning, the same for lines, buses (dots) and
    transformers (discs). Estimate: by each transformer's energy balance; power flow: by
    each element's own loading and voltage."""
    def item(color: str, label: str, title: str) -> html.Span:
        return html.Span([html.I(style={"background": color}), label],
                         className="legend-item", title=title)

    if mode != "power-flow":
        return [html.Span("Grid (estimate):", className="legend-title"),
                item(WITHIN, "within rating", "transformer loading ≤ 80 %, no reverse flow"),
                item(REVERSE, "reverse flow", "net export upstream in some hours"),
                item(NEAR, "80–100 %", "transformer loading 80–100 % of its rating"),
                item(BROKEN, "above rating", "transformer loading above its rating")]
    lim = limits or {"voltage_min_pu": 0.95, "voltage_max_pu": 1.05}
    lo, hi = lim["voltage_min_pu"], lim["voltage_max_pu"]
    return [html.Span("Grid (power flow, lines · buses):", className="legend-title"),
            item(WITHIN, "within limits", f"loading ≤ 80 %, voltage {lo:g}–{hi - 0.02:g} pu"),
            item(NEAR, "near a limit", f"loading 80–100 %, or voltage {hi - 0.02:g}–{hi:g} pu"),
            item(BROKEN, "limit broken", f"loading above 100 %, or voltage outside "
                                         f"{lo:g}–{hi:g} pu")]


def transformer_panel(district: District, scenario: Scenario, tid: str) -> list:
    """The transformer panel's figures for the scenario on screen: the energy balance, and
    the power flow only if it ran for exactly this scenario (else marked out of date)."""
    result = dc.evaluate(district, scenario)
    row = result.transformers.loc[tid]
    study = cached_study(district, scenario)
    if study is not None and tid in study.transformers.index:
        p = study.transformers.loc[tid]
        loading = max(p["trafo_loading_max_pct"], p["line_loading_max_pct"])
        limit = f", limit: {p['hosting_limit']}" if p["hosting_limit"] else ""
        grid_line: list = [f"power flow: loading {loading:.0f} % · voltage "
                           f"{p['vm_min_pu']:.3f}–{p['vm_max_pu']:.3f} pu · hosting "
                           f"capacity {_kwp_text(p['hosting_capacity_kwp'])} "
                           f"(verified{limit})"]
    else:
        grid_line = [html.Span("power flow: out of date, recomputing for this scenario",
                               className="stale-text"), html.Br(),
                     f"hosting capacity {_kwp_text(row['hosting_capacity_kwp'])} (estimate)"]
    return [html.B(f"Transformer {tid}"), html.Br(),
            f"{row['rating_kva']:,.0f} kVA · {int(row['n_buildings'])} buildings · "
            f"PV {row['pv_kwp']:,.0f} kWp", html.Br(),
            f"max loading {row['loading_pct']:.0f} % · {row['hours_above_rating']:,.0f} h/a "
            f"above rating · reverse flow {row['reverse_flow_hours']:,.0f} h/a "
            "(energy balance)", html.Br(),
            *storage_lines(scenario, tid, float(row.get("pv_curtailed_kwh", 0.0))),
            *grid_line]


def storage_lines(scenario: Scenario, tid: str, curtailed_kwh: float) -> list:
    """The community battery's mode and the PV curtailed behind the transformer, when any."""
    lines: list = []
    c = scenario.community_battery_of(tid)
    if c is not None and c.mode == "peak_shaving":
        limits = " · ".join(f"{name} ≤ {v:,.0f} kW" for name, v in
                            (("import", c.import_limit_kw), ("export", c.export_limit_kw))
                            if v is not None)
        lines += [f"battery {c.capacity_kwh:,.0f} kWh / {c.power_kw:,.0f} kW shaving peaks: "
                  f"{limits}", html.Br()]
    if curtailed_kwh > 0:
        lines += [f"PV curtailed at export limits: {curtailed_kwh:,.0f} kWh/a", html.Br()]
    return lines


def _kwp_text(v: float) -> str:
    text = _kwp(v)
    return text if text == NOT_COMPUTED else f"{text} kWp"


def _kwp(v: float) -> str:
    return "∞" if v == math.inf else hosting_text(v).removesuffix(" kWp")


TRANSFORMER_COLUMNS = [
    ("transformer_id", "Trafo", "text"),
    ("pv_kwp", "PV kWp", "numeric"),
    ("loading_pct", "Max load %", "numeric"),
    ("reverse_flow_hours", "Rev. flow h/a", "numeric"),
    ("voltage_pu", "Voltage pu", "text"),
    ("hours_outside", "Off-limit h/a", "numeric"),
    ("hosting_capacity_kwp", "Hosting kWp", "numeric"),
]
"""The columns shown (id, header, type); each row also carries ``basis`` ("power flow" or
"estimate"), shown as the row's style and in the status line rather than as a column, so the
table fits the side panel at 1280 px."""

TRANSFORMER_HEADER_TIPS = {
    "transformer_id": "Transformer (secondary substation)",
    "pv_kwp": "Rooftop PV installed on the transformer's buildings [kWp]",
    "loading_pct": "Highest hourly loading over the year of the transformer or any of its "
                   "lines [% of rating]",
    "reverse_flow_hours": "Hours a year in which power flows back into the medium-voltage grid",
    "voltage_pu": "Lowest and highest bus voltage over the year [per unit]",
    "hours_outside": "Hours a year in which a voltage or loading limit is broken",
    "hosting_capacity_kwp": "PV the transformer can still host before a limit breaks [kWp]; "
                            "italic rows are estimates from the energy balance",
}


def transformer_rows(frame: pd.DataFrame, study: Any = None) -> list[dict]:
    """Table rows: the energy balance of ``frame`` (Result.transformers), with loading,
    voltages and hosting capacity from the power flow ``study`` (a GridStudy of the same
    scenario) where there is one. ``basis`` says which: "power flow" (verified) or
    "estimate" (energy balance: max |net| / (power factor x rating), reverse-flow headroom)."""
    t = frame.copy()
    pf = study.transformers if study is not None else None
    out = []
    for tid, rec in zip(t.index, t.to_dict("records"), strict=True):
        row: dict[str, Any] = {}
        row["transformer_id"] = str(tid)
        row["rating_kva"] = _num(rec.get("rating_kva"), 0)
        row["pv_kwp"] = _num(rec.get("pv_kwp"), 0)
        row["reverse_flow_hours"] = _num(rec.get("reverse_flow_hours"), 0)
        row["pooled_survival_mean_h"] = _num(rec.get("pooled_survival_mean_h"), 1)
        if pf is not None and tid in pf.index:
            p = pf.loc[tid]
            loading = max(float(p["trafo_loading_max_pct"]), float(p["line_loading_max_pct"]))
            row["loading_pct"] = _num(loading, 1)
            row["voltage_pu"] = f"{p['vm_min_pu']:.3f}–{p['vm_max_pu']:.3f}" \
                if math.isfinite(float(p["vm_max_pu"])) else "—"
            row["hours_outside"] = int(max(p["overvoltage_hours"], p["undervoltage_hours"],
                                           p["overload_hours"]))
            row["hosting_capacity_kwp"] = _num(p["hosting_capacity_kwp"], 0)
            row["basis"] = "power flow" if math.isfinite(float(p["hosting_capacity_kwp"])) \
                else "power flow (no hosting)"
        else:
            row["loading_pct"] = _num(rec.get("loading_pct"), 1)
            row["voltage_pu"] = "…"
            row["hours_outside"] = _num(rec.get("hours_above_rating"), 0)
            row["hosting_capacity_kwp"] = _num(rec.get("hosting_capacity_kwp"), 0)
            row["basis"] = "estimate"
        out.append(row)
    return out


def _num(v: Any, digits: int) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(x):
        return None
    return round(x, digits) if digits else round(x)


__all__ = ["AUTO_MAX_BUILDINGS", "TRANSFORMER_COLUMNS", "TRANSFORMER_HEADER_TIPS",
           "building_frame", "cached_study", "feeder_legend", "grid_patch", "status_text",
           "store_study", "transformer_panel", "transformer_rows", "violation_items"]
