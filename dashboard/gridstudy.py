"""Grid physics of a scenario: a full-year AC power flow and hosting capacity per transformer.

    study = grid_study(district, scenario)            # every hour of the year
    study.transformers        # voltage range, overvoltage / overload hours, hosting capacity
    study.buses, study.lines  # per bus and per line: worst voltage, loading, hours outside
    study.violations          # each element outside its limits, worst first, with its place

The district's grid becomes a pandapower network (:func:`dashboard.io.pandapower_net.
to_pandapower`); each building's hourly net load after its battery (demand at the assumptions
table's power factor, PV and batteries at unity power factor) and each community battery's
hourly power are injected at their buses, and the batched solver
(:mod:`dashboard.energy.powerflow`) solves all 8760 hours at once on pandapower's admittance
model. Hours it cannot solve are handed to pandapower's Newton-Raphson (``runpp``); hours that
neither solves are reported in ``nonconverged_hours`` and left out of every statistic, never
filled in.

Limits (assumptions table): voltage within ``grid.voltage_min_pu`` ... ``grid.voltage_max_pu``,
line and transformer loading up to ``grid.loading_max_pct``.

Hosting capacity of a transformer: the largest PV [kWp], added south-facing at the default
tilt on its buildings in proportion to their remaining roof potential, for which no hour of
the year breaks the voltage limit or pushes a line or the transformer above its rating where
the added PV made that branch's loading higher. Both conditions only get worse as PV grows, so
the capacity is found by bisection; each step solves only the hours that still break a limit
at the upper bracket (the others cannot break it at less PV).

Results are memoized per transformer island by a content hash of everything that feeds it, so
an edit recomputes only the island it touched.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dashboard.cache import Memo, shared
from dashboard.domain.district import District
from dashboard.domain.errors import DecentraError
from dashboard.domain.scenario import Scenario
from dashboard.energy import powerflow as pf
from dashboard.energy.storage import dispatch_series
from dashboard.engine import DistrictModel, Placements, build_placements, district_model

Progress = Callable[[float, str], None]
EPS_PCT = 1e-6          # loading increases smaller than this are rounding, not the added PV
MAX_FALLBACK_HOURS = 300   # hours per island handed to pandapower runpp at most


# ---- the district's network, once per district -----------------------------------------------
@dataclass(frozen=True, eq=False)
class NetModel:
    """A district's pandapower network, its admittance model and the joins between them."""

    dnet: Any                              # io.pandapower_net.DistrictNet
    grid: pf.GridModel
    building_ppc: np.ndarray               # (N,) ppc bus of each building
    building_island: np.ndarray            # (N,) island of each building (-1: not fed)
    transformer_island: np.ndarray         # (K,) island of each district transformer
    transformer_ppc: np.ndarray            # (K,) ppc LV bus of each transformer
    bus_table: pd.DataFrame                # pandapower buses: ppc, island, owner, lon, lat
    line_table: pd.DataFrame               # pandapower lines: line_id, owner, lon, lat
    owner_of_ppc: np.ndarray               # (n_ppc,) district transformer row feeding a bus
    notes: tuple[str, ...]
    branches: dict[int, Any] = field(default_factory=dict)   # island -> IslandBranches

    @property
    def n_islands(self) -> int:
        return len(self.grid.islands)


_nets: Memo[str, NetModel] = Memo(4)


def net_model(district: District) -> NetModel:
    """The (cached) network model of a district."""
    hit = _nets.get(district.content_hash)
    if hit is None:
        hit = _build_net_model(district)
        _nets.put(district.content_hash, hit)
    return hit


def _point(geo: object) -> tuple[float, float]:
    import json

    if isinstance(geo, str) and geo:
        try:
            c = json.loads(geo)["coordinates"]
            return float(c[0]), float(c[1])
        except (ValueError, KeyError, TypeError, IndexError):
            pass
    return float("nan"), float("nan")


