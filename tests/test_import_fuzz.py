"""Fuzz the importer: mutated and random files end in a district or in a DecentraError, never in
another exception, and a failed import changes nothing (the CLI's previous output stays).

At least 1,000 files per run (``DECENTRA_FUZZ_EXAMPLES`` raises it); derandomized so CI is
reproducible, and each run covers GeoJSON, GeoPackage, zipped Shapefile (mutated inside the
archive and outside), OpenStreetMap PBF, structured random GeoJSON and plain random bytes.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pvlib
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.domain.errors import DecentraError
from dashboard.importer import ImportResult, import_district
from dashboard.io.formats import Limits
from tests.importfiles import bubenec_footprints, write_epw

EXAMPLES = int(os.environ.get("DECENTRA_FUZZ_EXAMPLES", "1000"))
LIMITS = Limits(max_file_bytes=4 * 2**20, max_uncompressed_bytes=16 * 2**20)


def _seeds() -> dict[str, bytes]:
    import pyrosm

    frame = bubenec_footprints(4)
    frame["building"] = ["house", "office", "yes", "school"]
    frame["building:levels"] = ["3", "2", None, "4"]
    frame["annual_kwh"] = [3000.0, None, 12000.0, None]
    seeds = {"geojson": frame.to_json().encode()}
    with tempfile.TemporaryDirectory() as tmp:
        gpkg = Path(tmp) / "b.gpkg"
        frame.to_file(gpkg, driver="GPKG")
        seeds["gpkg"] = gpkg.read_bytes()
        shp = Path(tmp) / "b.shp"
        frame.to_file(shp, driver="ESRI Shapefile")
        for ext in ("shp", "shx", "dbf", "prj"):
            seeds[f"member.{ext}"] = (Path(tmp) / f"b.{ext}").read_bytes()
    seeds["zip"] = _zip({f"b.{e}": seeds[f"member.{e}"] for e in ("shp", "shx", "dbf",
                                                                   "prj")})
    seeds["pbf"] = Path(pyrosm.get_data("test_pbf")).read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        import pandapower as pp
        import pandapower.networks as pn

        import dashboard as dc

        d = dc.load_district()
        epw = write_epw(d.weather, Path(tmp) / "w.epw", d.site.latitude_deg,
                        d.site.longitude_deg, 1.0, 230.0)
        seeds["epw"] = epw.read_bytes()
        seeds["tmy3"] = (Path(pvlib.__file__).parent / "data" / "723170TYA.CSV").read_bytes()
        net = pn.mv_oberrhein()
        net.line = net.line.iloc[:40]          # a smaller real network keeps examples fast
        seeds["pandapower"] = pp.to_json(net).encode()
    return seeds


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


SEEDS = _seeds()
SUFFIX = {"geojson": ".geojson", "gpkg": ".gpkg", "zip": ".zip", "pbf": ".osm.pbf"}


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "duplicate",
                                     "digit"]))
        if not out:
            break
        i = draw(st.integers(0, len(out) - 1))
        if kind == "flip":
            out[i] = draw(st.integers(0, 255))
        elif kind == "truncate":
            del out[i:]
        elif kind == "insert":
            out[i:i] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "delete":
            del out[i:i + draw(st.integers(1, 256))]
        elif kind == "duplicate":
            out[i:i] = out[i:i + draw(st.integers(1, 512))]
        else:   # change a digit: numbers and coordinates stay well-formed text
            digits = [j for j in range(max(0, i - 200), min(len(out), i + 200))
                      if 48 <= out[j] <= 57]
            if digits:
                out[draw(st.sampled_from(digits))] = draw(st.integers(48, 57))
    return bytes(out)


@st.composite
def shapefile_zips(draw: st.DrawFn) -> bytes:
    """A zipped Shapefile whose members were damaged before zipping (reaches GDAL's parser
    instead of the zip checksum)."""
    members = {f"b.{e}": SEEDS[f"member.{e}"] for e in ("shp", "shx", "dbf", "prj")}
    victim = draw(st.sampled_from(sorted(members)))
    members[victim] = draw(mutated(members[victim]))
    if draw(st.booleans()):
        del members[draw(st.sampled_from(sorted(members)))]
    return _zip(members)


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                         st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12))
coords = st.floats(-200, 200, allow_nan=False)
ring = st.lists(st.tuples(st.floats(14.38, 14.42), st.floats(50.09, 50.11)), min_size=0,
                max_size=7)


@st.composite
def structured_geojson(draw: st.DrawFn) -> bytes:
    """GeoJSON-shaped documents with random geometry types, rings and properties."""
    features = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["Polygon", "MultiPolygon", "Point", "LineString", None,
                                     "Weird"]))
        r = draw(ring)
        if r and draw(st.booleans()):
            r = [*r, r[0]]
        if kind == "Polygon":
            geometry = {"type": kind, "coordinates": [r]}
        elif kind == "MultiPolygon":
            geometry = {"type": kind, "coordinates": [[r], [draw(ring)]]}
        elif kind == "Point":
            geometry = {"type": kind, "coordinates": [draw(coords), draw(coords)]}
        elif kind == "LineString":
            geometry = {"type": kind, "coordinates": r}
        elif kind == "Weird":
            geometry = {"type": "Polygon", "coordinates": draw(json_scalars)}
        else:
            geometry = None
        props = draw(st.dictionaries(st.sampled_from(
            ["id", "building", "building:levels", "height", "annual_kwh", "roof_area",
             "pv_kwp", "battery_kwh", "area", "x"]), json_scalars, max_size=5))
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    doc = {"type": draw(st.sampled_from(["FeatureCollection", "Feature", "Topology"])),
           "features": features}
    if draw(st.booleans()):
        doc["crs"] = {"type": "name", "properties": {"name": draw(st.sampled_from(
            ["EPSG:4326", "EPSG:3857", "urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:999999"]))}}
    return json.dumps(doc, allow_nan=True).encode()


# (role, suffix, bytes): the role says which argument of import_district gets the file
files = st.one_of(
    st.tuples(st.just(".geojson"), mutated(SEEDS["geojson"])),
    st.tuples(st.just(".gpkg"), mutated(SEEDS["gpkg"])),
    st.tuples(st.just(".zip"), mutated(SEEDS["zip"])),
    st.tuples(st.just(".zip"), shapefile_zips()),
    st.tuples(st.just(".osm.pbf"), mutated(SEEDS["pbf"])),
    st.tuples(st.just(".geojson"), structured_geojson()),
    st.tuples(st.sampled_from([".geojson", ".gpkg", ".zip", ".bin"]),
              st.binary(min_size=0, max_size=2048)),
    st.tuples(st.just("weather.epw"), mutated(SEEDS["epw"])),
    st.tuples(st.just("weather.csv"), mutated(SEEDS["tmy3"])),
    st.tuples(st.just("network.json"), mutated(SEEDS["pandapower"])),
)


@pytest.fixture(scope="module")
def previous(tmp_path_factory) -> tuple[Path, bytes]:
    """A district written by an earlier, successful import: must survive every failure."""
    from dashboard.cli import main

    folder = tmp_path_factory.mktemp("previous")
    src = folder / "good.geojson"
    src.write_bytes(SEEDS["geojson"])
    out = folder / "district.gpkg"
    assert main(["import", str(src), "-o", str(out)]) == 0
    return out, out.read_bytes()


def test_fuzzed_files_end_in_a_district_or_a_clear_error(previous, tmp_path_factory):
    out, before = previous
    folder = tmp_path_factory.mktemp("fuzz")
    outcomes = {"district": 0, "error": 0}
    buildings = folder / "good.geojson"
    buildings.write_bytes(SEEDS["geojson"])

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(files)
    def check(case: tuple[str, bytes]) -> None:
        suffix, data = case
        path = folder / f"upload{suffix}"
        path.write_bytes(data)
        kwargs = {}
        if suffix.startswith(("weather", "network")):   # a companion file to good buildings
            kwargs[suffix.split(".")[0]] = path
            path = buildings
        try:
            result = import_district(path, limits=LIMITS, **kwargs)
        except DecentraError as err:
            assert str(err).strip(), "an error without a message"
            assert "Traceback" not in str(err)
            outcomes["error"] += 1
        else:
            assert isinstance(result, ImportResult)
            assert result.district.n_buildings >= 1
            outcomes["district"] += 1
        assert out.read_bytes() == before

    check()
    print(f"fuzz outcomes: {outcomes}")
    assert sum(outcomes.values()) >= EXAMPLES
    assert outcomes["district"] > 0 and outcomes["error"] > 0, outcomes
    assert gpd.read_file(out, layer="buildings").shape[0] == 4
