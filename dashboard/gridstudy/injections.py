"""Each bus's hourly injections of a scenario (buildings' net load after their batteries and
after PV curtailed at an export limit, community batteries in their mode), in per unit, and the
grid limits of a district.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashboard.domain.district import District
from dashboard.domain.errors import DecentraError
from dashboard.domain.scenario import Scenario
from dashboard.energy import grid
from dashboard.energy import powerflow as pf
from dashboard.energy.storage import dispatch_series
from dashboard.engine import DistrictModel, Placements
from dashboard.gridstudy.network import NetModel


@dataclass(frozen=True, eq=False)
class Injections:
    """Hourly net load [kW] (consumption positive) and demand [kW] per PQ bus of an island,
    hours as rows."""

    p_kw: np.ndarray        # (T, n_pq)
    d_kw: np.ndarray        # (T, n_pq) demand only (for reactive power)


def pq_position(nm: NetModel, isl: pf.Island) -> np.ndarray:
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
    local = pq_position(nm, isl)
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
    lim = pl.export_limits()
    for b, j in zip(rows, bus, strict=True):
        if pl.cap_kwh[b] > 0 and pl.battery_kw[b] > 0:
            load = model.annual_kwh[b] * model.load_prof[:, model.prof_idx[b]].astype(np.float64)
            gen = pl.kwp[b] * pl.pv_unit[:, pl.pv_idx[b]].astype(np.float64)
            ch, dis, _ = dispatch_series(gen - load, pl.cap_kwh[b], pl.battery_kw[b],
                                         pl.eta_c, pl.eta_d, pl.soc0_kwh[b])
            p[:, j] += ch - dis + np.clip(gen - load - ch + dis - lim[b], 0.0, None)
    _add_curtailment(model, pl, rows, bus, lim, p)
    if community_kw is not None:
        for tr in np.flatnonzero(nm.transformer_island == island):
            j = local[nm.transformer_ppc[tr]]
            if j >= 0 and np.any(community_kw[tr]):
                p[:, j] += community_kw[tr]
    assert p.shape == (n_t, n)
    return Injections(p, d)


CHUNK = 512        # buildings per (T, chunk) block of curtailment


def _add_curtailment(model: DistrictModel, pl: Placements, rows: np.ndarray, bus: np.ndarray,
                     lim: np.ndarray, p: np.ndarray) -> None:
    """Add the PV curtailed at the export limit of buildings without a battery to their
    buses' net load (vectorised in blocks of buildings)."""
    plain = (pl.kwp[rows] > 0) & (lim[rows] < grid.NO_LIMIT) & ~(
        (pl.cap_kwh[rows] > 0) & (pl.battery_kw[rows] > 0))
    rows, bus = rows[plain], bus[plain]
    for s in range(0, len(rows), CHUNK):
        r, j = rows[s:s + CHUNK], bus[s:s + CHUNK]
        load = model.load_prof[:, model.prof_idx[r]].astype(np.float64) * model.annual_kwh[r]
        gen = pl.pv_unit[:, pl.pv_idx[r]].astype(np.float64) * pl.kwp[r]
        curtailed = np.clip(gen - load - lim[r], 0.0, None)
        scatter = np.zeros((len(r), p.shape[1]))
        scatter[np.arange(len(r)), j] = 1.0
        p += curtailed @ scatter


def s_pu(nm: NetModel, inj_p_kw: np.ndarray, d_kw: np.ndarray, tan_phi: float) -> np.ndarray:
    """Complex injections [pu] (generation positive) from net load and demand [kW], hours
    as rows (T, n_pq)."""
    return -(inj_p_kw + 1j * tan_phi * d_kw) / 1000.0 / nm.grid.base_mva


MV_VOLTAGE_PU = (0.90, 1.10)     # EN 50160: MV supply voltage within +-10 % (older tables)


def limits_of(district: District) -> dict[str, float]:
    """Power-flow limits: LV voltage band, MV voltage band (``grid.mv_voltage_*``), loading."""
    a = district.assumptions

    def number(key: str, default: float) -> float:
        try:
            return a.number(key)
        except DecentraError:          # an assumptions table from before this row existed
            return default

    return {"voltage_max_pu": a.number("grid.voltage_max_pu"),
            "voltage_min_pu": a.number("grid.voltage_min_pu"),
            "loading_max_pct": a.number("grid.loading_max_pct"),
            "mv_voltage_max_pu": number("grid.mv_voltage_max_pu", MV_VOLTAGE_PU[1]),
            "mv_voltage_min_pu": number("grid.mv_voltage_min_pu", MV_VOLTAGE_PU[0])}


def island_limits(nm: NetModel, island: int, limits: dict[str, float]) -> dict[str, float]:
    """The limits of one island, by its voltage level: an island whose buses are mostly
    medium voltage (>= 1 kV: an uploaded MV network) is held to the MV voltage band, an LV
    island (every synthesized feeder, MV-connected buildings' own substations included) to
    the LV band."""
    bt = nm.bus_table
    vn = bt.loc[bt["island"] == island, "vn_kv"].to_numpy(float)
    if len(vn) and float(np.median(vn)) >= 1.0:
        return {**limits, "voltage_max_pu": limits["mv_voltage_max_pu"],
                "voltage_min_pu": limits["mv_voltage_min_pu"]}
    return limits


def community_kw(district: District, scenario: Scenario) -> np.ndarray | None:
    """Hourly power of each community battery (K, T), charge positive."""
    if not scenario.community_batteries:
        return None
    from dashboard.energy import grid as g
    from dashboard.scenarios import evaluate

    result = evaluate(district, scenario, resilience=False)
    return np.stack([s[g.S_NET].astype(np.float64) - s[g.S_NET_BTM].astype(np.float64)
                     for s in result.transformer_series])
