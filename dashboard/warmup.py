"""Compile (or load from numba's cache) every kernel a request or a job will run, before a
process serves: the first click then answers at once, and nothing compiles while requests run
in other threads."""

from __future__ import annotations

import numpy as np

from dashboard.domain.district import District
from dashboard.domain.scenario import BatteryPlacement, CommunityBattery, PvPlacement, Scenario
from dashboard.scenarios import evaluate


def compile_kernels(district: District, *, grid: bool = True) -> None:
    """Evaluate a small scenario in full and incrementally (with a building battery and a
    community battery: every storage kernel) and, for districts that run the power flow
    automatically, build the grid model and solve one island."""
    scenario = Scenario(name="warm-up")
    evaluate(district, scenario)                                  # full path, with resilience
    first = str(district.buildings["building_id"].iloc[0])
    kwp = float(district.buildings["pv_potential_kwp"].iloc[0]) / 2
    edited = scenario.with_pv(PvPlacement(first, max(kwp, 0.5), 30.0, 180.0))
    edited = edited.with_battery(BatteryPlacement(first, 5.0, 2.5))
    evaluate(district, edited)
    tid = str(district.transformers["transformer_id"].iloc[0])
    evaluate(district, edited.with_community_battery(CommunityBattery(tid, 10.0, 5.0)))
    from dashboard.gridstudy import AUTO_MAX_BUILDINGS, net_model

    if grid and district.n_buildings <= AUTO_MAX_BUILDINGS:
        from dashboard.energy.powerflow import solve_island

        model = net_model(district)
        for island in model.grid.islands[:1]:
            solve_island(island, np.zeros((len(island.pq), 2), complex))
