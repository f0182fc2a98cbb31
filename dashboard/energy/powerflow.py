"""Full-year AC power flow, every hour at once, on pandapower's admittance model.

The network's bus admittance matrix ``Y`` (built by pandapower's own ``pd2ppc`` + ``makeYbus``,
so lines, transformers with their taps and phase shifts, and shunts are modelled exactly as in
``pandapower.runpp``) is split, per electrical island, into the slack buses ``s`` (ext_grid:
fixed voltage) and the others ``p`` (PQ: given injections). Kirchhoff's current law at the
PQ buses,

    Y_pp V_p + Y_ps V_s = I_p = conj(S_p / V_p),

is solved by the fixed-point (implicit Z-bus) iteration

    V_p <- Y_pp^-1 ( conj(S_p / V_p) - Y_ps V_s ),

with ``Y_pp`` factorized once (sparse LU) and every hour of the year a column of one
right-hand-side matrix, so an iteration costs one sparse triangular solve for all hours. Hours
stop iterating as soon as their voltages move less than ``tol`` (1e-9 pu by default; the
iteration contracts, so the remaining error is smaller still, and ``runpp`` itself stops at a
1e-8 MVA mismatch). For distribution grids the iteration
contracts by roughly the relative voltage drop per step, so 5-15 iterations suffice; hours
that do not converge are reported, never returned as results (the caller falls back to
pandapower's Newton-Raphson for them).

Only PQ injections and slack buses are supported (no voltage-controlled generators): that is
what distribution networks with loads, PV and storage are.

References: T.-H. Chen, M.-S. Chen et al., "Distribution system power flow analysis - a rigid
approach", IEEE Trans. Power Delivery 6(3), 1991 (implicit Z-bus method); pandapower power flow
documentation (bus-branch model, pd2ppc).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numba import njit
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import splu

SQRT3 = float(np.sqrt(3.0))


DENSE_MAX_BUSES = 2500      # islands up to this size use a dense Z = Y_pp^-1 (one zgemm)


@dataclass(frozen=True, eq=False)
class Island:
    """One electrically connected part of the network with at least one slack bus."""

    buses: np.ndarray          # ppc bus indices (slack buses included)
    pq: np.ndarray             # ppc indices of the PQ buses
    slack: np.ndarray          # ppc indices of the slack buses
    v_slack: np.ndarray        # (n_slack,) complex slack voltages [pu]
    lu: object                 # scipy SuperLU of Y_pp
    z: np.ndarray | None       # dense Y_pp^-1 for small islands (a matrix product per step)
    zt: np.ndarray | None      # its transpose, contiguous (hour rows times zt)
    y_ps: sp.csr_matrix        # (n_pq, n_slack)
    v_noload: np.ndarray       # (n_pq,) voltages with no injections [pu]

    def apply_z(self, rhs: np.ndarray) -> np.ndarray:
        """Y_pp^-1 @ rhs."""
        if self.z is not None:
            return self.z @ rhs
        return self.lu.solve(rhs)  # type: ignore[attr-defined]


@dataclass(frozen=True, eq=False)
class GridModel:
    """The admittance model of a network and what is needed to turn voltages into line and
    transformer loadings the way pandapower does (``res_line.loading_percent``,
    ``res_trafo.loading_percent`` with ``trafo_loading="current"``)."""

    n_bus: int                              # ppc buses
    base_mva: float
    base_kv: np.ndarray                     # (n_bus,) nominal voltage of each ppc bus [kV]
    ppc_of_bus: dict[int, int]              # pandapower bus index -> ppc bus index
    islands: tuple[Island, ...]
    island_of: np.ndarray                   # (n_bus,) island of each ppc bus, -1: not fed
    yf: sp.csr_matrix                       # (n_branch, n_bus): branch current at the from end
    yt: sp.csr_matrix
    f_bus: np.ndarray                       # (n_branch,) ppc bus at the from / to end
    t_bus: np.ndarray
    line_rows: tuple[int, int]              # branch rows of net.line (in net.line order)
    line_index: np.ndarray                  # pandapower line index of each line row
    line_imax_ka: np.ndarray                # max_i_ka * df * parallel
    trafo_rows: tuple[int, int]
    trafo_index: np.ndarray
    trafo_vn_kv: np.ndarray                 # (n_trafo, 2) hv, lv
    trafo_sn_mva: np.ndarray                # sn_mva * parallel * df
    extra: dict = field(default_factory=dict)

    def ppc_buses(self, buses: np.ndarray) -> np.ndarray:
        """ppc bus index of each pandapower bus (-1 where the bus is not in the model)."""
        return np.array([self.ppc_of_bus.get(int(b), -1) for b in buses], dtype=np.int64)


def make_islands(ybus: sp.csr_matrix, slack: np.ndarray, v_slack: np.ndarray,
                 live: np.ndarray) -> tuple[tuple[Island, ...], np.ndarray]:
    """Split the network into islands (connected through nonzero admittances, among ``live``
    buses) and factorize each island's ``Y_pp``. Islands without a slack bus are not fed:
    their buses get island -1."""
    n = ybus.shape[0]
    live_idx = np.flatnonzero(live)
    sub = ybus[live_idx][:, live_idx]
    pattern = sp.csr_matrix((np.ones(sub.nnz, dtype=np.int8), sub.indices, sub.indptr),
                            shape=sub.shape)              # connectivity, not the values
    n_comp, labels = connected_components(pattern, directed=False)
    island_of = np.full(n, -1, dtype=np.int64)
    slack_pos = {int(b): i for i, b in enumerate(slack)}
    islands: list[Island] = []
    for c in range(n_comp):
        buses = live_idx[labels == c]
        s_mask = np.array([int(b) in slack_pos for b in buses])
        if not s_mask.any():
            continue
        s_buses = buses[s_mask]
        pq = buses[~s_mask]
        vs = np.array([v_slack[slack_pos[int(b)]] for b in s_buses], dtype=complex)
        y_pp = ybus[pq][:, pq].tocsc().astype(complex)
        y_ps = ybus[pq][:, s_buses].tocsr().astype(complex)
        lu = splu(y_pp) if len(pq) else None
        z = (lu.solve(np.eye(len(pq), dtype=complex))
             if lu is not None and len(pq) <= DENSE_MAX_BUSES else None)
        v0 = lu.solve(-(y_ps @ vs)) if lu is not None else np.zeros(0, complex)
        island_of[buses] = len(islands)
        zt = np.ascontiguousarray(z.T) if z is not None else None
        islands.append(Island(buses, pq, s_buses, vs, lu, z, zt, y_ps, v0))
    return tuple(islands), island_of


@dataclass(frozen=True)
class IslandSolution:
    v_pq: np.ndarray          # (n_pq, T) complex voltages [pu]
    converged: np.ndarray     # (T,) bool
    iterations: np.ndarray    # (T,) iterations used per hour


@njit(cache=True, nogil=True)
def _currents(s: np.ndarray, v: np.ndarray, base: np.ndarray, out: np.ndarray, k: int
              ) -> None:
    """out[:k] = conj(s / v) + base for the first ``k`` hours (rows; buses are columns):
    the PQ buses' injected currents, in real arithmetic (no complex division)."""
    n = s.shape[1]
    for t in range(k):
        for i in range(n):
            x = s[t, i]
            y = v[t, i]
            inv = 1.0 / (y.real * y.real + y.imag * y.imag)
            out[t, i] = complex((x.real * y.real + x.imag * y.imag) * inv + base[i].real,
                                (x.real * y.imag - x.imag * y.real) * inv + base[i].imag)


