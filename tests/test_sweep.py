"""The penetration sweep against independently built scenarios (plain Python fill of roofs in
order, evaluated from scratch), its monotonic properties and its bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

import dashboard as dc
from dashboard.domain.scenario import BatteryPlacement, PvPlacement
from dashboard.sweep import SUMMARY_COLUMNS, penetration_sweep, roof_yield_kwh_per_kwp


def reference_scenario(district, share, order="largest roofs first", ratio=0.0, base=None):
    """PV at full potential roof by roof (plain Python, no numpy fill), the boundary roof
    getting the remainder; batteries of ``ratio`` kWh per kWp at the assumed C-rate."""
    b = district.buildings
    if order == "largest roofs first":
        key = dict(zip(b["building_id"].astype(str), b["pv_potential_kwp"], strict=True))
    else:
        key = dict(zip(b["building_id"].astype(str), roof_yield_kwh_per_kwp(district),
                       strict=True))
    recs = {str(r.building_id): r for r in b.itertuples()}
    ids = sorted((i for i in recs if recs[i].pv_potential_kwp > 0),
                 key=lambda i: (-float(key[i]), i))
    left = share * sum(float(recs[i].pv_potential_kwp) for i in ids)
    c_rate = district.assumptions.number("battery.default_power_per_kwh")
    scen = base or dc.Scenario(name="reference")
    pv, bat = [], []
    for i in ids:
        kwp = round(min(float(recs[i].pv_potential_kwp), max(left, 0.0)), 3)
        left -= float(recs[i].pv_potential_kwp)
        if kwp > 0:
            pv.append(PvPlacement(i, kwp, float(recs[i].roof_tilt_deg),
                                  float(recs[i].azimuth_deg)))
            if ratio > 0:
                bat.append(BatteryPlacement(i, round(kwp * ratio, 3),
                                            round(kwp * ratio * c_rate, 3)))
    fresh = dc.Scenario(name="reference", pv=tuple(
        {p.building_id: p for p in (*scen.pv, *pv)}.values()),
        batteries=tuple({x.building_id: x for x in (*scen.batteries, *bat)}.values()),
        community_batteries=scen.community_batteries, params=scen.params)
    return fresh


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("order,ratio", [("largest roofs first", 0.0),
                                         ("best yield first", 1.5)])
def test_every_row_is_the_evaluation_of_the_scenario_built_independently(district, order,
                                                                          ratio):
    sweep = penetration_sweep(district, steps=6, order=order, battery_kwh_per_kwp=ratio)
    assert list(sweep["share"]) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    base = dc.baseline(district)
    hosting = float(base.transformers["hosting_capacity_kwp"].sum())
    for _, row in sweep.iterrows():
        ref = dc.evaluate(district, reference_scenario(district, row["share"], order, ratio),
                          use_cache=False)
        for key in SUMMARY_COLUMNS:
            assert same(row[key], float(ref.summary[key])), (row["share"], key)
        assert row["pv_added_kwp"] == ref.summary["pv_kwp"]
        assert row["hosting_headroom_kwp"] == hosting - ref.summary["pv_kwp"]
    potential = float(district.buildings["pv_potential_kwp"].sum())
    # the kWp added is the share of the potential (up to the 1 Wp rounding of placements)
    assert np.allclose(sweep["pv_added_kwp"], sweep["share"] * potential, atol=0.002)
    assert sweep["battery_kwh"].iloc[-1] == pytest.approx(ratio * potential, abs=0.2)


def test_step_zero_is_the_baseline(district):
    sweep = penetration_sweep(district, steps=3)
    base = dc.baseline(district).summary
    for key in SUMMARY_COLUMNS:
        assert same(sweep.iloc[0][key], float(base[key])), key
    assert sweep.iloc[0]["pv_added_kwp"] == 0.0


def test_pv_alone_never_lowers_self_sufficiency_and_raises_survival(district):
    sweep = penetration_sweep(district, steps=11)
    assert (np.diff(sweep["self_sufficiency"]) >= 0).all()
    assert (np.diff(sweep["pv_kwp"]) > 0).all()
    assert (np.diff(sweep["hosting_headroom_kwp"]) < 0).all()
    assert (np.diff(sweep["capex_eur"]) > 0).all()
    assert (np.diff(sweep["survival_mean_h"]) >= 0).all()
    # self-consumption falls as more PV meets the same demand (after the first step)
    assert (np.diff(sweep["self_consumption"].iloc[1:]) <= 1e-12).all()


def test_fine_steps_use_incremental_evaluation_and_still_match(city300):
    """101 steps on 300 buildings: most steps touch one transformer and are patched; the
    patched rows agree with full evaluations to float32 accumulation precision."""
    sweep = penetration_sweep(city300, steps=101)
    assert sweep.attrs["incremental_steps"] > 10
    for share in (0.37, 0.73):
        row = sweep.loc[round(share * 100)]
        ref = dc.evaluate(city300, reference_scenario(city300, row["share"]), use_cache=False)
        for key in ("self_sufficiency", "p_survive_24h", "survival_mean_h", "capex_eur"):
            assert row[key] == pytest.approx(ref.summary[key], rel=1e-6, abs=1e-9), key


def test_base_scenario_is_kept_where_the_sweep_does_not_reach(district):
    first = district.buildings.sort_values("pv_potential_kwp").iloc[0]
    base = dc.Scenario(name="b").with_battery(BatteryPlacement(str(first.building_id), 7, 3))
    sweep = penetration_sweep(district, steps=3, base=base)
    assert sweep.iloc[0]["battery_kwh"] == 7.0
    ref = dc.evaluate(district, reference_scenario(district, 0.5, base=base), use_cache=False)
    assert same(sweep.iloc[1]["self_sufficiency"], ref.summary["self_sufficiency"])
    assert sweep.iloc[1]["battery_kwh"] == 7.0


@pytest.mark.parametrize("kwargs", [{"steps": 1}, {"steps": 2.5}, {"steps": 500},
                                    {"order": "random"}, {"battery_kwh_per_kwp": -1},
                                    {"battery_kwh_per_kwp": float("nan")},
                                    {"base": "nope"}])
def test_bad_input_is_one_clear_error(district, kwargs):
    with pytest.raises(dc.DecentraError):
        penetration_sweep(district, **kwargs)


def test_cli_prints_the_table_and_writes_the_same_numbers_as_csv(tmp_path, district):
    import subprocess
    import sys

    import pandas as pd

    out = tmp_path / "sweep.csv"
    run = subprocess.run([sys.executable, "-m", "dashboard", "sweep", "--steps", "3",
                          "--battery-kwh-per-kwp", "1", "--csv", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "headroom kWp" in run.stdout and "Bubeneč" in run.stdout
    got = pd.read_csv(out, index_col="step")
    want = penetration_sweep(district, steps=3, battery_kwh_per_kwp=1.0)
    assert list(got.columns) == list(want.columns)
    assert np.allclose(got.to_numpy(float), want.to_numpy(float), rtol=1e-5, equal_nan=True)
    bad = subprocess.run([sys.executable, "-m", "dashboard", "sweep", "--steps", "1"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "sweep steps" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_roofs_with_pv_in_the_base_keep_it(district):
    b = district.buildings.sort_values("pv_potential_kwp", ascending=False)
    first = b.iloc[0]
    base = dc.Scenario(name="base", pv=(PvPlacement(str(first["building_id"]), 3.0, 30.0,
                                                    180.0),))
    sweep = penetration_sweep(district, steps=3, base=base)
    assert sweep["pv_kwp"].iloc[0] == pytest.approx(3.0)
    others = b.iloc[1:]["pv_potential_kwp"].sum()
    assert sweep["pv_kwp"].iloc[-1] == pytest.approx(3.0 + others, rel=1e-6)
    assert np.isfinite(sweep["hosting_headroom_kwp"]).all()
