"""PV unit profiles against pvlib's own ModelChain on the same weather and system."""

from __future__ import annotations

import numpy as np
import pvlib
import pytest

from dashboard.domain.errors import DecentraError
from dashboard.energy.pv import (
    ORIENTATION_STEP_DEG,
    ProfileBank,
    PvModel,
    catmull_rom_weights,
    grid_stencil,
    unit_profiles,
)
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


def _bank(district):
    model = PvModel.from_assumptions(district.assumptions)
    geometry = solar_geometry(district.weather.index, district.site,
                              district.weather["temp_air"].to_numpy())
    return ProfileBank(district.weather, geometry, model)


# Worst cases of the old 5-degree bins and of interpolation: halfway between grid points (where
# rounding moves an orientation furthest), steep east / west, north-facing (yield small, so a
# small absolute error is a large relative one), past the grid's ends, almost flat.
WORST = [(47.5, 2.5), (62.5, 357.5), (42.5, 12.5), (57.5, 352.5), (90.0, 2.5), (90.0, 0.0),
         (87.5, 92.5), (90.0, 267.5), (72.5, 87.5), (87.5, 272.5), (32.5, 182.5), (2.5, 2.5),
         (0.1, 33.0), (0.0, 0.0), (89.9, 182.5), (47.5, 357.5)]
RNG = np.random.default_rng(20261202)
RANDOM = list(zip(RNG.uniform(0, 90, 24).round(3), RNG.uniform(0, 360, 24).round(3),
                  strict=True))


def test_every_orientation_within_half_percent_of_modelchain(district):
    bank = _bank(district)
    orient = np.array(WORST + RANDOM)
    idx, matrix = bank.columns(orient[:, 0], orient[:, 1])   # all at once, as the engine does
    worst = 0.0
    for k, (tilt, azimuth) in enumerate(orient):
        ours = matrix[:, idx[k]].astype(float)
        ref = modelchain_kwh(district, tilt, azimuth, 1.0, bank.model)
        rel = ours.sum() / ref.sum() - 1.0
        worst = max(worst, abs(rel))
        assert abs(rel) < 0.005, (tilt, azimuth, ours.sum(), ref.sum())
        # hour by hour: same shape, no hour more than 1 % of a kWp off
        assert np.corrcoef(ours, ref)[0, 1] > 0.9999, (tilt, azimuth)
        assert np.abs(ours - ref).max() < 0.01, (tilt, azimuth)
    print(f"max |annual error| vs ModelChain: {100 * worst:.3f} %")
    assert worst > 1e-5     # interpolated, not computed exactly: the bound is what is tested


def test_south_roof_yield_is_plausible_and_exact_on_the_grid(district):
    bank = _bank(district)
    idx, matrix = bank.columns(np.array([30.0]), np.array([180.0]))   # a grid point
    ours = matrix[:, idx[0]].astype(float)
    ref = modelchain_kwh(district, 30, 180, 1.0, bank.model)
    assert np.abs(ours - ref).max() < 1e-4
    assert 700 < ours.sum() < 1200          # Central Europe: 700-1200 kWh/kWp a year


def test_exact_orientation_matches_modelchain_hour_by_hour(district):
    model = PvModel.from_assumptions(district.assumptions)
    geometry = solar_geometry(district.weather.index, district.site,
                              district.weather["temp_air"].to_numpy())
    ours = unit_profiles(district.weather, geometry, np.array([30.0]), np.array([180.0]),
                         model)[:, 0].astype(float)
    ref = modelchain_kwh(district, 30, 180, 1.0, model)
    assert np.abs(ours - ref).max() < 1e-4          # kW per kWp (float32 storage)
    assert ours.sum() == pytest.approx(ref.sum(), rel=1e-4)


def test_catmull_rom_weights_reproduce_quadratics():
    frac = np.linspace(0, 1, 11)
    w = catmull_rom_weights(frac)
    x = np.arange(-1, 3).reshape(4, 1)
    assert np.allclose(w.sum(axis=0), 1.0)
    assert np.allclose((w * x).sum(axis=0), frac)
    assert np.allclose((w * x ** 2).sum(axis=0), frac ** 2)
    assert np.allclose(w[:, 0], [0, 1, 0, 0]) and np.allclose(w[:, -1], [0, 0, 1, 0])


def test_stencil_folds_below_horizontal_onto_the_same_normal():
    g_t, g_a, w = grid_stencil(np.array([1.0, 90.0]), np.array([2.0, 359.0]), PvModel())
    assert np.allclose(w.sum(axis=0), 1.0)
    # tilt -5 at azimuth 0 is the surface tilt 5 facing 180 (its normal points the same way)
    first = set(zip(g_t[:, 0].tolist(), g_a[:, 0].tolist(), strict=True))
    assert (5.0, 180.0) in first and (5.0, 185.0) in first and (0.0, 180.0) in first
    assert first <= {(t, a) for t in (0.0, 5.0, 10.0) for a in (175.0, 180.0, 185.0, 190.0,
                                                                  355.0, 0.0, 5.0, 10.0)}
    # tilt 90 sits at the end of a cell: stencil 80..95, azimuth 359 wraps to 0 and 5
    assert sorted(set(g_t[:, 1].tolist())) == [80.0, 85.0, 90.0, 95.0]
    assert sorted(set(g_a[:, 1].tolist())) == [0.0, 5.0, 350.0, 355.0]


def test_quantize_and_flat_roofs():
    m = PvModel()
    tilt, az = m.quantize_orientation(np.array([0.04, 33.33, 89.97, 30.0]),
                                      np.array([17, 197.43, 359.95, -0.35]))
    assert tilt.tolist() == [0, 33.4, 90, 30]
    assert az.tolist() == [180, 197.4, 0, 359.6]   # flat folds to 180; 359.95 rounds to 0
    assert ORIENTATION_STEP_DEG <= 0.25


def test_bank_computes_each_orientation_once(district):
    bank = _bank(district)
    i1, m1 = bank.columns(np.array([30, 30, 30]), np.array([180, 180.05, 176]))
    assert i1[0] == i1[1] != i1[2] and m1.shape[1] == 3      # column 0 is the zero column
    # on a grid line only that line of the 4 x 4 stencil is needed: (30, 180) is one grid point,
    # (30, 176) the four at azimuth 170, 175, 180, 185
    assert bank.grid_points == 4
    i2, m2 = bank.columns(np.array([30]), np.array([180]))
    assert i2[0] == i1[0] and m2 is m1
    bank.columns(np.array([31.2]), np.array([183.4]))   # 16 points, 3 of them known
    assert bank.grid_points == 4 + 13
    bank.columns(np.array([32.8]), np.array([181.6]))   # same cell: no new pvlib point
    assert bank.grid_points == 17
    assert not m1[:, 0].any()


@pytest.mark.parametrize("step", [0.0, -5.0, 15.0])
def test_grid_step_out_of_range_is_one_clear_error(step):
    with pytest.raises(DecentraError, match=r"pv\.tilt_bin_deg"):
        PvModel(tilt_bin_deg=step)
