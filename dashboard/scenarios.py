"""evaluate(district, scenario) -> Result: the one memoized layer.

Results are cached by (district content hash, scenario content hash). When a scenario was
derived from an already evaluated one by a few edits (``Scenario.lineage``), only the edited
buildings and their transformers are recomputed and the district totals patched; everything
else is shared with the parent result.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import pandas as pd

from dashboard.cache import Memo, shared
from dashboard.domain import overrides as overrides_registry
from dashboard.domain.assumptions import Assumptions
from dashboard.domain.district import District
from dashboard.domain.errors import DecentraError
from dashboard.domain.indicators import CRITICAL_RES_KEYS
from dashboard.domain.result import RES_COLUMNS, Result
from dashboard.domain.scenario import Scenario
from dashboard.energy import economics, grid
from dashboard.engine import (
    DistrictModel,
    Placements,
    build_placements,
    building_hourly,
    clear_models,
    district_model,
    effective_assumptions,
    effective_econ,
    hourly_weights,
    patch_placements,
    res_table,
    resilience_buildings,
    resilience_groups,
    run_groups,
    simulate,
)

SERIES_ROWS = {"demand": grid.S_DEMAND, "pv": grid.S_PV, "net_after_building_batteries":
               grid.S_NET_BTM, "soc_building_batteries": grid.S_SOC_BTM,
               "critical": grid.S_CRITICAL, "net": grid.S_NET,
               "soc_community_battery": grid.S_SOC_COMMUNITY, "pv_curtailed": grid.S_CURTAIL}

# Above this share of changed transformers a full evaluation is as cheap as patching.
INCREMENTAL_MAX_SHARE = 0.25


# ---------------------------------------------------------------------------------------------
# Assembling results
# ---------------------------------------------------------------------------------------------
def _ratio(num: np.ndarray | float, den: np.ndarray | float) -> Any:
    num_a = np.asarray(num, dtype=float)
    den_a = np.asarray(den, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den_a > 0, num_a / np.where(den_a > 0, den_a, 1.0), np.nan)
    return out if out.ndim else float(out)


Columns = dict[str, np.ndarray]


def _building_energy(b_stats: np.ndarray) -> Columns:
    d, g = b_stats[:, grid.B_DEMAND], b_stats[:, grid.B_PV]
    imp, exp = b_stats[:, grid.B_IMPORT], b_stats[:, grid.B_EXPORT]
    return {
        "demand_kwh": d, "pv_kwh": g, "import_kwh": imp, "export_kwh": exp,
        "self_sufficiency": _ratio(d - imp, d), "self_consumption": _ratio(g - exp, g),
        "peak_import_kw": b_stats[:, grid.B_PEAK_IMPORT],
        "peak_export_kw": b_stats[:, grid.B_PEAK_EXPORT],
        "battery_charge_kwh": b_stats[:, grid.B_CHARGE],
        "battery_discharge_kwh": b_stats[:, grid.B_DISCHARGE],
        "pv_curtailed_kwh": b_stats[:, grid.B_CURTAIL],
    }


def _transformer_energy(model: DistrictModel, t_stats: np.ndarray, pl: Placements) -> Columns:
    d, g = t_stats[:, grid.T_DEMAND], t_stats[:, grid.T_PV]
    imp, exp = t_stats[:, grid.T_IMPORT], t_stats[:, grid.T_EXPORT]
    rating_kw = model.rating_kva * model.power_factor
    counts = np.bincount(model.building_transformer, minlength=model.n_transformers)
    kwp = np.bincount(model.building_transformer, weights=pl.kwp,
                      minlength=model.n_transformers)
    return {
        "rating_kva": model.rating_kva, "n_buildings": counts, "pv_kwp": kwp,
        "community_battery_kwh": pl.comm_kwh, "community_battery_kw": pl.comm_kw,
        "demand_kwh": d, "pv_kwh": g, "import_kwh": imp, "export_kwh": exp,
        "self_sufficiency": _ratio(d - imp, d), "self_consumption": _ratio(g - exp, g),
        "peak_import_kw": t_stats[:, grid.T_PEAK_IMPORT],
        "peak_export_kw": t_stats[:, grid.T_PEAK_EXPORT],
        "reverse_flow_hours": t_stats[:, grid.T_REVERSE_HOURS],
        "loading_pct": 100.0 * t_stats[:, grid.T_MAX_ABS_NET] / rating_kw,
        "hours_above_rating": t_stats[:, grid.T_HOURS_ABOVE],
        "hosting_capacity_kwp": np.where(t_stats[:, grid.T_HOSTING_KWP] >= grid.NO_LIMIT,
                                         np.inf, t_stats[:, grid.T_HOSTING_KWP]),
        "pv_curtailed_kwh": t_stats[:, grid.T_CURTAIL],
    }


ECON_COLUMNS = ("capex_eur", "annual_savings_eur", "om_eur_per_a", "npv_eur", "lcoe_eur_per_kwh",
                "discounted_payback_a", "co2_avoided_t")


def _battery_capex(model: DistrictModel, pl: Placements) -> tuple[np.ndarray, np.ndarray]:
    """Investment in building batteries (N,) and community batteries (K,) [EUR]."""
    p = pl.econ
    return (pl.battery_kwh * p.battery_eur_per_kwh + pl.battery_kw * p.battery_eur_per_kw,
            pl.comm_kwh * p.community_battery_eur_per_kwh
            + pl.comm_kw * p.community_battery_eur_per_kw)


def weighted_sums(model: DistrictModel, pl: Placements, b_stats: np.ndarray,
                  t_stats: np.ndarray) -> tuple[economics.Weighted, economics.Weighted]:
    """Peak-hour and emission-weighted sums of buildings (closed-form demand, the engine's
    import and export) and of transformer areas (from their pooled series)."""
    a = model.annual_kwh
    prof = model.load_prof
    demand_peak = a * (pl.w_peak @ prof)[model.prof_idx]
    demand_co2 = a * (pl.w_co2 @ prof)[model.prof_idx]
    b_w = economics.Weighted(demand_peak, b_stats[:, grid.B_IMPORT_PEAK], demand_co2,
                             b_stats[:, grid.B_IMPORT_CO2], b_stats[:, grid.B_EXPORT_CO2])
    t_w = economics.Weighted(t_stats[:, grid.T_DEMAND_PEAK], t_stats[:, grid.T_IMPORT_PEAK],
                             t_stats[:, grid.T_DEMAND_CO2], t_stats[:, grid.T_IMPORT_CO2],
                             t_stats[:, grid.T_EXPORT_CO2])
    return b_w, t_w


def _building_economics(model: DistrictModel, pl: Placements, b_energy: Columns,
                        weighted: economics.Weighted | None = None) -> Columns:
    """The owner's view: each building behind its own meter."""
    bat, _ = _battery_capex(model, pl)
    out = economics.economics(pl.kwp, bat, b_energy["demand_kwh"], b_energy["pv_kwh"],
                              b_energy["import_kwh"], b_energy["export_kwh"], pl.econ,
                              weighted=weighted)
    return {c: out[c] for c in ECON_COLUMNS}


