"""Indicator definitions: one table for the engine, the UI, the CLI and the report.

Names, units and formulas follow DESIGN.md section 3. Per building b and hour t: demand D, PV G,
grid import I and export E (after batteries). "Hourly matched" means imports and exports are
netted hour by hour at the given level, never over the year.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    unit: str          # "1" for fractions (shown as %), else a physical unit
    formula: str
    higher_is_better: bool | None = None


SUMMARY_INDICATORS: tuple[Indicator, ...] = (
    Indicator("self_sufficiency", "Self-sufficiency", "1",
              "(ΣD − ΣI) / ΣD, I = district import, hourly matched across the district", True),
    Indicator("self_consumption", "Self-consumption", "1",
              "(ΣG − ΣE) / ΣG, E = district export, hourly matched across the district", True),
    Indicator("self_sufficiency_transformer", "Self-sufficiency (transformer areas)", "1",
              "(ΣD − Σ_k I_k) / ΣD, energy shared hour by hour behind each transformer", True),
    Indicator("self_consumption_transformer", "Self-consumption (transformer areas)", "1",
              "(ΣG − Σ_k E_k) / ΣG, energy shared hour by hour behind each transformer", True),
    Indicator("self_sufficiency_building", "Self-sufficiency (behind the meter)", "1",
              "(ΣD − Σ_b I_b) / ΣD, each building on its own", True),
    Indicator("self_consumption_building", "Self-consumption (behind the meter)", "1",
              "(ΣG − Σ_b E_b) / ΣG, each building on its own", True),
    Indicator("demand_kwh", "Demand", "kWh/a", "Σ_t Σ_b D"),
    Indicator("pv_generation_kwh", "PV generation", "kWh/a",
              "Σ_t Σ_b G (AC, delivered: after curtailment at a PV export limit)"),
    Indicator("pv_curtailed_kwh", "PV curtailed", "kWh/a",
              "Σ_t Σ_b max(−(D − G + charge − discharge) − limit_b × kWp_b, 0): PV above "
              "the export limit at each meter, after the building's own battery", False),
    Indicator("pv_kwp", "PV installed", "kWp", "Σ placed kWp"),
    Indicator("battery_kwh", "Battery capacity", "kWh",
              "Σ building and community battery capacity (nominal)"),
    Indicator("grid_import_kwh", "Grid import", "kWh/a",
              "Σ_t max(Σ_k net_k, 0), import into the district", False),
    Indicator("grid_export_kwh", "Grid export", "kWh/a",
              "Σ_t max(−Σ_k net_k, 0), export out of the district", None),
    Indicator("peak_import_kw", "Peak import", "kW", "max_t Σ_k net_k", False),
    Indicator("peak_export_kw", "Peak export", "kW", "max_t −Σ_k net_k", False),
    Indicator("reverse_flow_hours_max", "Reverse-flow hours (worst transformer)", "h/a",
              "max_k #{t : net_k(t) < 0}", False),
    Indicator("transformers_with_reverse_flow", "Transformers with reverse flow", "count",
              "#{k : some hour with net_k(t) < 0}", False),
    Indicator("max_transformer_loading_pct", "Max transformer loading", "%",
              "max_k max_t |net_k(t)| / (power factor × rating_k) × 100", False),
    Indicator("transformers_overloaded", "Transformers above rating", "count",
              "#{k : some hour with |net_k(t)| / power factor > rating_k}", False),
    Indicator("survival_mean_h", "Outage survival (mean)", "h",
              "mean over buildings of the mean survival of outages starting at every hour "
              "(critical load served by own PV + battery, up to the horizon)", True),
    Indicator("survival_min_h", "Outage survival (worst)", "h",
              "min over buildings and start hours of survival", True),
    Indicator("p_survive_8h", "P(survive 8 h)", "1",
              "mean over buildings of the share of start hours surviving ≥ 8 h", True),
    Indicator("p_survive_24h", "P(survive 24 h)", "1",
              "mean over buildings of the share of start hours surviving ≥ 24 h", True),
    Indicator("p_survive_72h", "P(survive 72 h)", "1",
              "mean over buildings of the share of start hours surviving ≥ 72 h", True),
    Indicator("survival_pooled_mean_h", "Outage survival, transformer microgrids", "h",
              "mean over transformers (weighted by buildings) of the mean survival when the "
              "buildings behind a transformer share PV and storage", True),
    Indicator("p_survive_24h_pooled", "P(survive 24 h), transformer microgrids", "1",
              "as p_survive_24h with buildings sharing PV and storage behind each transformer",
              True),
    Indicator("critical_buildings", "Critical facilities", "count",
              "#{b : b is a critical facility (OSM tags at import, or marked by the planner)}"),
    Indicator("critical_survival_min_h", "Critical facilities: outage survival (worst)", "h",
              "min over critical facilities and start hours of survival, each serving "
              "critical.load_share of its demand from own PV + battery", True),
    Indicator("critical_survival_mean_h", "Critical facilities: outage survival (mean)", "h",
              "mean over critical facilities of the mean survival of outages starting at "
              "every hour", True),
    Indicator("critical_p_survive_24h", "Critical facilities: P(survive 24 h)", "1",
              "mean over critical facilities of the share of start hours surviving ≥ 24 h",
              True),
    Indicator("critical_p_survive_72h", "Critical facilities: P(survive 72 h)", "1",
              "mean over critical facilities of the share of start hours surviving ≥ 72 h",
              True),
    Indicator("capex_eur", "Investment", "EUR",
              "Σ_b kWp_b × PV price of b's size class + Σ batteries (kWh × EUR/kWh + kW × EUR/kW, "
              "building and community)"),
    Indicator("annual_savings_eur", "Annual savings", "EUR/a",
              "(ΣD − Σ_k I_k) × import price + Σ_k E_k × export price (energy shared within a "
              "transformer area is valued at the import price)", True),
    Indicator("payback_years", "Simple payback", "a", "capex / annual savings", False),
    Indicator("npv_eur", "Net present value", "EUR",
              "Σ_y CF_y / (1 + r)^y over the PV lifetime, CF_0 = −capex, CF_y = savings × "
              "(1 − δ)^(y−1) − O&M − battery replacements (community view: transformer areas)",
              True),
    Indicator("owner_npv_eur", "Net present value (owners alone)", "EUR",
              "Σ_b NPV_b, each building's savings behind its own meter, without community "
              "batteries", True),
    Indicator("community_gain_eur_per_a", "Gain from sharing (transformer areas)", "EUR/a",
              "annual savings − Σ_b owners' savings: energy shared between neighbours valued at "
              "the import price instead of the feed-in price", True),
    Indicator("lcoe_eur_per_kwh", "Levelised cost of PV electricity", "EUR/kWh",
              "(capex + Σ_y (O&M + replacements) / (1 + r)^y) / Σ_y G (1 − δ)^(y−1) / (1 + r)^y",
              False),
    Indicator("discounted_payback_a", "Discounted payback", "a",
              "first year the cumulative discounted cash flow reaches 0 (linear within the "
              "year)", False),
    Indicator("co2_avoided_t", "CO2 avoided", "t/a",
              "(ΣD − Σ_k I_k + Σ_k E_k) × grid emission factor", True),
)

INDICATORS_BY_KEY = {i.key: i for i in SUMMARY_INDICATORS}

# Survival of the critical facilities alone: NaN when none is marked.
CRITICAL_RES_KEYS = ("critical_survival_min_h", "critical_survival_mean_h",
                     "critical_p_survive_24h", "critical_p_survive_72h")
CRITICAL_KEYS = ("critical_buildings", *CRITICAL_RES_KEYS)
NONE_MARKED = "none marked"


PAYBACK_SHOWN_MAX_A = 30.0     # longer is shown as "> 30 a": beyond a PV system's life
NOT_WITHIN_LIFETIME = "not within lifetime"   # a discounted payback that never comes (inf)


def format_value(key: str, value: float | None) -> str:
    """The one number format of an indicator, with its unit (fractions as %): the UI, the
    CLI, the compare table and the report all show values through it.

    Hundreds and more without decimals, 1–100 with one, below 1 with two (never scientific
    notation); a payback beyond a PV system's life as "> 30 a", a discounted payback that
    never comes (inf) as "not within lifetime", prices per kWh to 0.1 cent."""
    ind = INDICATORS_BY_KEY.get(key)
    if key in CRITICAL_KEYS and (value is None or value != value
                                 or (key == "critical_buildings" and value == 0)):
        return NONE_MARKED        # no critical facility: not a number to compare
    if value is None or value != value:  # NaN
        return "—"
    v = float(value)
    if ind is None:
        return _number(v)
    if ind.unit == "1":
        return f"{100 * v:.1f} %"
    if ind.unit == "count":
        return f"{v:,.0f}"
    if key == "payback_years" and v > PAYBACK_SHOWN_MAX_A:
        return f"> {PAYBACK_SHOWN_MAX_A:.0f} a"
    if key == "discounted_payback_a" and v == float("inf"):
        return NOT_WITHIN_LIFETIME
    if ind.unit == "EUR/kWh":
        return f"€{v:.3f}/kWh"
    if ind.unit == "EUR" or ind.unit == "EUR/a":
        return f"€{v:,.0f}" + ("/a" if ind.unit == "EUR/a" else "")
    return f"{_number(v)} {ind.unit}"


NOT_COMPUTED = "not computed"


def hosting_text(value_kwp: float | None) -> str:
    """A hosting capacity as text: "not computed" when the power flow ran without the hosting
    search (NaN, never shown as 0 or "nan"), "unlimited" when no limit breaks at the cap."""
    if value_kwp is None or value_kwp != value_kwp:  # NaN
        return NOT_COMPUTED
    if value_kwp in (float("inf"), float("-inf")):
        return "unlimited"
    return f"{value_kwp:,.0f} kWp"


def compact_value(key: str, value: float | None) -> str:
    """:func:`format_value` in fewer characters, for narrow tiles: thousands of kW, kWh, kWp,
    euros and tonnes in the next unit (1.15 MW, €6.57 M, 1.86 kt), hours without "/a"."""
    ind = INDICATORS_BY_KEY.get(key)
    if ind is None or value is None or value != value:
        return format_value(key, value)
    v = float(value)
    scaled = {"kW": ("MW", 1e3), "kWp": ("MWp", 1e3), "kWh": ("MWh", 1e3),
              "kWh/a": ("MWh/a", 1e3), "t/a": ("kt/a", 1e3)}
    if ind.unit in scaled and abs(v) >= 1000:
        unit, f = scaled[ind.unit]
        return f"{v / f:,.3g} {unit}" if abs(v) < 1e5 else f"{v / f:,.0f} {unit}"
    if ind.unit == "EUR":
        return (f"€{v / 1e6:,.2f} M" if abs(v) >= 1e6 else f"€{v / 1e3:,.0f} k"
                if abs(v) >= 1e4 else f"€{v:,.0f}")
    if ind.unit == "h/a":
        return f"{v:,.0f} h"
    return format_value(key, v)


def _number(v: float) -> str:
    a = abs(v)
    if a == 0 or a >= 100:
        return f"{v:,.0f}"
    if a >= 1:
        return f"{v:,.1f}"
    return f"{v:.2f}"


def _display_step(unit: str, value: float) -> float:
    """The resolution :func:`format_value` shows a value of ``unit`` at."""
    if unit == "1":
        return 1e-3            # 0.1 %
    if unit in ("count", "EUR", "EUR/a", "kWh/a", "kWh", "kWp") or abs(value) >= 1000:
        return 1.0
    if unit == "h":
        return 0.1
    if unit == "EUR/kWh":
        return 1e-3
    return 0.0


def delta(key: str, value: float | None, base: float | None) -> tuple[str, str]:
    """The change from ``base`` to ``value`` as text with its unit (percentage points for
    shares and percentages) and its direction: "good", "bad", "neutral" or "" (no change
    or not comparable)."""
    ind = INDICATORS_BY_KEY.get(key)
    if ind is None or value is None or base is None or value != value or base != base:
        return "", ""
    if float("inf") in (abs(float(value)), abs(float(base))):
        return ("", "") if value == base else ("changed", "neutral")
    d = float(value) - float(base)
    step = _display_step(ind.unit, max(abs(value), abs(base)))
    if abs(d) < max(step / 2, 1e-9):
        return "±0", ""
    if ind.unit in ("EUR", "EUR/a"):
        text = ("+" if d > 0 else "−") + f"€{abs(d):,.0f}" + ("/a" if ind.unit == "EUR/a" else "")
    elif ind.unit == "EUR/kWh":
        text = ("+" if d > 0 else "−") + f"€{abs(d):.3f}/kWh"
    elif ind.unit == "1":
        text = f"{100 * d:+.1f} pp"
    elif ind.unit == "%":
        text = f"{d:+.0f} pp"
    elif ind.unit == "count":
        text = f"{d:+,.0f}"
    elif abs(d) >= 10:
        text = f"{d:+,.0f} {ind.unit}"
    else:
        text = f"{d:+,.1f} {ind.unit}"
    if ind.higher_is_better is None:
        return text, "neutral"
    return text, "good" if (d > 0) == ind.higher_is_better else "bad"