@njit(cache=True, nogil=True)
def _step2(vn: np.ndarray, v: np.ndarray, k: int, out: np.ndarray) -> None:
    """out[t] = the largest squared voltage change of hour t (t < k); NaN if a voltage
    collapsed (|V| < 0.2 pu) or is not finite."""
    n = vn.shape[1]
    for t in range(k):
        worst = 0.0
        for i in range(n):
            x = vn[t, i]
            mag2 = x.real * x.real + x.imag * x.imag
            if not (mag2 > 0.04):              # collapse, NaN or inf
                worst = np.nan
                break
            d = x - v[t, i]
            d2 = d.real * d.real + d.imag * d.imag
            if d2 > worst:
                worst = d2
        out[t] = worst


@njit(cache=True, nogil=True)
def _compact(keep: np.ndarray, arrays: tuple) -> None:
    """Move the rows flagged in ``keep`` to the front of each array, in order."""
    j = 0
    for t in range(keep.shape[0]):
        if keep[t]:
            if j != t:
                for a in arrays:
                    a[j, :] = a[t, :]
            j += 1


BLOCK_BYTES = 1 << 20       # hours are iterated in blocks of about this many bytes per array
# threads per solve: DECENTRA_SOLVER_THREADS (background job workers set 1), else the CPU count
DEFAULT_WORKERS: int | None = int(os.environ["DECENTRA_SOLVER_THREADS"]) \
    if os.environ.get("DECENTRA_SOLVER_THREADS", "").isdigit() else None


