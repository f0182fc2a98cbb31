"""Small presentational pieces: KPI cards and table rows from Result summaries."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd
from dash import html

from dashboard.domain.indicators import INDICATORS_BY_KEY, delta, format_value

KPI_KEYS = ("self_sufficiency", "self_consumption", "peak_import_kw", "peak_export_kw",
            "reverse_flow_hours_max", "survival_mean_h", "p_survive_24h", "capex_eur",
            "payback_years", "co2_avoided_t")


def _delta(key: str, value: float, base: float) -> tuple[str, str]:
    """Text and CSS class of the change against the baseline."""
    if not isinstance(value, float | int) or math.isnan(value):
        return "", "delta"
    if not isinstance(base, float | int) or math.isnan(base):
        return "no DER: —", "delta"     # e.g. self-consumption or payback without PV
    text, kind = delta(key, value, base)
    css = {"good": "delta good", "bad": "delta bad"}.get(kind, "delta")
    return f"{text} vs no DER", css


def kpi_cards(summary: Mapping[str, float], baseline: Mapping[str, float]) -> list[html.Div]:
    cards = []
    for key in KPI_KEYS:
        ind = INDICATORS_BY_KEY[key]
        value = summary.get(key, math.nan)
        text, css = _delta(key, value, baseline.get(key, math.nan))
        tip: dict[str, Any] = {"data-tip": f"{ind.label} = {ind.formula}"}
        cards.append(html.Div([
            html.Div(ind.label, className="kpi-label"),
            html.Div(format_value(key, value), className="kpi-value", id=f"kpi-{key}"),
            html.Div(text, className=css),
        ], className="kpi", **tip))
    return cards


TRANSFORMER_COLUMNS = [
    ("transformer_id", "Transformer", "text"),
    ("pv_kwp", "PV kWp", "numeric"),
    ("loading_pct", "Max loading %", "numeric"),
    ("reverse_flow_hours", "Reverse flow h/a", "numeric"),
    ("voltage_pu", "Voltage pu", "text"),
    ("hours_outside", "Hours outside limits", "numeric"),
    ("hosting_capacity_kwp", "Hosting kWp", "numeric"),
    ("basis", "Basis", "text"),
]


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