def _transformer_economics(model: DistrictModel, pl: Placements, b_econ: Columns,
                           t_energy: Columns,
                           weighted: economics.Weighted | None = None) -> Columns:
    """The community's view: the buildings behind a transformer share energy hour by hour and
    own its community battery; ``community_gain_eur_per_a`` = pooled savings − Σ owners'."""
    k = model.n_transformers
    bt = model.building_transformer
    bat_b, bat_c = _battery_capex(model, pl)
    pv_capex = np.bincount(bt, weights=economics.pv_capex_eur(pl.kwp, pl.econ), minlength=k)
    bat = np.bincount(bt, weights=bat_b, minlength=k) + bat_c
    out = economics.economics(np.asarray(t_energy["pv_kwp"], float), bat,
                              t_energy["demand_kwh"], t_energy["pv_kwh"],
                              t_energy["import_kwh"], t_energy["export_kwh"], pl.econ,
                              pv_capex=pv_capex, weighted=weighted)
    cols = {c: out[c] for c in ECON_COLUMNS}
    owners = np.bincount(bt, weights=b_econ["annual_savings_eur"], minlength=k)
    cols["community_gain_eur_per_a"] = out["annual_savings_eur"] - owners
    cols["battery_capex_eur"] = bat
    return cols


def _district_economics(pl: Placements, b_energy: Columns, t_energy: Columns,
                        t_weighted: economics.Weighted | None = None) -> dict[str, float]:
    """District indicators: the community view summed over transformer areas (cash flows are
    linear, so NPV, LCOE and payback are those of the summed components), and the owners'."""
    one = {c: np.array([t_energy[c].sum()]) for c in
           ("pv_kwp", "demand_kwh", "pv_kwh", "import_kwh", "export_kwh", "capex_eur",
            "battery_capex_eur")}
    weighted = None if t_weighted is None else economics.Weighted(
        *(np.array([np.sum(getattr(t_weighted, f.name))]) for f in fields(economics.Weighted)))
    out = economics.economics(one["pv_kwp"], one["battery_capex_eur"], one["demand_kwh"],
                              one["pv_kwh"], one["import_kwh"], one["export_kwh"], pl.econ,
                              pv_capex=one["capex_eur"] - one["battery_capex_eur"],
                              weighted=weighted)
    capex = float(out["capex_eur"][0])
    savings = float(out["annual_savings_eur"][0])
    return {
        "capex_eur": capex,
        "annual_savings_eur": savings,
        "payback_years": capex / savings if savings > 0 and capex > 0 else math.nan,
        "npv_eur": float(out["npv_eur"][0]),
        "owner_npv_eur": float(b_energy["npv_eur"].sum()),
        "community_gain_eur_per_a": float(t_energy["community_gain_eur_per_a"].sum()),
        "lcoe_eur_per_kwh": float(out["lcoe_eur_per_kwh"][0]),
        "discounted_payback_a": float(out["discounted_payback_a"][0]),
        "co2_avoided_t": float(out["co2_avoided_t"][0]),
    }


