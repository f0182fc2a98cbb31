"""Fixtures of the callback-logic tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from dashboard.cache import cache, init_cache


@pytest.fixture(scope="module")
def bound_cache() -> Iterator[None]:
    """The app's flask-caching store bound (in memory) for one module, as in the server."""
    app = Flask(__name__)
    init_cache(app, {"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 1000})
    with app.app_context():
        yield
    cache.app = None      # later tests run without an app, as the CLI does