def _build_net_model(district: District) -> NetModel:
    import networkx as nx
    import pandapower.topology as top

    from dashboard.io.pandapower_net import grid_model, to_pandapower

    dnet = to_pandapower(district)
    grid = grid_model(dnet.net)
    net = dnet.net
    b_ppc = grid.ppc_buses(dnet.building_bus)
    b_isl = np.where(b_ppc >= 0, grid.island_of[np.maximum(b_ppc, 0)], -1)
    t_ppc = grid.ppc_buses(np.maximum(dnet.transformer_bus, 0))
    t_ppc = np.where(dnet.transformer_bus >= 0, t_ppc, -1)
    t_isl = np.where(t_ppc >= 0, grid.island_of[np.maximum(t_ppc, 0)], -1)
    # the transformer feeding each bus: reachable from its LV bus without crossing another
    graph = top.create_nxgraph(net, include_trafos=False, respect_switches=True)
    owner = pd.Series(-1, index=net.bus.index, dtype=np.int64)
    for j, lv in enumerate(dnet.transformer_bus):
        if lv < 0 or lv not in graph:
            continue
        for bus in nx.node_connected_component(graph, int(lv)):
            if owner.at[bus] < 0:
                owner.at[bus] = j
    ppc_all = grid.ppc_buses(net.bus.index.to_numpy())
    owner_ppc = np.full(grid.n_bus, -1, dtype=np.int64)
    ok = ppc_all >= 0
    owner_ppc[ppc_all[ok]] = owner.to_numpy()[ok]
    xy = np.array([_point(g) for g in net.bus["geo"]]) if "geo" in net.bus else \
        np.full((len(net.bus), 2), np.nan)
    buses = pd.DataFrame({"bus": net.bus.index.to_numpy(), "ppc": ppc_all,
                          "island": np.where(ok, grid.island_of[np.maximum(ppc_all, 0)], -1),
                          "owner": owner.to_numpy(), "vn_kv": net.bus["vn_kv"].to_numpy(float),
                          "lon": xy[:, 0], "lat": xy[:, 1]})
    f = net.line["from_bus"].to_numpy()
    t = net.line["to_bus"].to_numpy()
    pos = pd.Series(np.arange(len(net.bus)), index=net.bus.index)
    lon = (xy[pos[f].to_numpy(), 0] + xy[pos[t].to_numpy(), 0]) / 2
    lat = (xy[pos[f].to_numpy(), 1] + xy[pos[t].to_numpy(), 1]) / 2
    line_owner = np.maximum(owner.loc[f].to_numpy(), owner.loc[t].to_numpy())
    lines = pd.DataFrame({"line": net.line.index.to_numpy(), "line_id": list(dnet.line_ids),
                          "owner": line_owner, "lon": lon, "lat": lat,
                          "in_service": net.line["in_service"].to_numpy(bool)})
    notes = list(dnet.notes)
    unfed = int((b_isl < 0).sum())
    if unfed:
        notes.append(f"{unfed} buildings sit on buses no transformer feeds (open switches or "
                     "out-of-service lines): they are left out of the power flow")
    return NetModel(dnet, grid, b_ppc, b_isl, t_isl, t_ppc, buses, lines, owner_ppc,
                    tuple(notes))


# ---- hourly injections -----------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Injections:
    """Hourly net load [kW] (consumption positive) and demand [kW] per PQ bus of an island,
    hours as rows."""

    p_kw: np.ndarray        # (T, n_pq)
    d_kw: np.ndarray        # (T, n_pq) demand only (for reactive power)


def _pq_position(nm: NetModel, isl: pf.Island) -> np.ndarray:
    """(n_ppc,) position of each ppc bus in the island's PQ vector; -1 for buses that are
    not PQ buses of the island (slack buses, other islands)."""
    local = np.full(nm.grid.n_bus, -1, dtype=np.int64)
    local[isl.pq] = np.arange(len(isl.pq))
    return local