def _solve_blocks(island: Island, s_all: np.ndarray, starts: list[int], block: int,
                  tol: float, max_iter: int, out: np.ndarray, converged: np.ndarray,
                  iterations: np.ndarray) -> None:
    """Iterate the blocks of hours beginning at ``starts`` (one worker's share)."""
    n_t, n_pq = s_all.shape
    base = np.ascontiguousarray(-(island.y_ps @ island.v_slack))
    zt = island.zt
    m = min(block, n_t)
    v = np.empty((m, n_pq), dtype=np.complex128)
    cur = np.empty_like(v)
    vn = np.empty_like(v)
    s = np.empty_like(v)
    step2 = np.empty(m)
    tol2 = tol * tol
    for lo in starts:
        hours = np.arange(lo, min(n_t, lo + block))
        k = len(hours)
        s[:k] = s_all[hours]
        v[:k] = island.v_noload[None, :]
        for _ in range(max_iter):
            _currents(s, v, base, cur, k)
            if zt is not None:
                np.matmul(cur[:k], zt, out=vn[:k])
            else:
                vn[:k] = island.lu.solve(cur[:k].T).T  # type: ignore[attr-defined]
            _step2(vn, v, k, step2)
            h = hours[:k]
            iterations[h] += 1
            st = step2[:k]
            settled = st < tol2              # NaN compares False
            finished = settled | ~np.isfinite(st)
            if finished.any():
                out[h[finished]] = vn[:k][finished]
                converged[h[settled]] = True
            alive = ~finished
            n_alive = int(alive.sum())
            if n_alive == 0:
                k = 0
                break
            if n_alive < k:
                _compact(alive, (vn, s))
                hours[:n_alive] = h[alive]
                k = n_alive
            v, vn = vn, v                    # the new voltages become the current ones
        if k:                                # still moving after max_iter: not converged
            out[hours[:k]] = v[:k]


