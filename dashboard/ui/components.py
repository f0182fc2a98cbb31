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
    ("rating_kva", "Rating kVA", "numeric"),
    ("n_buildings", "Buildings", "numeric"),
    ("pv_kwp", "PV kWp", "numeric"),
    ("loading_pct", "Max loading %", "numeric"),
    ("reverse_flow_hours", "Reverse flow h/a", "numeric"),
    ("hours_above_rating", "Hours > rating", "numeric"),
    ("hosting_capacity_kwp", "Hosting capacity kWp (est.)", "numeric"),
    ("self_sufficiency", "Self-sufficiency %", "numeric"),
    ("pooled_survival_mean_h", "Microgrid survival h", "numeric"),
    ("pooled_p_survive_24h", "P(24 h) %", "numeric"),
    ("community_battery_kwh", "Community kWh", "numeric"),
]


def transformer_rows(frame: pd.DataFrame) -> list[dict]:
    t = frame.copy()
    for col in ("self_sufficiency", "pooled_p_survive_24h"):
        if col in t:
            t[col] = 100 * t[col]
    out = []
    for rec in t.to_dict("records"):
        row = {}
        for key, _, _ in TRANSFORMER_COLUMNS:
            v = rec.get(key)
            if isinstance(v, float):
                v = None if math.isnan(v) else (round(v, 1) if math.isfinite(v) else None)
            row[key] = v
        out.append(row)
    return out