def island_injections(nm: NetModel, model: DistrictModel, pl: Placements, island: int,
                      community_kw: np.ndarray | None = None) -> Injections:
    """Net load after batteries of every building of ``island`` at its PQ bus, plus the
    community batteries' power at their transformers' LV buses (``community_kw``: (K, T),
    charge positive)."""
    isl = nm.grid.islands[island]
    local = _pq_position(nm, isl)
    rows = np.flatnonzero(nm.building_island == island)
    n_t = model.load_prof.shape[0]
    n = len(isl.pq)
    bus = local[nm.building_ppc[rows]]
    on_slack = bus < 0            # a building at a slack bus draws from the ideal source
    rows, bus = rows[~on_slack], bus[~on_slack]
    a = np.zeros((model.load_prof.shape[1], n))
    np.add.at(a, (model.prof_idx[rows], bus), model.annual_kwh[rows])
    k = np.zeros((pl.pv_unit.shape[1], n))
    np.add.at(k, (pl.pv_idx[rows], bus), pl.kwp[rows])
    d = model.load_prof.astype(np.float64) @ a                # (T, n)
    p = d - pl.pv_unit.astype(np.float64) @ k
    for b, j in zip(rows, bus, strict=True):
        if pl.cap_kwh[b] > 0 and pl.battery_kw[b] > 0:
            load = model.annual_kwh[b] * model.load_prof[:, model.prof_idx[b]].astype(np.float64)
            gen = pl.kwp[b] * pl.pv_unit[:, pl.pv_idx[b]].astype(np.float64)
            ch, dis, _ = dispatch_series(gen - load, pl.cap_kwh[b], pl.battery_kw[b],
                                         pl.eta_c, pl.eta_d, pl.soc0_kwh[b])
            p[:, j] += ch - dis
    if community_kw is not None:
        for tr in np.flatnonzero(nm.transformer_island == island):
            j = local[nm.transformer_ppc[tr]]
            if j >= 0 and np.any(community_kw[tr]):
                p[:, j] += community_kw[tr]
    assert p.shape == (n_t, n)
    return Injections(p, d)


def _s_pu(nm: NetModel, inj_p_kw: np.ndarray, d_kw: np.ndarray, tan_phi: float) -> np.ndarray:
    """Complex injections [pu] (generation positive) from net load and demand [kW], hours
    as rows (T, n_pq)."""
    return -(inj_p_kw + 1j * tan_phi * d_kw) / 1000.0 / nm.grid.base_mva


# ---- one island, one year ---------------------------------------------------------------------
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


