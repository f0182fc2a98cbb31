"""create_app(): the Dash application and its data routes."""

from __future__ import annotations

import os
import threading
import urllib.request
from pathlib import Path
from typing import Any

import dash
import diskcache
import numpy as np
from dash import DiskcacheManager
from flask import Flask, Response, abort

import dashboard as dc
from dashboard.cache import cache, default_cache_dir, init_cache
from dashboard.domain.district import District
from dashboard.domain.errors import DecentraError
from dashboard.figures.maps import (
    COLOR_SPECS,
    LINE_CLASSES,
    OSM_TILES,
    building_features,
    color_range,
    feature_collection_bytes,
    gzip_bytes,
    line_class,
    line_features,
    planning_map,
)
from dashboard.ui import state
from dashboard.ui.callbacks import (
    AppContext,
    building_frame,
    geojson_url,
    line_urls,
    register_callbacks,
)
from dashboard.ui.layout import page

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


class GeoPayloads:
    """Gzipped GeoJSON per district (buildings) and per (district, scenario, class) (feeders),
    built once and served from Flask routes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buildings: dict[str, bytes] = {}
        self._line_features: dict[str, tuple[list[str], np.ndarray]] = {}

    def buildings(self, district: District) -> bytes:
        key = district.content_hash
        with self._lock:
            hit = self._buildings.get(key)
        if hit is None:
            hit = gzip_bytes(feature_collection_bytes(building_features(district.buildings)))
            with self._lock:
                self._buildings[key] = hit
        return hit

    def lines(self, district: District, transformer_class: np.ndarray, wanted: int) -> bytes:
        key = district.content_hash
        with self._lock:
            hit = self._line_features.get(key)
        if hit is None:
            feats = line_features(district.lines)
            rows = district.transformers["transformer_id"].astype(str).tolist()
            index = {t: i for i, t in enumerate(rows)}
            owner = np.array([index[t] for t in district.lines["transformer_id"].astype(str)])
            hit = (feats, owner)
            with self._lock:
                self._line_features[key] = hit
        feats, owner = hit
        chosen = np.flatnonzero(transformer_class[owner] == wanted)
        return gzip_bytes(feature_collection_bytes([feats[i] for i in chosen]))


def _gz_json(body: bytes) -> Response:
    resp = Response(body, mimetype="application/geo+json")
    resp.headers["Content-Encoding"] = "gzip"
    resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    resp.headers["Vary"] = "Accept-Encoding"
    return resp


def create_app(district_path: str | Path | None = None, *,
               cache_config: dict[str, Any] | None = None,
               basemap: str | None = None) -> dash.Dash:
    """The app on a district (default: the embedded one).

    ``basemap``: "osm", "plain" or "auto" (probe the tile server; default, or the
    DECENTRA_BASEMAP environment variable).
    """
    server = Flask(__name__)
    init_cache(server, cache_config)
    registry = state.DistrictRegistry()
    district = dc.load_district(district_path)
    registry.add(district)
    tiles = os.environ.get("DECENTRA_TILES_URL", OSM_TILES)
    choice = (basemap or os.environ.get("DECENTRA_BASEMAP", "auto")).lower()
    if choice not in ("osm", "plain", "auto"):
        raise DecentraError(f"base map must be osm, plain or auto, got {choice!r}")
    if choice == "auto":
        choice = "osm" if probe_tiles(tiles) else "plain"
    context = AppContext(registry=registry, default_district=district.content_hash,
                         tiles_url=tiles, bases={})
    payloads = GeoPayloads()

    @server.route("/geo/<district_key>/buildings.geojson")
    def buildings_geojson(district_key: str) -> Response:
        try:
            d = registry.get(district_key)
        except DecentraError:
            abort(404)
        return _gz_json(payloads.buildings(d))

    @server.route("/geo/<district_key>/<scenario_key>/lines-<name>.geojson")
    def lines_geojson(district_key: str, scenario_key: str, name: str) -> Response:
        names = [c[0] for c in LINE_CLASSES]
        if name not in names:
            abort(404)
        try:
            d = registry.get(district_key)
            result = dc.evaluate(d, state.get_scenario(scenario_key))
        except DecentraError:
            abort(404)
        t = result.transformers
        classes = line_class(t["loading_pct"].to_numpy(float),
                             t["reverse_flow_hours"].to_numpy(float))
        return _gz_json(payloads.lines(d, classes, names.index(name)))

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
        base = context.base(district)
        spec = COLOR_SPECS["self_sufficiency"]
        frame = building_frame(district, result)
        figure = planning_map(base, frame, result.transformers, spec,
                              color_range(spec, np.array([0.0, 100.0])),
                              geojson_url(district.content_hash),
                              line_urls(district.content_hash, session["scenario"]), [],
                              choice, tiles)
        return page(district.name, district.is_synthetic, figure, dict(session), choice)

    app.layout = serve_layout
    register_callbacks(app, context)
    app._decentra_context = context  # type: ignore[attr-defined]  # for tests
    return app


__all__ = ["GeoPayloads", "cache", "create_app", "probe_tiles"]
