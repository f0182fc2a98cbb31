"""Grid physics of a scenario: a full-year AC power flow and hosting capacity per transformer.

    study = grid_study(district, scenario)            # every hour of the year
    study.transformers        # voltage range, overvoltage / overload hours, hosting capacity
    study.buses, study.lines  # per bus and per line: worst voltage, loading, hours outside
    study.violations          # each element outside its limits, worst first, with its place

By job: :mod:`.network` (the district's network model), :mod:`.injections` (hourly
injections, limits), :mod:`.year` (one island's year), :mod:`.hosting` (hosting capacity),
:mod:`.study` (the study, its tables and cache). See :mod:`.study` for the method."""

from __future__ import annotations

from dashboard.gridstudy.hosting import EPS_PCT, Hosting, Progress, hosting_capacity
from dashboard.gridstudy.injections import (
    Injections,
    community_kw,
    island_injections,
    limits_of,
    pq_position,
    s_pu,
)
from dashboard.gridstudy.network import NetModel, net_model, nets
from dashboard.gridstudy.study import (
    AUTO_MAX_BUILDINGS,
    STUDY_NAMESPACE,
    GridStudy,
    cached_study,
    clear_grid_cache,
    grid_study,
    store_study,
    study_key,
)
from dashboard.gridstudy.year import (
    MAX_FALLBACK_HOURS,
    IslandBranches,
    IslandYear,
    island_branches,
    island_flows,
    island_loading_rows,
    runpp_fallback,
    solve_island_year,
)

__all__ = [
    'AUTO_MAX_BUILDINGS',
    'EPS_PCT',
    'MAX_FALLBACK_HOURS',
    'STUDY_NAMESPACE',
    'GridStudy',
    'Hosting',
    'Injections',
    'IslandBranches',
    'IslandYear',
    'NetModel',
    'Progress',
    'cached_study',
    'clear_grid_cache',
    'community_kw',
    'grid_study',
    'hosting_capacity',
    'island_branches',
    'island_flows',
    'island_injections',
    'island_loading_rows',
    'limits_of',
    'net_model',
    'nets',
    'pq_position',
    'runpp_fallback',
    's_pu',
    'solve_island_year',
    'store_study',
    'study_key',
]
