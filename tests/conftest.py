"""Shared fixtures: the real default district and small synthetic cities."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("NUMBA_NUM_THREADS", "2")
# imports without a weather file use the bundled year, online or not (tests/test_calendar.py
# tries PVGIS against a server of its own)
os.environ["DECENTRA_PVGIS_URL"] = "off"

import dashboard as dc

# The longest modules first (longest-processing-time-first scheduling): scripts/test gives whole
# modules to its two workers in this order (pytest-xdist --dist loadscope
# --no-loadscope-reorder), so a long module never starts last while the other worker idles, and
# a module's fixtures (an app, the served stack) start once. Measured worker-seconds with
# `scripts/test --durations=0` on this machine; the rest follow in collection order.
LONGEST_FIRST = (
    "tests/e2e/test_restarts.py",           # ten app starts in a row
    "tests/test_hostile_files.py",          # 1,038 hostile files through the CLI
    "tests/e2e/test_runs_every_time.py",
    "tests/e2e/test_serve.py",
    "tests/e2e/test_hostile_app.py",        # 150 hostile uploads through the app
    "tests/e2e/test_map.py",
    "tests/e2e/test_scenarios.py",
    "tests/test_import_fuzz.py",            # 1,000 fuzzed files
    "tests/e2e/test_screen.py",
    "tests/e2e/test_gridstore_ui.py",
    "tests/test_cli.py",
    "tests/e2e/test_grid_ui.py",
    "tests/e2e/test_import_ui.py",
    "tests/test_store.py",
    "tests/e2e/test_suggest_ui.py",
    "tests/test_report.py",
    "tests/e2e/test_assumptions_ui.py",
    "tests/test_gridstore.py",
    "tests/e2e/test_basemap.py",
    "tests/test_feasible_grid.py",
    "tests/test_suggest.py",
    "tests/test_export.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {m: i for i, m in enumerate(LONGEST_FIRST)}
    order = {id(item): i for i, item in enumerate(items)}
    items.sort(key=lambda it: (rank.get(it.nodeid.split("::", 1)[0], len(rank)),
                               order[id(it)]))


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
