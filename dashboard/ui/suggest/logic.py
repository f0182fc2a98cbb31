"""The Suggest tab's pure logic: what the planner asked for (checked once, one clear message),
and a suggestion (:class:`dashboard.suggest.Suggestion`) as the rows and sentences the tab
shows. No Dash here: the layout draws these rows, the callback calls the service."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from dashboard.domain.errors import DecentraError
from dashboard.suggest import OBJECTIVES, Step, Suggestion

DEFAULT_BUDGET_EUR = 300_000.0
MAX_BUDGET_EUR = 1e10
OBJECTIVE_LABELS = {"self_sufficiency": "Self-sufficiency",
                    "resilience": "Resilience: P(survive 24 h)",
                    "npv": "Net present value (community)"}
KIND_WORDS = {"pv": "PV", "pv+2": "PV", "pv_top": "PV", "battery": "Battery",
              "both": "PV + battery", "undo pv": "PV removed", "undo battery": "Battery removed"}


@dataclass(frozen=True)
class Request:
    budget_eur: float
    objective: str
    critical_only: bool


def request(budget: Any, objective: Any, critical: Any) -> Request:
    """The planner's budget [EUR], objective and "critical facilities only" checked; a
    DecentraError saying what is wrong otherwise."""
    if objective not in OBJECTIVES:
        raise DecentraError(f"Choose an objective: {', '.join(OBJECTIVE_LABELS.values())}.")
    try:
        value = float(budget)
    except (TypeError, ValueError):
        raise DecentraError("The budget must be a number of euros.") from None
    if not math.isfinite(value) or value <= 0:
        raise DecentraError("The budget must be more than 0 EUR.")
    if value > MAX_BUDGET_EUR:
        raise DecentraError(f"The budget must be at most {MAX_BUDGET_EUR:,.0f} EUR.")
    return Request(value, str(objective), bool(critical) and "critical" in list(critical))


def is_ratio(objective: str) -> bool:
    """Self-sufficiency and P(survive 24 h) are fractions, shown in percentage points."""
    return objective != "npv"


def gain_text(objective: str, gain: float) -> str:
    """An objective change as the tab shows it: percentage points or euros."""
    if is_ratio(objective):
        return f"{100 * gain:+.2f} pp"
    return f"{gain:+,.0f} €"


def value_text(objective: str, value: float) -> str:
    if is_ratio(objective):
        return f"{100 * value:.1f} %"
    return f"{value:,.0f} €"


def per_keur_text(objective: str, step: Step) -> str:
    """Gain per 1,000 EUR spent (per euro, times 1,000: the numbers per euro are tiny)."""
    if not step.cost_eur:
        return "–"
    per = 1e3 * step.gain / step.cost_eur
    return f"{100 * per:+.3f} pp" if is_ratio(objective) else f"{per:+,.0f} €"


def what_text(step: Step) -> str:
    """What a step placed: kind, building and sizes (kWp for PV, kWh for a battery)."""
    unit = "kWh" if step.kind in ("battery", "undo battery") else "kWp"
    return (f"{KIND_WORDS.get(step.kind, step.kind)} on {step.building_id}: "
            f"{step.size_from:,.1f} → {step.size_to:,.1f} {unit}")


def step_rows(sug: Suggestion) -> list[dict[str, str]]:
    """One row per step, in the order taken: what, cost, gain, gain per 1,000 EUR."""
    return [{"n": str(i), "what": what_text(s), "cost": f"{s.cost_eur:,.0f} €",
             "gain": gain_text(sug.objective, s.gain),
             "per_keur": per_keur_text(sug.objective, s)}
            for i, s in enumerate(sug.steps, 1)]


def summary_text(sug: Suggestion) -> str:
    """One sentence: the objective before and after, what it cost, whether the grid was
    checked."""
    label = OBJECTIVE_LABELS[sug.objective]
    grid = ("Power flow checked: no new violation." if sug.grid_checked else
            "Added PV kept within each transformer's hosting capacity (district too large for "
            "the power-flow check).")
    backed = (f" {len(sug.backed_off)} step(s) backed off for the power flow."
              if sug.backed_off else "")
    return (f"{label}: {value_text(sug.objective, sug.objective_start)} → "
            f"{value_text(sug.objective, sug.objective_end)} for {sug.spent_eur:,.0f} € of "
            f"{sug.budget_eur:,.0f} € in {len(sug.steps)} steps. {grid}{backed}")


def placed_text(sug: Suggestion) -> str:
    """The scenario opened, as a toast: its PV and batteries and what the steps cost."""
    s1 = sug.scenario
    pv_kwp = sum(p.kwp for p in s1.pv)
    bat_kwh = sum(b.capacity_kwh for b in s1.batteries)
    return (f"Suggested scenario opened: {len(s1.pv)} roofs with PV ({pv_kwp:,.0f} kWp), "
            f"{len(s1.batteries)} batteries ({bat_kwh:,.0f} kWh), {sug.spent_eur:,.0f} € "
            "added. Edit it as any scenario; Undo goes back.")


def progress_text(fraction: float, what: str) -> str:
    return f"{100 * max(0.0, min(1.0, fraction)):.0f} % · {what}"


__all__ = ["DEFAULT_BUDGET_EUR", "OBJECTIVE_LABELS", "Request", "gain_text", "is_ratio",
           "per_keur_text", "placed_text", "progress_text", "request", "step_rows",
           "summary_text", "value_text", "what_text"]
