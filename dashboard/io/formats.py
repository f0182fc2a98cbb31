"""Reading the files cities bring: GeoJSON, GeoPackage, zipped Shapefile, OpenStreetMap PBF.

Every problem becomes one DecentraError naming the file. Archives are opened defensively:
size cap, member count cap, uncompressed-size and compression-ratio caps (zip bombs), no paths
leaving the extraction folder (zip-slip), no archives inside archives.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import geopandas as gpd
import pyogrio

from dashboard.domain.errors import DecentraError
from dashboard.domain.safejson import loads_json
from dashboard.io.safety import check_geojson_crs


@dataclass(frozen=True)
class Limits:
    """Caps on what an import accepts (all configurable)."""

    max_file_bytes: int = int(os.environ.get("DECENTRA_MAX_UPLOAD_MB", "200")) * 2**20
    max_zip_members: int = 200
    max_uncompressed_bytes: int = 1024 * 2**20
    max_compression_ratio: float = 200.0
    max_buildings: int = 250_000
    max_extent_km: float = 100.0       # widest plausible district
    min_footprint_m2: float = 1.0      # smaller polygons are slivers, not buildings


ARCHIVE_SUFFIXES = (".zip", ".gz", ".tgz", ".tar", ".7z", ".rar", ".bz2", ".xz")


def sniff(path: Path) -> str:
    """The format of a file from its first bytes: geojson, gpkg, zip, pbf, or unknown."""
    with open(path, "rb") as fh:
        head = fh.read(64)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if len(head) >= 16 and b"OSMHeader" in head[:20]:
        return "pbf"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "geojson"        # UTF-16 text: the GeoJSON check says it must be UTF-8
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{") or stripped.startswith(b"["):
        return "geojson"
    return "unknown"


def check_size(path: Path, limits: Limits) -> None:
    try:
        size = path.stat().st_size
    except OSError as err:
        raise DecentraError(f"cannot read the file ({err.strerror})", source=path.name) from None
    if size == 0:
        raise DecentraError("the file is empty", source=path.name)
    if size > limits.max_file_bytes:
        raise DecentraError(f"the file is {size / 2**20:,.0f} MB; the limit is "
                            f"{limits.max_file_bytes / 2**20:,.0f} MB "
                            "(DECENTRA_MAX_UPLOAD_MB)", source=path.name)


@contextmanager
def safe_unzip(path: Path, limits: Limits) -> Iterator[Path]:
    """Extract a zip into a temporary folder after checking every member."""
    name = path.name
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise DecentraError(f"the zip file is damaged or truncated ({err})", source=name) from None
    with archive, tempfile.TemporaryDirectory(prefix="decentra-unzip-") as tmp:
        root = Path(tmp).resolve()
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > limits.max_zip_members:
            raise DecentraError(f"the zip holds {len(members)} files; at most "
                                f"{limits.max_zip_members} are accepted", source=name)
        total = 0
        for m in members:
            pure = PurePosixPath(m.filename.replace("\\", "/"))
            target = (root / pure).resolve()
            if pure.is_absolute() or ".." in pure.parts or not str(target).startswith(
                    str(root) + os.sep):
                raise DecentraError(f"the zip member '{m.filename}' points outside the archive "
                                    "(zip-slip); refused", source=name)
            if pure.suffix.lower() in ARCHIVE_SUFFIXES:
                raise DecentraError(f"the zip contains another archive ('{m.filename}'); "
                                    "nested archives are refused", source=name)
            total += m.file_size
            if total > limits.max_uncompressed_bytes:
                raise DecentraError("the zip expands to more than "
                                    f"{limits.max_uncompressed_bytes / 2**20:,.0f} MB "
                                    "(zip bomb?); refused", source=name)
            if m.compress_size and m.file_size / m.compress_size > limits.max_compression_ratio:
                raise DecentraError(f"the zip member '{m.filename}' is compressed "
                                    f"{m.file_size / m.compress_size:,.0f}:1 (zip bomb?); "
                                    "refused", source=name)
        for m in members:
            target = (root / PurePosixPath(m.filename.replace("\\", "/"))).resolve()
            target.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            try:
                with archive.open(m) as src, open(target, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > m.file_size or written > limits.max_uncompressed_bytes:
                            raise DecentraError("a zip member is larger than it declares "
                                                "(zip bomb?); refused", source=name)
                        dst.write(chunk)
            except DecentraError:
                raise
            except RuntimeError as err:    # encrypted members
                raise DecentraError(f"cannot extract the zip ({err})", source=name) from None
            except Exception as err:  # BadZipFile, zlib/bz2/lzma errors, unknown methods
                raise DecentraError(f"the zip file is damaged ({type(err).__name__}: "
                                    f"{str(err)[:120]})", source=name) from None
            if zipfile.is_zipfile(target):
                raise DecentraError(f"the zip contains another archive ('{m.filename}'); "
                                    "nested archives are refused", source=name)
        yield root


def list_layers(path: Path) -> list[tuple[str, str | None]]:
    try:
        return [(str(n), None if g is None else str(g)) for n, g in pyogrio.list_layers(path)]
    except Exception as err:  # pyogrio.errors.DataSourceError and friends
        raise DecentraError(f"cannot open the file ({_first_line(err)})",
                            source=path.name) from None


def read_layer(path: Path, layer: str | None = None, label: str | None = None
               ) -> gpd.GeoDataFrame:
    """One vector layer through GDAL (pyogrio)."""
    name = label or path.name
    try:
        frame = pyogrio.read_dataframe(path, layer=layer, use_arrow=False)
    except UnicodeDecodeError:
        raise DecentraError("the text in the file is not in a readable encoding (use UTF-8, "
                            "or give the Shapefile a .cpg file naming its encoding)",
                            source=name) from None
    except Exception as err:  # GDAL errors for truncated / corrupt files
        raise DecentraError(f"the file cannot be read; is it truncated or damaged? "
                            f"({_first_line(err)})", source=name) from None
    if not isinstance(frame, gpd.GeoDataFrame) or "geometry" not in frame:
        raise DecentraError("the layer has no geometry column", source=name)
    return frame


def check_geojson_text(path: Path) -> None:
    """GeoJSON is UTF-8 JSON: report encoding and syntax problems in plain words, and refuse
    a ``crs`` that GDAL would fetch or misread (before GDAL opens the file)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DecentraError(f"the text is not UTF-8 (byte {err.start}): GeoJSON must be UTF-8; "
                            "save the file as UTF-8 and upload it again",
                            source=path.name) from None
    data = loads_json(text, source=path.name, max_depth=None)
    check_geojson_crs(data, path.name)
    if not isinstance(data, dict) or data.get("type") not in ("FeatureCollection", "Feature"):
        raise DecentraError("not GeoJSON: expected a FeatureCollection", source=path.name)
    feats = data.get("features", [data] if data.get("type") == "Feature" else None)
    if not isinstance(feats, list):
        raise DecentraError("not GeoJSON: 'features' must be a list", source=path.name)
    if not feats:
        raise DecentraError("the FeatureCollection is empty", source=path.name)
    if all((f or {}).get("geometry") in (None, {}) for f in feats if isinstance(f, dict)):
        raise DecentraError("no feature has a geometry", source=path.name)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return (text.splitlines()[0] if text else type(err).__name__)[:240]
