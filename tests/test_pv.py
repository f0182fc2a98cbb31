"""PV unit profiles against pvlib's own ModelChain on the same weather and system."""

from __future__ import annotations

import numpy as np
import pvlib
import pytest

from dashboard.energy.pv import ProfileBank, PvModel, unit_profiles
from dashboard.energy.weather import midpoints, solar_geometry


def modelchain_kwh(district, tilt, azimuth, kwp, model):
    site = district.site
    location = pvlib.location.Location(site.latitude_deg, site.longitude_deg, tz=site.timezone,
                                       altitude=site.altitude_m)
    system = pvlib.pvsystem.PVSystem(
        surface_tilt=tilt, surface_azimuth=azimuth, albedo=model.albedo,
        module_parameters={"pdc0": 1000 * kwp, "gamma_pdc": model.gamma_pdc_per_c},
        inverter_parameters={"pdc0": 1000 * kwp / model.dc_ac_ratio,
                             "eta_inv_nom": model.inverter_eta_nom},
        temperature_model_parameters=pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"][
            model.temperature_model])
    chain = pvlib.modelchain.ModelChain.with_pvwatts(system, location)
    weather = district.weather.copy()
    weather.index = midpoints(weather.index)  # hourly means: sun at the middle of the hour
    chain.run_model(weather)
    return chain.results.ac.clip(lower=0).to_numpy() / 1000.0


@pytest.mark.parametrize("tilt, azimuth", [(30, 180), (35, 200), (10, 90), (45, 250), (0, 180),
                                           (33, 197), (22, 131)])
def test_annual_yield_within_one_percent_of_modelchain(district, tilt, azimuth):
    model = PvModel.from_assumptions(district.assumptions)
    geometry = solar_geometry(district.weather.index, district.site,
                              district.weather["temp_air"].to_numpy())
    bank = ProfileBank(district.weather, geometry, model)
    idx, matrix = bank.columns(np.array([tilt]), np.array([azimuth]))  # binned to 5 deg
    kwp = 12.5
    ours = kwp * matrix[:, idx[0]].astype(float)
    ref = modelchain_kwh(district, tilt, azimuth, kwp, model)
    assert ours.sum() == pytest.approx(ref.sum(), rel=0.01)
    # plausible for Central Europe: 700-1200 kWh/kWp a year
    assert 700 < ours.sum() / kwp < 1200


def test_exact_orientation_matches_modelchain_hour_by_hour(district):
    model = PvModel.from_assumptions(district.assumptions)
    geometry = solar_geometry(district.weather.index, district.site,
                              district.weather["temp_air"].to_numpy())
    ours = unit_profiles(district.weather, geometry, np.array([30.0]), np.array([180.0]),
                         model)[:, 0].astype(float)
    ref = modelchain_kwh(district, 30, 180, 1.0, model)
    assert np.abs(ours - ref).max() < 1e-4          # kW per kWp (float32 storage)
    assert ours.sum() == pytest.approx(ref.sum(), rel=1e-4)


def test_bins_and_flat_roofs():
    m = PvModel()
    tilt, az = m.bin_orientation(np.array([0.4, 33, 89.9]), np.array([17, 197.4, 358]))
    assert tilt.tolist() == [0, 35, 90]
    assert az.tolist() == [180, 195, 0]      # flat folds to 180; 358 rounds to 360 = 0


def test_bank_computes_each_bin_once(district):
    model = PvModel.from_assumptions(district.assumptions)
    geometry = solar_geometry(district.weather.index, district.site)
    bank = ProfileBank(district.weather, geometry, model)
    i1, m1 = bank.columns(np.array([30, 30]), np.array([180, 181]))
    assert i1[0] == i1[1] and m1.shape[1] == 2      # column 0 is the zero column
    i2, m2 = bank.columns(np.array([30]), np.array([180]))
    assert i2[0] == i1[0] and m2 is m1
    assert not m1[:, 0].any()
