"""Rooftop PV: one unit profile per (tilt, azimuth) bin, computed by pvlib in one broadcast call.

The model chain mirrors ``pvlib.modelchain.ModelChain.with_pvwatts``: Perez transposition,
physical IAM on the beam component, SAPM cell temperature, PVWatts DC with temperature
coefficient, PVWatts system losses, PVWatts inverter. Profiles are AC energy per hour per kWp DC
[kWh/(kWp h)], i.e. average AC kW per kWp over each hourly step; a building's PV is its kWp times
the profile of its orientation bin. pvlib is never called per building.

References: pvlib-python (Holmgren et al., JOSS 2018); PVWatts v5 manual, NREL/TP-6A20-62641.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pvlib

from dashboard.domain.assumptions import Assumptions
from dashboard.domain.forksafe import ForkSafeLock
from dashboard.energy.weather import SolarGeometry


@dataclass(frozen=True)
class PvModel:
    """PV parameters (from the assumptions table)."""

    gamma_pdc_per_c: float = -0.004
    system_losses_pct: float = 14.08
    inverter_eta_nom: float = 0.96
    dc_ac_ratio: float = 1.1
    albedo: float = 0.2
    temperature_model: str = "open_rack_glass_polymer"
    tilt_bin_deg: float = 5.0
    azimuth_bin_deg: float = 5.0

    @classmethod
    def from_assumptions(cls, a: Assumptions) -> PvModel:
        return cls(
            gamma_pdc_per_c=a.number("pv.gamma_pdc_per_c"),
            system_losses_pct=a.number("pv.system_losses_pct"),
            inverter_eta_nom=a.number("pv.inverter_eta_nom"),
            dc_ac_ratio=a.number("pv.dc_ac_ratio"),
            albedo=a.number("pv.albedo"),
            temperature_model=a.text("pv.temperature_model"),
            tilt_bin_deg=a.number("pv.tilt_bin_deg"),
            azimuth_bin_deg=a.number("pv.azimuth_bin_deg"),
        )

    def bin_orientation(self, tilt_deg: np.ndarray, azimuth_deg: np.ndarray,
                        ) -> tuple[np.ndarray, np.ndarray]:
        """Round orientations to bin centres (tilt in [0, 90], azimuth in [0, 360))."""
        tilt = np.clip(np.round(np.asarray(tilt_deg, float) / self.tilt_bin_deg)
                       * self.tilt_bin_deg, 0.0, 90.0)
        az = (np.round(np.asarray(azimuth_deg, float) / self.azimuth_bin_deg)
              * self.azimuth_bin_deg) % 360.0
        # a horizontal module has no azimuth: fold all flat bins into one
        az = np.where(tilt == 0.0, 180.0, az)
        return tilt, az


def unit_profiles(weather: pd.DataFrame, geometry: SolarGeometry, tilt_deg: np.ndarray,
                  azimuth_deg: np.ndarray, model: PvModel) -> np.ndarray:
    """AC energy per kWp for each hour and orientation.

    Parameters
    ----------
    weather: canonical hourly weather (ghi, dni, dhi [W/m2], temp_air [degC], wind_speed [m/s]).
    geometry: solar geometry at the same steps.
    tilt_deg, azimuth_deg: 1-d arrays of n orientations (exact; bin them first if wanted).

    Returns
    -------
    float32 array (hours, n) in kWh per kWp per hour.
    """
    tilt = np.asarray(tilt_deg, float).reshape(1, -1)
    surf_az = np.asarray(azimuth_deg, float).reshape(1, -1)
    out = np.zeros((len(weather), tilt.shape[1]), dtype=np.float32)
    # Only daylight steps with irradiance produce power: compute those rows alone (about half).
    day = (geometry.apparent_zenith_deg < 90.0) & (weather["ghi"].to_numpy(float) > 0.0)
    if not day.any() or tilt.shape[1] == 0:
        return out
    zen = geometry.apparent_zenith_deg[day].reshape(-1, 1)
    sun_az = geometry.azimuth_deg[day].reshape(-1, 1)
    col = {name: weather[name].to_numpy(float)[day].reshape(-1, 1)
           for name in ("ghi", "dni", "dhi", "temp_air", "wind_speed")}
    with np.errstate(invalid="ignore", divide="ignore"):
        irr = pvlib.irradiance.get_total_irradiance(
            tilt, surf_az, zen, sun_az, col["dni"], col["ghi"], col["dhi"],
            dni_extra=geometry.dni_extra_w_m2[day].reshape(-1, 1),
            airmass=geometry.airmass_relative[day].reshape(-1, 1),
            albedo=model.albedo, model="perez")
        aoi = pvlib.irradiance.aoi(tilt, surf_az, zen, sun_az)
        iam = pvlib.iam.physical(aoi)
    poa_direct = np.nan_to_num(np.asarray(irr["poa_direct"], float))
    poa_diffuse = np.nan_to_num(np.asarray(irr["poa_diffuse"], float))
    poa_global = np.nan_to_num(np.asarray(irr["poa_global"], float))
    effective = poa_direct * np.nan_to_num(iam) + poa_diffuse
    params = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"][model.temperature_model]
    temp_cell = pvlib.temperature.sapm_cell(poa_global, col["temp_air"], col["wind_speed"],
                                            **params)
    pdc = pvlib.pvsystem.pvwatts_dc(effective, temp_cell, 1.0, model.gamma_pdc_per_c)
    pdc = pdc * (1.0 - model.system_losses_pct / 100.0)
    pac = pvlib.inverter.pvwatts(pdc, 1.0 / model.dc_ac_ratio, model.inverter_eta_nom)
    out[day] = np.clip(np.nan_to_num(np.asarray(pac, float)), 0.0, None)
    return out


class ProfileBank:
    """Unit PV profiles of one weather and site, computed lazily per orientation bin.

    ``columns(tilts, azimuths)`` bins the orientations, computes the bins not seen before in a
    single pvlib call, and returns each orientation's column in ``matrix``. Column 0 is all
    zeros (buildings without PV point there). Thread-safe.
    """

    def __init__(self, weather: pd.DataFrame, geometry: SolarGeometry, model: PvModel) -> None:
        self.weather = weather
        self.geometry = geometry
        self.model = model
        self._lock = ForkSafeLock()
        self._index: dict[tuple[float, float], int] = {}
        self._matrix = np.zeros((len(weather), 1), dtype=np.float32)
        self._transposed: tuple[np.ndarray, np.ndarray] | None = None

    def matrix_t(self, matrix: np.ndarray) -> np.ndarray:
        """``matrix`` (a value returned by :meth:`columns`) transposed to (bins, hours),
        cached per matrix version."""
        cached = self._transposed
        if cached is not None and cached[0] is matrix:
            return cached[1]
        out = np.ascontiguousarray(matrix.T)
        self._transposed = (matrix, out)
        return out

    @property
    def matrix(self) -> np.ndarray:
        """(hours, n_bins + 1) float32; never mutated in place, only replaced."""
        return self._matrix

    def add_columns(self, units: np.ndarray) -> np.ndarray:
        """Append fixed unit profiles (hours, m) [kWh/kWp per hour], e.g. measured output of
        existing systems, and return their column indices (stable: columns are only ever
        appended)."""
        units = np.asarray(units, dtype=np.float32).reshape(len(self.weather), -1)
        with self._lock:
            start = self._matrix.shape[1]
            self._matrix = np.ascontiguousarray(np.hstack([self._matrix, units]))
            return np.arange(start, start + units.shape[1], dtype=np.int64)

    def columns(self, tilt_deg: np.ndarray, azimuth_deg: np.ndarray,
                ) -> tuple[np.ndarray, np.ndarray]:
        """Column index (int32) of each orientation and the matrix they index."""
        tilt, az = self.model.bin_orientation(tilt_deg, azimuth_deg)
        # distinct bins first (vectorised), then a dict lookup per distinct bin only
        code = np.round(tilt * 100).astype(np.int64) * 100_000 + np.round(az * 100).astype(
            np.int64)
        _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
        keys = [(float(tilt[i]), float(az[i])) for i in first]
        with self._lock:
            missing = [k for k in keys if k not in self._index]
            if missing:
                arr = np.array(missing, float).reshape(-1, 2)
                new = unit_profiles(self.weather, self.geometry, arr[:, 0], arr[:, 1],
                                    self.model)
                start = self._matrix.shape[1]
                self._matrix = np.ascontiguousarray(np.hstack([self._matrix, new]))
                for j, key in enumerate(missing):
                    self._index[key] = start + j
            cols = np.array([self._index[k] for k in keys], dtype=np.int32)
            return cols[inverse.reshape(-1)], self._matrix
