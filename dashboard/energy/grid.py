"""Buildings behind transformers: one fused pass per transformer, hour by hour.

For every transformer group the kernel walks the 8760 hours once and, inside each hour, all its
buildings with a battery (interleaving buildings hides the latency of the state-of-charge
recurrence). Buildings without a battery are linear in the profiles: they enter the group's hourly
series through aggregated coefficients, and their annual indicators come from
:mod:`dashboard.energy.closedform` in O(log T) each. Demand and PV are generated on the fly from
the small (hours x profiles) tables, so no (hours x buildings) array is ever materialised. Per
transformer the kernel writes the pooled hourly series that transformer indicators, the community
battery and pooled resilience need.

Groups are independent, so they run in parallel (numba ``prange``) and a single edited group can
be recomputed alone (incremental update).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from dashboard.energy.storage import greedy_step

# Per-building accumulators (columns of ``b_stats``), float64.
B_DEMAND, B_PV, B_IMPORT, B_EXPORT, B_PEAK_IMPORT, B_PEAK_EXPORT, B_CHARGE, B_DISCHARGE = range(8)
N_BSTATS = 8

# Per-transformer hourly series (rows of ``series[k]``), float32, kW (= kWh per hourly step).
S_DEMAND = 0        # pooled demand
S_PV = 1            # pooled PV
S_NET_BTM = 2       # pooled net after behind-the-meter batteries (import > 0)
S_SOC_BTM = 3       # sum of building batteries' state of charge at the start of the step [kWh]
S_CRITICAL = 4      # pooled critical load
S_NET = 5           # net at the transformer after the community battery (import > 0)
S_SOC_COMMUNITY = 6  # community battery state of charge at the start of the step [kWh]
N_SERIES = 7

# Per-transformer indicators (columns of ``t_stats``), float64.
(T_DEMAND, T_PV, T_IMPORT, T_EXPORT, T_PEAK_IMPORT, T_PEAK_EXPORT, T_REVERSE_HOURS,
 T_HOURS_ABOVE, T_MAX_ABS_NET, T_CHARGE, T_DISCHARGE, T_HOSTING_KWP) = range(12)
N_TSTATS = 12

REVERSE_FLOW_EPS_KW = 1e-6


@njit(cache=True, fastmath=True, inline="always")
def _battery_hours(load_prof, pv_unit, pi, qi, a, kp, cf, cap, pw, soc, eta_c, eta_d, acc,
                   dem, pv, net, socs, crit):
    """Step buildings with storage through all hours (hour outer, buildings inner: the
    independent recurrences of the buildings interleave), adding into the group's hourly
    accumulators and each building's ``acc[j, i]``."""
    n = a.shape[0]
    s_d = acc[B_DEMAND]
    s_g = acc[B_PV]
    s_i = acc[B_IMPORT]
    s_e = acc[B_EXPORT]
    p_i = acc[B_PEAK_IMPORT]
    p_e = acc[B_PEAK_EXPORT]
    s_c = acc[B_CHARGE]
    s_x = acc[B_DISCHARGE]
    for t in range(load_prof.shape[0]):
        lrow = load_prof[t]
        urow = pv_unit[t]
        d_sum = 0.0
        g_sum = 0.0
        n_sum = 0.0
        s_sum = 0.0
        c_sum = 0.0
        for i in range(n):
            d = a[i] * lrow[pi[i]]
            g = kp[i] * urow[qi[i]]
            s_sum += soc[i]
            ch, dis, soc[i] = greedy_step(g - d, soc[i], cap[i], pw[i], eta_c, eta_d)
            x = d - g + ch - dis
            imp = max(x, 0.0)
            exp = max(-x, 0.0)
            s_d[i] += d
            s_g[i] += g
            s_i[i] += imp
            s_e[i] += exp
            p_i[i] = max(p_i[i], imp)
            p_e[i] = max(p_e[i], exp)
            s_c[i] += ch
            s_x[i] += dis
            d_sum += d
            g_sum += g
            n_sum += x
            c_sum += cf[i] * d
        dem[t] += d_sum
        pv[t] += g_sum
        net[t] += n_sum
        socs[t] += s_sum
        crit[t] += c_sum


