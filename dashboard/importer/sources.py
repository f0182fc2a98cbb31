"""Reading a city's files (GeoJSON, GeoPackage, zipped Shapefile, OpenStreetMap PBF): which layer,
which kind of grid file, and the frame of each.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd

from dashboard.domain.errors import DecentraError
from dashboard.io.formats import (
    Limits,
    check_geojson_text,
    check_size,
    list_layers,
    read_layer,
    safe_unzip,
    sniff,
)

FEEDER_LAYERS = {"transformers": ("transformers", "transformer", "substations", "substation"),
                 "lines": ("lines", "feeders", "cables", "lv_lines"),
                 "streets": ("streets", "roads", "street", "road")}


@dataclass
class _Source:
    frame: gpd.GeoDataFrame
    label: str
    kind: str                                   # geojson, gpkg, shapefile, pbf
    siblings: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    id_column: str | None = None                # forced id column (pbf)


def source_layers(path: str | Path, limits: Limits | None = None) -> list[str]:
    """The vector layers of a buildings file (several only for GeoPackages), for choosing one
    in the UI. Checks what can be checked before the import: size, format, archive safety
    (raises DecentraError)."""
    path = Path(path)
    limits = limits or Limits()
    with _vector_file(path, limits) as (inner, kind):
        if kind != "gpkg":
            return []
        return [name for name, geom in list_layers(inner) if geom is not None]


FEEDER_KINDS = ("network", "transformers", "streets")


def feeder_file_kind(path: str | Path, limits: Limits | None = None) -> str:
    """What a grid file holds, for an upload that did not say: ``"network"`` (a pandapower
    network saved with ``pandapower.to_json``), ``"transformers"`` (points, or a GeoPackage
    with a transformers layer) or ``"streets"`` (lines). Raises DecentraError otherwise."""
    path = Path(path)
    limits = limits or Limits()
    check_size(path, limits)
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if b"pandapowerNet" in head:
        return "network"
    kind = sniff(path)
    if kind == "gpkg":
        names = {n for n, g in list_layers(path) if g is not None}
        if names & set(FEEDER_LAYERS["transformers"]):
            return "transformers"
        if names & set(FEEDER_LAYERS["streets"]) and not names & set(FEEDER_LAYERS["lines"]):
            return "streets"
    if kind == "pbf":
        raise DecentraError("an OpenStreetMap extract holds buildings and streets: upload it "
                            "as the buildings file", source=path.name)
    src = read_source(path, None, "transformers", limits)
    types = set(src.frame.geometry.dropna().geom_type)
    if types and types <= {"Point", "MultiPoint", "Polygon", "MultiPolygon"}:
        return "transformers"
    if types and types <= {"LineString", "MultiLineString"}:
        return "streets"
    raise DecentraError("cannot tell what the grid file holds: expected a pandapower network, "
                        "transformer points or street lines"
                        + (f" (found {', '.join(sorted(types))})" if types else ""),
                        source=path.name)


def _choose_layer(path: Path, layer: str | None, role: str) -> str:
    layers = [(n, g) for n, g in list_layers(path)]
    spatial = [n for n, g in layers if g is not None]
    if layer is not None:
        if layer not in [n for n, _ in layers]:
            raise DecentraError(f"the GeoPackage has no layer '{layer}' (layers: "
                                f"{', '.join(n for n, _ in layers) or 'none'})",
                                source=path.name)
        return layer
    if not spatial:
        raise DecentraError("the GeoPackage has no layer with geometry", source=path.name)
    if len(spatial) == 1:
        return spatial[0]
    for candidate in (role, *FEEDER_LAYERS.get(role, ())):
        if candidate in spatial:
            return candidate
    raise DecentraError(f"the GeoPackage has {len(spatial)} layers "
                        f"({', '.join(spatial[:8])}); choose the {role} layer",
                        source=path.name)


@contextlib.contextmanager
def _vector_file(path: Path, limits: Limits) -> Iterator[tuple[Path, str]]:
    """The readable vector file behind ``path`` (unzipped if needed) and its kind."""
    check_size(path, limits)
    kind = sniff(path)
    if kind == "zip":
        with safe_unzip(path, limits) as root:
            inner = [p for p in root.rglob("*") if p.is_file()]
            shps = sorted(p for p in inner if p.suffix.lower() == ".shp")
            others = sorted(p for p in inner if p.suffix.lower() in (".geojson", ".json",
                                                                      ".gpkg"))
            if len(shps) > 1:
                raise DecentraError(f"the zip holds {len(shps)} Shapefiles "
                                    f"({', '.join(p.name for p in shps[:5])}); zip one",
                                    source=path.name)
            if shps:
                shp = shps[0]
                missing = [ext for ext in (".shx", ".dbf")
                           if not any(q.suffix.lower() == ext and q.stem == shp.stem
                                      for q in inner)]
                if missing:
                    raise DecentraError(f"the Shapefile '{shp.name}' lacks its "
                                        f"{' and '.join(missing)} file", source=path.name)
                yield shp, "shapefile"
                return
            if len(others) == 1:
                yield others[0], sniff(others[0])
                return
            raise DecentraError("the zip holds no Shapefile (.shp with .shx and .dbf), "
                                "GeoJSON or GeoPackage", source=path.name)
        return
    if kind == "unknown":
        suffix = path.suffix.lower()
        hint = {".shp": "a Shapefile comes with .shx, .dbf and .prj files: zip them together "
                        "and upload the zip",
                ".osm": "use an OpenStreetMap .osm.pbf extract (e.g. from Geofabrik)",
                ".kml": "export the layer as GeoJSON or GeoPackage",
                ".csv": "a table needs geometry: export it as GeoJSON or GeoPackage"}
        raise DecentraError("not a recognised format (expected GeoJSON, GeoPackage, zipped "
                            "Shapefile or OpenStreetMap .osm.pbf)"
                            + (f"; {hint[suffix]}" if suffix in hint else ""),
                            source=path.name)
    yield path, kind


def read_source(path: Path, layer: str | None, role: str, limits: Limits,
                 siblings: bool = False) -> _Source:
    label = path.name
    with _vector_file(path, limits) as (inner, kind):
        if kind == "pbf":
            return _read_pbf(inner, label)
        if kind == "geojson":
            check_geojson_text(inner) if inner == path else _check_inner_json(inner, label)
            return _Source(read_layer(inner, label=label), label, kind)
        if kind == "gpkg":
            chosen = _choose_layer(inner, layer, role)
            frame = read_layer(inner, chosen, label=f"{label} (layer {chosen})")
            found: dict[str, gpd.GeoDataFrame] = {}
            if siblings:
                names = {n for n, g in list_layers(inner) if g is not None} - {chosen}
                for key, aliases in FEEDER_LAYERS.items():
                    hit = next((a for a in aliases if a in names), None)
                    if hit is not None:
                        found[key] = read_layer(inner, hit, label=f"{label} (layer {hit})")
            return _Source(frame, f"{label} (layer {chosen})" if layer or siblings else label,
                           kind, found)
        return _Source(read_layer(inner, label=label), label, kind)


def _check_inner_json(inner: Path, label: str) -> None:
    try:
        check_geojson_text(inner)
    except DecentraError as err:
        raise DecentraError(err.message, source=f"{label}/{inner.name}") from None


# OSM keys read from pyrosm's tags column when pyrosm did not make them columns.
TAG_KEYS = ("building:levels", "roof:levels", "building:min_level", "height", "building:height",
            "building:flats", "start_date", "building:year", "construction_date", "amenity",
            "shop", "office", "emergency", "social_facility", "shelter_type")


def _with_tag_columns(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` with the :data:`TAG_KEYS` that hide in pyrosm's ``tags`` (JSON text) as
    columns (a column pyrosm already made is completed, never overwritten)."""
    def parse(raw: object) -> dict:
        if isinstance(raw, dict):
            return raw
        if not isinstance(raw, str) or not raw:
            return {}
        try:
            value = json.loads(raw)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    tags = frame["tags"].map(parse)
    frame = frame.copy()
    for key in TAG_KEYS:
        found = tags.map(lambda d, k=key: d.get(k))
        if not found.notna().any():
            continue
        if key in frame.columns:
            frame[key] = frame[key].where(frame[key].notna(), found)
        else:
            frame[key] = found
    return frame


