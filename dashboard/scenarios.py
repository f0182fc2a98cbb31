"""evaluate(district, scenario) -> Result: the one memoized layer.

Results are cached by (district content hash, scenario content hash). When a scenario was
derived from an already evaluated one by a few edits (``Scenario.lineage``), only the edited
buildings and their transformers are recomputed and the district totals patched; everything
else is shared with the parent result.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dashboard.domain.district import District
from dashboard.domain.errors import DecentraError
from dashboard.domain.result import RES_COLUMNS, SURVIVAL_THRESHOLDS_H, Result
from dashboard.domain.scenario import Scenario
from dashboard.energy import grid
from dashboard.energy.closedform import PairCache, pair_stats
from dashboard.energy.pv import ProfileBank, PvModel
from dashboard.energy.resilience import (
    building_survival,
    hist_stats,
    pooled_survival,
)
from dashboard.energy.storage import dispatch_series, efficiencies
from dashboard.energy.weather import solar_geometry

SERIES_ROWS = {"demand": grid.S_DEMAND, "pv": grid.S_PV, "net_after_building_batteries":
               grid.S_NET_BTM, "soc_building_batteries": grid.S_SOC_BTM,
               "critical": grid.S_CRITICAL, "net": grid.S_NET,
               "soc_community_battery": grid.S_SOC_COMMUNITY}

# Above this share of changed transformers a full evaluation is as cheap as patching.
INCREMENTAL_MAX_SHARE = 0.25


# ---------------------------------------------------------------------------------------------
# Static per-district model
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class DistrictModel:
    """Arrays derived once per district (keyed by its content hash)."""

    content_hash: str
    building_ids: pd.Index
    transformer_ids: pd.Index
    load_prof: np.ndarray        # (T, P) float32, columns sum to 1
    load_prof_t: np.ndarray      # (P, T) float32, the same transposed
    prof_idx: np.ndarray         # (N,) int64
    annual_kwh: np.ndarray       # (N,) float64
    crit_frac: np.ndarray        # (N,) float64, per use type
    building_transformer: np.ndarray  # (N,) int64
    order: np.ndarray            # (N,) buildings sorted by transformer
    offsets: np.ndarray          # (K + 1,)
    rating_kva: np.ndarray       # (K,)
    roof_area_m2: np.ndarray
    roof_tilt_deg: np.ndarray
    azimuth_deg: np.ndarray
    bank: ProfileBank
    hourly_index: pd.DatetimeIndex
    power_factor: float
    module_area_m2_per_kwp: float
    default_tilt_deg: float
    round_trip: float
    min_soc: float
    initial_soc: float
    horizon_h: int
    econ: dict[str, float] = field(default_factory=dict)
    hosting_unit: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    pairs: PairCache = field(default_factory=lambda: PairCache(np.zeros((0, 0), np.float32)))

    @property
    def n_buildings(self) -> int:
        return len(self.building_ids)

    @property
    def n_transformers(self) -> int:
        return len(self.transformer_ids)


_models: OrderedDict[str, DistrictModel] = OrderedDict()
_models_lock = threading.Lock()


def district_model(district: District) -> DistrictModel:
    """The (cached) array model of a district."""
    with _models_lock:
        model = _models.get(district.content_hash)
        if model is not None:
            _models.move_to_end(district.content_hash)
            return model
    model = _build_model(district)
    with _models_lock:
        _models[district.content_hash] = model
        while len(_models) > 4:
            _models.popitem(last=False)
    return model


def _build_model(district: District) -> DistrictModel:
    a = district.assumptions
    b = district.buildings
    profiles = list(district.load_profiles.columns)
    use_profile = {u: a.use_text(u, "load_profile") for u in a.use_types()}
    use_crit = {u: a.use(u, "critical_load_fraction") for u in a.use_types()}
    use = b["use_type"].astype(str)
    prof_idx = use.map(lambda u: profiles.index(use_profile[u])).to_numpy(np.int64)
    crit = use.map(use_crit).to_numpy(np.float64)
    tids = pd.Index(district.transformers["transformer_id"].astype(str))
    b_tr = tids.get_indexer(b["transformer_id"].astype(str)).astype(np.int64)
    order = np.argsort(b_tr, kind="stable").astype(np.int64)
    counts = np.bincount(b_tr, minlength=len(tids))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    weather = district.weather
    geometry = solar_geometry(weather.index, district.site, weather["temp_air"].to_numpy())
    bank = ProfileBank(weather, geometry, PvModel.from_assumptions(a))
    default_tilt = a.number("pv.default_tilt_deg")
    idx, matrix = bank.columns(np.array([default_tilt]), np.array([180.0]))
    hosting_unit = np.ascontiguousarray(matrix[:, idx[0]])
    return DistrictModel(
        content_hash=district.content_hash,
        building_ids=pd.Index(b["building_id"].astype(str)),
        transformer_ids=tids,
        load_prof=np.ascontiguousarray(district.load_profiles.to_numpy(np.float32)),
        load_prof_t=np.ascontiguousarray(district.load_profiles.to_numpy(np.float32).T),
        prof_idx=prof_idx,
        annual_kwh=b["annual_demand_kwh"].to_numpy(np.float64),
        crit_frac=crit,
        building_transformer=b_tr,
        order=order,
        offsets=offsets,
        rating_kva=district.transformers["rating_kva"].to_numpy(np.float64),
        roof_area_m2=b["roof_area_m2"].to_numpy(np.float64),
        roof_tilt_deg=b["roof_tilt_deg"].to_numpy(np.float64),
        azimuth_deg=b["azimuth_deg"].to_numpy(np.float64),
        bank=bank,
        hourly_index=weather.index,
        power_factor=a.number("grid.power_factor"),
        module_area_m2_per_kwp=a.number("pv.module_area_m2_per_kwp"),
        default_tilt_deg=default_tilt,
        round_trip=a.number("battery.round_trip_efficiency"),
        min_soc=a.number("battery.min_soc"),
        initial_soc=a.number("battery.initial_soc"),
        horizon_h=int(a.number("resilience.horizon_h")),
        econ={
            "pv_capex": a.number("econ.pv_capex_eur_per_kwp"),
            "battery_capex": a.number("econ.battery_capex_eur_per_kwh"),
            "community_capex": a.number("econ.community_battery_capex_eur_per_kwh"),
            "import_price": a.number("econ.import_price_eur_per_kwh"),
            "export_price": a.number("econ.export_price_eur_per_kwh"),
            "co2": a.number("emissions.grid_kg_co2_per_kwh"),
        },
        hosting_unit=hosting_unit,
        pairs=PairCache(np.ascontiguousarray(district.load_profiles.to_numpy(np.float32))),
    )


# ---------------------------------------------------------------------------------------------
# Scenario -> arrays
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Placements:
    """A scenario as arrays over buildings (N) and transformers (K)."""

    kwp: np.ndarray
    tilt_deg: np.ndarray
    azimuth_deg: np.ndarray
    pv_idx: np.ndarray           # column in pv_unit (0 = no PV)
    pv_unit: np.ndarray          # (T, Q) float32
    battery_kwh: np.ndarray      # nominal
    battery_kw: np.ndarray
    cap_kwh: np.ndarray          # usable
    soc0_kwh: np.ndarray
    crit_frac: np.ndarray
    comm_kwh: np.ndarray         # nominal, (K,)
    comm_kw: np.ndarray
    comm_cap_kwh: np.ndarray     # usable
    comm_soc0_kwh: np.ndarray
    eta_c: float
    eta_d: float
    horizon_h: int


def _params(model: DistrictModel, scenario: Scenario) -> tuple[float, float, float, int]:
    p = scenario.params
    rt = p.battery_round_trip_efficiency or model.round_trip
    min_soc = model.min_soc if p.battery_min_soc is None else p.battery_min_soc
    horizon = p.outage_horizon_h or model.horizon_h
    init = max(model.initial_soc - min_soc, 0.0)
    return rt, min_soc, init, int(horizon)


def _indexer(index: pd.Index, ids: list[str], what: str) -> np.ndarray:
    idx = index.get_indexer(ids)
    if (idx < 0).any():
        missing = [i for i, j in zip(ids, idx, strict=True) if j < 0]
        raise DecentraError(f"the scenario places on {what} that are not in this district",
                            rows=missing)
    return idx


def build_placements(model: DistrictModel, scenario: Scenario) -> Placements:
    """Vectorised translation of a scenario into arrays; validates ids and roof fit."""
    n, k = model.n_buildings, model.n_transformers
    rt, min_soc, init, horizon = _params(model, scenario)
    eta_c, eta_d = efficiencies(rt)
    kwp = np.zeros(n)
    tilt = np.zeros(n)
    az = np.zeros(n)
    if scenario.pv:
        ids = [p.building_id for p in scenario.pv]
        rows = _indexer(model.building_ids, ids, "buildings")
        kwp[rows] = [p.kwp for p in scenario.pv]
        tilt[rows] = [p.tilt_deg for p in scenario.pv]
        az[rows] = [p.azimuth_deg for p in scenario.pv]
        _check_roof_fit(model, rows, kwp[rows])
    bkwh = np.zeros(n)
    bkw = np.zeros(n)
    if scenario.batteries:
        rows = _indexer(model.building_ids, [b.building_id for b in scenario.batteries],
                        "buildings")
        bkwh[rows] = [b.capacity_kwh for b in scenario.batteries]
        bkw[rows] = [b.power_kw for b in scenario.batteries]
    ckwh = np.zeros(k)
    ckw = np.zeros(k)
    if scenario.community_batteries:
        rows = _indexer(model.transformer_ids,
                        [c.transformer_id for c in scenario.community_batteries], "transformers")
        ckwh[rows] = [c.capacity_kwh for c in scenario.community_batteries]
        ckw[rows] = [c.power_kw for c in scenario.community_batteries]
    pv_idx, pv_unit = _pv_columns(model, kwp, tilt, az)
    crit = (model.crit_frac if scenario.params.critical_load_fraction is None
            else np.full(n, scenario.params.critical_load_fraction))
    return Placements(
        kwp=kwp, tilt_deg=tilt, azimuth_deg=az, pv_idx=pv_idx, pv_unit=pv_unit,
        battery_kwh=bkwh, battery_kw=bkw, cap_kwh=bkwh * (1.0 - min_soc), soc0_kwh=bkwh * init,
        crit_frac=crit, comm_kwh=ckwh, comm_kw=ckw, comm_cap_kwh=ckwh * (1.0 - min_soc),
        comm_soc0_kwh=ckwh * init, eta_c=eta_c, eta_d=eta_d, horizon_h=horizon)


def _pv_columns(model: DistrictModel, kwp: np.ndarray, tilt: np.ndarray, az: np.ndarray,
                ) -> tuple[np.ndarray, np.ndarray]:
    has = kwp > 0
    pv_idx = np.zeros(len(kwp), np.int64)
    if has.any():
        cols, matrix = model.bank.columns(tilt[has], az[has])
        pv_idx[has] = cols
    else:
        matrix = model.bank.matrix
    return pv_idx, matrix


def _check_roof_fit(model: DistrictModel, rows: np.ndarray, kwp: np.ndarray) -> None:
    max_kwp = model.roof_area_m2[rows] / model.module_area_m2_per_kwp
    bad = kwp > max_kwp * (1 + 1e-9) + 1e-9
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        b = model.building_ids[rows[i]]
        raise DecentraError(
            f"PV of {kwp[i]:.1f} kWp does not fit on building {b}: its roof of "
            f"{model.roof_area_m2[rows[i]]:.0f} m² takes at most {max_kwp[i]:.1f} kWp at full "
            f"coverage", rows=[str(model.building_ids[r]) for r in rows[np.flatnonzero(bad)]])


def _patch_placements(model: DistrictModel, prev: Placements, scenario: Scenario,
                      b_rows: np.ndarray, t_rows: np.ndarray) -> Placements:
    """Copy of ``prev`` with the given building / transformer rows re-read from ``scenario``."""
    _rt, min_soc, init, horizon = _params(model, scenario)
    kwp, tilt, az = prev.kwp.copy(), prev.tilt_deg.copy(), prev.azimuth_deg.copy()
    bkwh, bkw = prev.battery_kwh.copy(), prev.battery_kw.copy()
    for r in b_rows:
        bid = model.building_ids[r]
        pv = scenario.pv_of(bid)
        kwp[r], tilt[r], az[r] = (pv.kwp, pv.tilt_deg, pv.azimuth_deg) if pv else (0.0, 0.0, 0.0)
        bat = scenario.battery_of(bid)
        bkwh[r], bkw[r] = (bat.capacity_kwh, bat.power_kw) if bat else (0.0, 0.0)
    if len(b_rows):
        _check_roof_fit(model, b_rows[kwp[b_rows] > 0], kwp[b_rows][kwp[b_rows] > 0])
    ckwh, ckw = prev.comm_kwh.copy(), prev.comm_kw.copy()
    for r in t_rows:
        c = scenario.community_battery_of(model.transformer_ids[r])
        ckwh[r], ckw[r] = (c.capacity_kwh, c.power_kw) if c else (0.0, 0.0)
    pv_idx = prev.pv_idx.copy()
    pv_unit = prev.pv_unit
    changed_pv = b_rows[kwp[b_rows] > 0]
    pv_idx[b_rows] = 0
    if len(changed_pv):
        cols, pv_unit = model.bank.columns(tilt[changed_pv], az[changed_pv])
        pv_idx[changed_pv] = cols
    return Placements(
        kwp=kwp, tilt_deg=tilt, azimuth_deg=az, pv_idx=pv_idx, pv_unit=pv_unit,
        battery_kwh=bkwh, battery_kw=bkw, cap_kwh=bkwh * (1.0 - min_soc), soc0_kwh=bkwh * init,
        crit_frac=prev.crit_frac, comm_kwh=ckwh, comm_kw=ckw,
        comm_cap_kwh=ckwh * (1.0 - min_soc), comm_soc0_kwh=ckwh * init, eta_c=prev.eta_c,
        eta_d=prev.eta_d, horizon_h=horizon)


# ---------------------------------------------------------------------------------------------
# Kernels over groups
# ---------------------------------------------------------------------------------------------
def _run_groups(model: DistrictModel, pl: Placements, groups: np.ndarray, b_stats: np.ndarray,
                ) -> tuple[np.ndarray, np.ndarray]:
    """Simulate transformer ``groups``; fills ``b_stats`` rows of their buildings and returns
    (series (G, rows, T) float32, t_stats (G, N_TSTATS))."""
    n_hours, n_prof = model.load_prof.shape
    n_pv = pl.pv_unit.shape[1]
    k_all = model.n_transformers
    bt = model.building_transformer
    in_groups = np.zeros(k_all, dtype=bool)
    in_groups[groups] = True
    member = in_groups[bt]
    has_batt = (pl.cap_kwh > 0) & (pl.battery_kw > 0)
    # buildings with storage: stepped hour by hour, grouped by transformer
    batt = np.flatnonzero(has_batt & member)
    order_b = batt[np.argsort(bt[batt], kind="stable")].astype(np.int64)
    offsets_b = np.concatenate([[0], np.cumsum(np.bincount(bt[batt], minlength=k_all))]
                               ).astype(np.int64)
    # buildings without: aggregated coefficients per group
    plain = np.flatnonzero(~has_batt & member)
    gpos = np.full(k_all, -1, dtype=np.int64)
    gpos[groups] = np.arange(len(groups))
    g_of = gpos[bt[plain]]
    n_groups = len(groups)
    cell = g_of * n_prof + model.prof_idx[plain]
    agg_d = np.bincount(cell, weights=model.annual_kwh[plain],
                        minlength=n_groups * n_prof).reshape(n_groups, n_prof)
    agg_c = np.bincount(cell, weights=model.annual_kwh[plain] * pl.crit_frac[plain],
                        minlength=n_groups * n_prof).reshape(n_groups, n_prof)
    lit = plain[pl.kwp[plain] > 0]
    key = gpos[bt[lit]] * n_pv + pl.pv_idx[lit]
    uniq, inv = np.unique(key, return_inverse=True)
    pv_kwp = np.bincount(inv, weights=pl.kwp[lit], minlength=len(uniq))
    pv_col = (uniq % n_pv).astype(np.int64)
    pv_ptr = np.concatenate([[0], np.cumsum(np.bincount(uniq // n_pv, minlength=n_groups))]
                            ).astype(np.int64)

    series = np.empty((n_groups, grid.N_SERIES, n_hours), dtype=np.float32)
    grid.simulate_groups(model.load_prof, model.load_prof_t, pl.pv_unit,
                         model.bank.matrix_t(pl.pv_unit), model.prof_idx, model.annual_kwh,
                         pl.pv_idx, pl.kwp, pl.crit_frac, pl.cap_kwh, pl.battery_kw, pl.soc0_kwh,
                         pl.eta_c, pl.eta_d, order_b, offsets_b, groups, agg_d, agg_c, pv_ptr,
                         pv_col, pv_kwp, b_stats, series)
    _plain_stats(model, pl, plain, b_stats)
    t_stats = np.empty((n_groups, grid.N_TSTATS))
    rating_kw = model.rating_kva * model.power_factor
    grid.community_and_stats(series, groups, pl.comm_cap_kwh, pl.comm_kw, pl.comm_soc0_kwh,
                             rating_kw, pl.eta_c, pl.eta_d, model.hosting_unit, t_stats)
    return series, t_stats


def _plain_stats(model: DistrictModel, pl: Placements, rows: np.ndarray,
                 b_stats: np.ndarray) -> None:
    """Exact annual stats of buildings without storage, per (load, PV) profile pair."""
    if len(rows) == 0:
        return
    n_pv = pl.pv_unit.shape[1]
    pair = model.prof_idx[rows] * n_pv + pl.pv_idx[rows]
    order = np.argsort(pair, kind="stable")
    pair_sorted = pair[order]
    cuts = np.flatnonzero(np.diff(pair_sorted)) + 1
    for chunk in np.split(order, cuts):
        p, q = divmod(int(pair[chunk[0]]), n_pv)
        b = rows[chunk]
        stats = pair_stats(model.pairs.get(p, q, pl.pv_unit), model.annual_kwh[b], pl.kwp[b])
        b_stats[b, grid.B_DEMAND] = stats["demand"]
        b_stats[b, grid.B_PV] = stats["pv"]
        b_stats[b, grid.B_IMPORT] = stats["import"]
        b_stats[b, grid.B_EXPORT] = stats["export"]
        b_stats[b, grid.B_PEAK_IMPORT] = stats["peak_import"]
        b_stats[b, grid.B_PEAK_EXPORT] = stats["peak_export"]
        b_stats[b, grid.B_CHARGE] = 0.0
        b_stats[b, grid.B_DISCHARGE] = 0.0


def _pooled_storage(model: DistrictModel, pl: Placements) -> tuple[np.ndarray, np.ndarray]:
    k = model.n_transformers
    cap = np.bincount(model.building_transformer, weights=pl.cap_kwh, minlength=k)
    power = np.bincount(model.building_transformer, weights=pl.battery_kw, minlength=k)
    return cap + pl.comm_cap_kwh, power + pl.comm_kw


def _resilience_buildings(model: DistrictModel, pl: Placements, rows: np.ndarray) -> np.ndarray:
    hist = np.zeros((len(rows), pl.horizon_h + 1), dtype=np.uint16)
    building_survival(model.load_prof, pl.pv_unit, model.prof_idx, model.annual_kwh, pl.pv_idx,
                      pl.kwp, pl.crit_frac, pl.cap_kwh, pl.battery_kw, pl.soc0_kwh, pl.eta_c,
                      pl.eta_d, pl.horizon_h, rows.astype(np.int64), hist)
    return hist


def _resilience_groups(model: DistrictModel, pl: Placements, series: np.ndarray,
                       groups: np.ndarray) -> np.ndarray:
    cap, power = _pooled_storage(model, pl)
    hist = np.zeros((len(groups), pl.horizon_h + 1), dtype=np.uint16)
    pooled_survival(series, grid.S_CRITICAL, grid.S_PV, grid.S_SOC_BTM, grid.S_SOC_COMMUNITY,
                    groups, cap, power, pl.eta_c, pl.eta_d, pl.horizon_h, hist)
    return hist


def _res_table(hist: np.ndarray) -> np.ndarray:
    """Resilience statistics (columns RES_COLUMNS) of each histogram row."""
    stats = hist_stats(hist, SURVIVAL_THRESHOLDS_H)
    return np.column_stack([stats[c] for c in RES_COLUMNS])


# ---------------------------------------------------------------------------------------------
# Assembling results
# ---------------------------------------------------------------------------------------------
def _ratio(num: np.ndarray | float, den: np.ndarray | float) -> Any:
    num_a = np.asarray(num, dtype=float)
    den_a = np.asarray(den, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den_a > 0, num_a / np.where(den_a > 0, den_a, 1.0), np.nan)
    return out if out.ndim else float(out)


def _building_energy(b_stats: np.ndarray) -> pd.DataFrame:
    d, g = b_stats[:, grid.B_DEMAND], b_stats[:, grid.B_PV]
    imp, exp = b_stats[:, grid.B_IMPORT], b_stats[:, grid.B_EXPORT]
    return pd.DataFrame({
        "demand_kwh": d, "pv_kwh": g, "import_kwh": imp, "export_kwh": exp,
        "self_sufficiency": _ratio(d - imp, d), "self_consumption": _ratio(g - exp, g),
        "peak_import_kw": b_stats[:, grid.B_PEAK_IMPORT],
        "peak_export_kw": b_stats[:, grid.B_PEAK_EXPORT],
        "battery_charge_kwh": b_stats[:, grid.B_CHARGE],
        "battery_discharge_kwh": b_stats[:, grid.B_DISCHARGE],
    })


def _transformer_energy(model: DistrictModel, t_stats: np.ndarray, pl: Placements,
                        ) -> pd.DataFrame:
    d, g = t_stats[:, grid.T_DEMAND], t_stats[:, grid.T_PV]
    imp, exp = t_stats[:, grid.T_IMPORT], t_stats[:, grid.T_EXPORT]
    rating_kw = model.rating_kva * model.power_factor
    counts = np.diff(model.offsets)
    kwp = np.bincount(model.building_transformer, weights=pl.kwp,
                      minlength=model.n_transformers)
    return pd.DataFrame({
        "rating_kva": model.rating_kva, "n_buildings": counts, "pv_kwp": kwp,
        "community_battery_kwh": pl.comm_kwh, "community_battery_kw": pl.comm_kw,
        "demand_kwh": d, "pv_kwh": g, "import_kwh": imp, "export_kwh": exp,
        "self_sufficiency": _ratio(d - imp, d), "self_consumption": _ratio(g - exp, g),
        "peak_import_kw": t_stats[:, grid.T_PEAK_IMPORT],
        "peak_export_kw": t_stats[:, grid.T_PEAK_EXPORT],
        "reverse_flow_hours": t_stats[:, grid.T_REVERSE_HOURS],
        "loading_pct": 100.0 * t_stats[:, grid.T_MAX_ABS_NET] / rating_kw,
        "hours_above_rating": t_stats[:, grid.T_HOURS_ABOVE],
        "hosting_capacity_kwp": t_stats[:, grid.T_HOSTING_KWP],
    })


def _summary(model: DistrictModel, pl: Placements, b_energy: pd.DataFrame,
             t_energy: pd.DataFrame, district_net: np.ndarray, b_res: np.ndarray | None,
             t_res: np.ndarray | None) -> dict[str, float]:
    d = float(b_energy["demand_kwh"].sum())
    g = float(b_energy["pv_kwh"].sum())
    imp_b = float(b_energy["import_kwh"].sum())
    exp_b = float(b_energy["export_kwh"].sum())
    imp_t = float(t_energy["import_kwh"].sum())
    exp_t = float(t_energy["export_kwh"].sum())
    imp_d = float(np.clip(district_net, 0, None).sum())
    exp_d = float(np.clip(-district_net, 0, None).sum())
    e = model.econ
    capex = (pl.kwp.sum() * e["pv_capex"] + pl.battery_kwh.sum() * e["battery_capex"]
             + pl.comm_kwh.sum() * e["community_capex"])
    savings = (d - imp_t) * e["import_price"] + exp_t * e["export_price"]
    out: dict[str, float] = {
        "self_sufficiency": _ratio(d - imp_d, d),
        "self_consumption": _ratio(g - exp_d, g),
        "self_sufficiency_transformer": _ratio(d - imp_t, d),
        "self_consumption_transformer": _ratio(g - exp_t, g),
        "self_sufficiency_building": _ratio(d - imp_b, d),
        "self_consumption_building": _ratio(g - exp_b, g),
        "demand_kwh": d,
        "pv_generation_kwh": g,
        "pv_kwp": float(pl.kwp.sum()),
        "battery_kwh": float(pl.battery_kwh.sum() + pl.comm_kwh.sum()),
        "grid_import_kwh": imp_d,
        "grid_export_kwh": exp_d,
        "peak_import_kw": float(max(district_net.max(), 0.0)),
        "peak_export_kw": float(max(-district_net.min(), 0.0)),
        "reverse_flow_hours_max": float(t_energy["reverse_flow_hours"].max()),
        "transformers_with_reverse_flow": float((t_energy["reverse_flow_hours"] > 0).sum()),
        "max_transformer_loading_pct": float(t_energy["loading_pct"].max()),
        "transformers_overloaded": float((t_energy["hours_above_rating"] > 0).sum()),
        "capex_eur": float(capex),
        "annual_savings_eur": float(savings),
        "payback_years": float(capex / savings) if savings > 0 and capex > 0 else math.nan,
        "co2_avoided_t": float((d - imp_t + exp_t) * e["co2"] / 1000.0),
    }
    if b_res is not None and t_res is not None:
        res = {c: b_res[:, i] for i, c in enumerate(RES_COLUMNS)}
        weights = t_energy["n_buildings"].to_numpy(float)
        out.update({
            "survival_mean_h": float(res["survival_mean_h"].mean()),
            "survival_min_h": float(res["survival_min_h"].min()),
            "p_survive_8h": float(res["p_survive_8h"].mean()),
            "p_survive_24h": float(res["p_survive_24h"].mean()),
            "p_survive_72h": float(res["p_survive_72h"].mean()),
            "survival_pooled_mean_h": float(np.average(t_res[:, 1], weights=weights)),
            "p_survive_24h_pooled": float(np.average(t_res[:, 4], weights=weights)),
        })
    return out


def _building_inputs(pl: Placements) -> dict[str, np.ndarray]:
    return {"pv_kwp": pl.kwp, "pv_tilt_deg": pl.tilt_deg, "pv_azimuth_deg": pl.azimuth_deg,
            "battery_kwh": pl.battery_kwh, "battery_kw": pl.battery_kw}


@dataclass(frozen=True, eq=False)
class _State:
    """Engine state kept beside a Result so that a child scenario can be patched."""

    placements: Placements
    b_stats: np.ndarray
    t_stats: np.ndarray


def _hourly_provider(model: DistrictModel, pl: Placements):
    def provider(building_id: str | None, _transformer_id: str | None) -> pd.DataFrame:
        if building_id is None:
            raise ValueError("a building id is needed")
        try:
            b = model.building_ids.get_loc(building_id)
        except KeyError:
            raise DecentraError(f"no building {building_id!r} in this district") from None
        return building_hourly(model, pl, int(b))
    return provider


def building_hourly(model: DistrictModel, pl: Placements, b: int) -> pd.DataFrame:
    """Hourly demand, PV, battery and grid of one building [kW], recomputed from the profiles
    with the same dispatch as the engine."""
    d = model.annual_kwh[b] * model.load_prof[:, model.prof_idx[b]].astype(np.float64)
    g = pl.kwp[b] * pl.pv_unit[:, pl.pv_idx[b]].astype(np.float64)
    ch, dis, soc = dispatch_series(g - d, pl.cap_kwh[b], pl.battery_kw[b], pl.eta_c, pl.eta_d,
                                   pl.soc0_kwh[b])
    net = d - g + ch - dis
    return pd.DataFrame({
        "demand": d, "pv": g, "battery_charge": ch, "battery_discharge": dis,
        "soc_kwh": soc, "net": net, "import": np.clip(net, 0, None),
        "export": np.clip(-net, 0, None), "critical": pl.crit_frac[b] * d,
    }, index=model.hourly_index)


def _make_result(district_hash: str, scenario: Scenario, model: DistrictModel, pl: Placements,
                 b_stats: np.ndarray, t_stats: np.ndarray, series: tuple[np.ndarray, ...],
                 district_net: np.ndarray, b_hist: np.ndarray | None, b_res: np.ndarray | None,
                 t_hist: np.ndarray | None, t_res: np.ndarray | None,
                 timings: dict[str, float], incremental: bool) -> Result:
    b_energy = _building_energy(b_stats)
    t_energy = _transformer_energy(model, t_stats, pl)
    t0 = time.perf_counter()
    summary = _summary(model, pl, b_energy, t_energy, district_net, b_res, t_res)
    timings["summary_ms"] = 1e3 * (time.perf_counter() - t0)
    result = Result(
        district_hash=district_hash, scenario=scenario, building_ids=model.building_ids,
        transformer_ids=model.transformer_ids, building_transformer=model.building_transformer,
        building_inputs=_building_inputs(pl), building_energy=b_energy, building_res=b_res,
        building_hist=b_hist, transformer_energy=t_energy, transformer_res=t_res,
        transformer_hist=t_hist, summary=summary, hourly_index=model.hourly_index,
        district_net_kw=district_net, transformer_series=series, series_rows=SERIES_ROWS,
        hourly_provider=_hourly_provider(model, pl), timings_ms=timings,
        incremental=incremental)
    object.__setattr__(result, "_state", _State(pl, b_stats, t_stats))
    return result


def _full(district: District, model: DistrictModel, scenario: Scenario,
          resilience: bool) -> Result:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    pl = build_placements(model, scenario)
    t1 = time.perf_counter()
    groups = np.arange(model.n_transformers, dtype=np.int64)
    b_stats = np.zeros((model.n_buildings, grid.N_BSTATS))
    series_arr, t_stats = _run_groups(model, pl, groups, b_stats)
    series = tuple(series_arr[k] for k in range(model.n_transformers))
    net = grid.district_net([s[grid.S_NET] for s in series])
    t2 = time.perf_counter()
    timings["placements_ms"] = 1e3 * (t1 - t0)
    timings["energy_ms"] = 1e3 * (t2 - t1)
    b_hist = b_res = t_hist = t_res = None
    if resilience:
        b_hist = _resilience_buildings(model, pl, np.arange(model.n_buildings))
        t_hist = _resilience_groups(model, pl, series_arr, groups)
        b_res = _res_table(b_hist)
        t_res = _res_table(t_hist)
        timings["resilience_ms"] = 1e3 * (time.perf_counter() - t2)
    return _make_result(district.content_hash, scenario, model, pl, b_stats, t_stats, series,
                        net, b_hist, b_res, t_hist, t_res, timings, incremental=False)


def _incremental(district: District, model: DistrictModel, parent: Result, scenario: Scenario,
                 b_rows: np.ndarray, t_rows: np.ndarray, resilience: bool) -> Result:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    state: _State = parent._state  # type: ignore[attr-defined]
    pl = _patch_placements(model, state.placements, scenario, b_rows, t_rows)
    groups = np.unique(np.concatenate([model.building_transformer[b_rows], t_rows])
                       ).astype(np.int64)
    b_stats = state.b_stats.copy()
    series_new, t_new = _run_groups(model, pl, groups, b_stats)
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
            h = _resilience_buildings(model, pl, b_rows)
            b_hist[b_rows] = h
            b_res[b_rows] = _res_table(h)
        t_hist = parent.transformer_hist.copy()  # type: ignore[union-attr]
        t_res = parent.transformer_res.copy()  # type: ignore[union-attr]
        h = _resilience_groups(model, pl, series_new, groups)
        t_hist[groups] = h
        t_res[groups] = _res_table(h)
        timings["resilience_ms"] = 1e3 * (time.perf_counter() - t1)
    return _make_result(district.content_hash, scenario, model, pl, b_stats, t_stats,
                        tuple(series), net, b_hist, b_res, t_hist, t_res, timings,
                        incremental=True)


# ---------------------------------------------------------------------------------------------
# Public entry point and cache
# ---------------------------------------------------------------------------------------------
class _ResultCache:
    """Small in-process LRU of results keyed by (district hash, scenario hash, resilience)."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str, bool], Result] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, bool]) -> Result | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def put(self, key: tuple[str, str, bool], value: Result) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_cache = _ResultCache()


