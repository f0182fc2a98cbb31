"""Fixtures of the callback-logic tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dashboard import cache


@pytest.fixture(scope="module")
def bound_cache() -> Iterator[None]:
    """A shared cache in memory for one module, as the server binds one."""
    before = cache.shared()
    cache.configure(cache.MemoryStore(), secret=b"k" * 32)
    yield
    cache._shared = before     # later tests run without one, as the CLI does


@pytest.fixture()
def deps(tmp_path, district, bound_cache):
    """What the app passes its callbacks: the default district registered, a store, the
    layer service — and a request of one workspace (callbacks read it from the request)."""
    from flask import Flask, g

    from dashboard.store import ScenarioStore
    from dashboard.ui import state
    from dashboard.ui.base import Deps
    from dashboard.ui.layers import LayerService

    registry = state.DistrictRegistry(tmp_path / "districts")
    registry.add(district)
    d = Deps(registry=registry, default_district=district.content_hash, tiles_url="",
             layers=LayerService(), store=ScenarioStore(tmp_path / "s.sqlite"))
    app = Flask(__name__)
    with app.test_request_context("/"):
        g.workspace = "w" * 32
        yield d


@pytest.fixture()
def session(district, bound_cache):
    import dashboard as dc
    from dashboard.ui import state

    return dict(state.new_session(district, dc.Scenario(name="Untitled scenario")))
