"""Outage survival, REopt's outage-simulator method, computed exactly in O(n log n).

For an outage starting at every hour h of the year, the grid disappears and the critical load
``c`` must be fully served by PV ``g`` and the battery, which starts at its grid-connected state
of charge ``s_h``. Survival is the number of consecutive hours fully served, up to the horizon H
(outages that run past 31 December wrap round to 1 January, as the year is typical).

During an outage each hour moves the state of charge by a fixed amount independent of the state
itself, except for the two bounds:

    surplus x = g - c >= 0:  delta = min(x, P) * eta_c   (excess PV is curtailed)
    deficit x < 0:           delta = x / eta_d, and the hour fails outright if -x > P

With prefix sums ``C`` of ``delta``, an outage from h with state s fails at the first j with
``C[j] < C[h] - s`` (the battery runs dry) or at a hard-fail hour, unless first the battery is
full, at the first j with ``C[j] >= C[h] - s + E``. From a full battery at j the future no longer
depends on h, so ``F[j]``, the survival from a full battery at j, is computed once (backwards) and
reused. The "first j" queries are answered by galloping searches over two monotone stacks (next
smaller / next greater chains of C), so each start costs O(log H), not H steps.

A brute-force reference (simulate every start hour by hour) lives in the tests; the two agree
exactly on exactly representable inputs.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from dashboard.energy.storage import greedy_step


@njit(cache=True, inline="always")
def _gallop(stk_pos, stk_val, sp, theta, limit, below):
    """First depth i (0 = top) whose entry satisfies ``val < theta`` (``below``) or
    ``val >= theta`` (not ``below``), or lies beyond ``limit``; -1 if none.

    Along a chain positions increase and values are monotone, so the predicate is monotone in
    the depth: probe depths 0, 1, 3, 7, ... then bisect.
    """
    if sp == 0:
        return -1
    lo = -1
    hi = 0
    while True:
        e = sp - 1 - hi
        if stk_pos[e] > limit or ((stk_val[e] < theta) if below else (stk_val[e] >= theta)):
            break
        lo = hi
        hi = 2 * hi + 1
        if hi >= sp:
            hi = sp - 1
            e = 0
            if not (stk_pos[e] > limit
                    or ((stk_val[e] < theta) if below else (stk_val[e] >= theta))):
                return -1
            break
    while hi - lo > 1:
        mid = (lo + hi) // 2
        e = sp - 1 - mid
        if stk_pos[e] > limit or ((stk_val[e] < theta) if below else (stk_val[e] >= theta)):
            hi = mid
        else:
            lo = mid
    return hi


@njit(cache=True)
def survival_hist(crit_kw, pv_kw, soc_start_kwh, cap_kwh, power_kw, eta_c, eta_d, horizon,
                  hist):
    """Add the survival hours of outages starting at each hour into ``hist`` (length H + 1).

    crit_kw, pv_kw, soc_start_kwh: (T,) series; the battery has usable capacity ``cap_kwh`` and
    power ``power_kw`` (0 for none).
    """
    n = crit_kw.shape[0]
    big = n + horizon + 1
    if cap_kwh <= 0.0 or power_kw <= 0.0:
        # No storage: survival is the run of hours with PV >= critical load.
        run = 0
        # seed the wrap-around: runs continuing from the start of the year
        lead = 0
        while lead < n and pv_kw[lead] >= crit_kw[lead]:
            lead += 1
        if lead == n:
            hist[horizon] += n
            return
        run = lead
        for h in range(n - 1, -1, -1):
            if pv_kw[h] >= crit_kw[h]:
                run += 1
            else:
                run = 0
            hist[min(run, horizon)] += 1
        return

    length = n + horizon
    cvals = np.empty(length + 1)
    hard_next = np.empty(length + 1, np.int64)
    cvals[0] = 0.0
    for t in range(length):
        tt = t % n if t >= n else t
        x = pv_kw[tt] - crit_kw[tt]
        delta = min(x, power_kw) * eta_c if x >= 0.0 else x / eta_d
        cvals[t + 1] = cvals[t] + delta
    hard_next[length] = big
    for t in range(length - 1, -1, -1):
        tt = t % n if t >= n else t
        if crit_kw[tt] - pv_kw[tt] > power_kw:
            hard_next[t] = t
        else:
            hard_next[t] = hard_next[t + 1]

    full = np.zeros(length + 1, np.int64)   # survival from a full battery at position j
    min_pos = np.empty(length + 1, np.int64)   # next-smaller chain of C (positions, values)
    min_val = np.empty(length + 1)
    max_pos = np.empty(length + 1, np.int64)   # next-greater chain of C
    max_val = np.empty(length + 1)
    sp_min = 0
    sp_max = 0
    for h in range(length - 1, -1, -1):
        p = h + 1
        cp = cvals[p]
        while sp_min > 0 and min_val[sp_min - 1] >= cp:
            sp_min -= 1
        min_pos[sp_min] = p
        min_val[sp_min] = cp
        sp_min += 1
        while sp_max > 0 and max_val[sp_max - 1] <= cp:
            sp_max -= 1
        max_pos[sp_max] = p
        max_val[sp_max] = cp
        sp_max += 1

        ch = cvals[h]
        step = cp - ch
        limit = h + horizon
        j_hard = hard_next[h] + 1
        # full[h] is only ever read where the battery can have just become full, i.e. after
        # an hour that did not drain it (or at the very start): skip it elsewhere.
        need_full = h == 0 or cvals[h] >= cvals[h - 1]
        for q in range(0 if need_full else 1, 2 if h < n else 1):
            s = cap_kwh if q == 0 else min(max(soc_start_kwh[h], 0.0), cap_kwh)
            if step >= 0.0 and step + s >= cap_kwh:
                # full after this hour: the future is that of a full battery at h + 1
                surv = 1 + full[p]
            elif j_hard == p or step + s < 0.0:
                surv = 0        # the first hour already fails
            elif q == 1 and s >= cap_kwh and need_full:
                surv = full[h]
            else:
                i = _gallop(min_pos, min_val, sp_min, ch - s, limit, True)
                j_fail = big
                if i >= 0 and min_pos[sp_min - 1 - i] <= limit:
                    j_fail = min_pos[sp_min - 1 - i]
                if j_hard < j_fail:
                    j_fail = j_hard
                # a full battery only matters if it comes before the failure
                lim_full = limit if j_fail > limit else j_fail - 1
                i = _gallop(max_pos, max_val, sp_max, ch - s + cap_kwh, lim_full, False)
                j_full = big
                if i >= 0 and max_pos[sp_max - 1 - i] <= lim_full:
                    j_full = max_pos[sp_max - 1 - i]
                if j_full < j_fail:
                    surv = (j_full - h) + full[j_full]
                elif j_fail <= limit + 1:
                    surv = j_fail - 1 - h
                else:
                    surv = length - h
            if surv > horizon:
                surv = horizon
            if q == 0:
                full[h] = surv
            else:
                hist[surv] += 1


@njit(cache=True)
def _survival_no_storage(load_prof, pv_unit, p, q, crit_kwh, kwp, horizon, hist):
    """Survival without storage: the run of hours from the start with PV >= critical load.
    ``crit_kwh`` = annual demand x critical fraction; no arrays are allocated."""
    n = load_prof.shape[0]
    lead = 0
    while lead < n and kwp * pv_unit[lead, q] >= crit_kwh * load_prof[lead, p]:
        lead += 1
    if lead == n:
        hist[horizon] += n
        return
    run = lead
    for h in range(n - 1, -1, -1):
        if kwp * pv_unit[h, q] >= crit_kwh * load_prof[h, p]:
            run += 1
        else:
            run = 0
        hist[min(run, horizon)] += 1


@njit(parallel=True, cache=True)
def building_survival(load_prof, pv_unit, prof_idx, annual_kwh, pv_idx, kwp, crit_frac,
                      cap_kwh, power_kw, soc0_kwh, eta_c, eta_d, horizon, buildings, hist):
    """Survival histograms (one row of ``hist`` per entry of ``buildings``) of buildings
    islanded alone, starting from their grid-connected greedy state of charge."""
    n_hours = load_prof.shape[0]
    for m in prange(buildings.shape[0]):
        b = buildings[m]
        row = hist[m]
        row[:] = 0
        has_storage = cap_kwh[b] > 0.0 and power_kw[b] > 0.0
        if kwp[b] <= 0.0 and not has_storage:
            row[0] = n_hours
            continue
        if not has_storage:
            _survival_no_storage(load_prof, pv_unit, prof_idx[b], pv_idx[b],
                                 annual_kwh[b] * crit_frac[b], kwp[b], horizon, row)
            continue
        crit = np.empty(n_hours)
        pv = np.empty(n_hours)
        soc_start = np.empty(n_hours)
        soc = soc0_kwh[b]
        a = annual_kwh[b]
        k = kwp[b]
        pi = prof_idx[b]
        qi = pv_idx[b]
        for t in range(n_hours):
            d = a * load_prof[t, pi]
            g = k * pv_unit[t, qi]
            soc_start[t] = soc
            _ch, _dis, soc = greedy_step(g - d, soc, cap_kwh[b], power_kw[b], eta_c, eta_d)
            crit[t] = crit_frac[b] * d
            pv[t] = g
        survival_hist(crit, pv, soc_start, cap_kwh[b], power_kw[b], eta_c, eta_d, horizon, row)


@njit(parallel=True, cache=True)
def pooled_survival(series, s_crit, s_pv, s_soc_a, s_soc_b, groups, cap_kwh, power_kw, eta_c,
                    eta_d, horizon, hist):
    """Survival of each transformer's microgrid: its buildings share PV and storage (all its
    batteries act as one of summed capacity and power, starting from their summed state)."""
    n_hours = series.shape[2]
    for gi in prange(groups.shape[0]):
        k = groups[gi]
        row = hist[gi]
        row[:] = 0
        crit = np.empty(n_hours)
        pv = np.empty(n_hours)
        soc_start = np.empty(n_hours)
        for t in range(n_hours):
            crit[t] = series[gi, s_crit, t]
            pv[t] = series[gi, s_pv, t]
            soc_start[t] = np.float64(series[gi, s_soc_a, t]) + series[gi, s_soc_b, t]
        survival_hist(crit, pv, soc_start, cap_kwh[k], power_kw[k], eta_c, eta_d, horizon, row)


@njit(parallel=True, cache=True)
def hist_table(hist, thresholds, out):
    """Per row of ``hist``: min, mean, max survival [h], then P(survival >= x) for each x in
    ``thresholds``; written to ``out`` (rows, 3 + len(thresholds))."""
    width = hist.shape[1]
    for r in prange(hist.shape[0]):
        row = hist[r]
        total = 0.0
        weighted = 0.0
        lo = -1
        hi = 0
        for x in range(width):
            c = np.float64(row[x])
            if c > 0:
                if lo < 0:
                    lo = x
                hi = x
            total += c
            weighted += c * x
        out[r, 0] = lo if lo >= 0 else 0
        out[r, 1] = weighted / total if total > 0 else 0.0
        out[r, 2] = hi
        for j in range(thresholds.shape[0]):
            tail = 0.0
            for x in range(min(int(thresholds[j]), width), width):
                tail += row[x]
            out[r, 3 + j] = tail / total if total > 0 else 0.0


def hist_stats(hist: np.ndarray, thresholds_h: tuple[float, ...]) -> dict[str, np.ndarray]:
    """min / mean / max survival hours and P(survival >= x) for each row of ``hist``."""
    hist = np.ascontiguousarray(hist)
    if hist.ndim == 1:
        hist = hist[None, :]
    thr = np.asarray(thresholds_h, dtype=np.float64)
    out = np.empty((hist.shape[0], 3 + len(thr)))
    hist_table(hist, thr, out)
    stats = {"survival_min_h": out[:, 0], "survival_mean_h": out[:, 1],
             "survival_max_h": out[:, 2]}
    for j, x in enumerate(thresholds_h):
        stats[f"p_survive_{int(x)}h"] = out[:, 3 + j]
    return stats


def survival_curve(hist: np.ndarray) -> np.ndarray:
    """P(survival >= d) for d = 0..H from one histogram row."""
    hist = np.asarray(hist, dtype=np.float64)
    tail = np.cumsum(hist[::-1])[::-1]
    return tail / hist.sum()
