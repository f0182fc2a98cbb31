"""suggest: place PV and batteries to maximise an objective within a budget (the optimizer).

    s = suggest(district, budget_eur=300_000, objective="self_sufficiency")
    s.scenario            # an ordinary Scenario (its notes explain every step)
    s.steps               # what was placed, in order, with its gain per euro

Method
------
Every building gets a discrete ladder of sizes: PV at :data:`PV_FRACTIONS` of its roof's
potential (``pv_potential_kwp``), a battery of :data:`BATTERY_KWH` (inverter power from the
assumption ``battery.default_power_per_kwh``). A *move* raises one building's PV or battery by one
rung; its cost is the engine's capex (:mod:`dashboard.energy.economics`: PV by size class,
batteries per kWh and kW — the same numbers as
``summary["capex_eur"]``), its gain the exact change of the objective, measured by evaluating the
derived scenario with the incremental engine (only the edited building and its transformer are
recomputed).

1. Lazy greedy (for the resilience objective a move may also take a building's PV and battery
   to their top rungs at once: neither helps an outage alone). Moves sit in a priority queue
   by gain per euro; the best is re-measured on the current scenario and taken if it is still
   the best (CELF). Gains shrink as PV grows (self-consumption falls), so a stale gain is an
   upper bound; a building's moves are all re-measured whenever one of them is taken (PV makes
   a battery useful and a battery PV).
   On a district larger than :data:`SCREEN_ABOVE_BUILDINGS` (a city), every building's first
   move is screened first by *one* evaluation that makes it on every allowed building at
   once (behind the meter, a building's own gain does not depend on its neighbours': its
   self-consumed PV, its NPV, its P(survive 24 h) islanded alone), and only the buildings with
   the best screened gain per euro are measured exactly (:func:`screen`).
2. Local search: for the steps with the lowest gain per euro, undo the step and spend the freed
   budget on the best affordable moves; keep the change when the objective rises.
3. Grid: added PV behind a transformer never exceeds its hosting capacity (the estimate's
   ``hosting_capacity_kwp`` in the starting Result, and the power flow's when a study is given or
   asked for). When the district is small enough for the power flow
   (``gridstudy.AUTO_MAX_BUILDINGS``) the final scenario is checked with :func:`grid_study` and
   the last steps are backed off until it adds no violation the starting scenario did not have.

Objectives map a Result to a number (:data:`OBJECTIVES`): the district's self-sufficiency, the
mean probability of surviving a 24 h outage (of the critical buildings when some are marked), and
the community's NPV (:func:`npv_eur`; :func:`annual_net_benefit_eur` is the simpler annualised
form, kept for comparison).

What a "Suggest" panel calls: ``suggest(district, budget_eur, objective, start=scenario,
critical_only=..., progress=...)``; show ``Suggestion.steps_table()`` and open
``Suggestion.scenario`` as the working scenario.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from dashboard.domain.district import District
from dashboard.domain.errors import DecentraError
from dashboard.domain.result import RES_COLUMNS, Result
from dashboard.domain.scenario import BatteryPlacement, PvPlacement, Scenario
from dashboard.domain.validate import number
from dashboard.energy.economics import EconParams, pv_capex_eur
from dashboard.scenarios import evaluate, scenario_assumptions

PV_FRACTIONS = (0.25, 0.5, 1.0)          # of a roof's PV potential [kWp]
BATTERY_KWH = (5.0, 10.0, 20.0)          # nominal capacity rungs
LOCAL_SEARCH_TRIES = 8                   # lowest-ratio steps tried for a swap
RESTARTS = 2                             # greedy restarts without a costliest step's building
RESTART_MAX_BUILDINGS = 2000             # ... on districts up to this size
LOCAL_SEARCH_REFILL = 12                 # best-measured buildings re-measured per refill
SCREEN_ABOVE_BUILDINGS = 2000            # larger districts: screen, then measure the best
SCREEN_PER_STEP = 4                      # candidates kept per step the budget affords ...
SCREEN_MIN, SCREEN_MAX = 60, 240         # ... within these bounds
EPS_GAIN = 1e-12

Progress = Callable[[float, str], None]


# ---------------------------------------------------------------------------------------------
# Objectives: Result -> value (higher is better)
# ---------------------------------------------------------------------------------------------
def critical_mask(district: District, result: Result | None = None) -> np.ndarray | None:
    """Buildings that are critical facilities — the district's flags with the scenario's own
    marks applied, as the engine used them for ``result`` (else the district's flags alone) —
    or None if none is."""
    crit = result.building_inputs.get("critical") if result is not None else None
    if crit is None:
        b = district.buildings
        if "critical" not in b.columns:
            return None
        crit = b["critical"].fillna(False)
    mask = np.asarray(crit, dtype=bool)
    return mask if mask.any() else None


def capital_recovery_factor(rate: float, years: float) -> float:
    """Annuity factor turning a capex into equal yearly payments: r / (1 − (1 + r)^−n)."""
    if rate == 0:
        return 1.0 / years
    return rate / (1.0 - (1.0 + rate) ** -years)


def annual_net_benefit_eur(result: Result, district: District) -> float:
    """Annual savings − annualised capex [EUR/a]: a simpler form of the NPV (NPV = this ×
    annuity factor for a flat year), with the discount rate and PV lifetime of the
    assumptions (:class:`~dashboard.energy.economics.EconParams`)."""
    p = EconParams.from_assumptions(scenario_assumptions(district, result.scenario))
    s = result.summary
    return float(s["annual_savings_eur"] - s["capex_eur"] * capital_recovery_factor(
        p.discount_rate, p.pv_lifetime_a))


def npv_eur(result: Result, district: District) -> float:
    """The community's net present value of everything placed [EUR]
    (:mod:`dashboard.energy.economics`: lifetime, degradation, O&M and battery replacement,
    discounted)."""
    value = result.summary["npv_eur"]
    return 0.0 if value != value else float(value)


def resilience_p24(result: Result, district: District) -> float:
    """Mean probability of surviving a 24 h outage over the critical buildings when some are
    marked, else over all buildings (each islanded alone)."""
    if result.building_res is None:
        raise DecentraError("the resilience objective needs a result with resilience")
    p = result.building_res[:, RES_COLUMNS.index("p_survive_24h")]
    mask = critical_mask(district, result)
    return float(p[mask].mean() if mask is not None else p.mean())


def self_sufficiency(result: Result, district: District) -> float:
    """The district's self-sufficiency (hourly matched, pooled over the district)."""
    value = result.summary["self_sufficiency"]
    return 0.0 if value != value else float(value)


OBJECTIVES: dict[str, Callable[[Result, District], float]] = {
    "self_sufficiency": self_sufficiency,
    "resilience": resilience_p24,
    "npv": npv_eur,
}
OBJECTIVE_UNITS = {"self_sufficiency": "", "resilience": "", "npv": "EUR"}


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One accepted move."""

    building_id: str
    kind: str                 # "pv", "battery", "both" (PV and battery to the top rung), or
    #                           "undo pv" / "undo battery" (local search)
    size_from: float          # kWp or kWh
    size_to: float
    cost_eur: float           # negative for an undo
    gain: float               # objective change
    objective: float          # objective after the step
    levels_from: tuple[int, int] = field(default=(0, 0), repr=False)   # (PV, battery) rungs
    levels_to: tuple[int, int] = field(default=(0, 0), repr=False)

    @property
    def gain_per_eur(self) -> float:
        return self.gain / self.cost_eur if self.cost_eur else math.nan


@dataclass(frozen=True)
class Suggestion:
    scenario: Scenario
    result: Result
    objective: str
    budget_eur: float
    spent_eur: float
    objective_start: float
    objective_end: float
    steps: tuple[Step, ...]
    backed_off: tuple[Step, ...]
    hosting_cap_kwp: pd.Series           # added PV allowed per transformer
    added_kwp: pd.Series                 # added PV per transformer
    grid_checked: bool
    evaluations: int
    timings_ms: dict[str, float] = field(default_factory=dict)

    def steps_table(self) -> pd.DataFrame:
        return pd.DataFrame([{"building_id": s.building_id, "kind": s.kind,
                              "from": s.size_from, "to": s.size_to, "cost_eur": s.cost_eur,
                              "gain": s.gain, "gain_per_keur": 1e3 * s.gain_per_eur,
                              "objective": s.objective} for s in self.steps])

    def explanation(self) -> str:
        unit = OBJECTIVE_UNITS[self.objective]
        lines = [f"Suggested by `suggest`: objective {self.objective}, budget "
                 f"{self.budget_eur:,.0f} EUR, spent {self.spent_eur:,.0f} EUR; objective "
                 f"{self.objective_start:.5g} -> {self.objective_end:.5g} {unit}".rstrip(),
                 f"{len(self.steps)} steps (gain per 1,000 EUR; PV in kWp, batteries in kWh):"]
        for i, s in enumerate(self.steps, 1):
            lines.append(f"{i:3d}. {s.kind:<12} {s.building_id:<14} {s.size_from:8.2f} -> "
                         f"{s.size_to:8.2f}  {s.cost_eur:10,.0f} EUR  gain {s.gain:+.5g}  "
                         f"({1e3 * s.gain_per_eur:+.4g} per kEUR)")
        for s in self.backed_off:
            lines.append(f"  backed off (power-flow violation): {s.kind} {s.building_id} "
                         f"{s.size_to:.2f}")
        tight = [f"{t} {self.added_kwp[t]:.0f}/{self.hosting_cap_kwp[t]:.0f} kWp"
                 for t in self.added_kwp.index if np.isfinite(self.hosting_cap_kwp[t])]
        lines.append("added PV / hosting capacity per transformer: " + ", ".join(tight))
        lines.append("power flow checked: no new violation" if self.grid_checked else
                     "power flow not checked (district too large)")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The search
# ---------------------------------------------------------------------------------------------
@dataclass
class _State:
    scenario: Scenario
    result: Result
    value: float
    pv_level: np.ndarray         # (N,) int, 0 = none
    bat_level: np.ndarray
    spent: float
    added_kwp: np.ndarray        # (K,)


class _Search:
    def __init__(self, district: District, objective: str, budget: float, start: Scenario,
                 critical_only: bool, hosting_kwp: np.ndarray | None,
                 batteries: bool = True) -> None:
        self.district = district
        self.fn = OBJECTIVES[objective]
        self.resilience = objective == "resilience"
        self.budget = budget
        b = district.buildings
        self.ids = b["building_id"].astype(str).to_numpy()
        # the engine's own prices: the district's, with the start scenario's overrides
        a = scenario_assumptions(district, start)
        self.econ = EconParams.from_assumptions(a)
        self.c_rate = a.number("battery.default_power_per_kwh")
        self.bat_capex = (self.econ.battery_eur_per_kwh
                          + self.c_rate * self.econ.battery_eur_per_kw)   # per kWh
        pot = b["pv_potential_kwp"].to_numpy(float)
        self.pv_kwp = np.round(np.outer(pot, (0.0, *PV_FRACTIONS)), 3)   # (N, levels)
        self.tilt = b["roof_tilt_deg"].to_numpy(float)
        self.az = b["azimuth_deg"].to_numpy(float)
        self.bat_kwh = np.array((0.0, *BATTERY_KWH))
        self.evaluations = 0
        self.known: dict[tuple[int, str], float] = {}   # last measured gain per euro
        pv_kinds = ("pv", "pv+2", "pv_top")
        self.kinds: tuple[str, ...] = ((*pv_kinds, "battery", "both") if self.resilience
                                       else (*pv_kinds, "battery"))
        self.first_kinds: tuple[str, ...] = self.kinds    # measured first (screen() trims)
        base = evaluate(district, start, resilience=self.resilience)
        self.tr_ids = base.transformer_ids
        self.b_tr = base.building_transformer
        cap = np.asarray(base.transformer_energy["hosting_capacity_kwp"], float)
        if hosting_kwp is not None:
            cap = np.fmin(cap, hosting_kwp)
        self.cap = np.where(np.isnan(cap), np.inf, np.maximum(cap, 0.0))
        allowed = np.ones(len(b), bool)
        if critical_only:
            mask = critical_mask(district, base)
            if mask is None:
                raise DecentraError("no critical buildings marked: --critical-only needs "
                                    "buildings flagged critical")
            allowed &= mask
        # buildings that already carry PV / a battery in the start keep them untouched
        self.pv_ok = allowed & ~np.isin(self.ids, [p.building_id for p in start.pv]) & (pot > 0)
        self.bat_ok = (allowed & batteries
                       & ~np.isin(self.ids, [x.building_id for x in start.batteries]))
        n = len(b)
        self.state = _State(start, base, self.fn(base, district), np.zeros(n, int),
                            np.zeros(n, int), 0.0, np.zeros(len(self.tr_ids)))
        self.start_value = self.state.value

    # ---- moves ------------------------------------------------------------------------------
    def target(self, st: _State, b: int, kind: str) -> tuple[int, int]:
        """Rungs (PV, battery) a move leads to: one rung up, or both to the top ("both": a
        battery needs PV and PV a battery before either helps an outage)."""
        pv, bat = int(st.pv_level[b]), int(st.bat_level[b])
        if kind == "pv":
            return pv + 1, bat
        if kind == "pv+2":          # a bigger system can cost less per kWp (size classes):
            return pv + 2, bat      # moves may skip rungs
        if kind == "pv_top":
            return self.pv_kwp.shape[1] - 1, bat
        if kind == "battery":
            return pv, bat + 1
        return self.pv_kwp.shape[1] - 1, len(self.bat_kwh) - 1

    def move(self, st: _State, b: int, levels: tuple[int, int]
             ) -> tuple[Scenario, float, float, float, float] | None:
        """(child scenario, cost, added kWp, size from, size to) of setting one building's
        rungs, or None if the ladder, the budget or the hosting capacity forbids it. Sizes
        are kWp when PV changes, else kWh."""
        bid = self.ids[b]
        pv_to, bat_to = levels
        pv0, bat0 = int(st.pv_level[b]), int(st.bat_level[b])
        if (pv_to, bat_to) == (pv0, bat0) or not (0 <= pv_to < self.pv_kwp.shape[1]
                                                  and 0 <= bat_to < len(self.bat_kwh)):
            return None
        if (pv_to != pv0 and not self.pv_ok[b]) or (bat_to != bat0 and not self.bat_ok[b]):
            return None
        child, cost, added = st.scenario, 0.0, 0.0
        old = new = 0.0
        if bat_to != bat0:
            old, new = self.bat_kwh[bat0], self.bat_kwh[bat_to]
            cost += (new - old) * self.bat_capex
            child = (child.with_battery(BatteryPlacement(bid, float(new),
                                                         float(new * self.c_rate)))
                     if new > 0 else child.without_battery(bid))
        if pv_to != pv0:
            old, new = self.pv_kwp[b, pv0], self.pv_kwp[b, pv_to]
            cost += float(pv_capex_eur(np.array([new, old]), self.econ) @ [1.0, -1.0])
            added = new - old
            k = self.b_tr[b]
            if added > 0 and st.added_kwp[k] + added > self.cap[k] + 1e-9:
                return None
            child = (child.with_pv(PvPlacement(bid, float(new), float(self.tilt[b]),
                                               float(self.az[b])))
                     if new > 0 else child.without_pv(bid))
        if st.spent + cost > self.budget + 1e-6:
            return None
        if pv_to != pv0 and bat_to != bat0:      # two edits: one step for the engine
            child = child.derived_from(st.scenario)
        return child, float(cost), float(added), float(old), float(new)

    def measure(self, st: _State, child: Scenario, keep: bool) -> tuple[Result, float]:
        """Exact objective of a child of ``st`` (incremental engine). ``keep`` caches the
        result so that its own children are incremental too."""
        self.evaluations += 1
        r = evaluate(self.district, child, resilience=self.resilience, previous=st.result,
                     use_cache=keep)
        return r, self.fn(r, self.district)

    def apply(self, st: _State, b: int, levels: tuple[int, int]) -> _State | None:
        mv = self.move(st, b, levels)
        if mv is None:
            return None
        child, cost, added, _, _ = mv
        r, v = self.measure(st, child, keep=True)
        pv, bat = st.pv_level.copy(), st.bat_level.copy()
        pv[b], bat[b] = levels
        add = st.added_kwp.copy()
        add[self.b_tr[b]] += added
        return _State(child, r, v, pv, bat, st.spent + cost, add)

    # ---- greedy ---------------------------------------------------------------------------
    def screen(self, progress: Progress) -> np.ndarray:
        """Rows worth measuring exactly on a large district: one evaluation with each allowed
        building's first move (PV at its first rung; for resilience PV and battery at the top)
        made everywhere at once, ranked by each building's own gain per euro in it."""
        st = self.state
        top = len(self.bat_kwh) - 1 if self.resilience else 0
        rung = self.pv_kwp.shape[1] - 1 if self.resilience else 1
        rows = np.flatnonzero(self.pv_ok | (self.bat_ok & self.resilience))
        cost = np.zeros(len(rows))
        batch = st.scenario
        pv = [PvPlacement(self.ids[r], float(self.pv_kwp[r, rung]), float(self.tilt[r]),
                          float(self.az[r])) for r in rows if self.pv_ok[r]]
        batch = batch.with_pv(*pv) if pv else batch
        cost += np.where(self.pv_ok[rows], pv_capex_eur(self.pv_kwp[rows, rung], self.econ),
                         0.0)
        if top:
            kwh = float(self.bat_kwh[top])
            bats = [BatteryPlacement(self.ids[r], kwh, kwh * self.c_rate)
                    for r in rows if self.bat_ok[r]]
            batch = batch.with_battery(*bats) if bats else batch
            cost += np.where(self.bat_ok[rows], kwh * self.bat_capex, 0.0)
        progress(0.06, f"Screening {len(rows):,} buildings in one evaluation")
        r = evaluate(self.district, batch, resilience=self.resilience)
        self.evaluations += 1
        if self.resilience:
            assert r.building_res is not None and st.result.building_res is not None
            col = RES_COLUMNS.index("p_survive_24h")
            gain = r.building_res[rows, col] - st.result.building_res[rows, col]
            mask = critical_mask(self.district, st.result)
            if mask is not None:
                gain = np.where(mask[rows], gain, 0.0)
        elif self.fn is npv_eur:
            gain = (r.building_energy["npv_eur"] - st.result.building_energy["npv_eur"])[rows]
        else:       # self-sufficiency: the PV a building uses itself, hour by hour
            e0, e1 = st.result.building_energy, r.building_energy
            gain = (e0["import_kwh"] - e1["import_kwh"])[rows]
        ratio = np.nan_to_num(gain, nan=0.0) / np.maximum(cost, 1e-9)
        ok = ratio > 0
        afford = self.budget / max(float(np.median(cost[ok])) if ok.any() else 1.0, 1.0)
        keep = int(np.clip(SCREEN_PER_STEP * afford, SCREEN_MIN, SCREEN_MAX))
        best = rows[ok][np.argsort(-ratio[ok], kind="stable")[:keep]]
        if not self.resilience:     # a battery without PV gains nothing here: measured
            self.first_kinds = tuple(k for k in self.kinds if k != "battery")  # once PV is in
        return np.sort(best)

    def greedy(self, st: _State, steps: list[Step], progress: Progress,
               candidates: np.ndarray | None = None, max_fresh: int | None = None) -> _State:
        """Lazy greedy from ``st`` until no affordable move gains. ``candidates`` (building
        rows) limits the first measurements; ``max_fresh`` caps measurements (local search)."""
        heap: list[tuple[float, int, int, str]] = []     # (-ratio, stamp, b, kind)
        stamp = 0
        rows = np.arange(len(self.ids)) if candidates is None else candidates
        fresh = 0

        latest: dict[tuple[int, str], int] = {}      # newest heap entry of each move

        def push(s: _State, b: int, kind: str) -> None:
            nonlocal fresh
            mv = self.move(s, b, self.target(s, b, kind))
            if mv is None or mv[1] <= 0:
                return
            _, v = self.measure(s, mv[0], keep=False)
            fresh += 1
            ratio = (v - s.value) / mv[1]
            self.known[(b, kind)] = ratio
            latest[(b, kind)] = stamp
            heapq.heappush(heap, (-ratio, stamp, b, kind))

        for b in rows:
            for kind in self.first_kinds:
                push(st, int(b), kind)
        version = stamp
        while heap:
            if max_fresh is not None and fresh > max_fresh:
                break
            neg, when, b, kind = heapq.heappop(heap)
            if -neg <= EPS_GAIN:
                break
            if latest.get((b, kind)) != when:       # superseded by a newer entry
                continue
            if when < version:                       # stale: re-measure on the current state
                push(st, b, kind)
                continue
            levels = self.target(st, b, kind)
            mv = self.move(st, b, levels)
            if mv is None:
                continue
            _, cost, _, old, new = mv
            before = (int(st.pv_level[b]), int(st.bat_level[b]))
            nxt = self.apply(st, b, levels)
            if nxt is None or nxt.value - st.value <= EPS_GAIN:
                continue
            steps.append(Step(self.ids[b], kind, old, new, cost, nxt.value - st.value,
                              nxt.value, before, levels))
            st = nxt
            stamp += 1
            version = stamp
            progress(min(0.8, 0.1 + 0.7 * st.spent / max(self.budget, 1.0)),
                     f"{len(steps)} steps, {st.spent:,.0f} EUR")
            for k in self.kinds:                     # its next rungs: PV makes a battery
                push(st, b, k)                       # useful and a battery PV (at night)
        return st

    # ---- local search ---------------------------------------------------------------------
    def local_search(self, st: _State, steps: list[Step], progress: Progress) -> _State:
        """Undo a low-ratio rung and refill the freed budget greedily; keep if better."""
        placed = [i for i in range(len(steps)) if not steps[i].kind.startswith("undo")]
        # the weakest steps first, then the most expensive ones (a knapsack: one large system
        # can crowd out a better pair, and the best ratio is not always the best use)
        by_ratio = sorted(placed, key=lambda i: steps[i].gain_per_eur)
        by_cost = sorted(placed, key=lambda i: -steps[i].cost_eur)
        order = list(dict.fromkeys(by_ratio[: LOCAL_SEARCH_TRIES // 2]
                                   + by_cost[: LOCAL_SEARCH_TRIES // 2] + by_ratio))
        tried = 0
        for i in order:
            if tried >= LOCAL_SEARCH_TRIES:
                break
            s = steps[i]
            b = int(np.flatnonzero(self.ids == s.building_id)[0])
            kind = s.kind
            if (int(st.pv_level[b]), int(st.bat_level[b])) != s.levels_to:
                continue                              # changed since
            tried += 1
            # a PV step is undone down to no PV at all on that roof (its other rungs too)
            undo_to = (0, s.levels_from[1]) if kind.startswith("pv") else s.levels_from
            down = self.apply(st, b, undo_to)
            if down is None:
                continue
            trial_steps: list[Step] = []
            # refill from the buildings whose moves measured best so far
            ranked = sorted(self.known.items(), key=lambda kv: -kv[1])
            best: list[int] = []
            for (row, _kind), _ratio in ranked:
                if row != b and row not in best:
                    best.append(row)
                if len(best) >= LOCAL_SEARCH_REFILL:
                    break
            refill = self.greedy(down, trial_steps, lambda f, m: None,
                                 candidates=np.asarray(best, dtype=int),
                                 max_fresh=LOCAL_SEARCH_REFILL * 4)
            if refill.value > st.value + EPS_GAIN:
                steps.append(Step(s.building_id, f"undo {kind}", s.size_to,
                                  0.0 if kind.startswith("pv") else s.size_from,
                                  down.spent - st.spent, down.value - st.value, down.value,
                                  s.levels_to, undo_to))
                steps.extend(trial_steps)
                st = refill
                progress(0.85, f"local search: {refill.value:.5g}")
        return self.restarts(st, steps, by_cost)

    def restarts(self, st: _State, steps: list[Step], by_cost: list[int]) -> _State:
        """Greedy again from the start without the building of each of the costliest steps
        (a knapsack: the best-ratio large system can crowd out a better combination); kept
        if better. Districts up to RESTART_MAX_BUILDINGS only (each restart is a greedy)."""
        if len(self.ids) > RESTART_MAX_BUILDINGS:
            return st
        for bid in [steps[i].building_id for i in by_cost[:RESTARTS]]:
            b = int(np.flatnonzero(self.ids == bid)[0])
            keep = bool(self.pv_ok[b]), bool(self.bat_ok[b])
            self.pv_ok[b] = self.bat_ok[b] = False
            trial: list[Step] = []
            try:
                alt = self.greedy(self.state, trial, lambda f, m: None)
            finally:
                self.pv_ok[b], self.bat_ok[b] = keep
            if alt.value > st.value + EPS_GAIN:
                st = alt
                steps[:] = trial
        return st


def suggest(district: District, budget_eur: float, objective: str = "self_sufficiency", *,
            start: Scenario | None = None, critical_only: bool = False, batteries: bool = True,
            grid_hosting: bool | None = None, grid_check: bool = True,
            local_search: bool = True, progress: Progress | None = None) -> Suggestion:
    """Place PV and batteries on ``district`` (on top of ``start``) to maximise ``objective``
    (one of :data:`OBJECTIVES`) spending at most ``budget_eur`` [EUR] of added capex.

    Parameters
    ----------
    critical_only : place only on buildings flagged ``critical`` (an error if none is).
    batteries : False places PV only.
    grid_hosting : cap added PV also by the power flow's hosting capacity (a full-year study
        of the start with hosting; a few seconds). None: use a study already cached for the
        start if one exists, else the estimate only.
    grid_check : check the final scenario with the power flow (districts up to
        ``gridstudy.AUTO_MAX_BUILDINGS``) and back off the last steps until it adds no
        violation the start did not have.
    """
    from dashboard.gridstudy import AUTO_MAX_BUILDINGS, cached_study, grid_study

    if objective not in OBJECTIVES:
        raise DecentraError(f"unknown objective {objective!r}; choose one of "
                            f"{', '.join(OBJECTIVES)}")
    budget = number(budget_eur, "budget [EUR]", 0, 1e12)
    step = progress or (lambda f, m: None)
    start = start if start is not None else Scenario(name="Suggested")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    small = district.n_buildings <= AUTO_MAX_BUILDINGS
    hosting = None
    study0 = cached_study(district, start) if grid_hosting is None else None
    if grid_hosting and small:
        step(0.02, "Power flow of the start (hosting capacity)")
        study0 = grid_study(district, start, hosting=True)
    if study0 is not None:
        tids = pd.Index(district.transformers["transformer_id"].astype(str))
        hosting = (study0.transformers["hosting_capacity_kwp"].rename(index=str)
                   .reindex(tids).to_numpy(float))
    t1 = time.perf_counter()
    timings["grid_hosting_ms"] = 1e3 * (t1 - t0)
    step(0.05, "Measuring the first moves")
    search = _Search(district, objective, budget, start, critical_only, hosting, batteries)
    steps: list[Step] = []
    candidates = search.screen(step) if district.n_buildings > SCREEN_ABOVE_BUILDINGS else None
    t_screen = time.perf_counter()
    timings["screen_ms"] = 1e3 * (t_screen - t1)
    st = search.greedy(search.state, steps, step, candidates=candidates)
    t2 = time.perf_counter()
    timings["greedy_ms"] = 1e3 * (t2 - t_screen)
    if local_search and steps:
        st = search.local_search(st, steps, step)
    t3 = time.perf_counter()
    timings["local_search_ms"] = 1e3 * (t3 - t2)
    backed: list[Step] = []
    checked = False
    if grid_check and small and steps:
        step(0.9, "Power flow of the suggestion")
        st, backed = _back_off(district, search, st, steps, start, grid_study)
        checked = True
    timings["grid_check_ms"] = 1e3 * (time.perf_counter() - t3)
    timings["total_ms"] = 1e3 * (time.perf_counter() - t0)
    final_steps = tuple(steps)
    sug = Suggestion(
        scenario=st.scenario, result=st.result, objective=objective, budget_eur=budget,
        spent_eur=st.spent, objective_start=search.start_value, objective_end=st.value,
        steps=final_steps, backed_off=tuple(backed),
        hosting_cap_kwp=pd.Series(search.cap, index=search.tr_ids),
        added_kwp=pd.Series(st.added_kwp, index=search.tr_ids), grid_checked=checked,
        evaluations=search.evaluations, timings_ms=timings)
    name = (start.name if start.name not in ("Untitled scenario", "Suggested")
            else f"Suggested: {objective}, {budget:,.0f} EUR")
    scenario = st.scenario.renamed(name).with_notes(sug.explanation())
    step(1.0, "Done")
    return replace(sug, scenario=scenario)


def _violations(study) -> set[tuple[str, str]]:
    v = study.violations
    return set(zip(v["kind"].astype(str), v["element"].astype(str), strict=True))


def _back_off(district: District, search: _Search, st: _State, steps: list[Step],
              start: Scenario, grid_study) -> tuple[_State, list[Step]]:
    """Undo the last steps (latest first) until the power flow shows no violation the start
    did not have."""
    before = _violations(grid_study(district, start, hosting=False))
    backed: list[Step] = []
    while steps and not _violations(grid_study(district, st.scenario, hosting=False)) <= before:
        s = steps.pop()
        b = int(np.flatnonzero(search.ids == s.building_id)[0])
        nxt = search.apply(st, b, s.levels_from)
        if nxt is None:                      # cannot happen: undoing frees budget and kWp
            raise DecentraError(f"cannot back off step on {s.building_id}")
        backed.append(s)
        st = nxt
    return st, backed