def solve_island_rows(island: Island, s_rows: np.ndarray, tol: float = 1e-9,
                      max_iter: int = 60, workers: int | None = None
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`solve_island` with hours as rows: injections (T, n_pq) in, voltages (T, n_pq),
    converged (T,) and iterations (T,) out (no transposes on the way)."""
    n_t, n_pq = s_rows.shape
    converged = np.zeros(n_t, dtype=bool)
    iterations = np.zeros(n_t, dtype=np.int64)
    out = np.empty((n_t, n_pq), dtype=np.complex128)
    if n_pq == 0:
        return out, np.ones(n_t, dtype=bool), iterations
    s_all = np.ascontiguousarray(s_rows, dtype=np.complex128)
    block = int(max(32, min(n_t, BLOCK_BYTES // (16 * n_pq))))
    starts = list(range(0, n_t, block))
    workers = min(workers or DEFAULT_WORKERS or os.cpu_count() or 1, len(starts))
    if workers <= 1:
        _solve_blocks(island, s_all, starts, block, tol, max_iter, out, converged, iterations)
    else:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, "blas"), ThreadPoolExecutor(workers) as pool:
            jobs = [pool.submit(_solve_blocks, island, s_all, starts[w::workers], block, tol,
                                max_iter, out, converged, iterations)
                    for w in range(workers)]
            for job in jobs:
                job.result()
    return out, converged, iterations


def solve_island(island: Island, s_pq: np.ndarray, tol: float = 1e-9,
                 max_iter: int = 60, workers: int | None = None) -> IslandSolution:
    """Voltages of the island's PQ buses for injections ``s_pq`` (n_pq, T) [complex pu,
    generation positive], all hours at once. Hours whose voltages stop moving (max |dV| <
    ``tol``) drop out of the iteration; hours that diverge or still move after ``max_iter``
    iterations are marked not converged.

    Hours are independent, so they are iterated in blocks small enough for the CPU cache
    (the step is memory-bound on the full year), the blocks shared among ``workers`` threads
    (default: the CPU count; each runs single-threaded BLAS); within a block hours are rows,
    and a converged hour leaves by compacting rows in place."""
    v, converged, iterations = solve_island_rows(island, s_pq.T, tol, max_iter, workers)
    return IslandSolution(np.ascontiguousarray(v.T), converged, iterations)


@dataclass(frozen=True)
class Flows:
    """Bus voltages and branch loadings for a block of hours (columns)."""

    v: np.ndarray                 # (n_bus, T) complex [pu]; NaN for buses not fed
    line_loading_pct: np.ndarray  # (n_line, T)
    trafo_loading_pct: np.ndarray  # (n_trafo, T)
    converged: np.ndarray         # (T,) every island converged in that hour
    iterations: np.ndarray        # (T,) most iterations of any island


def solve(model: GridModel, s_bus: np.ndarray, tol: float = 1e-9,
          max_iter: int = 60) -> Flows:
    """Voltages and loadings for injections ``s_bus`` (n_bus, T) [complex MVA at ppc buses,
    generation positive, i.e. -(P_load + jQ_load)]."""
    n_t = s_bus.shape[1]
    v = np.full((model.n_bus, n_t), np.nan + 0j)
    converged = np.ones(n_t, dtype=bool)
    iterations = np.zeros(n_t, dtype=np.int64)
    for isl in model.islands:
        sol = solve_island(isl, s_bus[isl.pq] / model.base_mva, tol, max_iter)
        v[isl.pq] = sol.v_pq
        v[isl.slack] = isl.v_slack[:, None]
        converged &= sol.converged
        iterations = np.maximum(iterations, sol.iterations)
    line, trafo = branch_loading(model, v)
    return Flows(v, line, trafo, converged, iterations)


def branch_loading(model: GridModel, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Line and transformer loading [%] from bus voltages, as pandapower computes them: the
    current at each end, I = |S| / (sqrt(3) |V| V_base) = |Y_f V| S_base / (sqrt(3) V_base),
    loading = the larger end current over the rating (transformers: over the rated current
    of each side). Branches of buses that are not fed get NaN."""
    fed = np.isfinite(v[:, 0]) if v.shape[1] else np.ones(v.shape[0], dtype=bool)
    vz = v if fed.all() else np.where(np.isfinite(v), v, 0.0)
    scale_f = model.base_mva / (SQRT3 * model.base_kv[model.f_bus])
    scale_t = model.base_mva / (SQRT3 * model.base_kv[model.t_bus])
    ka_f = np.abs(model.yf @ vz) * scale_f[:, None]
    ka_t = np.abs(model.yt @ vz) * scale_t[:, None]
    dead = ~(fed[model.f_bus] & fed[model.t_bus])
    if dead.any():
        ka_f[dead] = np.nan
        ka_t[dead] = np.nan
    a, b = model.line_rows
    line = np.maximum(ka_f[a:b], ka_t[a:b]) / model.line_imax_ka[:, None] * 100.0
    a, b = model.trafo_rows
    if b > a:
        lds = np.maximum(ka_f[a:b] * model.trafo_vn_kv[:, :1], ka_t[a:b] * model.trafo_vn_kv[:, 1:])
        trafo = lds * SQRT3 / model.trafo_sn_mva[:, None] * 100.0
    else:
        trafo = np.zeros((0, v.shape[1]))
    return line, trafo