def _summary(pl: Placements, b_energy: Columns, t_energy: Columns, district_net: np.ndarray,
             b_res: np.ndarray | None, t_res: np.ndarray | None,
             t_weighted: economics.Weighted | None = None) -> dict[str, float]:
    # Building-level ratios use the buildings' own sums; transformer- and district-level ones
    # use the pooled hourly series they are matched on, so a scenario without DER gives
    # exactly zero.
    d_b = float(b_energy["demand_kwh"].sum())
    g_b = float(b_energy["pv_kwh"].sum())
    imp_b = float(b_energy["import_kwh"].sum())
    exp_b = float(b_energy["export_kwh"].sum())
    d = float(t_energy["demand_kwh"].sum())
    g = float(t_energy["pv_kwh"].sum())
    imp_t = float(t_energy["import_kwh"].sum())
    exp_t = float(t_energy["export_kwh"].sum())
    imp_d = float(np.clip(district_net, 0, None).sum())
    exp_d = float(np.clip(-district_net, 0, None).sum())
    econ = _district_economics(pl, b_energy, t_energy, t_weighted)
    reverse_h = t_energy["reverse_flow_hours"]
    out: dict[str, float] = {
        "self_sufficiency": _ratio(d - imp_d, d),
        "self_consumption": _ratio(g - exp_d, g),
        "self_sufficiency_transformer": _ratio(d - imp_t, d),
        "self_consumption_transformer": _ratio(g - exp_t, g),
        "self_sufficiency_building": _ratio(d_b - imp_b, d_b),
        "self_consumption_building": _ratio(g_b - exp_b, g_b),
        "demand_kwh": d,
        "pv_generation_kwh": g,
        "pv_curtailed_kwh": float(t_energy["pv_curtailed_kwh"].sum()),
        "pv_kwp": float(pl.kwp.sum()),
        "battery_kwh": float(pl.battery_kwh.sum() + pl.comm_kwh.sum()),
        "grid_import_kwh": imp_d,
        "grid_export_kwh": exp_d,
        "peak_import_kw": float(max(district_net.max(), 0.0)),
        "peak_export_kw": float(max(-district_net.min(), 0.0)),
        "reverse_flow_hours_max": float(reverse_h.max()),
        "transformers_with_reverse_flow": float((reverse_h > 0).sum()),
        "max_transformer_loading_pct": float(t_energy["loading_pct"].max()),
        "transformers_overloaded": float((t_energy["hours_above_rating"] > 0).sum()),
        **econ,
        "critical_buildings": float(pl.critical.sum()),
    }
    if b_res is not None and t_res is not None:
        res = {c: b_res[:, i] for i, c in enumerate(RES_COLUMNS)}
        weights = np.asarray(t_energy["n_buildings"], float)
        out.update({
            "survival_mean_h": float(res["survival_mean_h"].mean()),
            "survival_min_h": float(res["survival_min_h"].min()),
            "p_survive_8h": float(res["p_survive_8h"].mean()),
            "p_survive_24h": float(res["p_survive_24h"].mean()),
            "p_survive_72h": float(res["p_survive_72h"].mean()),
            "survival_pooled_mean_h": float(np.average(t_res[:, 1], weights=weights)),
            "p_survive_24h_pooled": float(np.average(t_res[:, 4], weights=weights)),
        })
        out.update(critical_summary(b_res, pl.critical))
    return out


