"""create_app(): the Dash application and its data routes."""

from __future__ import annotations

import os
import threading
import urllib.request
from pathlib import Path
from typing import Any

import dash
import diskcache
from dash import DiskcacheManager
from flask import Flask, Response, abort

import dashboard as dc
from dashboard.cache import cache, default_cache_dir, init_cache
from dashboard.domain.errors import DecentraError
from dashboard.figures.maps import COLOR_SPECS, OSM_TILES, building_frame, planning_map
from dashboard.store import ScenarioStore
from dashboard.ui import state
from dashboard.ui.callbacks import AppContext, register_callbacks
from dashboard.ui.layers import LayerService
from dashboard.ui.layout import page
from dashboard.ui.workflow import register_workflow

ASSETS = Path(__file__).resolve().parents[2] / "assets"


def probe_tiles(url: str = OSM_TILES, timeout_s: float = 1.5) -> bool:
    """Whether the tile server answers (decides the default base map)."""
    test = url.replace("{z}", "0").replace("{x}", "0").replace("{y}", "0")
    req = urllib.request.Request(test, method="HEAD",
                                 headers={"User-Agent": "Decentra planning tool"})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            return 200 <= resp.status < 400
    except Exception:  # offline, DNS, TLS, HTTP errors: all mean "not reachable"
        return False


def _gz_json(body: bytes) -> Response:
    resp = Response(body, mimetype="application/geo+json")
    resp.headers["Content-Encoding"] = "gzip"
    resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    resp.headers["Vary"] = "Accept-Encoding"
    return resp


def create_app(district_path: str | Path | None = None, *,
               cache_config: dict[str, Any] | None = None,
               basemap: str | None = None, synthetic: int | None = None,
               store_path: str | Path | None = None) -> dash.Dash:
    """The app on a district (default: the embedded one; ``synthetic``: a synthetic city of
    that many buildings).

    ``basemap``: "osm", "plain" or "auto" (probe the tile server; default, or the
    DECENTRA_BASEMAP environment variable). ``store_path``: the SQLite file of saved scenarios
    (default DECENTRA_STORE or ~/.decentra/scenarios.sqlite).
    """
    server = Flask(__name__)
    init_cache(server, cache_config)
    registry = state.DistrictRegistry()
    district = (dc.synthetic_city(synthetic) if synthetic else dc.load_district(district_path))
    registry.add(district)
    tiles = os.environ.get("DECENTRA_TILES_URL", OSM_TILES)
    choice = (basemap or os.environ.get("DECENTRA_BASEMAP", "auto")).lower()
    if choice not in ("osm", "plain", "auto"):
        raise DecentraError(f"base map must be osm, plain or auto, got {choice!r}")
    if choice == "auto":
        choice = "osm" if probe_tiles(tiles) else "plain"
    store = ScenarioStore(store_path)
    layers = LayerService()
    context = AppContext(registry=registry, default_district=district.content_hash,
                         tiles_url=tiles, bases={}, layers=layers)

    @server.route("/geo/<district_key>/layer/<key>.geojson")
    def layer_geojson(district_key: str, key: str) -> Response:
        try:
            d = registry.get(district_key)
        except DecentraError:
            abort(404)
        body = layers.geojson(d, key)
        if body is None:
            abort(404)
        return _gz_json(body)

    @server.route("/healthz")
    def healthz() -> Response:
        return Response("ok", mimetype="text/plain")

    manager = DiskcacheManager(diskcache.Cache(str(default_cache_dir() / "jobs")))
    app = dash.Dash(__name__, server=server,  # type: ignore[arg-type]
                    title="Decentra", assets_folder=str(ASSETS),
                    background_callback_manager=manager,
                    update_title=None,  # type: ignore[arg-type]
                    suppress_callback_exceptions=False)

    def serve_layout() -> Any:
        scenario = dc.Scenario(name="Untitled scenario")
        session = state.new_session(district, scenario)
        result = dc.evaluate(district, scenario)
        spec = COLOR_SPECS["self_sufficiency"]
        urls, _ = layers.view(district, building_frame(district, result), spec,
                              result.transformers, [])
        figure = planning_map(context.base(district), spec, urls, result.transformers, choice,
                              tiles)
        return page(district.name, district.is_synthetic, figure, dict(session), choice)

    def warm_up() -> None:
        """Prepare the first view's GeoJSON while the server starts (it is the same for every
        first visit: content-addressed), so a large district's first page load is not spent
        serialising."""
        with server.app_context():
            try:
                result = dc.evaluate(district)
                urls, _ = layers.view(district, building_frame(district, result),
                                      COLOR_SPECS["self_sufficiency"], result.transformers, [])
                for url in [*urls.classes, *urls.lines, urls.pv, urls.battery]:
                    if url:
                        layers.geojson(district, url.rsplit("/", 1)[-1].removesuffix(".geojson"))
            except Exception as err:  # warm-up is an optimisation only
                server.logger.warning("warm-up failed: %s", err)

    threading.Thread(target=warm_up, name="decentra-warm-up", daemon=True).start()
    app.layout = serve_layout
    register_callbacks(app, context)
    register_workflow(app, context, store)
    app._decentra_context = context  # type: ignore[attr-defined]  # for tests
    return app


__all__ = ["cache", "create_app", "probe_tiles"]
