"""Shared fixtures: the real default district and small synthetic cities."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("NUMBA_NUM_THREADS", "2")
# imports without a weather file use the bundled year, online or not (tests/test_calendar.py
# tries PVGIS against a server of its own)
os.environ["DECENTRA_PVGIS_URL"] = "off"

import dashboard as dc


@pytest.fixture(scope="session")
def district() -> dc.District:
    return dc.load_district()


@pytest.fixture(scope="session")
def city300() -> dc.District:
    return dc.synthetic_city(300, seed=1)


@pytest.fixture(scope="session")
def rule_scenario(district: dc.District) -> dc.Scenario:
    return dc.place_pv_by_rule(district, dc.Scenario(name="rule"), min_roof_m2=150,
                               coverage=0.6)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright (installed by scripts/test)."""
    from tests.e2e.conftest import launch_browser

    yield from launch_browser()
