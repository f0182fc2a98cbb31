"""The result of evaluating a scenario on a district.

Results are immutable: arrays are never written after construction (incremental updates copy
what they change and share the rest). ``summary`` holds district indicators (keys and units in
:mod:`dashboard.domain.indicators`); ``buildings`` and ``transformers`` are DataFrames built on
first access.
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
    building_energy: pd.DataFrame              # (N, energy columns)
    building_res: np.ndarray | None            # (N, len(RES_COLUMNS))
    building_hist: np.ndarray | None           # (N, H + 1) uint16 survival histograms
    transformer_energy: pd.DataFrame           # (K, energy columns)
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
        frame = pd.DataFrame({"building_id": self.building_ids,
                              "transformer_id": self.transformer_ids[self.building_transformer]})
        for key, arr in self.building_inputs.items():
            frame[key] = arr
        frame = pd.concat([frame, self.building_energy.reset_index(drop=True)], axis=1)
        if self.building_res is not None:
            frame = pd.concat([frame, pd.DataFrame(self.building_res, columns=list(RES_COLUMNS))],
                              axis=1)
        return frame.set_index("building_id", drop=False)

    @cached_property
    def transformers(self) -> pd.DataFrame:
        """One row per transformer: pooled energy, loading, reverse flow, hosting capacity
        estimate and microgrid survival."""
        frame = self.transformer_energy.reset_index(drop=True).copy()
        frame.insert(0, "transformer_id", self.transformer_ids)
        if self.transformer_res is not None:
            frame = pd.concat([frame, pd.DataFrame(
                self.transformer_res, columns=[f"pooled_{c}" for c in RES_COLUMNS])], axis=1)
        return frame.set_index("transformer_id", drop=False)

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
