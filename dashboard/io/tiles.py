"""Whether a map tile server can be reached (decides the default base map and PNG tiles)."""

from __future__ import annotations

import urllib.request

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def probe_tiles(url: str = OSM_TILES, timeout_s: float = 1.5) -> bool:
    """Whether the tile server answers for tile 0/0/0 within ``timeout_s`` seconds."""
    test = url.replace("{z}", "0").replace("{x}", "0").replace("{y}", "0")
    req = urllib.request.Request(test, method="HEAD",
                                 headers={"User-Agent": "Decentra planning tool"})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            return 200 <= resp.status < 400
    except Exception:  # offline, DNS, TLS, HTTP errors: all mean "not reachable"
        return False
