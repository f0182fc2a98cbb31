"""Battery dispatch: greedy self-consumption.

Each hour the battery charges from surplus PV and discharges to cover the deficit, within its
power limit [kW], its usable energy [kWh] and with charge / discharge efficiencies
``eta_c = eta_d = sqrt(round_trip)``. State of charge is counted in usable kWh above the minimum
state of charge (0 = at the reserve). Hourly steps: kW and kWh per step are the same number.

Sign conventions (per step): ``surplus = pv - load``; ``charge`` is AC power into the battery,
``discharge`` AC power out of it; grid ``net = load - pv + charge - discharge`` (import > 0).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def greedy_step(surplus_kw: float, soc_kwh: float, cap_kwh: float, power_kw: float,
                eta_c: float, eta_d: float) -> tuple[float, float, float]:
    """One hour of greedy dispatch. Returns (charge_kw, discharge_kw, soc_after_kwh).

    Branch-free (so that loops over buildings vectorise): with a surplus the discharge term is
    ``max(0, min(-x, ...)) = 0`` and vice versa. Multiplying by reciprocal efficiencies keeps
    divisions out of the state-of-charge recurrence.
    """
    ch = max(0.0, min(surplus_kw, min(power_kw, (cap_kwh - soc_kwh) * (1.0 / eta_c))))
    dis = max(0.0, min(-surplus_kw, min(power_kw, soc_kwh * eta_d)))
    soc = soc_kwh + ch * eta_c - dis * (1.0 / eta_d)
    return ch, dis, min(max(soc, 0.0), cap_kwh)


@njit(cache=True)
def dispatch_series(surplus_kw: np.ndarray, cap_kwh: float, power_kw: float, eta_c: float,
                    eta_d: float, soc0_kwh: float,
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy dispatch over a series. Returns charge, discharge and the state of charge at the
    start of each step (all float64, length of ``surplus_kw``)."""
    n = surplus_kw.shape[0]
    charge = np.zeros(n)
    discharge = np.zeros(n)
    soc_start = np.zeros(n)
    soc = soc0_kwh
    for t in range(n):
        soc_start[t] = soc
        ch, dis, soc = greedy_step(surplus_kw[t], soc, cap_kwh, power_kw, eta_c, eta_d)
        charge[t] = ch
        discharge[t] = dis
    return charge, discharge, soc_start


def efficiencies(round_trip: float) -> tuple[float, float]:
    """Split a round-trip efficiency evenly into charge and discharge efficiency."""
    if not 0.0 < round_trip <= 1.0:
        raise ValueError("round-trip efficiency must be in (0, 1]")
    e = math.sqrt(round_trip)
    return e, e
