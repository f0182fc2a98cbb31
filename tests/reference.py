"""Independent brute-force references, written as plainly as possible (pure Python loops).

They share no code with the engine: if an engine optimisation (closed forms, prefix-sum
searches, interleaved kernels) goes wrong, these disagree.
"""

from __future__ import annotations

import math


def dispatch(load, pv, cap, power, round_trip, soc0):
    """Greedy self-consumption battery, hour by hour. Returns per-hour dicts."""
    eta = math.sqrt(round_trip)
    soc = soc0
    rows = []
    for d, g in zip(load, pv, strict=True):
        start = soc
        if g >= d:
            charge = min(g - d, power, (cap - soc) / eta)
            charge = max(charge, 0.0)
            soc = min(cap, soc + charge * eta)
            discharge = 0.0
        else:
            discharge = min(d - g, power, soc * eta)
            discharge = max(discharge, 0.0)
            soc = max(0.0, soc - discharge / eta)
            charge = 0.0
        net = d - g + charge - discharge
        rows.append({"soc_start": start, "charge": charge, "discharge": discharge,
                     "import": max(net, 0.0), "export": max(-net, 0.0), "net": net})
    return rows


def survival(crit, pv, soc_start, cap, power, eta_c, eta_d, horizon):
    """Outage from every hour, simulated step by step (wrapping round the year).
    Returns the list of survival hours per start."""
    n = len(crit)
    out = []
    for h in range(n):
        s = soc_start[h]
        k = 0
        while k < horizon:
            t = (h + k) % n
            x = pv[t] - crit[t]
            if x >= 0:
                s = min(cap, s + min(x, power) * eta_c)
            else:
                need = -x
                if need > power or s - need / eta_d < 0:
                    break
                s = s - need / eta_d
            k += 1
        out.append(k)
    return out
