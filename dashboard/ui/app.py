"""create_app(): the Dash application and its data routes."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import dash
from flask import Flask, Response, abort, request

import dashboard as dc
from dashboard.cache import cache_dir, configure, shared, store_from_url
from dashboard.domain.district import District
from dashboard.domain.errors import DecentraError
from dashboard.domain.processes import JOB_PROCESS_ENV
from dashboard.domain.scenario import Scenario
from dashboard.figures.maps import COLOR_SPECS, OSM_TILES, building_frame, planning_map
from dashboard.io.formats import Limits
from dashboard.io.tiles import probe_tiles
from dashboard.store import ScenarioStore
from dashboard.ui import state, workspace
from dashboard.ui.assumptions import callbacks as assumption_callbacks
from dashboard.ui.base import Deps, message
from dashboard.ui.export import callbacks as export_callbacks
from dashboard.ui.grid import callbacks as grid_callbacks
from dashboard.ui.importing import callbacks as import_callbacks
from dashboard.ui.jobs import LocalJobManager, WorkerSpec, failure_text
from dashboard.ui.layers import LayerService
from dashboard.ui.planning import callbacks as planning_callbacks
from dashboard.ui.present import callbacks as present_callbacks
from dashboard.ui.scenarios import callbacks as scenario_callbacks
from dashboard.ui.shell import page
from dashboard.ui.suggest import callbacks as suggest_callbacks
from dashboard.ui.sweep import callbacks as sweep_callbacks
from dashboard.warmup import compile_kernels

ASSETS = Path(__file__).resolve().parents[2] / "assets"
log = logging.getLogger(__name__)


QUERY_KEYS = {"share": 64, "district": 64, "placements": 80}


def page_query() -> dict[str, str]:
    """The query of the page being built. Dash fetches the layout from ``/_dash-layout``
    without the page's query string, so it is read from the request's Referer (the page
    itself) when the request has none."""
    try:
        args = {k: v for k, v in request.args.items() if v}
        if not args and request.referrer:
            parsed = parse_qs(urlparse(request.referrer[:2000]).query)
            args = {k: v[0] for k, v in parsed.items() if v and v[0]}
    except RuntimeError:         # outside a request
        return {}
    return args


def check_query(query: dict[str, str]) -> str | None:
    """Why a page link cannot be used as it is (unknown or oversized parameters), or None."""
    for key, value in query.items():
        if key not in QUERY_KEYS:
            if key == "scenario":
                return ("This link is of an older kind that no longer opens scenarios; ask "
                        "for a new share link.")
            return "This link has parameters Decentra does not know; the app opens as usual."
        if len(value) > QUERY_KEYS[key] or not value.replace("-", "").replace(
                "_", "").isalnum():
            return "This link is damaged or too long; the app opens as usual."
    return None


def resolve_page(query: dict[str, str], default: District, registry: state.DistrictRegistry,
                 store: ScenarioStore) -> tuple[District, Scenario, str | None]:
    """The district and starting scenario a page opens on: an imported district
    (``?district=<hash>``, optionally with the placements read from its files,
    ``&placements=<key>``), else the default. A shared scenario (``?share=<token>``) is
    opened by a callback once the page is there. A link that does not resolve opens the
    default district with a message saying why."""
    blank = Scenario(name="Untitled scenario")
    problem = check_query(query)
    if problem:
        return default, blank, problem
    if query.get("share"):
        try:
            saved = store.load_shared(query["share"])
        except DecentraError as err:
            return default, blank, f"The shared link does not open: {err.message}."
        try:
            return registry.get(saved.district_hash), blank, None
        except DecentraError:
            return default, blank, (f"The shared scenario “{saved.name}” belongs to a district "
                                    "this server no longer has; import that district again.")
    if query.get("district"):
        try:
            shown = registry.get(query["district"])
        except DecentraError:
            return default, blank, ("That district is not on this server (it may have been "
                                    "imported on another one); the embedded district is "
                                    "shown instead.")
        if query.get("placements"):
            try:
                return shown, state.get_scenario(query["placements"]), None
            except DecentraError:
                return shown, blank, ("The placements read from the files are no longer on "
                                      "the server; the district opens without them.")
        return shown, blank, None
    return default, blank, None


def _gz_json(body: bytes) -> Response:
    resp = Response(body, mimetype="application/geo+json")
    resp.headers["Content-Encoding"] = "gzip"
    resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    resp.headers["Vary"] = "Accept-Encoding"
    return resp


def request_cap_bytes() -> int:
    """The largest request body: an import upload (DECENTRA_MAX_UPLOAD_MB, base64 in a
    callback's JSON, so 4/3 of it) and a little for the rest of the callback."""
    return Limits().max_file_bytes * 4 // 3 + 2**20


SMALL_REQUEST_BYTES = 2**20        # any other endpoint


def install_limits(server: Flask) -> None:
    """Refuse an oversized request from its headers, before its body is read: the upload
    callback may carry a file, nothing else may carry more than a megabyte."""
    cap = request_cap_bytes()
    server.config["MAX_CONTENT_LENGTH"] = cap          # also bounds a body without a length

    @server.before_request
    def _limit() -> Response | None:
        size = request.content_length
        allowed = cap if request.path.endswith("/_dash-update-component") \
            else SMALL_REQUEST_BYTES
        if size is not None and size > allowed:
            return Response(f"The request is larger than {allowed / 2**20:,.0f} MB: refused.",
                            status=413, mimetype="text/plain")
        if len(request.query_string) > 16_384:
            return Response("The address is too long: refused.", status=414,
                            mimetype="text/plain")
        return None


def _job_workers() -> int:
    env = os.environ.get("DECENTRA_JOB_WORKERS", "")
    return int(env) if env.isdigit() and int(env) > 0 else min(2, os.cpu_count() or 1)


def job_manager(role: str, redis_url: str | None, spec: WorkerSpec) -> Any:
    """The background-callback manager: Celery on Redis when serving (``redis_url``), else a
    pool of spawned worker processes (:mod:`dashboard.ui.jobs`)."""
    if redis_url:
        from dashboard.ui.jobs import celery_manager
        from dashboard.ui.serving import celery_app_for

        return celery_manager(celery_app_for(redis_url))
    timeout = float(os.environ.get("DECENTRA_JOB_TIMEOUT_S", "600"))
    return LocalJobManager(cache_dir("jobs"), spec if role == "server" else None,
                           workers=_job_workers(), timeout_s=timeout)


def on_error(err: Exception) -> None:
    """A callback failed (a bug, or a background job that failed, timed out or was lost):
    say so in the message area instead of answering HTTP 500 and leaving the page as if
    nothing happened."""
    log.error("callback failed: %s", failure_text(err))
    dash.set_props("message", {"children": message(
        f"That did not work: {failure_text(err)}. Nothing was changed; please try again.")})


def create_app(district_path: str | Path | None = None, *,
               basemap: str | None = None, synthetic: int | None = None,
               store_path: str | Path | None = None, role: str = "server",
               redis_url: str | None = None) -> dash.Dash:
    """The app on a district (default: the embedded one; ``synthetic``: a synthetic city of
    that many buildings).

    ``basemap``: "osm", "plain" or "auto" (probe the tile server; default, or the
    DECENTRA_BASEMAP environment variable). ``store_path``: the SQLite file of saved scenarios
    (default DECENTRA_STORE or ~/.decentra/scenarios.sqlite). ``redis_url`` (or
    DECENTRA_REDIS_URL): serve for many users — shared cache on Redis, background callbacks on
    Celery workers. ``role``: "server" (serves pages, starts jobs) or "worker" (a process
    that runs background jobs: builds the same callbacks, serves nothing).
    """
    if role not in ("server", "worker"):
        raise ValueError(f"role must be server or worker, got {role!r}")
    redis_url = redis_url or os.environ.get("DECENTRA_REDIS_URL") or None
    configure(store_from_url(redis_url))
    server = Flask(__name__)
    server.secret_key = hmac.new(shared().secret, b"flask-session", hashlib.sha256).digest()
    workspace.install(server)
    registry = state.DistrictRegistry()
    district = (dc.synthetic_city(synthetic) if synthetic else dc.load_district(district_path))
    registry.add(district, persist=role == "server")
    tiles = os.environ.get("DECENTRA_TILES_URL", OSM_TILES)
    choice = (basemap or os.environ.get("DECENTRA_BASEMAP", "auto")).lower()
    if choice not in ("osm", "plain", "auto"):
        raise DecentraError(f"base map must be osm, plain or auto, got {choice!r}")
    if choice == "auto":
        choice = ("osm" if probe_tiles(tiles) else "plain") if role == "server" else "plain"
    store = ScenarioStore(store_path)
    layers = LayerService()
    deps = Deps(registry=registry, default_district=district.content_hash, tiles_url=tiles,
                layers=layers, store=store)
    spec = WorkerSpec("dashboard.ui.app:create_app",
                      {"district_path": str(district_path) if district_path else None,
                       "basemap": choice, "synthetic": synthetic,
                       "store_path": str(store.path), "redis_url": redis_url},
                      env=dict(JOB_PROCESS_ENV))
    manager = job_manager(role, redis_url, spec)

    install_limits(server)

    @server.route("/geo/<district_key>/layer/<key>.geojson")
    def layer_geojson(district_key: str, key: str) -> Response:
        if len(key) > 64 or not key.isalnum():
            abort(404)
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

    app = dash.Dash(__name__, server=server,  # type: ignore[arg-type]
                    title="Decentra", assets_folder=str(ASSETS),
                    background_callback_manager=manager, on_error=on_error,
                    update_title=None,  # type: ignore[arg-type]
                    suppress_callback_exceptions=False)

    def serve_layout() -> Any:
        shown, scenario, notice = resolve_page(page_query(), district, registry, store)
        session = state.new_session(shown, scenario)
        result = dc.evaluate(shown, scenario)
        spec = COLOR_SPECS["self_sufficiency"]
        urls, _ = layers.view(shown, building_frame(shown, result), spec,
                              result.transformers, [])
        figure = planning_map(deps.base(shown), spec, urls, result.transformers, choice,
                              tiles)
        return page(shown.name, shown.is_synthetic, figure, dict(session), choice,
                    meta=dict(shown.meta), notice=message(notice) if notice else None)

    def warm_up() -> None:
        """Prepare the first view's GeoJSON while the server starts (it is the same for every
        first visit: content-addressed), so a large district's first page load is not spent
        serialising. (Pure Python and numpy: nothing here compiles.)"""
        try:
            result = dc.evaluate(district)
            urls, _ = layers.view(district, building_frame(district, result),
                                  COLOR_SPECS["self_sufficiency"], result.transformers, [])
            for url in [*urls.classes, *urls.lines, urls.pv, urls.battery]:
                if url:
                    layers.geojson(district, url.rsplit("/", 1)[-1].removesuffix(".geojson"))
        except Exception as err:  # warm-up is an optimisation only
            server.logger.warning("warm-up failed: %s", err)

    # a worker serves no page: Dash would call the layout once to validate it (an evaluation
    # and the map, 0.6 s of every worker's start)
    app.layout = serve_layout if role == "server" else dash.html.Div(id="job-worker")
    for feature in (planning_callbacks, grid_callbacks, scenario_callbacks, present_callbacks,
                    export_callbacks, import_callbacks, sweep_callbacks, assumption_callbacks,
                    suggest_callbacks):
        feature.register(app, deps)
    app._decentra_deps = deps  # type: ignore[attr-defined]  # for tests
    app._decentra_jobs = manager  # type: ignore[attr-defined]
    if role == "server":
        # the server evaluates edits; power flows run in the job workers only (it reads their
        # studies from the shared cache): no grid model here (1.5 s of each start)
        compile_kernels(district, grid=False)
        if isinstance(manager, LocalJobManager):
            manager.start()
        threading.Thread(target=warm_up, name="decentra-warm-up", daemon=True).start()
    elif not redis_url:
        compile_kernels(district)      # a local job worker: ready before its first job
    return app


__all__ = ["create_app", "probe_tiles"]