def clear_cache() -> None:
    _cache.clear()
    with _models_lock:
        _models.clear()


def evaluate(district: District, scenario: Scenario | None = None, *,
             resilience: bool = True, previous: Result | None = None,
             use_cache: bool = True) -> Result:
    """Evaluate ``scenario`` (default: no DER) on ``district``.

    Results are memoized by content hash. If ``scenario`` was derived by edits from a scenario
    whose result is cached (or given as ``previous``), only the edited buildings and their
    transformers are recomputed.
    """
    scenario = scenario if scenario is not None else Scenario(name="Baseline (no DER)")
    if not isinstance(scenario, Scenario):
        raise DecentraError("evaluate needs a Scenario")
    key = (district.content_hash, scenario.content_hash(), resilience)
    if use_cache:
        hit = _cache.get(key)
        if hit is not None:
            if hit.scenario.name != scenario.name:
                hit = _renamed(hit, scenario)
            return hit
    model = district_model(district)
    parent = previous
    lineage = scenario.lineage
    if parent is None and lineage is not None and use_cache:
        parent = _cache.get((district.content_hash, lineage.parent_hash, resilience))
    result = None
    if (parent is not None and lineage is not None and hasattr(parent, "_state")
            and parent.district_hash == district.content_hash
            and parent.scenario.content_hash() == lineage.parent_hash
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
            result = _incremental(district, model, parent, scenario, b_rows.astype(np.int64),
                                  t_rows.astype(np.int64), resilience)
    if result is None:
        result = _full(district, model, scenario, resilience)
    if use_cache:
        _cache.put(key, result)
    return result


def _renamed(result: Result, scenario: Scenario) -> Result:
    from dataclasses import replace
    clone = replace(result, scenario=scenario)
    object.__setattr__(clone, "_state", result._state)  # type: ignore[attr-defined]
    return clone


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
    from dashboard.domain.scenario import PvPlacement, _check_number

    min_roof = _check_number(min_roof_m2, "minimum roof area [m²]", 0, 1e7)
    cov = _check_number(coverage, "roof coverage", 0, 1, lo_open=True)
    if tilt_deg is not None:
        _check_number(tilt_deg, "tilt [deg]", 0, 90)
    if azimuth_deg is not None:
        _check_number(azimuth_deg, "azimuth [deg]", 0, 360)
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


def validate(district: District, scenario: Scenario) -> None:
    """Raise DecentraError if the scenario does not fit the district (unknown ids, PV larger
    than the roof)."""
    build_placements(district_model(district), scenario)