def _read_pbf(path: Path, label: str) -> _Source:
    import pyrosm

    try:
        osm = pyrosm.OSM(str(path))
        frame = osm.get_buildings()
    except Exception as err:  # pyrosm / protobuf errors on damaged extracts
        raise DecentraError(f"the OpenStreetMap extract cannot be read; is it truncated? "
                            f"({type(err).__name__})", source=label) from None
    if frame is None or len(frame) == 0:
        raise DecentraError("the OpenStreetMap extract has no buildings", source=label)
    frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=frame.crs or 4326)
    kind = frame["osm_type"].astype(str).str[0] if "osm_type" in frame else "w"
    frame["osm_ref"] = kind + frame["id"].astype("int64").astype(str)
    if "tags" in frame.columns:   # pyrosm keeps rarer keys in a JSON tags column
        frame = _with_tag_columns(frame).drop(columns="tags")
    for col in ("height", "building:height"):
        if col in frame.columns and "height_m" not in frame.columns:
            frame = frame.rename(columns={col: "height_m"})
    siblings: dict[str, gpd.GeoDataFrame] = {}
    try:
        streets = osm.get_network("driving")
        if streets is None or len(streets) == 0:
            streets = osm.get_network("all")
    except Exception:  # streets are optional: feeders are synthesized otherwise
        streets = None
    if streets is not None and len(streets):
        siblings["streets"] = gpd.GeoDataFrame(geometry=streets.geometry.values,
                                               crs=streets.crs or 4326)
    return _Source(frame, label, "pbf", siblings, id_column="osm_ref")
