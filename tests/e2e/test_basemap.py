"""Base maps: raster tiles when a tile server answers, every layer still drawn either way.

The OpenStreetMap tile servers are not reachable from the test machine, so a local tile
server stands in for them (same URL template, PNG tiles): the app must request its tiles,
draw them under the buildings and log no error.
"""

from __future__ import annotations

import struct
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.e2e.conftest import free_port, open_app, start_app, wait_rendered_buildings

pytestmark = pytest.mark.e2e


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A plain RGB PNG with a faint grid (no imaging library needed)."""
    rows = []
    for y in range(height):
        line = bytearray([0])
        for x in range(width):
            edge = x % 64 == 0 or y % 64 == 0
            line += bytes(c - 18 if edge else c for c in rgb)
        rows.append(bytes(line))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def tile_server():
    tile = png(256, 256, (236, 232, 222))
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            self.wfile.write(tile)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tiles/{{z}}/{{x}}/{{y}}.png", hits
    server.shutdown()


def test_tiles_drawn_under_every_layer(page, tile_server, tmp_path):
    url_template, hits = tile_server
    proc, url = start_app(tmp_path, basemap="osm", env={"DECENTRA_TILES_URL": url_template})
    try:
        open_app(page, url)
        assert page.is_checked("input[value='osm']")
        assert wait_rendered_buildings(page, 144) == 144
        page.wait_for_function("() => document.querySelector('#map .js-plotly-plot')"
                               "._fullLayout.map._subplot.map.areTilesLoaded()")
        assert any(h.startswith("/tiles/") for h in hits)
        # switching to the plain background hides the tiles and keeps the buildings
        page.check("input[value='plain']")
        page.wait_for_timeout(800)
        assert wait_rendered_buildings(page, 144) == 144
    finally:
        page.goto("about:blank")     # stop polling the app (background power flow) first
        proc.terminate()
        proc.wait(timeout=20)


def test_auto_without_network_falls_back_to_plain(page, tmp_path):
    # an unreachable tile server: auto must pick the plain background (nothing is requested)
    proc, url = start_app(tmp_path, basemap="auto",
                          env={"DECENTRA_TILES_URL": "http://127.0.0.1:9/{z}/{x}/{y}.png"})
    try:
        open_app(page, url)
        assert page.is_checked("input[value='plain']")
        assert wait_rendered_buildings(page, 144) == 144
    finally:
        page.goto("about:blank")     # stop polling the app (background power flow) first
        proc.terminate()
        proc.wait(timeout=20)