def critical_summary(b_res: np.ndarray, critical: np.ndarray) -> dict[str, float]:
    """Outage survival of the critical facilities alone (NaN where none is marked: shown as
    "none marked", never as 0)."""
    if not critical.any():
        return dict.fromkeys(CRITICAL_RES_KEYS, math.nan)
    res = {c: b_res[critical, i] for i, c in enumerate(RES_COLUMNS)}
    return {
        "critical_survival_min_h": float(res["survival_min_h"].min()),
        "critical_survival_mean_h": float(res["survival_mean_h"].mean()),
        "critical_p_survive_24h": float(res["p_survive_24h"].mean()),
        "critical_p_survive_72h": float(res["p_survive_72h"].mean()),
    }


def _building_inputs(pl: Placements) -> dict[str, np.ndarray]:
    return {"pv_kwp": pl.kwp, "pv_tilt_deg": pl.tilt_deg, "pv_azimuth_deg": pl.azimuth_deg,
            "battery_kwh": pl.battery_kwh, "battery_kw": pl.battery_kw,
            "critical": pl.critical, "critical_load_fraction": pl.crit_frac}


@dataclass(frozen=True, eq=False)
class EngineState:
    """What an incremental edit of a scenario needs from its parent's evaluation: the engine's
    placements and per-building / per-transformer statistics. Kept in this process's memo
    beside the result, under the same key (never hung on the frozen Result, never shared:
    its placements index this process's PV profile columns). A parent without one (a result
    another process computed) gives a full evaluation of the child."""

    placements: Placements
    b_stats: np.ndarray
    t_stats: np.ndarray


def _hourly_provider(model: DistrictModel, pl: Placements | None, scenario: Scenario):
    """Hourly series of one building; the placements are built on first use when the result
    came from another process."""
    made: list[Placements] = [] if pl is None else [pl]

    def provider(building_id: str | None, _transformer_id: str | None) -> pd.DataFrame:
        if building_id is None:
            raise ValueError("a building id is needed")
        try:
            b = model.building_ids.get_loc(building_id)
        except KeyError:
            raise DecentraError(f"no building {building_id!r} in this district") from None
        if not made:
            made.append(build_placements(model, scenario))
        return building_hourly(model, made[0], int(b))
    return provider


def _make_result(district_hash: str, scenario: Scenario, model: DistrictModel, pl: Placements,
                 b_stats: np.ndarray, t_stats: np.ndarray, series: tuple[np.ndarray, ...],
                 district_net: np.ndarray, b_hist: np.ndarray | None, b_res: np.ndarray | None,
                 t_hist: np.ndarray | None, t_res: np.ndarray | None,
                 timings: dict[str, float], incremental: bool) -> tuple[Result, EngineState]:
    b_w, t_w = weighted_sums(model, pl, b_stats, t_stats)
    # columns as arrays (frames are built on first access: Result.buildings)
    b_energy = _building_energy(b_stats)
    b_energy.update(_building_economics(model, pl, b_energy, b_w))
    t_energy = _transformer_energy(model, t_stats, pl)
    t_energy.update(_transformer_economics(model, pl, b_energy, t_energy, t_w))
    t0 = time.perf_counter()
    summary = _summary(pl, b_energy, t_energy, district_net, b_res, t_res, t_w)
    timings["summary_ms"] = 1e3 * (time.perf_counter() - t0)
    result = Result(
        district_hash=district_hash, scenario=scenario, building_ids=model.building_ids,
        transformer_ids=model.transformer_ids, building_transformer=model.building_transformer,
        building_inputs=_building_inputs(pl), building_energy=_read_only(b_energy),
        building_res=b_res, building_hist=b_hist, transformer_energy=_read_only(t_energy),
        transformer_res=t_res,
        transformer_hist=t_hist, summary=summary, hourly_index=model.hourly_index,
        district_net_kw=district_net, transformer_series=series, series_rows=SERIES_ROWS,
        hourly_provider=_hourly_provider(model, pl, scenario), timings_ms=timings,
        incremental=incremental)
    return result, EngineState(pl, b_stats, t_stats)


