"""Battery dispatch: greedy self-consumption, and peak shaving of a transformer.

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


@njit(cache=True, inline="always")
def peak_shave_step(net_kw: float, soc_kwh: float, cap_kwh: float, power_kw: float,
                    eta_c: float, eta_d: float, import_limit_kw: float, export_limit_kw: float,
                    target_kwh: float) -> tuple[float, float, float]:
    """One hour of peak-shaving dispatch at a transformer whose net load before the battery is
    ``net_kw`` (import > 0). Returns (charge_kw, discharge_kw, soc_after_kwh).

    The rule, in order:

    1. import above ``import_limit_kw``: discharge the excess (within power and energy);
    2. export above ``export_limit_kw``: charge the excess;
    3. otherwise move the state of charge toward ``target_kwh`` so that the battery is ready:
       below it, charge (from PV surplus or from the grid) only as far as the import stays at
       or below the import limit; above it, discharge only as far as the export stays at or
       below the export limit. ``target_kwh`` is the full capacity when only imports are
       limited (ready for the next import peak), 0 when only exports are (room for the next
       PV surplus), half of it when both are (see :func:`peak_shave_target`).

    With one limit this keeps the state of charge as high (import limit) or as low (export
    limit) as any feasible dispatch can, hour by hour, so it holds the limit whenever any
    dispatch of the same battery can (tests compare it with the linear-programming optimum).
    Limits are finite numbers; "no limit" is a very large one.
    """
    room_ch = min(power_kw, (cap_kwh - soc_kwh) * (1.0 / eta_c))
    room_dis = min(power_kw, soc_kwh * eta_d)
    ch = 0.0
    dis = 0.0
    if net_kw > import_limit_kw:
        dis = max(0.0, min(net_kw - import_limit_kw, room_dis))
    elif -net_kw > export_limit_kw:
        ch = max(0.0, min(-net_kw - export_limit_kw, room_ch))
    elif soc_kwh < target_kwh:
        ch = max(0.0, min(import_limit_kw - net_kw, min(room_ch,
                                                        (target_kwh - soc_kwh) / eta_c)))
    elif soc_kwh > target_kwh:
        dis = max(0.0, min(net_kw + export_limit_kw, min(room_dis,
                                                         (soc_kwh - target_kwh) * eta_d)))
    soc = soc_kwh + ch * eta_c - dis * (1.0 / eta_d)
    return ch, dis, min(max(soc, 0.0), cap_kwh)


def peak_shave_target(cap_kwh: float, import_limited: bool, export_limited: bool) -> float:
    """The state of charge [kWh] peak shaving returns to between peaks (see
    :func:`peak_shave_step`)."""
    if import_limited and export_limited:
        return 0.5 * cap_kwh
    return cap_kwh if import_limited else 0.0


@njit(cache=True)
def peak_shave_series(net_kw: np.ndarray, cap_kwh: float, power_kw: float, eta_c: float,
                      eta_d: float, soc0_kwh: float, import_limit_kw: float,
                      export_limit_kw: float, target_kwh: float,
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Peak-shaving dispatch over a series of net load. Returns charge, discharge and the state
    of charge at the start of each step."""
    n = net_kw.shape[0]
    charge = np.zeros(n)
    discharge = np.zeros(n)
    soc_start = np.zeros(n)
    soc = soc0_kwh
    for t in range(n):
        soc_start[t] = soc
        ch, dis, soc = peak_shave_step(net_kw[t], soc, cap_kwh, power_kw, eta_c, eta_d,
                                       import_limit_kw, export_limit_kw, target_kwh)
        charge[t] = ch
        discharge[t] = dis
    return charge, discharge, soc_start


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
