"""Penetration sweep: how self-sufficiency, resilience and grid headroom grow as rooftop PV (and
optionally storage) grows from none to every suitable roof.

How PV grows (a choice, documented): buildings are taken **one at a time in a stated order**
("largest roofs first": PV potential, largest first; "best yield first": annual AC kWh per kWp
of the roof's own tilt and azimuth, highest first; ties by building id), each at its **full PV
potential** (``pv_potential_kwp``: roof area × max coverage / module area), until the sweep's
share of the district's total potential is reached; the building at the boundary gets the
remainder, so the kWp added is exactly ``share × total potential``. Why not "every roof at
share × potential": edge resources are added roof by roof by owners who fill their roof, not
as a uniform thin layer, and whole roofs put PV behind some transformers first, which is what
makes hosting headroom run out before the district average would say so. The order is the
lever a planner can argue about, so it is a parameter.

Each step is derived from the previous one by a few edits (``Scenario.with_pv``), so
:func:`dashboard.scenarios.evaluate` recomputes only the touched transformers where that pays,
and the PV profiles of the roofs' orientations are computed once for the whole sweep. (A
sweep with batteries makes two edits per step, PV then batteries, so its steps are evaluated
in full: fast enough, since each step touches most transformers anyway.)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from dashboard.domain.district import District
from dashboard.domain.errors import DecentraError
from dashboard.domain.indicators import SUMMARY_INDICATORS
from dashboard.domain.scenario import BatteryPlacement, PvPlacement, Scenario
from dashboard.domain.validate import number
from dashboard.engine import district_model
from dashboard.scenarios import evaluate

ORDERS = ("largest roofs first", "best yield first")
MAX_STEPS = 101
MAX_BATTERY_KWH_PER_KWP = 20.0

# Indicators of each step taken as they are from the evaluation's summary. A key of
# ``Result.summary`` added here (e.g. "npv_eur") becomes a column of the sweep, the CLI table
# and the CSV; nothing else changes.
ECONOMIC_COLUMNS: tuple[str, ...] = ("capex_eur", "payback_years")
SUMMARY_COLUMNS: tuple[str, ...] = (
    "pv_kwp", "battery_kwh", "self_sufficiency", "self_consumption", "p_survive_24h",
    "survival_mean_h", "p_survive_24h_pooled", "max_transformer_loading_pct",
    *ECONOMIC_COLUMNS)

# column -> (label, unit) for tables and charts, in the order of the table; "1" is a share
# shown in %. The summary's columns take label and unit from the indicator table.
_LABELS: dict[str, tuple[str, str]] = {
    "share": ("Share of PV potential", "1"),
    "pv_added_kwp": ("PV added", "kWp"),
    "hosting_headroom_kwp": ("Hosting headroom", "kWp"),
    **{i.key: (i.label, i.unit) for i in SUMMARY_INDICATORS},
}
COLUMNS: dict[str, tuple[str, str]] = {k: _LABELS[k] for k in (
    "share", "pv_added_kwp", "pv_kwp", "battery_kwh", "self_sufficiency", "self_consumption",
    "p_survive_24h", "survival_mean_h", "p_survive_24h_pooled", "hosting_headroom_kwp",
    "max_transformer_loading_pct", *ECONOMIC_COLUMNS)}


def building_order(district: District, order: str = "largest roofs first") -> np.ndarray:
    """Row positions of the buildings with PV potential > 0, in the order the sweep fills
    them (see the module docstring); ties by building id.

    Parameters
    ----------
    district : District
    order : {"largest roofs first", "best yield first"}

    Returns
    -------
    numpy.ndarray of int64 row positions into ``district.buildings``.
    """
    if order not in ORDERS:
        raise DecentraError(f"unknown sweep order {order!r}; choose one of: "
                            + ", ".join(ORDERS))
    b = district.buildings
    potential_kwp = b["pv_potential_kwp"].to_numpy(float)
    suitable = np.flatnonzero(potential_kwp > 0)
    if order == "largest roofs first":
        key = potential_kwp[suitable]
    else:
        key = roof_yield_kwh_per_kwp(district)[suitable]
    ids = b["building_id"].astype(str).to_numpy()[suitable]
    return suitable[np.lexsort((ids, -key))].astype(np.int64)


def roof_yield_kwh_per_kwp(district: District) -> np.ndarray:
    """Annual AC energy [kWh/kWp] of PV at each building's own roof tilt and azimuth (the
    engine's PV profiles for that orientation, as placements use them)."""
    model = district_model(district)
    assert model.bank is not None
    b = district.buildings
    tilt = b["roof_tilt_deg"].to_numpy(float)
    az = b["azimuth_deg"].to_numpy(float) % 360.0
    cols, matrix = model.bank.columns(tilt, az)
    return matrix.sum(axis=0, dtype=np.float64)[cols]


def allocate_kwp(potential_kwp: np.ndarray, target_kwp: float) -> np.ndarray:
    """Fill ``potential_kwp`` (already in order) one entry at a time up to ``target_kwp``:
    full entries, then the remainder on the next one, zero after it."""
    before = np.concatenate([[0.0], np.cumsum(potential_kwp)[:-1]])
    return np.clip(target_kwp - before, 0.0, potential_kwp)


