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
