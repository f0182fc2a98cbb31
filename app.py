"""Serve Decentra on the embedded default district (or --district PATH).

    python app.py [--host 127.0.0.1] [--port 8050] [--district FILE.gpkg] [--basemap auto]
                  [--debug]

Under a WSGI server: ``gunicorn app:server`` (DECENTRA_DISTRICT, DECENTRA_BASEMAP, and
DECENTRA_CACHE_DIR configure it).
"""

from __future__ import annotations

import argparse
import os
import sys

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


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    try:
        app = create_app(args.district, basemap=args.basemap, synthetic=args.synthetic,
                         store_path=args.store)
    except DecentraError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"Decentra: http://{args.host}:{args.port}", flush=True)
    app.run(host=args.host, port=args.port, debug=args.debug)
    return 0


if __name__ == "__main__":
    sys.exit(main())
else:  # imported by a WSGI server: gunicorn app:server
    server = create_app(os.environ.get("DECENTRA_DISTRICT")).server
