"""What the report's first pages say, as plain values: the question, the recommended scenario
against the alternatives, what the district gains, what the grid needs, and what was placed
where. Numbers are read from the results and grid studies, never recomputed here; a grid study
counts as *verified* only for the very scenario (and district) it was computed for.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from dashboard.domain.district import District
from dashboard.domain.errors import DecentraError
from dashboard.domain.result import Result
from dashboard.domain.scenario import Scenario
from dashboard.gridstudy import GridStudy

MAX_QUESTION_CHARS = 600
MAX_CONSULTANT_CHARS = 120
MAX_ALTERNATIVES = 6

StudyLookup = Callable[[District, Scenario], "GridStudy | None"]


@dataclass(frozen=True)
class ReportOptions:
    """What the planner sets for one report. ``logo_png``: a logo already passed through
    :func:`dashboard.export.logo.sanitize_logo` (the report embeds nothing else)."""

    question: str = ""
    consultant: str = ""
    logo_png: bytes | None = None

    def __post_init__(self) -> None:
        for attr, limit, what in (("question", MAX_QUESTION_CHARS, "question"),
                                  ("consultant", MAX_CONSULTANT_CHARS, "consultant's name")):
            value = getattr(self, attr)
            if not isinstance(value, str):
                raise DecentraError(f"the report's {what} must be text")
            value = " ".join(value.split())
            if len(value) > limit:
                raise DecentraError(f"the report's {what} has {len(value)} characters; at "
                                    f"most {limit}")
            object.__setattr__(self, attr, value)


def default_question(district: District, objective: str = "self-sufficiency") -> str:
    """The question when the planner gives none: the district and the objective."""
    return (f"Where should rooftop PV and batteries go in {district.name}, and for what "
            f"investment, to raise its {objective} and resilience without breaking the grid?")


def verified_study(district: District, scenario: Scenario,
                   study: GridStudy | None) -> GridStudy | None:
    """``study`` if it is the power flow of exactly this district and scenario, else None
    (a study of another scenario must never be shown as this one's)."""
    if study is None or study.district_hash != district.content_hash \
            or study.scenario_hash != scenario.content_hash():
        return None
    return study


@dataclass(frozen=True)
class Compared:
    """One column of the comparison: a scenario's result and its verified study, if any."""

    result: Result
    study: GridStudy | None

    @property
    def name(self) -> str:
        return self.result.scenario.name

    @property
    def grid_violations(self) -> tuple[float, bool]:
        """(count, verified): elements outside their limits in the full-year power flow, or
        (not verified) transformers above their rating in the energy-balance estimate."""
        if self.study is not None:
            return float(len(self.study.violations)), True
        return float(self.result.summary.get("transformers_overloaded", math.nan)), False


COMPARISON = (  # (label with unit, summary key, format)
    ("Investment [EUR]", "capex_eur", "eur"),
    ("Net present value [EUR]", "npv_eur", "eur"),
    ("Self-sufficiency [%]", "self_sufficiency", "pct"),
    ("P(survive 24 h outage) [%]", "p_survive_24h", "pct"),
    ("Critical facilities: P(survive 24 h) [%]", "critical_p_survive_24h", "pct"),
    ("Peak import [kW]", "peak_import_kw", "kw"),
    ("Peak export [kW]", "peak_export_kw", "kw"),
)


def fmt(value: float, kind: str) -> str:
    """A number of the comparison as text (units are in the row label)."""
    if value is None or not math.isfinite(float(value)):
        return "—"
    v = float(value)
    if kind == "pct":
        return f"{100 * v:.1f}"
    if kind == "eur":
        return f"{v:,.0f}"
    if kind == "count":
        return f"{v:,.0f}"
    return f"{v:,.0f}"


def comparison_table(compared: Sequence[Compared]) -> list[tuple[str, list[str]]]:
    """Rows (label, one cell per scenario) of the executive summary's table."""
    rows = [(label, [fmt(c.result.summary.get(key, math.nan), kind) for c in compared])
            for label, key, kind in COMPARISON]
    cells = []
    for c in compared:
        n, verified = c.grid_violations
        cells.append(f"{fmt(n, 'count')} (power flow)" if verified
                     else f"{fmt(n, 'count')} (estimate)")
    rows.append(("Grid violations [count]", cells))
    return rows


def gains(result: Result, baseline: Result) -> list[str]:
    """What the district gains against today, one sentence each."""
    s, b = result.summary, baseline.summary

    def g(key: str) -> float:
        return float(s.get(key, math.nan))

    out = [f"Self-sufficiency rises from {100 * float(b.get('self_sufficiency', 0)):.1f} % to "
           f"{100 * g('self_sufficiency'):.1f} %: {g('pv_generation_kwh') / 1e3:,.0f} MWh/a "
           f"of PV on {g('pv_kwp'):,.0f} kWp, grid import down "
           f"{(float(b.get('grid_import_kwh', 0)) - g('grid_import_kwh')) / 1e3:,.0f} MWh/a."]
    if math.isfinite(g("p_survive_24h")):
        out.append(f"In a grid outage a building keeps its critical load for 24 h with "
                   f"probability {100 * g('p_survive_24h'):.0f} % "
                   f"(today {100 * float(b.get('p_survive_24h', 0)):.0f} %).")
    if g("critical_buildings") > 0 and math.isfinite(g("critical_p_survive_24h")):
        out.append(f"Critical facilities ({g('critical_buildings'):.0f}): P(survive 24 h) "
                   f"{100 * g('critical_p_survive_24h'):.0f} %, worst survival "
                   f"{g('critical_survival_min_h'):.0f} h.")
    out.append(f"CO2 avoided: {g('co2_avoided_t'):,.1f} t/a; annual savings "
               f"{g('annual_savings_eur'):,.0f} EUR/a.")
    return out


def cost_lines(result: Result) -> list[str]:
    s = result.summary
    npv, payback = float(s.get("npv_eur", math.nan)), float(s.get("payback_years", math.nan))
    return [f"Investment {float(s.get('capex_eur', 0)):,.0f} EUR "
            f"(PV {float(s.get('pv_kwp', 0)):,.0f} kWp, storage "
            f"{float(s.get('battery_kwh', 0)):,.0f} kWh).",
            f"Net present value {npv:,.0f} EUR; simple payback "
            + (f"{payback:.1f} years." if math.isfinite(payback) else "not reached.")]


@dataclass(frozen=True)
class GridNeeds:
    verified: bool
    lines: tuple[str, ...]


def grid_needs(result: Result, study: GridStudy | None) -> GridNeeds:
    """What the grid needs for this scenario: from its verified full-year power flow, or,
    without one, the energy-balance estimate said to be an estimate."""
    s = result.summary
    if study is None:
        return GridNeeds(False, (
            "Estimate, not verified by a power flow: no full-year power flow was run for this "
            "scenario. Run it (the app's Grid tab, or python -m dashboard grid) before acting.",
            f"Estimated maximum transformer loading {float(s['max_transformer_loading_pct']):.0f} "
            f"%; {float(s['transformers_overloaded']):.0f} transformer(s) above rating; reverse "
            f"flow up to {float(s['reverse_flow_hours_max']):,.0f} h/a at the worst transformer.",
        ))
    ss = study.summary
    lim = study.limits
    v = study.violations
    head = ("Verified by a full-year AC power flow (8,760 hours) of this scenario: "
            + ("no bus, line or transformer leaves its limits — no reinforcement needed."
               if len(v) == 0 else f"{len(v)} element(s) outside their limits."))
    lines = [head,
             f"Voltage {ss['vm_min_pu']:.3f}–{ss['vm_max_pu']:.3f} pu (band "
             f"{lim['voltage_min_pu']:g}–{lim['voltage_max_pu']:g} pu); line loading up to "
             f"{ss['line_loading_max_pct']:.0f} %, transformer loading up to "
             f"{float(study.transformers['trafo_loading_max_pct'].max()):.0f} % "
             f"(limit {lim['loading_max_pct']:g} %)."]
    for r in v.head(3).itertuples():
        lines.append(f"Needs attention: {r.kind} at {r.element} (transformer "
                     f"{r.transformer_id}), worst {r.worst:.3f} {r.unit}, {int(r.hours):,} h/a.")
    if study.nonconverged_hours:
        lines.append(f"{study.nonconverged_hours} hours did not converge and are left out.")
    if len(v) > 3:
        lines.append(f"… and {len(v) - 3} more (the grid pages list them).")
    return GridNeeds(True, tuple(lines))


def placements(district: District, result: Result) -> pd.DataFrame:
    """One row per building with PV or a battery: building_id, use_type, transformer_id,
    pv_kwp, battery_kwh, battery_kw, capex_eur (its PV and battery investment, EUR)."""
    b = result.buildings
    on = (b["pv_kwp"].to_numpy(float) > 0) | (b["battery_kwh"].to_numpy(float) > 0)
    rows = b.loc[on, ["building_id", "transformer_id", "pv_kwp", "battery_kwh", "battery_kw",
                      "capex_eur"]].reset_index(drop=True)
    use = district.buildings.set_index("building_id")["use_type"].astype(str)
    rows.insert(1, "use_type", use.reindex(rows["building_id"]).to_numpy())
    return rows.sort_values(["transformer_id", "building_id"]).reset_index(drop=True)


def community_batteries(result: Result) -> pd.DataFrame:
    """One row per community battery: transformer_id, kwh, kw, capex_eur (the transformer
    area's investment less its buildings' own)."""
    t = result.transformers
    own = result.buildings.groupby("transformer_id")["capex_eur"].sum().reindex(
        t.index).fillna(0.0)
    frame = pd.DataFrame({"transformer_id": t.index.astype(str),
                          "kwh": t["community_battery_kwh"].to_numpy(float),
                          "kw": t["community_battery_kw"].to_numpy(float),
                          "capex_eur": (t["capex_eur"] - own).to_numpy(float)})
    return frame[frame["kwh"] > 0].reset_index(drop=True)


__all__ = [
    "COMPARISON",
    "MAX_ALTERNATIVES",
    "Compared",
    "GridNeeds",
    "ReportOptions",
    "community_batteries",
    "comparison_table",
    "cost_lines",
    "default_question",
    "fmt",
    "gains",
    "grid_needs",
    "placements",
    "verified_study",
]