def _read_only(columns: Columns) -> Columns:
    """Read-only views of a result's columns: some are views of the engine's statistics or
    the district model's arrays (a frame used to copy them), and a result is never written."""
    out = {}
    for name, arr in columns.items():
        view = np.asarray(arr).view()
        view.flags.writeable = False
        out[name] = view
    return out


def _full(district: District, model: DistrictModel, scenario: Scenario,
          resilience: bool) -> tuple[Result, EngineState]:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    pl = build_placements(model, scenario)
    t1 = time.perf_counter()
    sim = simulate(model, pl, resilience=False)
    series = tuple(sim.series[k] for k in range(model.n_transformers))
    net = grid.district_net([s[grid.S_NET] for s in series])
    t2 = time.perf_counter()
    timings["placements_ms"] = 1e3 * (t1 - t0)
    timings["energy_ms"] = 1e3 * (t2 - t1)
    b_hist = b_res = t_hist = t_res = None
    if resilience:
        b_hist = resilience_buildings(model, pl, np.arange(model.n_buildings))
        t_hist = resilience_groups(model, pl, sim.series,
                                   np.arange(model.n_transformers, dtype=np.int64))
        b_res = res_table(b_hist)
        t_res = res_table(t_hist)
        timings["resilience_ms"] = 1e3 * (time.perf_counter() - t2)
    return _make_result(district.content_hash, scenario, model, pl, sim.b_stats, sim.t_stats,
                        series, net, b_hist, b_res, t_hist, t_res, timings, incremental=False)


def _incremental(district: District, model: DistrictModel, parent: Result, state: EngineState,
                 scenario: Scenario, b_rows: np.ndarray, t_rows: np.ndarray,
                 resilience: bool) -> tuple[Result, EngineState]:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    pl = patch_placements(model, state.placements, scenario, b_rows, t_rows)
    groups = np.unique(np.concatenate([model.building_transformer[b_rows], t_rows])
                       ).astype(np.int64)
    b_stats = state.b_stats.copy()
    series_new, t_new = run_groups(model, pl, groups, b_stats)
    t_stats = state.t_stats.copy()
    t_stats[groups] = t_new
    series = list(parent.transformer_series)
    net = parent.district_net_kw.copy()
    for gi, k in enumerate(groups):
        net -= series[k][grid.S_NET]
        net += series_new[gi, grid.S_NET]
        series[k] = series_new[gi]
    t1 = time.perf_counter()
    timings["energy_ms"] = 1e3 * (t1 - t0)
    b_hist = b_res = t_hist = t_res = None
    if resilience and parent.building_hist is not None:
        b_hist = parent.building_hist.copy()
        b_res = parent.building_res.copy()  # type: ignore[union-attr]
        if len(b_rows):
            h = resilience_buildings(model, pl, b_rows)
            b_hist[b_rows] = h
            b_res[b_rows] = res_table(h)
        t_hist = parent.transformer_hist.copy()  # type: ignore[union-attr]
        t_res = parent.transformer_res.copy()  # type: ignore[union-attr]
        h = resilience_groups(model, pl, series_new, groups)
        t_hist[groups] = h
        t_res[groups] = res_table(h)
        timings["resilience_ms"] = 1e3 * (time.perf_counter() - t1)
    return _make_result(district.content_hash, scenario, model, pl, b_stats, t_stats,
                        tuple(series), net, b_hist, b_res, t_hist, t_res, timings,
                        incremental=True)


