"""The grid study of a scenario: every island's year and hosting capacity (memoized per island,
shared between processes), assembled into tables, and the study cache.

The district's grid becomes a pandapower network (:func:`dashboard.io.pandapower_net.
to_pandapower`); each building's hourly net load after its battery (demand at the assumptions
table's power factor, PV and batteries at unity power factor) and each community battery's
hourly power are injected at their buses, and the batched solver
(:mod:`dashboard.energy.powerflow`) solves all 8760 hours at once on pandapower's admittance
model. Hours it cannot solve are handed to pandapower's Newton-Raphson (``runpp``); hours that
neither solves are reported in ``nonconverged_hours`` and left out of every statistic, never
filled in.

Limits (assumptions table) follow the voltage level: an LV island's buses within
``grid.voltage_min_pu`` ... ``grid.voltage_max_pu``, an MV island's (an uploaded MV network)
within ``grid.mv_voltage_min_pu`` ... ``grid.mv_voltage_max_pu``; line and transformer loading
up to ``grid.loading_max_pct``.

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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dashboard.cache import Memo, shared
from dashboard.domain.district import District
from dashboard.domain.errors import DecentraError
from dashboard.domain.scenario import Scenario
from dashboard.engine import DistrictModel, Placements, build_placements, district_model
from dashboard.gridstudy.hosting import Hosting, Progress, hosting_capacity
from dashboard.gridstudy.injections import (
    community_kw,
    island_injections,
    island_limits,
    limits_of,
    s_pu,
)
from dashboard.gridstudy.network import NetModel, net_model, nets
from dashboard.gridstudy.year import IslandYear, runpp_fallback, solve_island_year


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
        hosting = t["hosting_capacity_kwp"]
        return {"vm_max_pu": float(t["vm_max_pu"].max()), "vm_min_pu": float(t["vm_min_pu"].min()),
                "overvoltage_hours": float(t["overvoltage_hours"].max()),
                "undervoltage_hours": float(t["undervoltage_hours"].max()),
                "line_loading_max_pct": float(t["line_loading_max_pct"].max()),
                "overload_hours": float(t["overload_hours"].max()),
                # NaN (not computed) unless every transformer's capacity was: a sum over
                # the computed ones would understate the district's
                "hosting_capacity_kwp": float(hosting.sum()) if len(hosting)
                and hosting.notna().all() else float("nan"),
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


def _island_key(district: District, nm: NetModel, pl: Placements, island: int,
                community: np.ndarray | None, hosting: bool) -> str:
    rows = np.flatnonzero(nm.building_island == island)
    trs = np.flatnonzero(nm.transformer_island == island)
    h = hashlib.sha256(f"{district.content_hash}|{island}|{int(hosting)}|{pl.eta_c!r}|"
                       f"{pl.eta_d!r}".encode())
    share = -1.0 if pl.pv_export_share is None else pl.pv_export_share    # 0 is a limit
    for arr in (pl.kwp[rows], pl.pv_idx[rows], pl.tilt_deg[rows], pl.azimuth_deg[rows],
                pl.cap_kwh[rows], pl.battery_kw[rows], pl.soc0_kwh[rows],
                pl.export_limits()[rows], np.array([share])):
        h.update(np.ascontiguousarray(arr).tobytes())
    if community is not None and len(trs):
        h.update(np.ascontiguousarray(community[trs]).tobytes())
    return h.hexdigest()[:32]


_islands: Memo[str, tuple[IslandYear, list[Hosting]]] = Memo(256)


def clear_grid_cache() -> None:
    _islands.clear()
    nets.clear()


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
    community = community_kw(district, scenario)
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
        s = s_pu(nm, inj.p_kw, inj.d_kw, tan_phi)
        lim = island_limits(nm, i, limits)
        years[i] = solve_island_year(nm, i, s, lim,
                                     runpp_fallback(nm, i, inj.p_kw, inj.d_kw, tan_phi))
        th = time.perf_counter()
        solve_ms += 1e3 * (th - ts)
        hs = []
        if hosting:
            for tr in np.flatnonzero(nm.transformer_island == i):
                try:
                    hs.append(hosting_capacity(nm, model, pl, int(tr), s, lim))
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
            lim = island_limits(nm, i, limits)
            with np.errstate(invalid="ignore"):
                hours_over = int((vmx > lim["voltage_max_pu"]).sum())
                hours_under = int((vmn < lim["voltage_min_pu"]).sum())
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
