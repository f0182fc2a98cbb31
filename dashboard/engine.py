"""The engine on arrays: a district as arrays (DistrictModel), a scenario as arrays
(Placements), and the kernels run over transformer groups.

``dashboard.scenarios`` turns District / Scenario objects into these and assembles Results; this
module can also be driven directly with hand-made profiles (tests, analysts' own data).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dashboard.cache import Memo
from dashboard.domain import overrides as overrides_registry
from dashboard.domain.assumptions import CRITICAL_LOAD_SHARE_DEFAULT, Assumptions
from dashboard.domain.district import District, profile_names
from dashboard.domain.errors import DecentraError
from dashboard.domain.result import RES_COLUMNS, SURVIVAL_THRESHOLDS_H
from dashboard.domain.scenario import PvPlacement, Scenario
from dashboard.energy import grid
from dashboard.energy.closedform import PairCache, pair_stats, pair_weighted
from dashboard.energy.economics import EconParams, co2_weights, peak_mask
from dashboard.energy.pv import ProfileBank, PvModel
from dashboard.energy.resilience import building_survival, hist_stats, pooled_survival
from dashboard.energy.storage import dispatch_series, efficiencies, peak_shave_target
from dashboard.energy.weather import solar_geometry


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
    load_prof_sums: np.ndarray   # (P,) float64 column sums of load_prof (1 up to rounding)
    prof_idx: np.ndarray         # (N,) int64
    annual_kwh: np.ndarray       # (N,) float64
    crit_frac: np.ndarray        # (N,) float64, per use type
    critical: np.ndarray         # (N,) bool, critical facility in the district's data
    critical_share: float        # critical load share of a critical facility
    building_transformer: np.ndarray  # (N,) int64
    rating_kva: np.ndarray       # (K,)
    roof_area_m2: np.ndarray
    roof_tilt_deg: np.ndarray
    azimuth_deg: np.ndarray
    bank: ProfileBank | None     # None for models built from hand-made arrays
    hourly_index: pd.DatetimeIndex
    power_factor: float
    module_area_m2_per_kwp: float
    default_tilt_deg: float
    round_trip: float
    min_soc: float
    initial_soc: float
    horizon_h: int
    econ: EconParams = field(default_factory=EconParams)
    hosting_unit: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    pairs: PairCache = field(default_factory=lambda: PairCache(np.zeros((0, 0), np.float32)))
    # (N,) bank column of each building's measured PV output per kWp, -1: modelled; empty: none
    pv_measured_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    # the district's assumptions table (None: a model from hand-made arrays) and each
    # building's use type: what a scenario's overrides apply to
    assumptions: Assumptions | None = None
    use_type: np.ndarray = field(default_factory=lambda: np.zeros(0, object))

    @property
    def n_buildings(self) -> int:
        return len(self.building_ids)

    @property
    def n_transformers(self) -> int:
        return len(self.transformer_ids)


_models: Memo[str, DistrictModel] = Memo(4)


def clear_models() -> None:
    _models.clear()


def district_model(district: District) -> DistrictModel:
    """The (cached) array model of a district."""
    model = _models.get(district.content_hash)
    if model is None:
        model = _build_model(district)
        _models.put(district.content_hash, model)
    return model


def _build_model(district: District) -> DistrictModel:
    a = district.assumptions
    b = district.buildings
    profiles = list(district.load_profiles.columns)
    use_crit = {u: a.use(u, "critical_load_fraction") for u in a.use_types()}
    use = b["use_type"].astype(str)
    prof_idx = pd.Index(profiles).get_indexer(profile_names(b, a)).astype(np.int64)
    crit = use.map(use_crit).to_numpy(np.float64)
    tids = pd.Index(district.transformers["transformer_id"].astype(str))
    b_tr = tids.get_indexer(b["transformer_id"].astype(str)).astype(np.int64)
    weather = district.weather
    geometry = solar_geometry(weather.index, district.site, weather["temp_air"].to_numpy())
    bank = ProfileBank(weather, geometry, PvModel.from_assumptions(a))
    default_tilt = a.number("pv.default_tilt_deg")
    idx, matrix = bank.columns(np.array([default_tilt]), np.array([180.0]))
    hosting_unit = np.ascontiguousarray(matrix[:, idx[0]])
    pv_measured = np.zeros(0, np.int64)
    if district.pv_profiles is not None and len(district.pv_profiles.columns):
        fixed = bank.add_columns(district.pv_profiles.to_numpy(np.float32))
        pv_measured = pd.Index(district.pv_profiles.columns).get_indexer(
            b["pv_profile"].fillna("").astype(str))
        pv_measured = np.where(pv_measured >= 0, fixed[pv_measured], -1).astype(np.int64)
    return DistrictModel(
        content_hash=district.content_hash,
        building_ids=pd.Index(b["building_id"].astype(str)),
        transformer_ids=tids,
        load_prof=np.ascontiguousarray(district.load_profiles.to_numpy(np.float32)),
        load_prof_t=np.ascontiguousarray(district.load_profiles.to_numpy(np.float32).T),
        load_prof_sums=district.load_profiles.to_numpy(np.float32).sum(axis=0, dtype=np.float64),
        prof_idx=prof_idx,
        annual_kwh=b["annual_demand_kwh"].to_numpy(np.float64),
        crit_frac=crit,
        critical=b["critical"].astype(bool).to_numpy(),
        critical_share=a.critical_load_share(),
        building_transformer=b_tr,
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
        econ=EconParams.from_assumptions(a),
        hosting_unit=hosting_unit,
        pairs=PairCache(np.ascontiguousarray(district.load_profiles.to_numpy(np.float32))),
        pv_measured_idx=pv_measured,
        assumptions=a,
        use_type=use.to_numpy(object),
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
    pv_unit_t: np.ndarray        # (Q, T) float32, the same transposed
    pv_unit_sums: np.ndarray     # (Q,) float64 annual kWh per kWp of each column
    battery_kwh: np.ndarray      # nominal
    battery_kw: np.ndarray
    cap_kwh: np.ndarray          # usable
    soc0_kwh: np.ndarray
    crit_frac: np.ndarray
    critical: np.ndarray         # (N,) bool, critical facility (district flag or scenario mark)
    comm_kwh: np.ndarray         # nominal, (K,)
    comm_kw: np.ndarray
    comm_cap_kwh: np.ndarray     # usable
    comm_soc0_kwh: np.ndarray
    eta_c: float
    eta_d: float
    horizon_h: int
    # the scenario's effective economics (district table + overrides) and the hourly weights
    # of the tariff's peak hours and of the emission factor (economics.peak_mask, co2_weights)
    econ: EconParams = field(default_factory=EconParams)
    w_peak: np.ndarray = field(default_factory=lambda: np.zeros(0))
    w_co2: np.ndarray = field(default_factory=lambda: np.zeros(0))

    # PV export limit at each building's meter [kW] (grid.NO_LIMIT: none), and the
    # scenario-wide share of kWp (None: none) that added PV gets in hosting capacity
    export_lim_kw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pv_export_share: float | None = None
    # community batteries' peak shaving (K,): on/off, limits [kW] (NO_LIMIT: none), target SoC
    comm_peak: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    comm_import_lim_kw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    comm_export_lim_kw: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def export_limits(self) -> np.ndarray:
        """(N,) PV export limit of every building [kW], ``grid.NO_LIMIT`` where none."""
        if self.export_lim_kw.size:
            return self.export_lim_kw
        return np.full(len(self.kwp), grid.NO_LIMIT)

    def weighing(self) -> tuple[bool, bool]:
        """(a peak window is set, the emission factor is hourly): which weighted sums need
        a pass over the hours (without a window the peak sums are 0; a flat factor weighs
        every hour 1, the plain sums)."""
        return bool(self.w_peak.any()), self.econ.co2_hourly_kg_per_kwh is not None

    def peak_shaving(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(K,) arrays: peak shaving on, import limit, export limit [kW] and the state of
        charge it returns to [kWh] (``storage.peak_shave_target``)."""
        k = len(self.comm_kw)
        if not self.comm_peak.size:
            lim = np.full(k, grid.NO_LIMIT)
            return np.zeros(k, bool), lim, lim, np.zeros(k)
        target = np.array([peak_shave_target(c, i < grid.NO_LIMIT, e < grid.NO_LIMIT)
                           for c, i, e in zip(self.comm_cap_kwh, self.comm_import_lim_kw,
                                              self.comm_export_lim_kw, strict=True)])
        return self.comm_peak, self.comm_import_lim_kw, self.comm_export_lim_kw, target


