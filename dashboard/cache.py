"""The one flask-caching Cache of the app, bound to the server in ``create_app``.

It holds content-addressed values shared by callbacks, background-callback processes and
gunicorn workers: scenarios by content hash and small rendered payloads. Keys are content
hashes (hashable strings), never DataFrames. Results of the engine stay in the engine's own
in-process memo (``dashboard.scenarios``), which also knows how to patch a parent result.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from flask import Flask
from flask_caching import Cache

cache = Cache()


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
