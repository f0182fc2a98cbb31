"""Static images of figures through kaleido, driving the system Chromium.

One browser is kept warm per process (``kaleido.start_sync_server``): about 1.5 s per image
instead of 5-8 s. Calls are serialised with a lock (one warm browser, one job at a time).
"""

from __future__ import annotations

import atexit
import os
import shutil
import warnings

import plotly.graph_objects as go
import plotly.io as pio

from dashboard.domain.errors import DecentraError
from dashboard.domain.forksafe import ForkSafeLock

FORMATS = ("png", "svg", "pdf")
_lock = ForkSafeLock()
_owner_pid: int | None = None    # the process whose warm browser is running


def chromium_path() -> str | None:
    for candidate in (os.environ.get("BROWSER_PATH"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def _ensure_server() -> None:
    global _owner_pid
    if _owner_pid == os.getpid():
        return
    path = chromium_path()
    if path is None:
        raise DecentraError("image export needs Chromium (Debian package 'chromium'); "
                            "scripts/setup installs it")
    os.environ.setdefault("BROWSER_PATH", path)
    import kaleido

    server = kaleido._global_server
    if server.is_running():
        # A forked process (a Dash background job) inherits the "running" flag of its parent's
        # server but not the thread and browser behind it: start one of its own.
        server._initialized = False
    kaleido.start_sync_server(silence_warnings=True)
    if _owner_pid is None:
        atexit.register(lambda: kaleido.stop_sync_server(silence_warnings=True))
    _owner_pid = os.getpid()


def figure_bytes(fig: go.Figure, fmt: str = "png", width: int = 1400, height: int = 900,
                 scale: float = 1.0) -> bytes:
    """The figure as PNG, SVG or PDF bytes."""
    if fmt not in FORMATS:
        raise DecentraError(f"image format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    with _lock:
        _ensure_server()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # kaleido: "kopts ignored with a server"
            try:
                return pio.to_image(fig, format=fmt, width=width, height=height, scale=scale)
            except Exception as err:  # kaleido / browser failures, reported once
                raise DecentraError(f"the image could not be rendered ({type(err).__name__}: "
                                    f"{err})") from None