def _steps(steps: object) -> int:
    n = number(steps, "number of sweep steps", 2, MAX_STEPS)
    if n != int(n):
        raise DecentraError(f"number of sweep steps must be a whole number, got {n:g}")
    return int(n)


def penetration_sweep(district: District, steps: int = 11,
                      order: str = "largest roofs first",
                      battery_kwh_per_kwp: float = 0.0,
                      base: Scenario | None = None) -> pd.DataFrame:
    """Indicators as PV grows from 0 to 100 % of the district's rooftop PV potential.

    Parameters
    ----------
    district : District
    steps : int
        Number of evenly spaced shares from 0 to 1 (2..101, default 11: every 10 %).
    order : {"largest roofs first", "best yield first"}
        Which roofs are filled first (see the module docstring).
    battery_kwh_per_kwp : float
        Battery capacity [kWh] added with every kWp placed (0: PV only); power from the
        assumption ``battery.default_power_per_kwh``.
    base : Scenario, optional
        What the sweep adds to (default: no DER). Its placements and parameters stay except
        PV (and, with ``battery_kwh_per_kwp`` > 0, batteries) on the buildings the sweep has
        reached, which are replaced. Step 0 is ``base`` itself.

    Returns
    -------
    pandas.DataFrame, one row per step, indexed by step: ``share`` (0..1 of total potential),
    ``pv_added_kwp``, the summary indicators ``SUMMARY_COLUMNS`` of the step's evaluation
    (``pv_kwp`` and ``battery_kwh`` are the scenario's totals) and ``hosting_headroom_kwp`` =
    Σ over transformers of the estimated hosting capacity of ``base`` minus the kWp added
    (negative: the transformers' reverse-flow ratings are exceeded, by the energy-balance
    estimate). ``attrs`` hold the order, total potential [kWp], battery ratio, how many steps
    were evaluated incrementally and the time taken [s].
    """
    import time

    t0 = time.perf_counter()
    n = _steps(steps)
    ratio = number(battery_kwh_per_kwp, "battery per PV [kWh/kWp]", 0,
                   MAX_BATTERY_KWH_PER_KWP)
    if base is not None and not isinstance(base, Scenario):
        raise DecentraError("the sweep's base must be a Scenario")
    base = base if base is not None else Scenario(name="Baseline (no DER)")
    rows = building_order(district, order)
    b = district.buildings
    if base is not None and base.pv:       # roofs with PV in the base keep it as it is
        have = {p.building_id for p in base.pv}
        rows = rows[~np.isin(b["building_id"].astype(str).to_numpy()[rows], list(have))]
    ids = b["building_id"].astype(str).to_numpy()[rows]
    potential = b["pv_potential_kwp"].to_numpy(float)[rows]
    tilt = b["roof_tilt_deg"].to_numpy(float)[rows]
    az = b["azimuth_deg"].to_numpy(float)[rows]
    total = float(potential.sum())
    c_rate = district.assumptions.number("battery.default_power_per_kwh")
    base_result = evaluate(district, base)
    h = base_result.transformers["hosting_capacity_kwp"].to_numpy(float)
    hosting_kwp = float(h[np.isfinite(h)].sum())     # a transformer without a limit: left out
    base_kwp = float(base_result.summary["pv_kwp"])
    out = []
    scenario = base.renamed(f"PV sweep ({order})")
    placed = np.zeros(len(rows))
    patched = 0
    for i, share in enumerate(np.linspace(0.0, 1.0, n)):
        raw = allocate_kwp(potential, float(share) * total)
        changed = np.flatnonzero(raw != placed)
        placed = raw
        kwp = {int(j): round(float(raw[j]), 3) for j in changed}   # to 1 Wp, as rules place
        grown = [j for j, k in kwp.items() if k > 0]
        scenario = scenario.with_pv(*[PvPlacement(ids[j], kwp[j], float(tilt[j]),
                                                  float(az[j])) for j in grown])
        if ratio > 0:
            scenario = scenario.with_battery(*[BatteryPlacement(
                ids[j], round(kwp[j] * ratio, 3), round(kwp[j] * ratio * c_rate, 3))
                for j in grown])
        result = base_result if i == 0 else evaluate(district, scenario)
        patched += int(i > 0 and result.incremental)
        added = float(result.summary["pv_kwp"]) - base_kwp
        row = {"share": float(share), "pv_added_kwp": added}
        row.update({k: float(result.summary.get(k, math.nan)) for k in SUMMARY_COLUMNS})
        row["hosting_headroom_kwp"] = hosting_kwp - added
        out.append(row)
    frame = pd.DataFrame(out, columns=list(COLUMNS))
    frame.index.name = "step"
    frame.attrs.update({"order": order, "potential_kwp": total,
                        "battery_kwh_per_kwp": ratio, "incremental_steps": patched,
                        "seconds": time.perf_counter() - t0})
    return frame


__all__ = ["COLUMNS", "ECONOMIC_COLUMNS", "ORDERS", "SUMMARY_COLUMNS", "allocate_kwp",
           "building_order", "penetration_sweep", "roof_yield_kwh_per_kwp"]