# ---- branch loadings and statistics, one pass over the voltages ------------------------------
@dataclass(frozen=True, eq=False)
class BranchSet:
    """Branches of an island as two-bus current equations: I_f = yff V_f + yft V_t,
    I_t = ytf V_f + ytt V_t, with voltages indexed by island column (PQ buses, then slack).
    Lines first (``n_lines``), then transformers."""

    fcol: np.ndarray
    tcol: np.ndarray
    y: np.ndarray              # (n, 4) complex: yff, yft, ytf, ytt
    scale_f: np.ndarray        # kA per pu current at each end
    scale_t: np.ndarray
    rating: np.ndarray         # lines: imax [kA]; transformers: sn [MVA]
    vn_f: np.ndarray           # transformers: rated kV of each side (lines: unused)
    vn_t: np.ndarray
    n_lines: int


def branch_set(yf: sp.csr_matrix, yt: sp.csr_matrix, fcol: np.ndarray, tcol: np.ndarray,
               scale_f: np.ndarray, scale_t: np.ndarray, imax_ka: np.ndarray,
               vn_kv: np.ndarray, sn_mva: np.ndarray) -> BranchSet:
    """From island-restricted branch matrices (rows: lines then transformers)."""
    yf, yt = yf.tocsr(), yt.tocsr()
    n = yf.shape[0]
    rows = np.arange(n)
    y = np.zeros((n, 4), dtype=complex)
    y[:, 0] = np.asarray(yf[rows, fcol]).ravel()
    y[:, 1] = np.asarray(yf[rows, tcol]).ravel()
    y[:, 2] = np.asarray(yt[rows, fcol]).ravel()
    y[:, 3] = np.asarray(yt[rows, tcol]).ravel()
    n_lines = len(imax_ka)
    rating = np.concatenate([imax_ka, sn_mva]).astype(float)
    vn_f = np.concatenate([np.zeros(n_lines), vn_kv[:, 0]]) if len(vn_kv) else np.zeros(n)
    vn_t = np.concatenate([np.zeros(n_lines), vn_kv[:, 1]]) if len(vn_kv) else np.zeros(n)
    return BranchSet(fcol.astype(np.int64), tcol.astype(np.int64), y, scale_f.astype(float),
                     scale_t.astype(float), rating, vn_f, vn_t, n_lines)