@njit(parallel=True, cache=True, fastmath=True)
def simulate_groups(load_prof, load_prof_t, pv_unit, pv_unit_t, prof_idx, annual_kwh, pv_idx,
                    kwp, crit_frac, cap_kwh, power_kw, soc0_kwh, eta_c, eta_d, order, offsets,
                    groups, agg_demand, agg_critical, pv_ptr, pv_col, pv_kwp, b_stats, series):
    """Simulate transformer ``groups``.

    Buildings with a battery (``order[offsets[k]:offsets[k+1]]`` for transformer k) are stepped
    hour by hour; their accumulators go to ``b_stats[b, :]``. Buildings without one are linear
    in the profiles, so they enter each group's series through aggregated coefficients:
    ``agg_demand[g, p]`` (sum of annual kWh on load profile p), ``agg_critical[g, p]`` (same,
    times the critical fraction) and a sparse row of kWp per PV column
    (``pv_col/pv_kwp[pv_ptr[g]:pv_ptr[g+1]]``). ``*_t`` are the transposed (profile, hour)
    tables. Writes ``series[g, 0:5, :]``.
    """
    n_hours = load_prof.shape[0]
    n_prof = load_prof.shape[1]
    for gi in prange(groups.shape[0]):
        k = groups[gi]
        dem = np.zeros(n_hours)
        crit = np.zeros(n_hours)
        pv = np.zeros(n_hours)
        socs = np.zeros(n_hours)
        # buildings without storage: linear in the profiles (vectorised over hours)
        for p in range(n_prof):
            ad = agg_demand[gi, p]
            ac = agg_critical[gi, p]
            if ad != 0.0 or ac != 0.0:
                row = load_prof_t[p]
                for t in range(n_hours):
                    lv = np.float64(row[t])
                    dem[t] += ad * lv
                    crit[t] += ac * lv
        for j in range(pv_ptr[gi], pv_ptr[gi + 1]):
            kw = pv_kwp[j]
            row = pv_unit_t[pv_col[j]]
            for t in range(n_hours):
                pv[t] += kw * row[t]
        net = dem - pv
        # buildings with storage
        start = offsets[k]
        n = offsets[k + 1] - start
        if n > 0:
            b = order[start:start + n]
            acc = np.zeros((N_BSTATS, n))
            soc = soc0_kwh[b].copy()
            _battery_hours(load_prof, pv_unit, prof_idx[b], pv_idx[b], annual_kwh[b], kwp[b],
                           crit_frac[b], cap_kwh[b], power_kw[b], soc, eta_c, eta_d, acc,
                           dem, pv, net, socs, crit)
            for i in range(n):
                for j in range(N_BSTATS):
                    b_stats[b[i], j] = acc[j, i]
        for t in range(n_hours):
            series[gi, S_DEMAND, t] = dem[t]
            series[gi, S_PV, t] = pv[t]
            series[gi, S_NET_BTM, t] = net[t]
            series[gi, S_SOC_BTM, t] = socs[t]
            series[gi, S_CRITICAL, t] = crit[t]


@njit(parallel=True, cache=True)
def community_and_stats(series, groups, cap_kwh, power_kw, soc0_kwh, rating_kw, eta_c, eta_d,
                        hosting_unit, t_stats):
    """Dispatch each group's community battery on its pooled net load (rows S_NET and
    S_SOC_COMMUNITY) and compute transformer indicators into ``t_stats[g, :]``.

    ``cap_kwh`` etc. are indexed by transformer (``groups[g]``); ``rating_kw`` is the rating's
    active-power equivalent (kVA x power factor).

    Hosting capacity (estimate, energy balance only): the largest extra PV [kWp] with unit
    profile ``hosting_unit`` [kW/kWp] that keeps reverse flow within the rating in every hour,
    ``min_t (net_t + rating) / u_t`` over hours with ``u_t > 0`` (0 if already exceeded).
    """
    n_hours = series.shape[2]
    for gi in prange(groups.shape[0]):
        k = groups[gi]
        soc = soc0_kwh[k]
        dem = 0.0
        pv = 0.0
        imp_sum = 0.0
        exp_sum = 0.0
        peak_imp = 0.0
        peak_exp = 0.0
        rev = 0.0
        above = 0.0
        max_abs = 0.0
        ch_sum = 0.0
        dis_sum = 0.0
        hosting = np.inf
        for t in range(n_hours):
            net_btm = np.float64(series[gi, S_NET_BTM, t])
            series[gi, S_SOC_COMMUNITY, t] = soc
            ch, dis, soc = greedy_step(-net_btm, soc, cap_kwh[k], power_kw[k], eta_c, eta_d)
            net = net_btm + ch - dis
            series[gi, S_NET, t] = net
            dem += series[gi, S_DEMAND, t]
            pv += series[gi, S_PV, t]
            ch_sum += ch
            dis_sum += dis
            if net > 0.0:
                imp_sum += net
                if net > peak_imp:
                    peak_imp = net
            else:
                exp_sum -= net
                if -net > peak_exp:
                    peak_exp = -net
                if -net > REVERSE_FLOW_EPS_KW:
                    rev += 1.0
            a = abs(net)
            if a > max_abs:
                max_abs = a
            if a > rating_kw[k]:
                above += 1.0
            u = hosting_unit[t]
            if u > 0.0:
                room = (net + rating_kw[k]) / u
                if room < hosting:
                    hosting = room
        t_stats[gi, T_DEMAND] = dem
        t_stats[gi, T_PV] = pv
        t_stats[gi, T_IMPORT] = imp_sum
        t_stats[gi, T_EXPORT] = exp_sum
        t_stats[gi, T_PEAK_IMPORT] = peak_imp
        t_stats[gi, T_PEAK_EXPORT] = peak_exp
        t_stats[gi, T_REVERSE_HOURS] = rev
        t_stats[gi, T_HOURS_ABOVE] = above
        t_stats[gi, T_MAX_ABS_NET] = max_abs
        t_stats[gi, T_CHARGE] = ch_sum
        t_stats[gi, T_DISCHARGE] = dis_sum
        t_stats[gi, T_HOSTING_KWP] = max(hosting, 0.0)


@njit(cache=True)
def sum_rows(series_list_rows, out):
    """Add a (hours,) float32 row into a float64 accumulator (district sums)."""
    for t in range(out.shape[0]):
        out[t] += series_list_rows[t]


def district_net(net_rows: list[np.ndarray]) -> np.ndarray:
    """Hourly district net [kW] = sum over transformers of their net (float64)."""
    total = np.zeros(net_rows[0].shape[0] if net_rows else 0, dtype=np.float64)
    for row in net_rows:
        sum_rows(row, total)
    return total
