"""How numbers look on screen: the KPI strip, headline figures, and a word wherever a number
would surprise (the formats themselves are :func:`dashboard.domain.indicators.format_value`,
shared with the CLI and the report)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from dash import html

from dashboard.domain.indicators import (
    INDICATORS_BY_KEY,
    PAYBACK_SHOWN_MAX_A,
    compact_value,
    delta,
    format_value,
)

KPI_KEYS = ("self_sufficiency", "self_consumption", "peak_import_kw", "peak_export_kw",
            "reverse_flow_hours_max", "survival_mean_h", "p_survive_24h", "capex_eur",
            "payback_years", "co2_avoided_t")
# what a council asks first: presentation mode and the report's headline
HEADLINE_KEYS = ("self_sufficiency", "pv_kwp", "battery_kwh", "capex_eur", "payback_years",
                 "co2_avoided_t", "survival_mean_h", "peak_export_kw")
SHORT_LABELS = {"self_sufficiency": "Self-sufficiency", "self_consumption": "Self-consumption",
                "peak_import_kw": "Peak import", "peak_export_kw": "Peak export",
                "reverse_flow_hours_max": "Reverse flow", "survival_mean_h": "Outage survival",
                "p_survive_24h": "Survive 24 h", "capex_eur": "Investment",
                "payback_years": "Payback", "co2_avoided_t": "CO₂ avoided",
                "pv_kwp": "PV installed", "battery_kwh": "Batteries"}
TINY_LABELS = {"self_sufficiency": "Self-suff.", "self_consumption": "Self-cons.",
               "survival_mean_h": "Outage surv."}
"""Labels for the strip on screens up to 1300 px wide (CSS picks one; the tooltip has the
full name)."""


def value_text(key: str, value: Any) -> str:
    return format_value(key, value if isinstance(value, int | float) else None)


def change_text(key: str, value: float, base: float) -> tuple[str, str]:
    """The change against the district without DER (the strip says so once), and its CSS
    class."""
    if not isinstance(value, float | int) or math.isnan(value):
        return "", "delta"
    if not isinstance(base, float | int) or math.isnan(base):
        return "", "delta"     # e.g. self-consumption or payback without PV: nothing to compare
    text, kind = delta(key, value, base)
    return text, {"good": "delta good", "bad": "delta bad"}.get(kind, "delta")


def explanation(key: str, summary: Mapping[str, float], base: Mapping[str, float]) -> str:
    """Why a number that looks wrong is right, or '' when it needs no word."""
    v = summary.get(key, math.nan)
    b = base.get(key, math.nan)
    storage = summary.get("battery_kwh", 0.0) or 0.0
    pv = summary.get("pv_kwp", 0.0) or 0.0
    if key == "self_sufficiency" and storage > 0 and v < b - 1e-9:
        return ("Batteries lose part of what they store (round-trip losses): with little PV "
                "surplus to store, they add losses and lower self-sufficiency slightly.")
    if key == "payback_years" and summary.get("capex_eur", 0.0) > 0 and (
            not math.isfinite(v) or v > PAYBACK_SHOWN_MAX_A):
        if pv <= 0:
            return ("Storage alone saves little energy: its investment is not paid back "
                    f"within {PAYBACK_SHOWN_MAX_A:.0f} years.")
        return f"The savings do not pay the investment back within {PAYBACK_SHOWN_MAX_A:.0f} a."
    if key == "co2_avoided_t" and v < 0:
        return "Negative: battery losses add more grid electricity than PV avoids."
    if key == "self_consumption" and pv <= 0:
        return "No PV placed: nothing to consume."
    return ""


def kpi_strip(summary: Mapping[str, float], baseline: Mapping[str, float],
              keys: tuple[str, ...] = KPI_KEYS, prefix: str = "kpi") -> list[html.Div]:
    """Compact KPI tiles: short label, value (id ``kpi-<key>``), change against no DER; the
    formula is the tooltip, and a number that would surprise carries its explanation."""
    tiles = []
    for key in keys:
        ind = INDICATORS_BY_KEY[key]
        value = summary.get(key, math.nan)
        text, css = change_text(key, value, baseline.get(key, math.nan))
        why = explanation(key, summary, baseline)
        tip: dict[str, Any] = {"data-tip": f"{ind.label}: {format_value(key, value)}\n"
                                           f"= {ind.formula}"
                                           + (f" — change against the district without DER: "
                                              f"{text}" if text else "")
                                           + (f"\n\n{why}" if why else "")}
        tiles.append(html.Div([
            html.Div([html.Span(SHORT_LABELS.get(key, ind.label), className="long"),
                      html.Span(TINY_LABELS.get(key, SHORT_LABELS.get(key, ind.label)),
                                className="tiny"),
                      html.Span(" ⓘ", className="why", title=why) if why else None],
                     className="kpi-label"),
            html.Div(compact_value(key, value), className="kpi-value", id=f"{prefix}-{key}"),
            html.Div(text, className=css),
        ], className="kpi" + (" explained" if why else ""), **tip))
    return tiles


def headline(summary: Mapping[str, float], baseline: Mapping[str, float]) -> list[html.Div]:
    """The figures a council sees (presentation mode)."""
    return kpi_strip(summary, baseline, HEADLINE_KEYS, prefix="present")


__all__ = ["HEADLINE_KEYS", "KPI_KEYS", "change_text", "explanation", "headline",
           "kpi_strip", "value_text"]