def _reassumed(district: District, model: DistrictModel, parent: Result, state: EngineState,
               scenario: Scenario) -> tuple[Result, EngineState] | None:
    """The parent's result under other assumptions, where its simulation still holds: prices,
    costs and finance only re-price (no hourly simulation); a new peak window or hourly
    emission factor re-runs the energy pass for the weighted sums and keeps the outage
    simulation. None when a changed key alters the simulation (critical-load shares)."""
    lineage = scenario.lineage
    if lineage is None or any(overrides_registry.is_simulation_key(k)
                              for k in lineage.assumption_keys):
        return None
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    econ = effective_econ(model, scenario)
    prev = state.placements
    b_stats, t_stats = state.b_stats, state.t_stats
    series, net = parent.transformer_series, parent.district_net_kw
    if econ.weights_key == prev.econ.weights_key:
        pl = replace(prev, econ=econ)
    else:
        w_peak, w_co2 = hourly_weights(model, econ)
        pl = replace(prev, econ=econ, w_peak=w_peak, w_co2=w_co2)
        b_stats = np.zeros_like(state.b_stats)
        groups = np.arange(model.n_transformers, dtype=np.int64)
        arr, t_stats = run_groups(model, pl, groups, b_stats)
        series = tuple(arr[k] for k in range(model.n_transformers))
        timings["energy_ms"] = 1e3 * (time.perf_counter() - t0)
    timings["reprice_ms"] = 1e3 * (time.perf_counter() - t0)
    return _make_result(district.content_hash, scenario, model, pl, b_stats, t_stats, series,
                        net, parent.building_hist, parent.building_res,
                        parent.transformer_hist, parent.transformer_res, timings,
                        incremental=True)


# ---------------------------------------------------------------------------------------------
# Public entry point and cache
# ---------------------------------------------------------------------------------------------
Key = tuple[str, str, bool]      # (district hash, scenario content hash, resilience)

# in-process: results, and the engine state an incremental edit of each needs
_results: Memo[Key, Result] = Memo(32)
_states: Memo[Key, EngineState] = Memo(32)
NAMESPACE = "result"


def _shared_key(key: Key) -> str:
    return f"{key[0]}:{key[1]}:{int(key[2])}"


def _shared_get(key: Key, model: DistrictModel) -> Result | None:
    """A result another process (gunicorn worker, background job) computed and shared, with
    its hourly series re-attached to this process's model. Anything that is not the result
    of exactly this district and scenario is a miss."""
    hit = shared().get(NAMESPACE, _shared_key(key), Result)
    if hit is None or hit.district_hash != key[0] or hit.scenario.content_hash() != key[1] \
            or (key[2] and hit.building_hist is None) \
            or len(hit.building_ids) != model.n_buildings:
        return None
    return replace(hit, hourly_provider=_hourly_provider(model, None, hit.scenario))


def _shared_put(key: Key, result: Result) -> None:
    """Share a result (serialised in a writer thread: pickling a large city's result must
    not delay the callback that computed it). Closures over the model are not shared."""
    cache = shared()
    if cache.enabled:
        cache.set(NAMESPACE, _shared_key(key), replace(result, hourly_provider=None),
                  background=True)


def clear_cache() -> None:
    _results.clear()
    _states.clear()
    clear_models()