def _island_flows(nm: NetModel, island: int, v_pq: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Voltages of one island's buses (n_bus, T: PQ buses, then slack buses) from PQ
    voltages (n_pq, T), and the loading [%] of its lines and transformers (n, T), as
    pandapower computes them (see energy.powerflow.branch_loading)."""
    isl = nm.grid.islands[island]
    line, trafo = _island_loading_rows(nm, island, np.ascontiguousarray(v_pq.T))
    v = np.vstack([v_pq, np.repeat(isl.v_slack[:, None], v_pq.shape[1], axis=1)])
    return v, line, trafo


def _island_loading_rows(nm: NetModel, island: int, v_rows: np.ndarray
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


# ---- hosting capacity -------------------------------------------------------------------------
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
                ) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Which hours break a limit (voltage above the maximum anywhere; a branch above its
    rating where it is more loaded than without the added PV); non-converged hours count as
    broken. Returns the mask and, for each broken hour in order, (limit, element)."""
    g = nm.grid
    isl = g.islands[island]
    br = island_branches(nm, island)
    line_rows, trafo_rows = br.line_rows, br.trafo_rows
    v, lw, tw = _island_flows(nm, island, np.where(converged, v_pq, 1.0))
    vm = np.abs(v[: len(isl.pq)])
    over_v = vm > limits["voltage_max_pu"]
    lmax = limits["loading_max_pct"]
    over_l = (lw > lmax) & (lw > base_line + EPS_PCT)
    over_t = (tw > lmax) & (tw > base_trafo + EPS_PCT)
    broken = ~converged | over_v.any(axis=0) | over_l.any(axis=0) | over_t.any(axis=0)
    why: list[tuple[str, str]] = []
    net = nm.dnet.net
    for c in np.flatnonzero(broken):
        if not converged[c]:
            why.append(("voltage", "(power flow diverged)"))
        elif over_v[:, c].any():
            why.append(("voltage", f"bus {_bus_name(nm, isl.pq[int(vm[:, c].argmax())])}"))
        elif over_l[:, c].any():
            r = line_rows[int(np.argmax(np.where(over_l[:, c], lw[:, c], -1)))]
            why.append(("line", str(nm.line_table["line_id"].iat[int(r)])))
        else:
            r = trafo_rows[int(np.argmax(np.where(over_t[:, c], tw[:, c], -1)))]
            why.append(("transformer", str(net.trafo["name"].iat[int(r)])))
    return broken, why


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
    local = _pq_position(nm, isl)
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
    unit = model.hosting_unit.astype(np.float64)             # kW per kWp, south-facing
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
    _, base_line, base_trafo = _island_flows(nm, island, base.v_pq)
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
    broken, why = _violations(nm, island, sol.v_pq, sol.converged, base_line[:, idx],
                              base_trafo[:, idx], limits)
    if not broken.any():
        return Hosting(tid, cap, "none", -1, "", True, steps)
    lo, hi = 0.0, cap
    keep = idx[broken]
    first = why[0]
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
            first, first_hour = why[0], int(h[np.flatnonzero(broken)[0]])
            keep = keep[broken]
        else:
            lo = mid
    return Hosting(tid, round(lo, 1), first[0], first_hour, first[1], False, steps)


# ---- the study --------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class GridStudy:
    """Power-flow results of a scenario on a district (see the module docstring)."""

    district_hash: str
    scenario_hash: str
    transformers: pd.DataFrame     # index transformer_id
    buses: pd.DataFrame            # one row per pandapower bus that is fed
    lines: pd.DataFrame            # one row per line (index line_id)
    violations: pd.DataFrame       # kind, element, transformer_id, worst, hours, lon, lat
    hourly: dict[str, pd.DataFrame]  # transformer_id -> vm_max_pu, vm_min_pu, loading_max_pct
    nonconverged_hours: int
    fallback_hours: int
    converged: bool
    limits: dict[str, float]
    notes: tuple[str, ...]
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def summary(self) -> dict[str, float]:
        t = self.transformers
        return {"vm_max_pu": float(t["vm_max_pu"].max()), "vm_min_pu": float(t["vm_min_pu"].min()),
                "overvoltage_hours": float(t["overvoltage_hours"].max()),
                "undervoltage_hours": float(t["undervoltage_hours"].max()),
                "line_loading_max_pct": float(t["line_loading_max_pct"].max()),
                "overload_hours": float(t["overload_hours"].max()),
                "hosting_capacity_kwp": float(t["hosting_capacity_kwp"].sum()),
                "nonconverged_hours": float(self.nonconverged_hours)}


STUDY_NAMESPACE = "study"
AUTO_MAX_BUILDINGS = 3000      # larger districts run the power flow on request only


def study_key(district: District, scenario: Scenario) -> str:
    return f"{district.content_hash}:{scenario.content_hash()}"


def cached_study(district: District, scenario: Scenario) -> GridStudy | None:
    """The power-flow study of exactly this district and scenario if any process of this
    server computed it; else None (a damaged, foreign or other scenario's entry is a miss)."""
    hit = shared().get(STUDY_NAMESPACE, study_key(district, scenario), GridStudy)
    if hit is None or hit.district_hash != district.content_hash \
            or hit.scenario_hash != scenario.content_hash():
        return None
    return hit


def store_study(district: District, scenario: Scenario, study: GridStudy) -> None:
    """Share a study with every process (written before returning: the job that computed it
    reports "ready" only once it can be read)."""
    shared().set(STUDY_NAMESPACE, study_key(district, scenario), study)


def limits_of(district: District) -> dict[str, float]:
    a = district.assumptions
    return {"voltage_max_pu": a.number("grid.voltage_max_pu"),
            "voltage_min_pu": a.number("grid.voltage_min_pu"),
            "loading_max_pct": a.number("grid.loading_max_pct")}


def _community_kw(district: District, scenario: Scenario) -> np.ndarray | None:
    """Hourly power of each community battery (K, T), charge positive."""
    if not scenario.community_batteries:
        return None
    from dashboard.energy import grid as g
    from dashboard.scenarios import evaluate

    result = evaluate(district, scenario, resilience=False)
    return np.stack([s[g.S_NET].astype(np.float64) - s[g.S_NET_BTM].astype(np.float64)
                     for s in result.transformer_series])


def _island_key(district: District, nm: NetModel, pl: Placements, island: int,
                community: np.ndarray | None, hosting: bool) -> str:
    rows = np.flatnonzero(nm.building_island == island)
    trs = np.flatnonzero(nm.transformer_island == island)
    h = hashlib.sha256(f"{district.content_hash}|{island}|{int(hosting)}|{pl.eta_c!r}|"
                       f"{pl.eta_d!r}".encode())
    for arr in (pl.kwp[rows], pl.pv_idx[rows], pl.tilt_deg[rows], pl.azimuth_deg[rows],
                pl.cap_kwh[rows], pl.battery_kw[rows], pl.soc0_kwh[rows]):
        h.update(np.ascontiguousarray(arr).tobytes())
    if community is not None and len(trs):
        h.update(np.ascontiguousarray(community[trs]).tobytes())
    return h.hexdigest()[:32]


_islands: Memo[str, tuple[IslandYear, list[Hosting]]] = Memo(256)


def clear_grid_cache() -> None:
    _islands.clear()
    _nets.clear()


def _runpp_fallback(nm: NetModel, island: int, p_kw: np.ndarray, d_kw: np.ndarray,
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


def grid_study(district: District, scenario: Scenario | None = None, *, hosting: bool = True,
               progress: Progress | None = None) -> GridStudy:
    """Full-year AC power flow of ``scenario`` (default: no DER) on ``district``, with the
    hosting capacity of every transformer when ``hosting``. See the module docstring."""
    scenario = scenario if scenario is not None else Scenario(name="Baseline (no DER)")
    step = progress or (lambda f, m: None)
    t0 = time.perf_counter()
    step(0.02, "Building the network model")
    nm = net_model(district)
    model = district_model(district)
    pl = build_placements(model, scenario)
    limits = limits_of(district)
    tan_phi = float(np.tan(np.arccos(model.power_factor)))
    community = _community_kw(district, scenario)
    t1 = time.perf_counter()
    years: dict[int, IslandYear] = {}
    hostings: dict[int, list[Hosting]] = {}
    solve_ms = hosting_ms = 0.0
    n_isl = nm.n_islands
    cache = shared()
    for i in range(n_isl):
        key = _island_key(district, nm, pl, i, community, hosting)
        hit = _islands.get(key)
        if hit is None:                 # computed by another process (a job)?
            found = cache.get("island", key, tuple)
            if (found is not None and len(found) == 2 and isinstance(found[0], IslandYear)
                    and isinstance(found[1], list)):
                hit = found
        if hit is not None:
            years[i], hostings[i] = hit
            _islands.put(key, hit)
            continue
        step(0.05 + 0.9 * i / max(n_isl, 1), f"Power flow, island {i + 1} of {n_isl}")
        ts = time.perf_counter()
        inj = island_injections(nm, model, pl, i, community)
        s = _s_pu(nm, inj.p_kw, inj.d_kw, tan_phi)
        years[i] = solve_island_year(nm, i, s, limits,
                                     _runpp_fallback(nm, i, inj.p_kw, inj.d_kw, tan_phi))
        th = time.perf_counter()
        solve_ms += 1e3 * (th - ts)
        hs = []
        if hosting:
            for tr in np.flatnonzero(nm.transformer_island == i):
                try:
                    hs.append(hosting_capacity(nm, model, pl, int(tr), s, limits))
                except DecentraError as err:   # one transformer's search, not the study
                    hs.append(Hosting(str(model.transformer_ids[tr]), float("nan"),
                                      f"not computed: {err.message}", -1, "", False, 0))
        hosting_ms += 1e3 * (time.perf_counter() - th)
        hostings[i] = hs
        _islands.put(key, (years[i], hs))
        cache.set("island", key, (years[i], hs), background=True)
    step(0.97, "Collecting results")
    study = _assemble(district, scenario, nm, model, years, hostings, limits, hosting)
    study.timings_ms.update({"model_ms": 1e3 * (t1 - t0), "power_flow_ms": solve_ms,
                             "hosting_ms": hosting_ms,
                             "total_ms": 1e3 * (time.perf_counter() - t0)})
    step(1.0, "")
    return study


def _assemble(district: District, scenario: Scenario, nm: NetModel, model: DistrictModel,
              years: dict[int, IslandYear], hostings: dict[int, list[Hosting]],
              limits: dict[str, float], hosting: bool) -> GridStudy:
    g = nm.grid
    net = nm.dnet.net
    tids = [str(t) for t in model.transformer_ids]
    bt = nm.bus_table
    bus_rows = []
    line_stats = {}
    trafo_stats = {}
    nonconv = 0
    fallback = 0
    for i, y in years.items():
        isl = g.islands[i]
        buses = np.concatenate([isl.pq, isl.slack])
        for j, ppc in enumerate(buses):
            bus_rows.append((int(ppc), y.vm_max_bus[j], y.vm_min_bus[j], int(y.over_hours_bus[j]),
                             int(y.under_hours_bus[j])))
        for r, m, h in zip(y.line_rows, y.line_max, y.line_over_hours, strict=True):
            line_stats[int(r)] = (float(m), int(h))
        for r, m, h in zip(y.trafo_rows, y.trafo_max, y.trafo_over_hours, strict=True):
            trafo_stats[int(r)] = (float(m), int(h))
        nonconv += len(y.nonconverged)
        fallback += len(y.fallback)
    per_ppc = pd.DataFrame(bus_rows, columns=["ppc", "vm_max_pu", "vm_min_pu",
                                              "overvoltage_hours", "undervoltage_hours"])
    buses = bt.merge(per_ppc, on="ppc", how="inner")
    buses["transformer_id"] = [tids[o] if o >= 0 else None for o in buses["owner"]]
    lt = nm.line_table.copy()
    lt["loading_max_pct"] = [line_stats.get(r, (np.nan, 0))[0] for r in range(len(lt))]
    lt["overload_hours"] = [line_stats.get(r, (np.nan, 0))[1] for r in range(len(lt))]
    lt["transformer_id"] = [tids[o] if o >= 0 else None for o in lt["owner"]]
    lines = lt.set_index("line_id")

    rows = []
    hourly: dict[str, pd.DataFrame] = {}
    for k, tid in enumerate(tids):
        i = int(nm.transformer_island[k])
        mine = buses[buses["owner"] == k]
        my_lines = lines[lines["transformer_id"] == tid]
        r = int(nm.dnet.transformer_trafo[k])
        tpos = int(np.flatnonzero(net.trafo.index == r)[0]) if r in net.trafo.index else -1
        tmax, tover = trafo_stats.get(tpos, (np.nan, 0))
        hs = next((h for h in hostings.get(i, []) if h.transformer_id == tid), None)
        yi = years.get(i)
        # hours (not element-hours): any bus behind the transformer above / below the limit,
        # any of its lines or the transformer itself above its rating
        gi = int(np.flatnonzero(yi.groups == k)[0]) if yi is not None and (
            yi.groups == k).any() else -1
        if gi >= 0 and yi is not None:
            vmx, vmn, ldx = yi.vm_max_t[gi], yi.vm_min_t[gi], yi.loading_max_t[gi]
            with np.errstate(invalid="ignore"):
                hours_over = int((vmx > limits["voltage_max_pu"]).sum())
                hours_under = int((vmn < limits["voltage_min_pu"]).sum())
                hours_load = int((ldx > limits["loading_max_pct"]).sum())
        else:
            vmx = vmn = ldx = np.full(len(model.hourly_index), np.nan, np.float32)
            hours_over = hours_under = hours_load = 0
        rows.append({
            "transformer_id": tid,
            "vm_max_pu": float(mine["vm_max_pu"].max()) if len(mine) else np.nan,
            "vm_min_pu": float(mine["vm_min_pu"].min()) if len(mine) else np.nan,
            "overvoltage_hours": hours_over,
            "undervoltage_hours": hours_under,
            "line_loading_max_pct": float(my_lines["loading_max_pct"].max())
            if len(my_lines) else np.nan,
            "trafo_loading_max_pct": tmax,
            "trafo_overload_hours": int(tover),
            "overload_hours": hours_load,
            "hosting_capacity_kwp": hs.kwp if hs else np.nan,
            "hosting_at_cap": bool(hs.at_cap) if hs else False,
            "hosting_limit": hs.limit if hs else ("not computed" if not hosting else ""),
            "hosting_element": hs.element if hs else "",
            "hosting_hour": hs.hour if hs else -1,
            "nonconverged_hours": len(yi.nonconverged) if yi else 0,
        })
        if yi is not None:
            hourly[tid] = pd.DataFrame({"vm_max_pu": vmx, "vm_min_pu": vmn,
                                        "loading_max_pct": ldx}, index=model.hourly_index)
    transformers = pd.DataFrame(rows).set_index("transformer_id")
    violations = _violation_table(buses, lines, transformers, net, nm, limits)
    notes = list(nm.notes)
    if nonconv:
        notes.append(f"{nonconv} hours did not converge in either solver and are left out "
                     "of the statistics")
    return GridStudy(district.content_hash, scenario.content_hash(), transformers,
                     buses.drop(columns=["owner"]).reset_index(drop=True), lines, violations,
                     hourly, nonconv, fallback, nonconv == 0, limits, tuple(notes))


def _violation_table(buses: pd.DataFrame, lines: pd.DataFrame, transformers: pd.DataFrame,
                     net: Any, nm: NetModel, limits: dict[str, float]) -> pd.DataFrame:
    rows = []
    for r in buses[buses["overvoltage_hours"] > 0].itertuples():
        rows.append({"kind": "overvoltage", "element": f"bus {net.bus['name'].get(r.bus, r.bus)}",
                     "transformer_id": r.transformer_id, "worst": r.vm_max_pu, "unit": "pu",
                     "hours": r.overvoltage_hours, "lon": r.lon, "lat": r.lat})
    for r in buses[buses["undervoltage_hours"] > 0].itertuples():
        rows.append({"kind": "undervoltage",
                     "element": f"bus {net.bus['name'].get(r.bus, r.bus)}",
                     "transformer_id": r.transformer_id, "worst": r.vm_min_pu, "unit": "pu",
                     "hours": r.undervoltage_hours, "lon": r.lon, "lat": r.lat})
    for lid, r in lines[lines["overload_hours"] > 0].iterrows():
        rows.append({"kind": "line overload", "element": f"line {lid}",
                     "transformer_id": r["transformer_id"], "worst": r["loading_max_pct"],
                     "unit": "%", "hours": int(r["overload_hours"]), "lon": r["lon"],
                     "lat": r["lat"]})
    for tid, r in transformers[transformers["trafo_loading_max_pct"]
                               > limits["loading_max_pct"]].iterrows():
        k = list(transformers.index).index(tid)
        lv = nm.dnet.transformer_bus[k]
        row = nm.bus_table[nm.bus_table["bus"] == lv]
        rows.append({"kind": "transformer overload", "element": f"transformer {tid}",
                     "transformer_id": tid, "worst": r["trafo_loading_max_pct"], "unit": "%",
                     "hours": int(r["trafo_overload_hours"]),
                     "lon": float(row["lon"].iloc[0]) if len(row) else np.nan,
                     "lat": float(row["lat"].iloc[0]) if len(row) else np.nan})
    frame = pd.DataFrame(rows, columns=["kind", "element", "transformer_id", "worst", "unit",
                                        "hours", "lon", "lat"])
    return frame.sort_values(["hours", "kind"], ascending=[False, True]).reset_index(drop=True)
