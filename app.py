"""Serve Decentra on the embedded default district (or --district PATH).

    python app.py [--host 127.0.0.1] [--port 8050] [--district FILE.gpkg] [--debug]

Under gunicorn: ``gunicorn app:server``.
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
    parser.add_argument("--district", default=os.environ.get("DECENTRA_DISTRICT"))
    parser.add_argument("--debug", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    try:
        app = create_app(args.district)
    except DecentraError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"Decentra on http://{args.host}:{args.port}", flush=True)
    app.run(host=args.host, port=args.port, debug=args.debug)
    return 0


if __name__ == "__main__":
    sys.exit(main())
else:  # imported by a WSGI server: gunicorn app:server
    server = create_app(os.environ.get("DECENTRA_DISTRICT")).server