def evaluate(district: District, scenario: Scenario | None = None, *,
             resilience: bool = True, previous: Result | None = None,
             use_cache: bool = True) -> Result:
    """Evaluate ``scenario`` (default: no DER) on ``district``.

    Results are memoized by content hash. If ``scenario`` was derived by edits from a scenario
    evaluated in this process (or given as ``previous``), only the edited buildings and their
    transformers are recomputed.
    """
    scenario = scenario if scenario is not None else Scenario(name="Baseline (no DER)")
    if not isinstance(scenario, Scenario):
        raise DecentraError("evaluate needs a Scenario")
    key: Key = (district.content_hash, scenario.content_hash(), resilience)
    model = district_model(district)
    if use_cache:
        hit = _results.get(key) or _shared_get(key, model)
        if hit is not None:
            _results.put(key, hit)
            return hit if hit.scenario.name == scenario.name else replace(hit,
                                                                           scenario=scenario)
    lineage = scenario.lineage
    parent, state = previous, None
    if lineage is not None:
        parent_key: Key = (district.content_hash, lineage.parent_hash, resilience)
        if parent is None and use_cache:
            parent = _results.get(parent_key)
        if parent is not None and parent.scenario.content_hash() == lineage.parent_hash:
            state = _states.get(parent_key)
    result = None
    if (parent is not None and state is not None and lineage is not None
            and lineage.assumption_keys and parent.district_hash == district.content_hash
            and (parent.building_hist is not None or not resilience)):
        hit2 = _reassumed(district, model, parent, state, scenario)
        if hit2 is not None:
            result, new_state = hit2
    elif (parent is not None and state is not None and lineage is not None
            and parent.district_hash == district.content_hash
            and (parent.building_hist is not None or not resilience)):
        b_rows = model.building_ids.get_indexer(sorted(lineage.building_ids))
        t_rows = model.transformer_ids.get_indexer(sorted(lineage.transformer_ids))
        if (b_rows < 0).any() or (t_rows < 0).any():
            bad = [i for i, r in zip(sorted(lineage.building_ids), b_rows, strict=True) if r < 0]
            bad += [i for i, r in zip(sorted(lineage.transformer_ids), t_rows, strict=True)
                    if r < 0]
            raise DecentraError("the scenario places on ids that are not in this district",
                                rows=bad)
        touched = len(np.unique(np.concatenate([model.building_transformer[b_rows], t_rows])))
        if touched <= max(1, INCREMENTAL_MAX_SHARE * model.n_transformers):
            result, new_state = _incremental(district, model, parent, state, scenario,
                                             b_rows.astype(np.int64), t_rows.astype(np.int64),
                                             resilience)
    if result is None:
        result, new_state = _full(district, model, scenario, resilience)
    if use_cache:
        _results.put(key, result)
        _states.put(key, new_state)
        _shared_put(key, result)
    return result


def scenario_assumptions(district: District, scenario: Scenario) -> Assumptions:
    """The assumptions ``scenario`` is computed with: the district's table with the scenario's
    overrides in place (prices, tariffs, shares; :mod:`dashboard.domain.overrides`)."""
    return effective_assumptions(district_model(district), scenario)


def baseline(district: District, resilience: bool = True) -> Result:
    """The district with no PV and no batteries."""
    return evaluate(district, Scenario(name="Baseline (no DER)"), resilience=resilience)


# ---------------------------------------------------------------------------------------------
# Placement helpers
# ---------------------------------------------------------------------------------------------
def place_pv_by_rule(district: District, scenario: Scenario, *, min_roof_m2: float = 0.0,
                     coverage: float = 0.6, tilt_deg: float | None = None,
                     azimuth_deg: float | None = None,
                     building_ids: list[str] | None = None) -> Scenario:
    """PV on every roof of at least ``min_roof_m2`` [m²] covering ``coverage`` (0..1] of it.

    kWp = roof area × coverage / module area per kWp (assumptions table). Tilt and azimuth
    default to each roof's own. Existing PV on the chosen buildings is replaced; other
    placements are kept.
    """
    from dashboard.domain.scenario import PvPlacement
    from dashboard.domain.validate import number

    min_roof = number(min_roof_m2, "minimum roof area [m²]", 0, 1e7)
    cov = number(coverage, "roof coverage", 0, 1, lo_open=True)
    if tilt_deg is not None:
        number(tilt_deg, "tilt [deg]", 0, 90)
    if azimuth_deg is not None:
        number(azimuth_deg, "azimuth [deg]", 0, 360)
    b = district.buildings
    mask = b["roof_area_m2"].to_numpy(float) >= min_roof
    if building_ids is not None:
        ids = pd.Index(b["building_id"].astype(str))
        wanted = ids.isin([str(i) for i in building_ids])
        missing = sorted(set(map(str, building_ids)) - set(ids))
        if missing:
            raise DecentraError("no such buildings in this district", rows=missing)
        mask &= wanted
    module = district.assumptions.number("pv.module_area_m2_per_kwp")
    chosen = b.loc[mask]
    kwp = chosen["roof_area_m2"].to_numpy(float) * cov / module
    tilts = (chosen["roof_tilt_deg"].to_numpy(float) if tilt_deg is None
             else np.full(len(chosen), float(tilt_deg)))
    azs = (chosen["azimuth_deg"].to_numpy(float) if azimuth_deg is None
           else np.full(len(chosen), float(azimuth_deg)))
    placements = [PvPlacement(str(bid), round(float(k), 3), float(t), float(a))
                  for bid, k, t, a in zip(chosen["building_id"], kwp, tilts, azs, strict=True)
                  if k > 0]
    return scenario.with_pv(*placements)


