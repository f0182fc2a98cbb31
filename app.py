"""Serve Decentra on the embedded default district (or --district PATH).

    python app.py [--host 127.0.0.1] [--port 8050] [--district FILE.gpkg] [--basemap auto]
                  [--store FILE.sqlite] [--debug]

One process serves the pages; background jobs (power flow, rule placement, exports, import
checks) run in a small pool of worker processes it starts and stops (``scripts/run``).

For many users, ``scripts/serve`` runs Redis, Celery workers and gunicorn (``gunicorn
app:server``, ``celery -A app:celery_app worker``) with ``DECENTRA_REDIS_URL`` set; the
environment (DECENTRA_DISTRICT, DECENTRA_BASEMAP, DECENTRA_STORE, DECENTRA_CACHE_DIR,
DECENTRA_ROLE=worker for Celery) configures the app each of them imports.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
from types import FrameType
from typing import Any

from dashboard.domain.errors import DecentraError
from dashboard.ui.app import create_app


def _parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Decentra planning app")
    parser.add_argument("--host", default=os.environ.get("DECENTRA_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("DECENTRA_PORT", "8050")))
    parser.add_argument("--district", default=os.environ.get("DECENTRA_DISTRICT"),
                        help="district GeoPackage (default: the embedded Bubeneč district)")
    parser.add_argument("--synthetic", type=int, metavar="N",
                        help="serve a synthetic city of N buildings (tiles of the default "
                             "district; for demos and scale tests)")
    parser.add_argument("--basemap", choices=["auto", "osm", "plain"],
                        default=os.environ.get("DECENTRA_BASEMAP", "auto"),
                        help="OpenStreetMap tiles, a plain background, or auto-detect")
    parser.add_argument("--store", default=os.environ.get("DECENTRA_STORE"),
                        help="SQLite file of saved scenarios (default ~/.decentra/"
                             "scenarios.sqlite)")
    parser.add_argument("--debug", action="store_true", help="Dash debug mode (development)")
    return parser.parse_args(argv)


def _stop(signum: int, _frame: FrameType | None) -> None:
    # a normal exit: atexit stops the job workers (they also die with this process)
    sys.exit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    signal.signal(signal.SIGTERM, _stop)
    try:
        app = create_app(args.district, basemap=args.basemap, synthetic=args.synthetic,
                         store_path=args.store)
    except DecentraError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"Decentra: http://{args.host}:{args.port}", flush=True)
    code = 0
    try:
        app.run(host=args.host, port=args.port, debug=args.debug, use_reloader=False)
    except SystemExit as stop:                   # SIGTERM (_stop)
        code = stop.code if isinstance(stop.code, int) else 1
    except KeyboardInterrupt:                    # Ctrl-C
        code = 130
    _quick_exit(app, code)
    return code


def _quick_exit(app: Any, code: int) -> None:
    """Stop the job workers, finish the shared cache's pending writes and leave without the
    interpreter's final garbage collection: freeing the district's models, profiles and
    caches object by object took 2.5 s of every stop (scripts/run, each test's app). What
    is saved is already on disk (SQLite commits each save; the cache writes are flushed)."""
    from dashboard.cache import shared

    jobs = getattr(app, "_decentra_jobs", None)
    if jobs is not None and hasattr(jobs, "shutdown"):
        jobs.shutdown()
    with contextlib.suppress(Exception):
        shared().flush(timeout_s=10.0)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _from_environment() -> Any:
    role = os.environ.get("DECENTRA_ROLE", "server")
    synthetic = os.environ.get("DECENTRA_SYNTHETIC")
    return create_app(os.environ.get("DECENTRA_DISTRICT") or None,
                      synthetic=int(synthetic) if synthetic else None, role=role)


if __name__ == "__main__":
    sys.exit(main())
else:  # imported by gunicorn (app:server) or a Celery worker (app:celery_app)
    _app = _from_environment()
    server = _app.server
    # the Celery app (scripts/serve), for ``celery -A app:celery_app worker``
    celery_app = _app._decentra_jobs.handle if os.environ.get("DECENTRA_REDIS_URL") else None
