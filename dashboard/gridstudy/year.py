"""One island, one year: the batched power flow of every hour, with pandapower's Newton-Raphson
for the hours it cannot solve, reduced to voltage and loading statistics.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from dashboard.energy import powerflow as pf
from dashboard.gridstudy.network import NetModel

MAX_FALLBACK_HOURS = 300   # hours per island handed to pandapower runpp at most


@dataclass(frozen=True, eq=False)
class IslandYear:
    """Statistics of one island over the year (hours in ``hours``)."""

    island: int
    vm_max_bus: np.ndarray           # (n_bus_isl,) over converged hours, per island bus
    vm_min_bus: np.ndarray
    over_hours_bus: np.ndarray       # hours above the voltage limit, per bus
    under_hours_bus: np.ndarray
    groups: np.ndarray               # (G,) district transformer row of each group (-1: none)
    vm_max_t: np.ndarray             # (G, T) float32 highest voltage of each group per hour
    vm_min_t: np.ndarray
    line_rows: np.ndarray            # rows of net.line in this island
    line_max: np.ndarray             # (n_line_isl,) max loading [%]
    line_over_hours: np.ndarray
    trafo_rows: np.ndarray           # rows of net.trafo in this island
    trafo_max: np.ndarray
    trafo_over_hours: np.ndarray
    loading_max_t: np.ndarray        # (G, T) float32 highest branch loading of each group
    nonconverged: np.ndarray         # hours neither solver solved
    fallback: np.ndarray             # hours solved by pandapower runpp
    iterations_mean: float


@dataclass(frozen=True, eq=False)
class IslandBranches:
    """The branches of one island and their current equations restricted to its buses."""

    line_rows: np.ndarray        # rows of net.line (= line positions of the GridModel)
    trafo_rows: np.ndarray       # rows of net.trafo
    yf: Any                      # (n_lines + n_trafos, n_isl_bus) csr, columns: pq then slack
    yt: Any
    scale_f: np.ndarray          # kA per pu current at each branch end
    scale_t: np.ndarray
    imax_ka: np.ndarray          # line ratings
    vn_kv: np.ndarray            # (n_trafo, 2)
    sn_mva: np.ndarray
    kernel: pf.BranchSet         # the same as two-bus equations, for the numba kernels
    groups: np.ndarray           # (G,) transformer row of each group of the island (-1: none)
    bus_group: np.ndarray        # (n_isl_bus,) group of each island column (PQ, then slack)
    branch_group: np.ndarray     # (n_br,) group of each branch (lines, then transformers)

    def args(self) -> tuple:
        k = self.kernel
        return (k.fcol, k.tcol, k.y, k.scale_f, k.scale_t, k.rating, k.vn_f, k.vn_t,
                k.n_lines)


def island_branches(nm: NetModel, island: int) -> IslandBranches:
    hit = nm.branches.get(island)
    if hit is not None:
        return hit
    g = nm.grid
    isl = g.islands[island]
    a, b = g.line_rows
    line_rows = np.flatnonzero(g.island_of[g.f_bus[a:b]] == island)
    a2, b2 = g.trafo_rows
    trafo_rows = np.flatnonzero((g.island_of[g.f_bus[a2:b2]] == island)
                                | (g.island_of[g.t_bus[a2:b2]] == island))
    rows = np.concatenate([a + line_rows, a2 + trafo_rows])
    cols = np.concatenate([isl.pq, isl.slack])
    col_of = np.full(g.n_bus, -1, dtype=np.int64)
    col_of[cols] = np.arange(len(cols))

    def sub(y: Any) -> Any:
        m = y[rows].tocoo()
        keep = col_of[m.col] >= 0
        import scipy.sparse as sp
        return sp.csr_matrix((m.data[keep], (m.row[keep], col_of[m.col[keep]])),
                             shape=(len(rows), len(cols)))

    yf, yt = sub(g.yf), sub(g.yt)
    scale_f = g.base_mva / (pf.SQRT3 * g.base_kv[g.f_bus[rows]])
    scale_t = g.base_mva / (pf.SQRT3 * g.base_kv[g.t_bus[rows]])
    imax, vn, sn = (g.line_imax_ka[line_rows], g.trafo_vn_kv[trafo_rows],
                    g.trafo_sn_mva[trafo_rows])
    kernel = pf.branch_set(yf, yt, col_of[g.f_bus[rows]], col_of[g.t_bus[rows]], scale_f,
                           scale_t, imax, vn.reshape(-1, 2), sn)
    # groups: the transformer feeding each bus (a branch: that of its ends, the LV end for a
    # transformer), so hours outside limits are counted per transformer, not per island
    owner = nm.owner_of_ppc
    col_owner = owner[cols]
    br_owner = np.maximum(owner[g.f_bus[rows]], owner[g.t_bus[rows]])
    groups = np.unique(np.concatenate([col_owner, br_owner, [-1]]))
    group_of = {int(o): i for i, o in enumerate(groups)}
    out = IslandBranches(line_rows, trafo_rows, yf, yt, scale_f, scale_t, imax, vn, sn,
                         kernel, groups.astype(np.int64),
                         np.array([group_of[int(o)] for o in col_owner], dtype=np.int64),
                         np.array([group_of[int(o)] for o in br_owner], dtype=np.int64))
    nm.branches[island] = out
    return out


def island_flows(nm: NetModel, island: int, v_pq: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Voltages of one island's buses (n_bus, T: PQ buses, then slack buses) from PQ
    voltages (n_pq, T), and the loading [%] of its lines and transformers (n, T), as
    pandapower computes them (see energy.powerflow.branch_loading)."""
    isl = nm.grid.islands[island]
    line, trafo = island_loading_rows(nm, island, np.ascontiguousarray(v_pq.T))
    v = np.vstack([v_pq, np.repeat(isl.v_slack[:, None], v_pq.shape[1], axis=1)])
    return v, line, trafo


