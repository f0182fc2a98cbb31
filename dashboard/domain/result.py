"""The result of evaluating a scenario on a district.

Results are immutable: arrays are never written after construction (incremental updates copy
what they change and share the rest). ``summary`` holds district indicators (keys and units in
:mod:`dashboard.domain.indicators`); ``building_energy`` and ``transformer_energy`` are columns
as arrays (name -> (N,) / (K,)), and ``buildings`` and ``transformers`` the DataFrames built from
them on first access: an evaluation the optimizer only reads one number of never pays for
pandas (building the frames was ~70 % of an incremental evaluation's time).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from dashboard.domain.scenario import Scenario

# Outage durations whose survival probability is reported (DESIGN.md section 3).
SURVIVAL_THRESHOLDS_H = (8.0, 24.0, 72.0)
# Columns of ``building_res`` / ``transformer_res`` (resilience statistics).
RES_COLUMNS = ("survival_min_h", "survival_mean_h", "survival_max_h", "p_survive_8h",
               "p_survive_24h", "p_survive_72h")

HourlyProvider = Callable[[str | None, str | None], pd.DataFrame]


@dataclass(frozen=True, eq=False)
class Result:
    """Indicators of one scenario on one district.

    Array fields are (buildings, ...) or (transformers, ...) in the district's row order.
    """

    district_hash: str
    scenario: Scenario
    building_ids: pd.Index
    transformer_ids: pd.Index
    building_transformer: np.ndarray           # (N,) transformer row of each building
    building_inputs: Mapping[str, np.ndarray]  # pv_kwp, battery_kwh, battery_kw, ...
    building_energy: Mapping[str, np.ndarray]  # energy and economics columns, (N,) each
    building_res: np.ndarray | None            # (N, len(RES_COLUMNS))
    building_hist: np.ndarray | None           # (N, H + 1) uint16 survival histograms
    transformer_energy: Mapping[str, np.ndarray]  # (K,) each
    transformer_res: np.ndarray | None
    transformer_hist: np.ndarray | None
    summary: Mapping[str, float]
    hourly_index: pd.DatetimeIndex
    district_net_kw: np.ndarray                # (T,) float64, import > 0
    transformer_series: tuple[np.ndarray, ...]  # K x (rows, T) float32, see energy.grid S_*
    series_rows: Mapping[str, int]
    hourly_provider: HourlyProvider | None = field(default=None, repr=False)
    timings_ms: Mapping[str, float] = field(default_factory=dict)
    incremental: bool = False

    @property
    def horizon_h(self) -> int:
        hist = self.building_hist
        return 0 if hist is None else hist.shape[1] - 1

    @cached_property
    def buildings(self) -> pd.DataFrame:
        """One row per building: placements, energy sums [kWh/a], peaks [kW], ratios, and
        survival statistics [h, probability]."""
        columns = {"building_id": self.building_ids,
                   "transformer_id": self.transformer_ids[self.building_transformer],
                   **self.building_inputs, **self.building_energy}
        if self.building_res is not None:
            columns.update(zip(RES_COLUMNS, self.building_res.T, strict=True))
        frame = pd.DataFrame(columns)
        return frame.set_index("building_id", drop=False)

    @cached_property
    def transformers(self) -> pd.DataFrame:
        """One row per transformer: pooled energy, loading, reverse flow, hosting capacity
        estimate and microgrid survival."""
        columns = {"transformer_id": self.transformer_ids, **self.transformer_energy}
        if self.transformer_res is not None:
            columns.update(zip([f"pooled_{c}" for c in RES_COLUMNS], self.transformer_res.T,
                               strict=True))
        return pd.DataFrame(columns).set_index("transformer_id", drop=False)

    def survival_curve(self, building_id: str | None = None,
                       transformer_id: str | None = None) -> pd.Series:
        """P(outage survival >= d hours) for d = 0..H: a building, a transformer microgrid, or
        (neither given) a building picked at random from the district."""
        if building_id is not None:
            if self.building_hist is None:
                raise ValueError("this result was computed without resilience")
            hist = self.building_hist[self.building_ids.get_loc(building_id)].astype(float)
        elif transformer_id is not None:
            if self.transformer_hist is None:
                raise ValueError("this result was computed without resilience")
            hist = self.transformer_hist[self.transformer_ids.get_loc(transformer_id)].astype(
                float)
        else:
            if self.building_hist is None:
                raise ValueError("this result was computed without resilience")
            hist = self.building_hist.astype(float).sum(axis=0)
        tail = np.cumsum(hist[::-1])[::-1] / hist.sum()
        return pd.Series(tail, index=pd.RangeIndex(len(hist), name="duration_h"),
                         name="p_survive")

    def hourly(self, building_id: str | None = None,
               transformer_id: str | None = None) -> pd.DataFrame:
        """Hourly series [kW = kWh per step]: the district (no argument), a transformer, or a
        building (recomputed on request from the profiles)."""
        if building_id is not None:
            if self.hourly_provider is None:
                raise ValueError("building series are not available for this result")
            return self.hourly_provider(building_id, None)
        if transformer_id is not None:
            k = self.transformer_ids.get_loc(transformer_id)
            rows = self.transformer_series[k]
            data = {name: rows[i].astype(np.float64) for name, i in self.series_rows.items()}
            frame = pd.DataFrame(data, index=self.hourly_index)
            frame["import"] = frame["net"].clip(lower=0.0)
            frame["export"] = (-frame["net"]).clip(lower=0.0)
            return frame
        demand = np.zeros(len(self.hourly_index))
        pv = np.zeros(len(self.hourly_index))
        for rows in self.transformer_series:
            demand += rows[self.series_rows["demand"]]
            pv += rows[self.series_rows["pv"]]
        net = self.district_net_kw
        return pd.DataFrame({"demand": demand, "pv": pv, "net": net,
                             "import": np.clip(net, 0, None), "export": np.clip(-net, 0, None)},
                            index=self.hourly_index)

    def to_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario.name, "summary": dict(self.summary)}
