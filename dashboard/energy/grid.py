"""Buildings behind transformers: one fused pass per transformer, hour by hour.

Demand and PV are linear in the profiles, so a group's hourly demand, critical load and PV come
from aggregated coefficients (a few profile rows per group, vectorised over hours). Only buildings
with a battery need the hourly recurrence: the kernel walks the 8760 hours once and, inside each
hour, all of the group's battery buildings (interleaving buildings hides the latency of the
state-of-charge recurrence). Annual indicators of buildings without a battery come from
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

from dashboard.energy.storage import greedy_step, peak_shave_step

# Per-building accumulators (columns of ``b_stats``), float64. B_PV is the PV delivered (after
# curtailment at an export limit), B_CURTAIL the PV curtailed [kWh].
B_DEMAND, B_PV, B_IMPORT, B_EXPORT, B_PEAK_IMPORT, B_PEAK_EXPORT, B_CHARGE, B_DISCHARGE = range(8)
B_CURTAIL = 8
# weighted sums (economics): import in the tariff's peak hours [kWh], import and export
# weighted by the hourly emission factor [kg] (see economics.Weighted)
B_IMPORT_PEAK, B_IMPORT_CO2, B_EXPORT_CO2 = range(9, 12)
N_BSTATS = 12

# Per-transformer hourly series (rows of ``series[k]``), float32, kW (= kWh per hourly step).
S_DEMAND = 0        # pooled demand
S_PV = 1            # pooled PV
S_NET_BTM = 2       # pooled net after behind-the-meter batteries (import > 0)
S_SOC_BTM = 3       # sum of building batteries' state of charge at the start of the step [kWh]
S_CRITICAL = 4      # pooled critical load
S_NET = 5           # net at the transformer after the community battery (import > 0)
S_SOC_COMMUNITY = 6  # community battery state of charge at the start of the step [kWh]
S_CURTAIL = 7       # pooled PV curtailed at the buildings' export limits (S_PV is before it)
N_SERIES = 8

# Per-transformer indicators (columns of ``t_stats``), float64.
# T_PV is the PV delivered (S_PV - S_CURTAIL), T_CURTAIL the PV curtailed [kWh].
(T_DEMAND, T_PV, T_IMPORT, T_EXPORT, T_PEAK_IMPORT, T_PEAK_EXPORT, T_REVERSE_HOURS,
 T_HOURS_ABOVE, T_MAX_ABS_NET, T_CHARGE, T_DISCHARGE, T_HOSTING_KWP) = range(12)
T_CURTAIL = 12
# as B_*, plus the weighted demand; filled by engine.run_groups from the series
T_IMPORT_PEAK, T_IMPORT_CO2, T_EXPORT_CO2, T_DEMAND_PEAK, T_DEMAND_CO2 = range(13, 18)
N_TSTATS = 18

REVERSE_FLOW_EPS_KW = 1e-6
NO_LIMIT = 1e300   # finite sentinel (kernels may be compiled without infinity support)

# Fast-math without "no NaNs / no infinities": reassociation lets reductions vectorise, while
# comparisons keep their IEEE meaning.
FASTMATH = {"reassoc", "contract", "arcp", "nsz"}


# Accumulators of buildings with storage (columns of ``b_acc``); their demand, PV, export and
# discharge follow from these and the closed-form sums (see engine.run_groups).
A_IMPORT, A_CHARGE, A_PEAK_IMPORT, A_PEAK_EXPORT, A_SOC_END = range(5)
A_CURTAIL = 5
A_IMPORT_PEAK, A_IMPORT_CO2, A_EXPORT_CO2 = range(6, 9)   # hourly-weighted sums (w_peak, w_co2)
N_ACC = 9


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _battery_hours(load_prof, pv_unit, pi, qi, a, kp, cap, pw, soc, eta_c, eta_d, acc, net,
                   socs, lim, curt, w_peak, w_co2):
    """Step buildings with storage (or a binding PV export limit) through all hours (hour
    outer, buildings inner: the independent recurrences of the buildings interleave). Adds each
    battery's AC power (charge - discharge) and the PV curtailed at the export limit ``lim``
    [kW] (export after the battery above it) to the group's ``net``, the curtailment to
    ``curt`` and the state of charge to ``socs``; the weighted accumulators use the
    hourly weights ``w_peak`` and ``w_co2``."""
    n = a.shape[0]
    s_i = acc[A_IMPORT]
    s_c = acc[A_CHARGE]
    p_i = acc[A_PEAK_IMPORT]
    p_e = acc[A_PEAK_EXPORT]
    s_x = acc[A_CURTAIL]
    s_ip = acc[A_IMPORT_PEAK]
    s_ic = acc[A_IMPORT_CO2]
    s_ec = acc[A_EXPORT_CO2]
    lbuf = np.empty(n)
    ubuf = np.empty(n)
    for t in range(load_prof.shape[0]):
        # gather this hour's profile values first: the loop below then reads contiguous
        # buffers and compiles to SIMD instructions (a gather inside it would not)
        lrow = load_prof[t]
        urow = pv_unit[t]
        for i in range(n):
            lbuf[i] = lrow[pi[i]]
            ubuf[i] = urow[qi[i]]
        b_sum = 0.0
        s_sum = 0.0
        wp = w_peak[t]
        wc = w_co2[t]
        x_sum = 0.0
        for i in range(n):
            d = a[i] * lbuf[i]
            g = kp[i] * ubuf[i]
            s = soc[i]
            s_sum += s
            ch, dis, s = greedy_step(g - d, s, cap[i], pw[i], eta_c, eta_d)
            soc[i] = s
            x = d - g + ch - dis
            c = max(-x - lim[i], 0.0)
            x += c
            s_x[i] += c
            x_sum += c
            imp = max(x, 0.0)
            s_i[i] += imp
            s_c[i] += ch
            p_i[i] = max(p_i[i], imp)
            p_e[i] = max(p_e[i], -x)
            s_ip[i] += imp * wp
            s_ic[i] += imp * wc
            s_ec[i] += max(-x, 0.0) * wc
            b_sum += ch - dis
        net[t] += b_sum + x_sum
        socs[t] += s_sum
        curt[t] += x_sum
    for i in range(n):
        acc[A_SOC_END, i] = soc[i]


@njit(parallel=True, cache=True, fastmath=FASTMATH)
def simulate_groups(load_prof, load_prof_t, pv_unit, pv_unit_t, prof_idx, annual_kwh, pv_idx,
                    kwp, cap_kwh, power_kw, soc0_kwh, eta_c, eta_d, order, offsets, groups,
                    agg_demand, agg_critical, pv_ptr, pv_col, pv_kwp, b_acc, series,
                    export_lim_kw, w_peak, w_co2):
    """Simulate transformer ``groups``.

    Demand, critical load and PV of all buildings are linear in the profiles, so they enter
    each group's hourly series through aggregated coefficients: ``agg_demand[g, p]`` (annual
    kWh on load profile p), ``agg_critical[g, p]`` (the same times the critical fraction) and a
    sparse row of kWp per PV column (``pv_col/pv_kwp[pv_ptr[g]:pv_ptr[g+1]]``); ``*_t`` are the
    transposed (profile, hour) tables. Buildings with a battery
    (``order[offsets[k]:offsets[k+1]]`` for transformer k; buildings whose PV export limit
    ``export_lim_kw[b]`` [kW] can bind too) are then stepped hour by hour; their
    accumulators go to ``b_acc[b, :]`` (A_* columns; the weighted ones with the hourly
    weights ``w_peak`` and ``w_co2``). Writes ``series[g, 0:5, :]`` and
    ``series[g, S_CURTAIL, :]``.
    """
    n_hours = load_prof.shape[0]
    n_prof = load_prof.shape[1]
    for gi in prange(groups.shape[0]):
        k = groups[gi]
        dem = np.zeros(n_hours)
        crit = np.zeros(n_hours)
        pv = np.zeros(n_hours)
        socs = np.zeros(n_hours)
        curt = np.zeros(n_hours)
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
        start = offsets[k]
        n = offsets[k + 1] - start
        if n > 0:
            b = order[start:start + n]
            acc = np.zeros((N_ACC, n))
            soc = soc0_kwh[b].copy()
            _battery_hours(load_prof, pv_unit, prof_idx[b], pv_idx[b], annual_kwh[b], kwp[b],
                           cap_kwh[b], power_kw[b], soc, eta_c, eta_d, acc, net, socs,
                           export_lim_kw[b], curt, w_peak, w_co2)
            for i in range(n):
                for j in range(N_ACC):
                    b_acc[b[i], j] = acc[j, i]
        for t in range(n_hours):
            series[gi, S_DEMAND, t] = dem[t]
            series[gi, S_PV, t] = pv[t]
            series[gi, S_NET_BTM, t] = net[t]
            series[gi, S_SOC_BTM, t] = socs[t]
            series[gi, S_CRITICAL, t] = crit[t]
            series[gi, S_CURTAIL, t] = curt[t]


@njit(parallel=True, cache=True, fastmath=FASTMATH)
def community_and_stats(series, groups, cap_kwh, power_kw, soc0_kwh, rating_kw, eta_c, eta_d,
                        hosting_unit, t_stats, peak, import_lim_kw, export_lim_kw, target_kwh):
    """Dispatch each group's community battery on its pooled net load (rows S_NET and
    S_SOC_COMMUNITY) and compute transformer indicators into ``t_stats[g, :]``.

    ``cap_kwh`` etc. are indexed by transformer (``groups[g]``); ``rating_kw`` is the rating's
    active-power equivalent (kVA x power factor). A battery with ``peak[k]`` shaves the
    transformer's peaks (``storage.peak_shave_step`` with ``import_lim_kw[k]``,
    ``export_lim_kw[k]``, ``target_kwh[k]``), else it runs greedy self-consumption.

    Hosting capacity (estimate, energy balance only): the largest extra PV [kWp] with unit
    profile ``hosting_unit`` [kW/kWp] that keeps reverse flow within the rating in every hour,
    ``min_t (net_t + rating) / u_t`` over hours with ``u_t > 0`` (0 if already exceeded).
    """
    n_hours = series.shape[2]
    for gi in prange(groups.shape[0]):
        k = groups[gi]
        ch_sum = 0.0
        dis_sum = 0.0
        if cap_kwh[k] > 0.0 and power_kw[k] > 0.0:
            soc = soc0_kwh[k]
            for t in range(n_hours):
                net_btm = np.float64(series[gi, S_NET_BTM, t])
                series[gi, S_SOC_COMMUNITY, t] = soc
                if peak[k]:
                    ch, dis, soc = peak_shave_step(net_btm, soc, cap_kwh[k], power_kw[k],
                                                   eta_c, eta_d, import_lim_kw[k],
                                                   export_lim_kw[k], target_kwh[k])
                else:
                    ch, dis, soc = greedy_step(-net_btm, soc, cap_kwh[k], power_kw[k], eta_c,
                                               eta_d)
                series[gi, S_NET, t] = net_btm + ch - dis
                ch_sum += ch
                dis_sum += dis
        else:
            for t in range(n_hours):
                series[gi, S_NET, t] = series[gi, S_NET_BTM, t]
                series[gi, S_SOC_COMMUNITY, t] = 0.0
        rating = rating_kw[k]
        dem = 0.0
        pv = 0.0
        imp_sum = 0.0
        exp_sum = 0.0
        peak_imp = 0.0
        peak_exp = 0.0
        rev = 0.0
        above = 0.0
        max_abs = 0.0
        hosting = NO_LIMIT
        curt = 0.0
        for t in range(n_hours):
            net = np.float64(series[gi, S_NET, t])
            dem += series[gi, S_DEMAND, t]
            pv += series[gi, S_PV, t]
            curt += series[gi, S_CURTAIL, t]
            imp = max(net, 0.0)
            exp = max(-net, 0.0)
            imp_sum += imp
            exp_sum += exp
            peak_imp = max(peak_imp, imp)
            peak_exp = max(peak_exp, exp)
            rev += 1.0 if exp > REVERSE_FLOW_EPS_KW else 0.0
            a = abs(net)
            max_abs = max(max_abs, a)
            above += 1.0 if a > rating else 0.0
            u = hosting_unit[t]
            room = (net + rating) / u if u > 0.0 else NO_LIMIT
            hosting = min(hosting, room)
        t_stats[gi, T_DEMAND] = dem
        t_stats[gi, T_PV] = pv - curt
        t_stats[gi, T_CURTAIL] = curt
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