def export_limits_kw(scenario: Scenario, pvs: Sequence[PvPlacement | None],
                     kwp: np.ndarray) -> np.ndarray:
    """PV export limit [kW] of PV systems ``pvs`` (None: no PV) of ``kwp``: the placement's
    share, else the scenario's, times kWp; ``grid.NO_LIMIT`` where neither is set."""
    default = scenario.params.pv_export_limit_share

    def share(p: PvPlacement | None) -> float | None:
        if p is None:
            return None
        return default if p.export_limit_share is None else p.export_limit_share

    shares = np.array([share(p) for p in pvs], dtype=float)       # None -> nan
    return np.where(np.isfinite(shares), shares * kwp, grid.NO_LIMIT)


def _community_modes(scenario: Scenario, ids: list[str]
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    peak = np.zeros(len(ids), bool)
    imp = np.full(len(ids), grid.NO_LIMIT)
    exp = np.full(len(ids), grid.NO_LIMIT)
    for i, tid in enumerate(ids):
        c = scenario.community_battery_of(tid)
        if c is not None and c.mode == "peak_shaving":
            peak[i] = True
            imp[i] = grid.NO_LIMIT if c.import_limit_kw is None else c.import_limit_kw
            exp[i] = grid.NO_LIMIT if c.export_limit_kw is None else c.export_limit_kw
    return peak, imp, exp


def effective_assumptions(model: DistrictModel, scenario: Scenario) -> Assumptions:
    """The district's assumptions table with the scenario's overrides in place (rows the
    table lacks, such as a time-of-use tariff, appended)."""
    base = model.assumptions if model.assumptions is not None else Assumptions(())
    return base.overridden((k, overrides_registry.exact_text(v))
                           for k, v in scenario.assumptions)


_econ_memo: Memo[tuple[str, object], EconParams] = Memo(64)


def effective_econ(model: DistrictModel, scenario: Scenario) -> EconParams:
    """Economic assumptions of ``scenario`` on this district (the table's, overridden)."""
    if not scenario.assumptions:
        return model.econ
    key = (model.content_hash, scenario.assumptions)
    hit = _econ_memo.get(key)
    if hit is None:
        # a hand-made model (no table) starts from the defaults, as its model.econ does
        hit = EconParams.from_assumptions(effective_assumptions(model, scenario))
        _econ_memo.put(key, hit)
    return hit


def hourly_weights(model: DistrictModel, econ: EconParams) -> tuple[np.ndarray, np.ndarray]:
    """(peak mask, emission weights) over the district's hours, contiguous float64."""
    return (np.ascontiguousarray(peak_mask(model.hourly_index, econ)),
            np.ascontiguousarray(co2_weights(model.hourly_index, econ)))


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
    lim = np.full(n, grid.NO_LIMIT)
    if scenario.pv:
        ids = [p.building_id for p in scenario.pv]
        rows = _indexer(model.building_ids, ids, "buildings")
        kwp[rows] = [p.kwp for p in scenario.pv]
        tilt[rows] = [p.tilt_deg for p in scenario.pv]
        az[rows] = [p.azimuth_deg for p in scenario.pv]
        _check_roof_fit(model, rows, kwp[rows])
        lim[rows] = export_limits_kw(scenario, scenario.pv, kwp[rows])
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
    assert model.bank is not None
    critical = model.critical.copy()
    if scenario.critical:
        rows = _indexer(model.building_ids, [c.building_id for c in scenario.critical],
                        "buildings")
        critical[rows] = [c.critical for c in scenario.critical]
    crit = critical_fractions(model, scenario, critical)
    econ = effective_econ(model, scenario)
    w_peak, w_co2 = hourly_weights(model, econ)
    peak, imp_lim, exp_lim = _community_modes(scenario, list(model.transformer_ids))
    return Placements(
        kwp=kwp, tilt_deg=tilt, azimuth_deg=az, pv_idx=pv_idx, pv_unit=pv_unit,
        pv_unit_t=model.bank.matrix_t(pv_unit), pv_unit_sums=_column_sums(pv_unit),
        battery_kwh=bkwh, battery_kw=bkw,
        cap_kwh=bkwh * (1.0 - min_soc), soc0_kwh=bkwh * init, crit_frac=crit,
        critical=critical, comm_kwh=ckwh,
        comm_kw=ckw, comm_cap_kwh=ckwh * (1.0 - min_soc), comm_soc0_kwh=ckwh * init,
        eta_c=eta_c, eta_d=eta_d, horizon_h=horizon, econ=econ, w_peak=w_peak, w_co2=w_co2,
        export_lim_kw=lim,
        pv_export_share=scenario.params.pv_export_limit_share, comm_peak=peak,
        comm_import_lim_kw=imp_lim, comm_export_lim_kw=exp_lim)


def critical_fractions(model: DistrictModel, scenario: Scenario, critical: np.ndarray,
                       ) -> np.ndarray:
    """Critical load share of every building: ``critical_share`` for critical facilities, else
    the scenario's share for all buildings or the use type's.

    The scenario's assumption overrides apply on top: ``use.<type>.critical_load_fraction``
    replaces the share of that use type (also over the scenario's all-buildings share: the
    more specific value wins), ``critical.load_share`` that of critical facilities. A use type
    the district does not have is a DecentraError."""
    base = (model.crit_frac if scenario.params.critical_load_fraction is None
            else np.full(model.n_buildings, scenario.params.critical_load_fraction))
    share = model.critical_share
    for key, value in scenario.assumptions:
        if key == overrides_registry.CRITICAL_SHARE_KEY:
            share = float(value)  # type: ignore[arg-type]
        elif key.startswith("use.") and key.endswith(".critical_load_fraction"):
            use = key.split(".")[1]
            known = model.assumptions.use_types() if model.assumptions is not None else ()
            if use not in known:
                raise DecentraError(f"the scenario overrides {key}, but this district has no "
                                    f"use type '{use}' (it has: {', '.join(known) or 'none'})",
                                    source="scenario assumptions")
            base = np.where(model.use_type == use, float(value), base)  # type: ignore[arg-type]
    return np.where(critical, share, base)


_sums_cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _column_sums(matrix: np.ndarray) -> np.ndarray:
    """Column sums (float64) of a PV matrix, cached per matrix object."""
    hit = _sums_cache.get(id(matrix))
    if hit is not None and hit[0] is matrix:
        return hit[1]
    sums = matrix.sum(axis=0, dtype=np.float64)
    _sums_cache.clear()
    _sums_cache[id(matrix)] = (matrix, sums)
    return sums


def _pv_columns(model: DistrictModel, kwp: np.ndarray, tilt: np.ndarray, az: np.ndarray,
                ) -> tuple[np.ndarray, np.ndarray]:
    assert model.bank is not None, "this model has no PV profile bank"
    has = kwp > 0
    pv_idx = np.zeros(len(kwp), np.int64)
    if has.any():
        cols, matrix = model.bank.columns(tilt[has], az[has])
        pv_idx[has] = cols
    else:
        matrix = model.bank.matrix
    return _measured_pv(model, pv_idx, has), matrix


def _measured_pv(model: DistrictModel, pv_idx: np.ndarray, has: np.ndarray) -> np.ndarray:
    """``pv_idx`` with buildings whose existing PV was measured pointing at that series."""
    if model.pv_measured_idx.size == 0:
        return pv_idx
    use = has & (model.pv_measured_idx >= 0)
    pv_idx[use] = model.pv_measured_idx[use]
    return pv_idx


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


def patch_placements(model: DistrictModel, prev: Placements, scenario: Scenario,
                      b_rows: np.ndarray, t_rows: np.ndarray) -> Placements:
    """Copy of ``prev`` with the given building / transformer rows re-read from ``scenario``."""
    _rt, min_soc, init, horizon = _params(model, scenario)
    kwp, tilt, az = prev.kwp.copy(), prev.tilt_deg.copy(), prev.azimuth_deg.copy()
    bkwh, bkw = prev.battery_kwh.copy(), prev.battery_kw.copy()
    critical = prev.critical.copy()
    for r in b_rows:
        bid = model.building_ids[r]
        mark = scenario.critical_of(bid)
        critical[r] = model.critical[r] if mark is None else mark
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
    lim = prev.export_limits().copy()
    lim[b_rows] = export_limits_kw(
        scenario, [scenario.pv_of(model.building_ids[r]) for r in b_rows], kwp[b_rows])
    peak, imp_lim, exp_lim, _target = prev.peak_shaving()
    peak, imp_lim, exp_lim = peak.copy(), imp_lim.copy(), exp_lim.copy()
    peak[t_rows], imp_lim[t_rows], exp_lim[t_rows] = _community_modes(
        scenario, [model.transformer_ids[r] for r in t_rows])
    pv_idx = prev.pv_idx.copy()
    pv_unit = prev.pv_unit
    changed_pv = b_rows[kwp[b_rows] > 0]
    pv_idx[b_rows] = 0
    pv_unit_t = prev.pv_unit_t
    if len(changed_pv):
        assert model.bank is not None
        cols, pv_unit = model.bank.columns(tilt[changed_pv], az[changed_pv])
        pv_idx[changed_pv] = cols
        has = np.zeros(len(kwp), bool)
        has[changed_pv] = True
        pv_idx = _measured_pv(model, pv_idx, has)
        pv_unit_t = model.bank.matrix_t(pv_unit)
    return Placements(
        kwp=kwp, tilt_deg=tilt, azimuth_deg=az, pv_idx=pv_idx, pv_unit=pv_unit,
        pv_unit_t=pv_unit_t, pv_unit_sums=_column_sums(pv_unit), battery_kwh=bkwh,
        battery_kw=bkw, cap_kwh=bkwh * (1.0 - min_soc),
        soc0_kwh=bkwh * init, crit_frac=critical_fractions(model, scenario, critical),
        critical=critical, comm_kwh=ckwh, comm_kw=ckw,
        comm_cap_kwh=ckwh * (1.0 - min_soc), comm_soc0_kwh=ckwh * init, eta_c=prev.eta_c,
        eta_d=prev.eta_d, horizon_h=horizon, econ=prev.econ, w_peak=prev.w_peak,
        w_co2=prev.w_co2, export_lim_kw=lim,
        pv_export_share=scenario.params.pv_export_limit_share, comm_peak=peak,
        comm_import_lim_kw=imp_lim, comm_export_lim_kw=exp_lim)


# ---------------------------------------------------------------------------------------------
# Kernels over groups
# ---------------------------------------------------------------------------------------------
def run_groups(model: DistrictModel, pl: Placements, groups: np.ndarray, b_stats: np.ndarray,
               ) -> tuple[np.ndarray, np.ndarray]:
    """Simulate transformer ``groups``; fills ``b_stats`` rows of their buildings and returns
    (series (G, rows, T) float32, t_stats (G, N_TSTATS))."""
    n_hours, n_prof = model.load_prof.shape
    n_pv = pl.pv_unit.shape[1]
    k_all = model.n_transformers
    bt = model.building_transformer
    in_groups = np.zeros(k_all, dtype=bool)
    in_groups[groups] = True
    member = np.flatnonzero(in_groups[bt])
    gpos = np.full(k_all, -1, dtype=np.int64)
    gpos[groups] = np.arange(len(groups))
    n_groups = len(groups)
    # every building's demand, critical load and PV: aggregated coefficients per group
    g_of = gpos[bt[member]]
    cell = g_of * n_prof + model.prof_idx[member]
    annual = model.annual_kwh[member]
    agg_d = np.bincount(cell, weights=annual, minlength=n_groups * n_prof
                        ).reshape(n_groups, n_prof)
    agg_c = np.bincount(cell, weights=annual * pl.crit_frac[member],
                        minlength=n_groups * n_prof).reshape(n_groups, n_prof)
    lit = member[pl.kwp[member] > 0]
    key = gpos[bt[lit]] * n_pv + pl.pv_idx[lit]
    uniq, inv = np.unique(key, return_inverse=True)
    pv_kwp = np.bincount(inv, weights=pl.kwp[lit], minlength=len(uniq))
    pv_col = (uniq % n_pv).astype(np.int64)
    pv_ptr = np.concatenate([[0], np.cumsum(np.bincount(uniq // n_pv, minlength=n_groups))]
                            ).astype(np.int64)
    # buildings with storage: stepped hour by hour, grouped by transformer
    lim = pl.export_limits()
    has_batt = (((pl.cap_kwh[member] > 0) & (pl.battery_kw[member] > 0))
                | ((pl.kwp[member] > 0) & (lim[member] < grid.NO_LIMIT)))
    batt = member[has_batt]
    order_b = batt[np.argsort(bt[batt], kind="stable")].astype(np.int64)
    offsets_b = np.concatenate([[0], np.cumsum(np.bincount(bt[batt], minlength=k_all))]
                               ).astype(np.int64)
    b_acc = np.zeros((model.n_buildings if len(batt) else 0, grid.N_ACC))

    series = np.empty((n_groups, grid.N_SERIES, n_hours), dtype=np.float32)
    grid.simulate_groups(model.load_prof, model.load_prof_t, pl.pv_unit, pl.pv_unit_t,
                         model.prof_idx, model.annual_kwh, pl.pv_idx, pl.kwp, pl.cap_kwh,
                         pl.battery_kw, pl.soc0_kwh, pl.eta_c, pl.eta_d, order_b, offsets_b,
                         groups, agg_d, agg_c, pv_ptr, pv_col, pv_kwp, b_acc, series,
                         lim, pl.w_peak, pl.w_co2)
    _plain_stats(model, pl, member[~has_batt], b_stats)
    _battery_stats(model, pl, batt, b_acc, b_stats)
    t_stats = np.empty((n_groups, grid.N_TSTATS))
    rating_kw = model.rating_kva * model.power_factor
    peak, imp_lim, exp_lim, target = pl.peak_shaving()
    grid.community_and_stats(series, groups, pl.comm_cap_kwh, pl.comm_kw, pl.comm_soc0_kwh,
                             rating_kw, pl.eta_c, pl.eta_d, hosting_unit(model, pl), t_stats,
                             peak, imp_lim, exp_lim, target)
    _weighted_transformer_stats(pl, series, t_stats)
    return series, t_stats


def hosting_unit(model: DistrictModel, pl: Placements) -> np.ndarray:
    """Hourly output [kW/kWp] of the PV that hosting capacity adds: the default orientation's,
    capped at the scenario's PV export limit share (added PV is held to the same limit, and
    its injection never exceeds the limit; its own load is not counted)."""
    if pl.pv_export_share is None:
        return model.hosting_unit
    return np.minimum(model.hosting_unit, np.float32(pl.pv_export_share))


def _weighted_transformer_stats(pl: Placements, series: np.ndarray, t_stats: np.ndarray,
                                ) -> None:
    """Peak-hour and emission-weighted demand, import and export of each group from its
    series (T_DEMAND_PEAK, T_IMPORT_PEAK, T_DEMAND_CO2, T_IMPORT_CO2, T_EXPORT_CO2). Without
    a peak window the peak sums are 0, and a flat emission factor weighs every hour 1 (the
    plain sums): no pass over the hours for either (most scenarios; the optimizer evaluates
    thousands)."""
    weigh_peak, weigh_co2 = pl.weighing()
    if weigh_peak or weigh_co2:
        net = series[:, grid.S_NET, :]
        imp = np.maximum(net, 0.0)
        exp = np.maximum(-net, 0.0)
    if weigh_peak:
        t_stats[:, grid.T_DEMAND_PEAK] = series[:, grid.S_DEMAND, :] @ pl.w_peak
        t_stats[:, grid.T_IMPORT_PEAK] = imp @ pl.w_peak
    else:
        t_stats[:, grid.T_DEMAND_PEAK] = t_stats[:, grid.T_IMPORT_PEAK] = 0.0
    if weigh_co2:
        t_stats[:, grid.T_DEMAND_CO2] = series[:, grid.S_DEMAND, :] @ pl.w_co2
        t_stats[:, grid.T_IMPORT_CO2] = imp @ pl.w_co2
        t_stats[:, grid.T_EXPORT_CO2] = exp @ pl.w_co2
    else:
        t_stats[:, grid.T_DEMAND_CO2] = t_stats[:, grid.T_DEMAND]
        t_stats[:, grid.T_IMPORT_CO2] = t_stats[:, grid.T_IMPORT]
        t_stats[:, grid.T_EXPORT_CO2] = t_stats[:, grid.T_EXPORT]


def _battery_stats(model: DistrictModel, pl: Placements, rows: np.ndarray, b_acc: np.ndarray,
                   b_stats: np.ndarray) -> None:
    """Annual stats of buildings with storage from the kernel's accumulators: demand and PV in
    closed form, discharge from the state-of-charge balance, export from the energy balance."""
    if len(rows) == 0:
        return
    demand = model.annual_kwh[rows] * model.load_prof_sums[model.prof_idx[rows]]
    pv = pl.kwp[rows] * pl.pv_unit_sums[pl.pv_idx[rows]]
    acc = b_acc[rows]
    charge = acc[:, grid.A_CHARGE]
    discharge = np.clip(pl.eta_d * (pl.soc0_kwh[rows] + pl.eta_c * charge
                                    - acc[:, grid.A_SOC_END]), 0.0, None)
    imp = acc[:, grid.A_IMPORT]
    curtailed = acc[:, grid.A_CURTAIL]
    pv = pv - curtailed          # delivered
    b_stats[rows, grid.B_DEMAND] = demand
    b_stats[rows, grid.B_PV] = pv
    b_stats[rows, grid.B_CURTAIL] = curtailed
    b_stats[rows, grid.B_IMPORT] = imp
    b_stats[rows, grid.B_EXPORT] = np.clip(imp - (demand - pv + charge - discharge), 0.0, None)
    b_stats[rows, grid.B_PEAK_IMPORT] = acc[:, grid.A_PEAK_IMPORT]
    b_stats[rows, grid.B_PEAK_EXPORT] = np.clip(acc[:, grid.A_PEAK_EXPORT], 0.0, None)
    b_stats[rows, grid.B_CHARGE] = charge
    b_stats[rows, grid.B_DISCHARGE] = discharge
    b_stats[rows, grid.B_IMPORT_PEAK] = acc[:, grid.A_IMPORT_PEAK]
    b_stats[rows, grid.B_IMPORT_CO2] = acc[:, grid.A_IMPORT_CO2]
    b_stats[rows, grid.B_EXPORT_CO2] = acc[:, grid.A_EXPORT_CO2]


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
    # weighed once per call, not per pair: most scenarios have neither a peak window nor an
    # hourly emission factor, and there are as many pairs as PV orientations
    weigh = pl.weighing()
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
        b_stats[b, grid.B_CURTAIL] = 0.0
        _plain_weighted(model, pl, p, q, b, stats, b_stats, weigh)


def _plain_weighted(model: DistrictModel, pl: Placements, p: int, q: int, b: np.ndarray,
                    stats: dict[str, np.ndarray], b_stats: np.ndarray,
                    weigh: tuple[bool, bool]) -> None:
    """Weighted import / export of buildings without storage sharing the pair (p, q): exact
    by the pair's sorted order; nothing to weigh without a peak window (``weigh[0]``), and a
    flat emission factor (not ``weigh[1]``) weighs every hour 1."""
    if weigh[0] or weigh[1]:
        table = model.pairs.get(p, q, pl.pv_unit)
        load, unit = model.load_prof[:, p], pl.pv_unit[:, q]
    if weigh[0]:
        b_stats[b, grid.B_IMPORT_PEAK], _ = pair_weighted(table, load, unit, pl.w_peak,
                                                          model.annual_kwh[b], pl.kwp[b])
    else:
        b_stats[b, grid.B_IMPORT_PEAK] = 0.0
    if not weigh[1]:
        b_stats[b, grid.B_IMPORT_CO2] = stats["import"]
        b_stats[b, grid.B_EXPORT_CO2] = stats["export"]
    else:
        b_stats[b, grid.B_IMPORT_CO2], b_stats[b, grid.B_EXPORT_CO2] = pair_weighted(
            table, load, unit, pl.w_co2, model.annual_kwh[b], pl.kwp[b])


def _pooled_storage(model: DistrictModel, pl: Placements) -> tuple[np.ndarray, np.ndarray]:
    k = model.n_transformers
    cap = np.bincount(model.building_transformer, weights=pl.cap_kwh, minlength=k)
    power = np.bincount(model.building_transformer, weights=pl.battery_kw, minlength=k)
    return cap + pl.comm_cap_kwh, power + pl.comm_kw


def resilience_buildings(model: DistrictModel, pl: Placements, rows: np.ndarray) -> np.ndarray:
    hist = np.zeros((len(rows), pl.horizon_h + 1), dtype=np.uint16)
    building_survival(model.load_prof, pl.pv_unit, model.prof_idx, model.annual_kwh, pl.pv_idx,
                      pl.kwp, pl.crit_frac, pl.cap_kwh, pl.battery_kw, pl.soc0_kwh, pl.eta_c,
                      pl.eta_d, pl.horizon_h, rows.astype(np.int64), hist)
    return hist


def resilience_groups(model: DistrictModel, pl: Placements, series: np.ndarray,
                       groups: np.ndarray) -> np.ndarray:
    cap, power = _pooled_storage(model, pl)
    hist = np.zeros((len(groups), pl.horizon_h + 1), dtype=np.uint16)
    pooled_survival(series, grid.S_CRITICAL, grid.S_PV, grid.S_SOC_BTM, grid.S_SOC_COMMUNITY,
                    groups, cap, power, pl.eta_c, pl.eta_d, pl.horizon_h, hist)
    return hist


def res_table(hist: np.ndarray) -> np.ndarray:
    """Resilience statistics (columns RES_COLUMNS) of each histogram row."""
    stats = hist_stats(hist, SURVIVAL_THRESHOLDS_H)
    return np.column_stack([stats[c] for c in RES_COLUMNS])


def building_hourly(model: DistrictModel, pl: Placements, b: int) -> pd.DataFrame:
    """Hourly demand, PV, battery and grid of one building [kW], recomputed from the profiles
    with the same dispatch as the engine."""
    d = model.annual_kwh[b] * model.load_prof[:, model.prof_idx[b]].astype(np.float64)
    g = pl.kwp[b] * pl.pv_unit[:, pl.pv_idx[b]].astype(np.float64)
    ch, dis, soc = dispatch_series(g - d, pl.cap_kwh[b], pl.battery_kw[b], pl.eta_c, pl.eta_d,
                                   pl.soc0_kwh[b])
    net = d - g + ch - dis
    curtailed = np.clip(-net - pl.export_limits()[b], 0.0, None)
    net = net + curtailed
    return pd.DataFrame({
        "demand": d, "pv": g - curtailed, "pv_curtailed": curtailed,
        "battery_charge": ch, "battery_discharge": dis,
        "soc_kwh": soc, "net": net, "import": np.clip(net, 0, None),
        "export": np.clip(-net, 0, None), "critical": pl.crit_frac[b] * d,
    }, index=model.hourly_index)




# ---------------------------------------------------------------------------------------------
# Whole-district simulation, and models from hand-made arrays
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Simulation:
    """Raw engine output for all buildings (N) and transformers (K)."""

    b_stats: np.ndarray              # (N, grid.N_BSTATS)
    t_stats: np.ndarray              # (K, grid.N_TSTATS)
    series: np.ndarray               # (K, grid.N_SERIES, T) float32
    b_hist: np.ndarray | None        # (N, H + 1) uint16
    t_hist: np.ndarray | None        # (K, H + 1) uint16


def simulate(model: DistrictModel, pl: Placements, resilience: bool = True) -> Simulation:
    """Run every transformer group, and optionally outage survival for every building and
    transformer microgrid."""
    groups = np.arange(model.n_transformers, dtype=np.int64)
    b_stats = np.zeros((model.n_buildings, grid.N_BSTATS))
    series, t_stats = run_groups(model, pl, groups, b_stats)
    b_hist = t_hist = None
    if resilience:
        b_hist = resilience_buildings(model, pl, np.arange(model.n_buildings))
        t_hist = resilience_groups(model, pl, series, groups)
    return Simulation(b_stats, t_stats, series, b_hist, t_hist)


def model_from_arrays(load_prof: np.ndarray, prof_idx: np.ndarray, annual_kwh: np.ndarray,
                      building_transformer: np.ndarray, rating_kva: np.ndarray, *,
                      crit_frac: np.ndarray | float = 0.5, power_factor: float = 1.0,
                      horizon_h: int = 168, hosting_unit: np.ndarray | None = None,
                      ) -> DistrictModel:
    """A DistrictModel from hand-made arrays: ``load_prof`` (T, P) shares of annual energy,
    buildings' profile column, annual kWh and transformer row, transformers' kVA rating."""
    load = np.ascontiguousarray(np.asarray(load_prof, dtype=np.float32))
    n = len(annual_kwh)
    k = len(rating_kva)
    return DistrictModel(
        content_hash="arrays", building_ids=pd.Index([f"b{i}" for i in range(n)]),
        transformer_ids=pd.Index([f"t{j}" for j in range(k)]), load_prof=load,
        load_prof_t=np.ascontiguousarray(load.T),
        load_prof_sums=load.sum(axis=0, dtype=np.float64),
        prof_idx=np.asarray(prof_idx, dtype=np.int64),
        annual_kwh=np.asarray(annual_kwh, dtype=np.float64),
        crit_frac=np.broadcast_to(np.asarray(crit_frac, dtype=np.float64), (n,)).copy(),
        critical=np.zeros(n, dtype=bool), critical_share=CRITICAL_LOAD_SHARE_DEFAULT,
        building_transformer=np.asarray(building_transformer, dtype=np.int64),
        rating_kva=np.asarray(rating_kva, dtype=np.float64), roof_area_m2=np.full(n, np.inf),
        roof_tilt_deg=np.zeros(n), azimuth_deg=np.full(n, 180.0), bank=None,
        hourly_index=pd.RangeIndex(load.shape[0]), power_factor=power_factor,
        module_area_m2_per_kwp=5.0, default_tilt_deg=30.0, round_trip=1.0, min_soc=0.0,
        initial_soc=0.0, horizon_h=horizon_h,
        hosting_unit=(np.zeros(load.shape[0], np.float32) if hosting_unit is None
                      else np.asarray(hosting_unit, dtype=np.float32)),
        pairs=PairCache(load))


def placements_from_arrays(model: DistrictModel, pv_unit: np.ndarray, pv_idx: np.ndarray,
                           kwp: np.ndarray, *, cap_kwh: np.ndarray | None = None,
                           power_kw: np.ndarray | None = None,
                           soc0_kwh: np.ndarray | None = None, round_trip: float = 1.0,
                           comm_kwh: np.ndarray | None = None,
                           comm_kw: np.ndarray | None = None,
                           comm_soc0_kwh: np.ndarray | None = None,
                           export_lim_kw: np.ndarray | None = None,
                           comm_import_lim_kw: np.ndarray | None = None,
                           comm_export_lim_kw: np.ndarray | None = None) -> Placements:
    """Placements from arrays: ``pv_unit`` (T, Q) kWh per kWp and hour; capacities are usable
    kWh (no reserve). ``export_lim_kw`` (N,): PV export limits (``grid.NO_LIMIT``: none);
    community batteries with an import or export limit (K,) shave peaks."""
    n, k = model.n_buildings, model.n_transformers
    unit = np.ascontiguousarray(np.asarray(pv_unit, dtype=np.float32))
    zeros_n, zeros_k = np.zeros(n), np.zeros(k)
    cap = zeros_n if cap_kwh is None else np.asarray(cap_kwh, dtype=np.float64)
    ccap = zeros_k if comm_kwh is None else np.asarray(comm_kwh, dtype=np.float64)
    eta_c, eta_d = efficiencies(round_trip)
    w_peak, w_co2 = hourly_weights(model, model.econ)
    return Placements(
        kwp=np.asarray(kwp, dtype=np.float64), tilt_deg=zeros_n, azimuth_deg=zeros_n,
        pv_idx=np.asarray(pv_idx, dtype=np.int64), pv_unit=unit,
        pv_unit_t=np.ascontiguousarray(unit.T), pv_unit_sums=_column_sums(unit),
        battery_kwh=cap,
        battery_kw=zeros_n if power_kw is None else np.asarray(power_kw, dtype=np.float64),
        cap_kwh=cap, soc0_kwh=zeros_n if soc0_kwh is None else np.asarray(soc0_kwh, float),
        crit_frac=model.crit_frac, critical=model.critical, comm_kwh=ccap,
        comm_kw=zeros_k if comm_kw is None else np.asarray(comm_kw, dtype=np.float64),
        comm_cap_kwh=ccap,
        comm_soc0_kwh=zeros_k if comm_soc0_kwh is None else np.asarray(comm_soc0_kwh, float),
        eta_c=eta_c, eta_d=eta_d, horizon_h=model.horizon_h, econ=model.econ,
        w_peak=w_peak, w_co2=w_co2,
        **_array_limits(n, k, export_lim_kw, comm_import_lim_kw, comm_export_lim_kw))


def _array_limits(n: int, k: int, export_lim_kw: np.ndarray | None,
                  imp: np.ndarray | None, exp: np.ndarray | None) -> dict:
    imp_a = np.full(k, grid.NO_LIMIT) if imp is None else np.asarray(imp, dtype=np.float64)
    exp_a = np.full(k, grid.NO_LIMIT) if exp is None else np.asarray(exp, dtype=np.float64)
    return {"export_lim_kw": (np.full(n, grid.NO_LIMIT) if export_lim_kw is None
                              else np.asarray(export_lim_kw, dtype=np.float64)),
            "comm_peak": (imp_a < grid.NO_LIMIT) | (exp_a < grid.NO_LIMIT),
            "comm_import_lim_kw": imp_a, "comm_export_lim_kw": exp_a}
