"""Reading hostile input safely: limits before parsing, and nothing a file names is followed.

- :func:`~dashboard.domain.safejson.loads_json` (re-exported): JSON with a size cap, a
  nesting cap and a cap on the digits of a number.
- :func:`check_geojson_crs`: a GeoJSON ``crs`` member is either a CRS name that pyproj knows
  or refused: GDAL fetches ``crs.properties.href`` URLs (blind SSRF, up to 10 s each) and reads
  an unknown name silently as WGS 84.
- :func:`harden_gdal`: GDAL may never reach the network (its HTTP goes to a closed local port)
  nor PROJ download grids, whatever a file names; run once at import of :mod:`dashboard.io`.
- :func:`check_pandapower_json`: a pandapower network is JSON whose objects name a Python
  module and class that pandapower imports and builds — before any allowlist — and whose
  tables may be given as the *path* of a JSON file on the server, which pandas then reads.
  Here the parsed JSON is walked first: only pandapower's own network and pandas tables are
  allowed, every table must be inline JSON, and only the options pandapower writes may
  accompany it.
"""

from __future__ import annotations

import os
from typing import Any

from dashboard.domain.errors import DecentraError
from dashboard.domain.safejson import loads_json


# ---- GeoJSON -------------------------------------------------------------------------------
def check_geojson_crs(data: Any, source: str) -> None:
    """Refuse a ``crs`` member GDAL would follow (a link) or misread (an unknown name)."""
    crs = data.get("crs") if isinstance(data, dict) else None
    if crs is None:
        return
    if not isinstance(crs, dict):
        raise DecentraError("the GeoJSON 'crs' member is not an object", source=source)
    props: dict
    kind = crs.get("type")
    props = crs["properties"] if isinstance(crs.get("properties"), dict) else {}
    if kind == "link" or "href" in props:
        raise DecentraError("the GeoJSON names its coordinate system by a link; links are "
                            "not followed: remove the 'crs' member (GeoJSON is WGS 84) or "
                            "name the system, e.g. EPSG:3857", source=source)
    if kind != "name" or not isinstance(props.get("name"), str):
        raise DecentraError("the GeoJSON 'crs' member is not of the form "
                            "{\"type\": \"name\", \"properties\": {\"name\": ...}}",
                            source=source)
    name = props["name"][:200]
    try:
        import pyproj

        pyproj.CRS.from_user_input(name)
    except Exception:
        raise DecentraError(f"the GeoJSON names an unknown coordinate system ({name!r})",
                            source=source) from None


# ---- GDAL ----------------------------------------------------------------------------------
GDAL_OPTIONS = {
    # any HTTP request of GDAL (remote CRS definitions, /vsicurl/) goes to a closed local
    # port and fails at once: files never make the server fetch anything
    "GDAL_HTTP_PROXY": "127.0.0.1:9",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    "GDAL_HTTP_MAX_RETRY": "0",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".decentra-none",
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "OGR_GEOJSON_MAX_OBJ_SIZE": "200MB",
}


def harden_gdal() -> None:
    os.environ.setdefault("PROJ_NETWORK", "OFF")
    try:
        import pyogrio

        pyogrio.set_gdal_config_options(GDAL_OPTIONS)
    except Exception:                 # pyogrio missing: nothing reads through GDAL
        pass


# ---- pandapower ----------------------------------------------------------------------------
PANDAPOWER_CLASSES = {
    ("pandapower.auxiliary", "pandapowerNet"),
    ("pandas.core.frame", "DataFrame"), ("pandas", "DataFrame"),
    ("pandas.core.series", "Series"), ("pandas", "Series"),
}
TABLE_KEYS = {"_module", "_class", "_object", "orient", "dtype", "is_multiindex",
              "is_multicolumn", "index_name", "index_names", "column_name", "column_names",
              "typ"}
ORIENTS = {"split", "columns", "index", "records", "values", "table"}


def check_pandapower_json(data: Any, source: str, _depth: int = 0) -> None:
    """Walk a parsed pandapower JSON before pandapower sees it (see the module docstring).
    Raises DecentraError naming what is not allowed."""
    if _depth > 12:
        raise DecentraError("the pandapower network nests objects too deeply", source=source)
    stack: list[Any] = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        if "_module" in item or "_class" in item:
            pair = (item.get("_module"), item.get("_class"))
            if pair not in PANDAPOWER_CLASSES:
                raise DecentraError(f"the network holds an object of {str(pair[0])[:60]}."
                                    f"{str(pair[1])[:60]}; only pandapower networks and "
                                    "their tables are read", source=source)
            inner = item.get("_object")
            if pair[1] == "pandapowerNet":
                if not isinstance(inner, dict):
                    raise DecentraError("the network is not stored inline (pandapower.to_json "
                                        "writes it inline)", source=source)
                stack.append(inner)
                continue
            extra = set(item) - TABLE_KEYS
            if extra:
                raise DecentraError(f"a table of the network has options pandapower does "
                                    f"not write ({', '.join(sorted(extra))[:80]})",
                                    source=source)
            if item.get("orient", "split") not in ORIENTS:
                raise DecentraError("a table of the network has an unknown layout",
                                    source=source)
            dtype = item.get("dtype")
            if dtype is not None and not (isinstance(dtype, dict) and all(
                    isinstance(k, str) and isinstance(v, str) for k, v in dtype.items())):
                raise DecentraError("a table of the network has malformed column types",
                                    source=source)
            if not isinstance(inner, str):
                raise DecentraError("a table of the network is not inline JSON",
                                    source=source)
            stripped = inner.lstrip()
            if not stripped.startswith(("{", "[")):
                # pandas would read a path (or URL) here: a server file, never data
                raise DecentraError("a table of the network is not inline JSON (a file "
                                    "path?); tables are only read from the file itself",
                                    source=source)
            check_pandapower_json(loads_json(inner, source=source), source, _depth + 1)
            continue
        stack.extend(item.values())


__all__ = ["GDAL_OPTIONS", "check_geojson_crs", "check_pandapower_json", "harden_gdal",
           "loads_json"]