def island_loading_rows(nm: NetModel, island: int, v_rows: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Line and transformer loading [%] (n, T) from hour-row PQ voltages (T, n_pq)."""
    isl = nm.grid.islands[island]
    br = island_branches(nm, island)
    loading = pf.loading_matrix(v_rows, isl.v_slack, *br.args())
    n_l = len(br.line_rows)
    return loading[:n_l], loading[n_l:]


def solve_island_year(nm: NetModel, island: int, s_pu: np.ndarray, limits: dict[str, float],
                      fallback: Callable[[np.ndarray], dict[int, tuple]] | None = None,
                      chunk_cells: int = 4_000_000) -> IslandYear:
    """Solve every hour of one island and reduce to statistics in one pass over the voltages
    (numba kernels; hours in chunks, so memory stays bounded for large islands). Hours the
    batched solver does not converge go to ``fallback`` (pandapower runpp); what it cannot
    solve either is left out of every statistic and listed."""
    g = nm.grid
    isl = g.islands[island]
    n_t = s_pu.shape[0]
    buses = np.concatenate([isl.pq, isl.slack])
    br = island_branches(nm, island)
    line_rows, trafo_rows = br.line_rows, br.trafo_rows
    n_br = len(line_rows) + len(trafo_rows)
    vmax, vmin = limits["voltage_max_pu"], limits["voltage_min_pu"]
    lmax = limits["loading_max_pct"]
    vm_max = np.full(len(buses), -np.inf)
    vm_min = np.full(len(buses), np.inf)
    over = np.zeros(len(buses), np.int64)
    under = np.zeros(len(buses), np.int64)
    b_max = np.zeros(n_br)
    b_over = np.zeros(n_br, np.int64)
    n_g = len(br.groups)
    vm_max_t = np.full((n_g, n_t), -np.inf)
    vm_min_t = np.full((n_g, n_t), np.inf)
    load_t = np.zeros((n_g, n_t))
    solved = np.zeros(n_t, dtype=bool)
    bad_all: list[np.ndarray] = []
    fb_all: list[int] = []
    iters = []
    step = max(64, int(chunk_cells // max(len(isl.pq), 1)))

    def reduce(hours: np.ndarray, v_rows: np.ndarray) -> None:
        g_max = np.full((n_g, len(hours)), -np.inf)
        g_min = np.full((n_g, len(hours)), np.inf)
        pf.voltage_stats(v_rows, isl.v_slack, vmax, vmin, br.bus_group, vm_max, vm_min, over,
                         under, g_max, g_min)
        vm_max_t[:, hours], vm_min_t[:, hours] = g_max, g_min
        l_max = np.zeros((n_g, len(hours)))
        pf.loading_stats(v_rows, isl.v_slack, *br.args(), lmax,  # type: ignore[call-arg]
                         br.branch_group, b_max, b_over, l_max)
        load_t[:, hours] = l_max
        solved[hours] = True

    for lo in range(0, n_t, step):
        hours = np.arange(lo, min(n_t, lo + step))
        v_rows, ok, it = pf.solve_island_rows(isl, s_pu[lo:lo + len(hours)])
        iters.append(it.mean())
        if ok.all():
            reduce(hours, v_rows)
        elif ok.any():
            reduce(hours[ok], np.ascontiguousarray(v_rows[ok]))
        if (~ok).any():
            bad = hours[~ok]
            # the fallback is one Newton-Raphson per hour: beyond a few hundred hours the
            # network itself is the problem (reported as not converged, not waited for)
            tried = bad[:MAX_FALLBACK_HOURS]
            rescued = fallback(tried) if fallback is not None and len(tried) else {}
            for h, (vm_b, line_b, trafo_b) in rescued.items():
                vm_h = vm_b[buses]
                np.maximum(vm_max, vm_h, out=vm_max)
                np.minimum(vm_min, vm_h, out=vm_min)
                over[:] += vm_h > vmax
                under[:] += vm_h < vmin
                ld = np.concatenate([line_b[line_rows], trafo_b[trafo_rows]])
                np.maximum(b_max, np.nan_to_num(ld), out=b_max)
                b_over[:] += ld > lmax
                for gi in range(n_g):
                    in_g = br.bus_group == gi
                    if in_g.any():
                        vm_max_t[gi, h] = np.nanmax(vm_h[in_g])
                        vm_min_t[gi, h] = np.nanmin(vm_h[in_g])
                    lg = ld[br.branch_group == gi]
                    load_t[gi, h] = np.nanmax(lg) if len(lg) else 0.0
                solved[h] = True
                fb_all.append(h)
            bad_all.append(np.array([h for h in bad if h not in rescued], dtype=np.int64))
    nonconv = np.concatenate(bad_all) if bad_all else np.zeros(0, np.int64)
    n_l = len(line_rows)
    # hours nobody solved, and groups without buses or branches, are NaN (not 0 / inf)
    for arr in (vm_max_t, vm_min_t, load_t):
        arr[:, ~solved] = np.nan
    vm_max_t[~np.isfinite(vm_max_t)] = np.nan
    vm_min_t[~np.isfinite(vm_min_t)] = np.nan
    return IslandYear(island, vm_max, vm_min, over, under, br.groups,
                      vm_max_t.astype(np.float32), vm_min_t.astype(np.float32), line_rows,
                      b_max[:n_l], b_over[:n_l], trafo_rows, b_max[n_l:], b_over[n_l:],
                      load_t.astype(np.float32), nonconv,
                      np.array(sorted(fb_all), dtype=np.int64),
                      float(np.mean(iters)) if iters else 0.0)


def runpp_fallback(nm: NetModel, island: int, p_kw: np.ndarray, d_kw: np.ndarray,
                    tan_phi: float) -> Callable[[np.ndarray], dict[int, tuple]]:
    """pandapower Newton-Raphson for hours the batched solver could not solve."""
    def run(hours: np.ndarray) -> dict[int, tuple]:
        import copy

        import pandapower as pp

        net = copy.deepcopy(nm.dnet.net)
        isl = nm.grid.islands[island]
        out: dict[int, tuple] = {}
        ppc_rows = nm.bus_table["ppc"].to_numpy()
        net.load["in_service"] = False
        # one load per PQ bus of the island carries that bus's net load
        targets = []
        for j, ppc in enumerate(isl.pq):
            rows = np.flatnonzero(ppc_rows == ppc)
            if len(rows):
                targets.append((j, int(nm.bus_table["bus"].iat[int(rows[0])])))
        idx = pp.create_loads(net, [b for _, b in targets], p_mw=0.0, q_mvar=0.0)
        for h in hours:
            net.load.loc[idx, "p_mw"] = [p_kw[h, j] / 1000.0 for j, _ in targets]
            net.load.loc[idx, "q_mvar"] = [tan_phi * d_kw[h, j] / 1000.0 for j, _ in targets]
            try:
                pp.runpp(net, calculate_voltage_angles=True, max_iteration=30)
            except Exception:  # LoadflowNotConverged: reported by the caller
                continue
            vm = np.full(nm.grid.n_bus, np.nan)
            ok = ppc_rows >= 0
            vm[ppc_rows[ok]] = net.res_bus["vm_pu"].to_numpy(float)[ok]
            out[int(h)] = (vm, net.res_line["loading_percent"].to_numpy(float),
                           net.res_trafo["loading_percent"].to_numpy(float))
        return out
    return run
