"""End-to-end fixtures: the real app in a subprocess, Debian's Chromium driven by Playwright.

No network is needed: the app runs with the plain base map and a private cache directory.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("DECENTRA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_app(tmp: Path, *args: str, timeout_s: float = 120.0, basemap: str = "plain",
              env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    full_env = dict(os.environ, DECENTRA_CACHE_DIR=str(tmp), PYTHONUNBUFFERED="1",
                    DECENTRA_STORE=str(tmp / "scenarios.sqlite"), **(env or {}))
    log = open(tmp / f"app-{port}.log", "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port),
                             "--basemap", basemap, *args], cwd=ROOT, env=full_env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited: {(tmp / f'app-{port}.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("app did not start")


def start_serve(tmp: Path, *args: str, port: int | None = None, timeout_s: float = 300.0,
                env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """``scripts/serve`` (Redis, Celery, gunicorn) on a free port with its cache and store in
    ``tmp``; returns when /healthz answers. Its output goes to ``tmp/serve.log``."""
    port = port or free_port()
    full_env = dict(os.environ, DECENTRA_CACHE_DIR=str(tmp / "cache"), PYTHONUNBUFFERED="1",
                    DECENTRA_STORE=str(tmp / "scenarios.sqlite"), **(env or {}))
    log = open(tmp / "serve.log", "a")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([str(ROOT / "scripts" / "serve"), "--port", str(port),
                             "--basemap", "plain", *args], cwd=ROOT, env=full_env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"scripts/serve exited: {(tmp / 'serve.log').read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("scripts/serve did not start: "
                       + (tmp / "serve.log").read_text()[-3000:])


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc, url = start_app(tmp_path_factory.mktemp("app"))
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def launch_browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/test (it installs Debian's chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1500, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    pg.console_errors = errors  # type: ignore[attr-defined]
    yield pg
    context.close()
    assert errors == [], f"browser console errors: {errors}"


MAP_JS = "document.querySelector('#map .js-plotly-plot')"


def open_app(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#kpi-self_sufficiency", timeout=60_000)
    page.wait_for_function(f"() => {MAP_JS} && {MAP_JS}._fullLayout.map && "
                           f"{MAP_JS}._fullLayout.map._subplot.map.loaded()", timeout=60_000)
    wait_framed(page)


def wait_framed(page: Page) -> None:
    """Until the server has framed the district for this window (it patches the view once,
    after the browser reported the map's size): clicks before that can land elsewhere."""
    page.wait_for_function("() => document.querySelector('#map-fitted') && "
                           "document.querySelector('#map-fitted').innerText !== ''",
                           timeout=60_000)
    page.wait_for_function(f"() => {MAP_JS}._fullLayout.map._subplot.map.loaded()",
                           timeout=60_000)


RENDERED_JS = f"""() => {{
    const map = {MAP_JS}._fullLayout.map._subplot.map;
    const feats = map.queryRenderedFeatures().filter(
        f => f.layer.type === 'fill' && f.properties && f.properties.b !== undefined);
    return new Set(feats.map(f => f.properties.b)).size;
}}"""


def rendered_buildings(page: Page) -> int:
    """Distinct building polygons MapLibre actually rendered (by feature centroid)."""
    return int(page.evaluate(RENDERED_JS))


def wait_rendered_buildings(page: Page, n: int, timeout_ms: int = 60_000) -> int:
    page.wait_for_function(f"() => ({RENDERED_JS})() >= {n}", timeout=timeout_ms)
    return rendered_buildings(page)


def screen_point(page: Page, lon: float, lat: float) -> tuple[float, float]:
    return tuple(page.evaluate(f"""() => {{
        const gd = {MAP_JS};
        const map = gd._fullLayout.map._subplot.map;
        const p = map.project([{lon}, {lat}]);
        const r = map.getCanvas().getBoundingClientRect();
        return [r.left + p.x, r.top + p.y];
    }}"""))


def zoom_to(page: Page, lon: float, lat: float, zoom: float) -> None:
    """Centre the map on a point at a zoom level, as a user would before clicking."""
    page.evaluate(f"""async () => {{
        await Plotly.relayout({MAP_JS}, {{'map.center': {{lon: {lon}, lat: {lat}}},
                                          'map.zoom': {zoom}}});
    }}""")
    page.wait_for_function(f"() => {MAP_JS}._fullLayout.map._subplot.map.loaded()",
                           timeout=60_000)


def click_map(page: Page, lon: float, lat: float) -> None:
    """Hover, then click (plotly resolves clicks from the hover state)."""
    x, y = screen_point(page, lon, lat)
    page.mouse.move(x - 4, y - 4)
    page.mouse.move(x, y, steps=4)
    page.wait_for_timeout(150)
    page.mouse.click(x, y)


def kpi_text(page: Page, key: str) -> str:
    return page.inner_text(f"#kpi-{key}")


def wait_kpi_change(page: Page, key: str, old: str, timeout_ms: int = 20_000) -> str:
    page.wait_for_function(
        f"() => document.querySelector('#kpi-{key}').innerText !== {old!r}",
        timeout=timeout_ms)
    return kpi_text(page, key)
