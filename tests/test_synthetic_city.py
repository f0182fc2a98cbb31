from __future__ import annotations

import pytest

import dashboard as dc
from dashboard.domain.errors import DecentraError


def test_synthetic_city_size_and_label(city300):
    assert city300.n_buildings == 300 and city300.is_synthetic
    assert "Synthetic" in city300.name
    assert city300.buildings["building_id"].is_unique
    assert city300.transformers["transformer_id"].is_unique
    assert set(city300.buildings["transformer_id"]) <= set(city300.transformers["transformer_id"])
    # tiles do not overlap
    metric = city300.buildings.to_crs(32633).geometry
    assert metric.union_all().area == pytest.approx(metric.area.sum(), rel=1e-6)


def test_synthetic_city_evaluates(city300):
    s = dc.place_pv_by_rule(city300, dc.Scenario(), min_roof_m2=200, coverage=0.5)
    r = dc.evaluate(city300, s)
    assert 0 < r.summary["self_sufficiency"] < 1
    assert len(r.transformers) == len(city300.transformers)


def test_seed_changes_demand_only():
    a, b = dc.synthetic_city(150, seed=1), dc.synthetic_city(150, seed=2)
    assert a.buildings["annual_demand_kwh"].sum() != b.buildings["annual_demand_kwh"].sum()
    assert a.buildings.geometry.equals(b.buildings.geometry)


@pytest.mark.parametrize("n", [0, -5, 2.5, "10"])
def test_bad_sizes(n):
    with pytest.raises(DecentraError):
        dc.synthetic_city(n)