HUB_COLUMNS = ("building_id", "use_type", "reason", "critical_load_fraction",
               "survival_min_h", "survival_mean_h", "p_survive_24h", "p_survive_72h",
               "pv_kwp", "battery_kwh")


def critical_facilities(district: District, result: Result) -> pd.DataFrame:
    """The resilience hubs: one row per critical facility of ``result`` (the district's flags
    with the scenario's marks), worst first (shortest worst-case outage survival, then
    shortest mean survival), with why it is critical (``"amenity=hospital"``, ``"marked by
    the planner"``), its critical load share, survival figures [h, probability] and what it
    has (PV kWp, battery kWh). Empty (same columns) where none is marked."""
    b = result.buildings.reset_index(drop=True)
    crit = b["critical"].to_numpy(bool) if "critical" in b.columns else np.zeros(len(b), bool)
    data = district.buildings.reset_index(drop=True)
    own = data["critical"].to_numpy(bool)
    reason = np.where(own, data["critical_reason"].astype(str).to_numpy(object),
                      "marked by the planner")
    reason = np.where(own & (reason == ""), "critical in the district data", reason)
    frame = pd.DataFrame({"building_id": b["building_id"].astype(str),
                          "use_type": data["use_type"].astype(str), "reason": reason})
    for col in HUB_COLUMNS[3:]:
        frame[col] = b[col].to_numpy(float) if col in b.columns else np.nan
    frame = frame[crit]
    return frame.sort_values(["survival_min_h", "survival_mean_h", "building_id"],
                             kind="stable").reset_index(drop=True)[list(HUB_COLUMNS)]


def validate(district: District, scenario: Scenario) -> None:
    """Raise DecentraError if the scenario does not fit the district (unknown ids, PV larger
    than the roof)."""
    build_placements(district_model(district), scenario)


# A community battery this far beyond its area is almost certainly a typing error (kWh for Wh,
# an extra zero): warned, never refused (a planner may study it on purpose).
ABSURD_POWER_X_RATING = 2.0     # battery power [kW] / transformer rating [kW]
ABSURD_DAYS_OF_DEMAND = 2.0     # battery capacity [kWh] / the area's mean daily demand [kWh]


def battery_warnings(district: District, scenario: Scenario) -> list[str]:
    """Plausibility warnings for community batteries: power above
    ``ABSURD_POWER_X_RATING`` x the transformer's rating (kVA x power factor) or capacity above
    ``ABSURD_DAYS_OF_DEMAND`` days of the area's mean demand; peak-shaving limits above the
    rating are noted too (the battery then leaves the overload alone)."""
    if not scenario.community_batteries:
        return []
    pf = district.assumptions.number("grid.power_factor")
    tr = district.transformers.set_index(district.transformers["transformer_id"].astype(str))
    b = district.buildings
    daily = (b.groupby(b["transformer_id"].astype(str))["annual_demand_kwh"].sum() / 365.0)
    out: list[str] = []
    for c in scenario.community_batteries:
        if c.transformer_id not in tr.index:
            continue
        rating_kw = float(tr.loc[c.transformer_id, "rating_kva"]) * pf
        day_kwh = float(daily.get(c.transformer_id, 0.0))
        where = f"community battery at {c.transformer_id}"
        if c.power_kw > ABSURD_POWER_X_RATING * rating_kw:
            out.append(f"{where}: {c.power_kw:,.0f} kW is {c.power_kw / rating_kw:,.0f}× the "
                       f"transformer's {rating_kw:,.0f} kW rating")
        if day_kwh > 0 and c.capacity_kwh > ABSURD_DAYS_OF_DEMAND * day_kwh:
            out.append(f"{where}: {c.capacity_kwh:,.0f} kWh stores {c.capacity_kwh / day_kwh:,.0f}"
                       f" days of its area's demand ({day_kwh:,.0f} kWh a day)")
        for name, lim in (("import", c.import_limit_kw), ("export", c.export_limit_kw)):
            if c.mode == "peak_shaving" and lim is not None and lim > rating_kw:
                out.append(f"{where}: the {name} limit of {lim:,.0f} kW is above the "
                           f"transformer's {rating_kw:,.0f} kW rating, so hours above the "
                           "rating stay")
    return out
