"""Hosting capacity of a transformer: the largest added PV before a voltage or loading limit
breaks, by bisection over the hours that can break one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dashboard.domain.errors import DecentraError
from dashboard.energy import powerflow as pf
from dashboard.engine import DistrictModel, Placements, hosting_unit
from dashboard.gridstudy.injections import pq_position
from dashboard.gridstudy.network import NetModel
from dashboard.gridstudy.year import island_branches, island_flows

Progress = Callable[[float, str], None]


EPS_PCT = 1e-6          # loading increases smaller than this are rounding, not the added PV


@dataclass(frozen=True)
class Hosting:
    transformer_id: str
    kwp: float                # largest added PV that keeps every hour within limits
    limit: str                # what breaks first: "voltage", "line", "transformer", "none"
    hour: int                 # the hour it breaks in (-1: none)
    element: str              # the bus or branch that breaks first
    at_cap: bool              # no limit up to the search cap: the capacity is at least kwp
    steps: int                # power-flow solves of the search


def _violations(nm: NetModel, island: int, v_pq: np.ndarray, converged: np.ndarray,
                base_line: np.ndarray, base_trafo: np.ndarray, limits: dict[str, float]
                ) -> tuple[np.ndarray, tuple[str, str]]:
    """Which hours break a limit (voltage above the maximum anywhere; a branch above its
    rating where it is more loaded than without the added PV); non-converged hours count as
    broken. Returns the mask and (limit, element) of the first broken hour (("", "") if
    none): naming every broken hour's element cost 40 % of a hosting study."""
    g = nm.grid
    isl = g.islands[island]
    br = island_branches(nm, island)
    line_rows, trafo_rows = br.line_rows, br.trafo_rows
    v, lw, tw = island_flows(nm, island, np.where(converged, v_pq, 1.0))
    vm = np.abs(v[: len(isl.pq)])
    over_v = vm > limits["voltage_max_pu"]
    lmax = limits["loading_max_pct"]
    over_l = (lw > lmax) & (lw > base_line + EPS_PCT)
    over_t = (tw > lmax) & (tw > base_trafo + EPS_PCT)
    broken = ~converged | over_v.any(axis=0) | over_l.any(axis=0) | over_t.any(axis=0)
    if not broken.any():
        return broken, ("", "")
    c = int(np.flatnonzero(broken)[0])
    if not converged[c]:
        return broken, ("voltage", "(power flow diverged)")
    if over_v[:, c].any():
        return broken, ("voltage", f"bus {_bus_name(nm, isl.pq[int(vm[:, c].argmax())])}")
    if over_l[:, c].any():
        r = line_rows[int(np.argmax(np.where(over_l[:, c], lw[:, c], -1)))]
        return broken, ("line", str(nm.line_table["line_id"].iat[int(r)]))
    r = trafo_rows[int(np.argmax(np.where(over_t[:, c], tw[:, c], -1)))]
    return broken, ("transformer", str(nm.dnet.net.trafo["name"].iat[int(r)]))


def _bus_name(nm: NetModel, ppc: int) -> str:
    rows = nm.bus_table.index[nm.bus_table["ppc"] == ppc]
    if not len(rows):
        return str(ppc)
    name = nm.dnet.net.bus["name"].iat[int(rows[0])]
    return str(name) if isinstance(name, str) and name else str(nm.bus_table["bus"].iat[rows[0]])


def hosting_capacity(nm: NetModel, model: DistrictModel, pl: Placements, tr: int,
                     s0_pu: np.ndarray, limits: dict[str, float], cap_kwp: float | None = None,
                     tol_kwp: float = 0.5) -> Hosting:
    """Hosting capacity of district transformer row ``tr`` (see the module docstring), given
    the island's injections of the scenario ``s0_pu`` (T, n_pq)."""
    tid = str(model.transformer_ids[tr])
    island = int(nm.transformer_island[tr])
    if island < 0:
        return Hosting(tid, float("nan"), "not fed", -1, "", False, 0)
    isl = nm.grid.islands[island]
    local = pq_position(nm, isl)
    rows = np.flatnonzero((model.building_transformer == tr) & (nm.building_island == island))
    rows = rows[local[nm.building_ppc[rows]] >= 0]
    if not len(rows):
        return Hosting(tid, float("nan"), "no buildings", -1, "", False, 0)
    potential = np.maximum(model.roof_area_m2[rows], 0.0)      # full-coverage kWp below
    room = np.maximum(potential / model.module_area_m2_per_kwp - pl.kwp[rows], 0.0)
    weight = room if room.sum() > 0 else potential
    weight = weight / weight.sum()
    w_bus = np.zeros(len(isl.pq))
    np.add.at(w_bus, local[nm.building_ppc[rows]], weight)
    # kW per kWp, south-facing, capped at the scenario's PV export limit share (added PV is
    # held to the same limit: the same rule as the energy-balance estimate)
    unit = hosting_unit(model, pl).astype(np.float64)
    sunny = np.flatnonzero(unit > 1e-6)
    cap = float(cap_kwp if cap_kwp is not None else 3.0 * model.rating_kva[tr])
    add = w_bus / 1000.0 / nm.grid.base_mva                   # pu per kWp (times unit)

    def solve_at(x: float, hours: np.ndarray) -> pf.IslandSolution:
        s = s0_pu[hours] + x * unit[hours][:, None] * add[None, :]
        v, ok, it = pf.solve_island_rows(isl, s)
        return pf.IslandSolution(np.ascontiguousarray(v.T), ok, it)

    base = solve_at(0.0, sunny)
    if not base.converged.all():
        raise DecentraError(f"transformer {tid}: the power flow of the scenario itself does "
                            "not converge in some sunny hours; hosting capacity not computed")
    _, base_line, base_trafo = island_flows(nm, island, base.v_pq)
    steps = 1
    # already beyond the voltage limit with no PV added: nothing can be hosted
    vm0 = np.abs(base.v_pq)
    if (vm0 > limits["voltage_max_pu"]).any():
        c = int(np.flatnonzero((vm0 > limits["voltage_max_pu"]).any(axis=0))[0])
        return Hosting(tid, 0.0, "voltage", int(sunny[c]),
                       f"bus {_bus_name(nm, isl.pq[int(vm0[:, c].argmax())])}", False, steps)
    hours = sunny
    idx = np.arange(len(sunny))                # positions into sunny of the hours kept
    sol = solve_at(cap, hours)
    steps += 1
    broken, first = _violations(nm, island, sol.v_pq, sol.converged, base_line[:, idx],
                                base_trafo[:, idx], limits)
    if not broken.any():
        return Hosting(tid, cap, "none", -1, "", True, steps)
    lo, hi = 0.0, cap
    keep = idx[broken]
    first_hour = int(hours[np.flatnonzero(broken)[0]])
    while hi - lo > max(tol_kwp, 1e-3 * hi):
        mid = 0.5 * (lo + hi)
        h = sunny[keep]
        sol = solve_at(mid, h)
        steps += 1
        broken, why = _violations(nm, island, sol.v_pq, sol.converged, base_line[:, keep],
                                  base_trafo[:, keep], limits)
        if broken.any():
            hi = mid
            first, first_hour = why, int(h[np.flatnonzero(broken)[0]])
            keep = keep[broken]
        else:
            lo = mid
    return Hosting(tid, round(lo, 1), first[0], first_hour, first[1], False, steps)
