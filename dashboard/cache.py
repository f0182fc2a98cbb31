"""The one flask-caching Cache of the app, bound to the server in ``create_app``.

It holds content-addressed values shared by callbacks, background-callback processes and
gunicorn workers: scenarios, rendered map layers, and engine results (``dashboard.scenarios``
memoizes ``evaluate`` in process first, then here, so a worker that did not compute a result,
or its parent for an incremental edit, still finds it). Keys are content hashes (strings),
never DataFrames. Outside an app (CLI, scripts) nothing is bound and only the in-process memo
is used.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from flask import Flask
from flask_caching import Cache

cache = Cache()


def shared() -> Cache | None:
    """The cache if an app has bound it in this process, else None."""
    return cache if getattr(cache, "app", None) is not None else None


def shared_get(key: str) -> Any:
    """The value another process shared under ``key``, or None: when no app is bound, and
    for a damaged or foreign entry (a miss, never an error)."""
    store = shared()
    if store is None:
        return None
    try:
        return store.get(key)
    except Exception:
        return None


def shared_set(key: str, value: Any) -> None:
    """Share ``value`` under ``key`` if an app is bound; a failure is logged, not raised
    (the shared memo is an optimisation only)."""
    store = shared()
    if store is None:
        return
    try:
        store.set(key, value)
    except Exception as err:
        logging.getLogger(__name__).warning("%s not shared: %s", key, err)


def default_cache_dir() -> Path:
    base = os.environ.get("DECENTRA_CACHE_DIR")
    if base:
        return Path(base)
    return Path(tempfile.gettempdir()) / f"decentra-cache-{os.getuid()}"


def init_cache(server: Flask, config: dict[str, Any] | None = None) -> None:
    """Bind the cache: a file-system cache by default (shared by worker processes), or any
    flask-caching config (e.g. ``{"CACHE_TYPE": "RedisCache", ...}``)."""
    cfg: dict[str, Any] = {
        "CACHE_TYPE": "FileSystemCache",
        "CACHE_DIR": str(default_cache_dir() / "values"),
        "CACHE_THRESHOLD": 20_000,
        "CACHE_DEFAULT_TIMEOUT": 7 * 24 * 3600,
    }
    cfg.update(config or {})
    cache.init_app(server, config=cfg)
    # One app per process: let background-callback processes and threads without an app
    # context reach the backend too.
    cache.app = server