@njit(cache=True, nogil=True)
def _fill_loading(v, v_slack, fcol, tcol, y, scale_f, scale_t, rating, vn_f, vn_t, n_lines,
                  t, buf):
    """buf[r] = loading [%] of branch r in hour-row t (voltages: PQ columns of ``v``, then
    ``v_slack``). Squared magnitudes and one square root (complex abs is a slow hypot)."""
    n_pq = v.shape[1]
    for r in range(fcol.shape[0]):
        cf = fcol[r]
        ct = tcol[r]
        vf = v[t, cf] if cf < n_pq else v_slack[cf - n_pq]
        vt = v[t, ct] if ct < n_pq else v_slack[ct - n_pq]
        ifr = y[r, 0].real * vf.real - y[r, 0].imag * vf.imag \
            + y[r, 1].real * vt.real - y[r, 1].imag * vt.imag
        ifi = y[r, 0].real * vf.imag + y[r, 0].imag * vf.real \
            + y[r, 1].real * vt.imag + y[r, 1].imag * vt.real
        itr = y[r, 2].real * vf.real - y[r, 2].imag * vf.imag \
            + y[r, 3].real * vt.real - y[r, 3].imag * vt.imag
        iti = y[r, 2].real * vf.imag + y[r, 2].imag * vf.real \
            + y[r, 3].real * vt.imag + y[r, 3].imag * vt.real
        kf2 = (ifr * ifr + ifi * ifi) * scale_f[r] * scale_f[r]
        kt2 = (itr * itr + iti * iti) * scale_t[r] * scale_t[r]
        if r < n_lines:
            m2 = kf2 if kf2 > kt2 else kt2
            buf[r] = np.sqrt(m2) / rating[r] * 100.0
        else:
            a2 = kf2 * vn_f[r] * vn_f[r]
            b2 = kt2 * vn_t[r] * vn_t[r]
            m2 = a2 if a2 > b2 else b2
            buf[r] = np.sqrt(m2) * 1.7320508075688772 / rating[r] * 100.0


@njit(cache=True, nogil=True)
def loading_matrix(v, v_slack, fcol, tcol, y, scale_f, scale_t, rating, vn_f, vn_t, n_lines):
    """Loading [%] of every branch (rows) in every hour (columns) of the hour-row voltages
    ``v`` (T, n_pq) and slack voltages ``v_slack``."""
    n, m = fcol.shape[0], v.shape[0]
    out = np.empty((m, n))
    for t in range(m):
        _fill_loading(v, v_slack, fcol, tcol, y, scale_f, scale_t, rating, vn_f, vn_t,
                      n_lines, t, out[t])
    return out.T.copy()


@njit(cache=True, nogil=True)
def loading_stats(v, v_slack, fcol, tcol, y, scale_f, scale_t, rating, vn_f, vn_t, n_lines,
                  limit, group, b_max, b_over, g_max):
    """Per branch: the largest loading (into ``b_max``) and the hours above ``limit`` (added
    to ``b_over``); per group of branches (``group[r]``, e.g. the transformer feeding it) and
    hour: the largest loading in the group (``g_max[g, t]``, start it at 0)."""
    n, m = fcol.shape[0], v.shape[0]
    buf = np.empty(n)
    for t in range(m):
        _fill_loading(v, v_slack, fcol, tcol, y, scale_f, scale_t, rating, vn_f, vn_t,
                      n_lines, t, buf)
        for r in range(n):
            x = buf[r]
            if x > b_max[r]:
                b_max[r] = x
            if x > limit:
                b_over[r] += 1
            g = group[r]
            if x > g_max[g, t]:
                g_max[g, t] = x


@njit(cache=True, nogil=True)
def voltage_stats(v, v_slack, vmax, vmin, group, b_max, b_min, b_over, b_under, g_max, g_min):
    """Per bus (PQ columns of ``v``, then the slack buses): highest and lowest |V| and hours
    above ``vmax`` / below ``vmin``; per group of buses (``group[c]``) and hour (rows): the
    highest and lowest |V| in the group (``g_max`` / ``g_min``, start them at -inf / inf)."""
    m, n_pq = v.shape
    n_s = v_slack.shape[0]
    for t in range(m):
        for c in range(n_pq + n_s):
            x = v[t, c] if c < n_pq else v_slack[c - n_pq]
            a = np.sqrt(x.real * x.real + x.imag * x.imag)
            if a > b_max[c]:
                b_max[c] = a
            if a < b_min[c]:
                b_min[c] = a
            if a > vmax:
                b_over[c] += 1
            if a < vmin:
                b_under[c] += 1
            g = group[c]
            if a > g_max[g, t]:
                g_max[g, t] = a
            if a < g_min[g, t]:
                g_min[g, t] = a
