"""A corpus of hostile and implausible files, each labelled with what must happen to it.

``build_corpus(folder)`` writes the files and returns the cases: every family the audit used
(random bytes, truncations, nesting and huge numbers, remote and unknown CRS, hostile
archives, pandapower injections and impossible network values, bad weather, implausible
building values, far-away feeders, hostile scenario JSON) plus files that are unusual but
possible. A case is ``expect="refuse"`` (exit 2 / one message, nothing imported; ``match``
must be in the message) or ``expect="warn"`` (imported; ``match`` must be in the report).

Roles say which input the file is: ``buildings`` (``import FILE``), ``network``,
``transformers`` or ``weather`` (``import GOOD --network/--transformers/--weather FILE``) and
``scenario`` (``evaluate --scenario FILE``).
"""

from __future__ import annotations

import copy
import io
import json
import random
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from tests.importfiles import bubenec_footprints, shapefile_zip, write_epw


@dataclass(frozen=True)
class Case:
    name: str
    family: str
    role: str
    path: str
    expect: str                 # "refuse" or "warn"
    match: str = ""             # in the message (refuse) or the report (warn)


class Corpus:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.cases: list[Case] = []
        self.rng = random.Random(20261202)
        folder.mkdir(parents=True, exist_ok=True)

    def add(self, family: str, role: str, name: str, data: bytes | str, expect: str = "refuse",
            match: str = "") -> None:
        path = self.folder / f"{len(self.cases):04d}-{name}"
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        self.cases.append(Case(name, family, role, str(path), expect, match))


# ---- valid bases -------------------------------------------------------------------------------
def base_files(folder: Path) -> dict[str, Path]:
    """The valid inputs the hostile ones are made from (and imported beside)."""
    import dashboard as dc

    folder.mkdir(parents=True, exist_ok=True)
    foot = bubenec_footprints(12)
    geo = folder / "good.geojson"
    foot.to_file(geo, driver="GeoJSON")
    d = dc.load_district()
    epw = write_epw(d.weather, folder / "good.epw", d.site.latitude_deg, d.site.longitude_deg,
                    1.0, d.site.altitude_m, "Prague")
    import pandapower as pp

    net = folder / "good_network.json"
    pp.to_json(dc.to_pandapower(d).net, str(net))
    every = folder / "all.geojson"
    bubenec_footprints().to_file(every, driver="GeoJSON")
    return {"geojson": geo, "epw": epw, "network": net, "all": every}


# ---- families --------------------------------------------------------------------------------
SUFFIXES = ("geojson", "json", "gpkg", "zip", "osm.pbf", "epw", "csv", "shp", "dat")


def random_bytes(c: Corpus, n: int) -> None:
    roles = ["buildings"] * 6 + ["weather", "network", "transformers", "scenario"]
    for i in range(n):
        size = c.rng.choice([0, 1, 7, 64, 511, 4096, 65_536])
        head = c.rng.choice([b"", b"{", b"[", b"PK\x03\x04", b"SQLite format 3\x00",
                             b"LOCATION,", b"\xef\xbb\xbf{", b"\x00\x00\x00\x0dOSMHeader"])
        data = head + c.rng.randbytes(size)
        role = roles[i % len(roles)]
        c.add("random bytes", role, f"random{i}.{c.rng.choice(SUFFIXES)}", data)


def truncations(c: Corpus, base: dict[str, Path]) -> None:
    for key, role, n, match in (("geojson", "buildings", 60, ""), ("epw", "weather", 40, ""),
                                ("network", "network", 40, ""), ("all", "buildings", 20, "")):
        data = base[key].read_bytes()
        for i in range(n):
            cut = max(1, int(len(data) * (i + 0.5) / (n + 1)))
            suffix = base[key].suffix
            c.add("truncated", role, f"cut{i}-{key}{suffix}", data[:cut], match=match)
    gpkg = c.folder / "_district.gpkg"
    import dashboard as dc
    from dashboard.io.district_gpkg import write_district

    write_district(dc.load_district(), gpkg)
    data = gpkg.read_bytes()
    for i in range(25):
        cut = max(100, int(len(data) * (i + 0.5) / 26))
        c.add("truncated", "buildings", f"cut{i}.gpkg", data[:cut])
    foot = bubenec_footprints(12)
    z = shapefile_zip(foot, c.folder / "_shp.zip").read_bytes()
    for i in range(20):
        c.add("truncated", "buildings", f"cut{i}.zip", z[: max(30, int(len(z) * (i + 0.5) / 21))])


def json_attacks(c: Corpus, base: dict[str, Path]) -> None:
    for depth in (70, 200, 1_000, 5_000, 50_000, 200_000):
        for role in ("buildings", "network", "scenario", "transformers"):
            # GeoJSON is parsed up to Python's recursion limit (then "nested too deeply")
            # and refused for its shape; networks and scenarios have a nesting cap
            shallow = role in ("buildings", "transformers") and depth < 1000
            c.add("nesting", role, f"deep{depth}.json", "[" * depth + "]" * depth,
                  match="" if shallow else "nested")
        c.add("nesting", "buildings", f"deepobj{depth}.json", '{"a":' * depth + "1" +
              "}" * depth, match="" if depth < 1000 else "nested")
    fc = json.loads(base["geojson"].read_text())
    for digits in (41, 500, 5_000, 50_000):
        for role in ("buildings", "network", "scenario"):
            c.add("huge numbers", role, f"int{digits}.json",
                  '{"type": "FeatureCollection", "features": [], "n": ' + "9" * digits + "}",
                  match="number of")
    for i, (kind, value) in enumerate([("coords", "1e999"), ("coords", "-1e999"),
                                       ("coords", "NaN"), ("coords", "Infinity")]):
        text = json.dumps(fc).replace(str(fc["features"][0]["geometry"]["coordinates"][0][0][0]),
                                      value, 1)
        c.add("huge numbers", "buildings", f"bad{kind}{i}.geojson", text)
    shapes = [{"type": "FeatureCollection"}, {"type": "FeatureCollection", "features": "x"},
              {"type": "FeatureCollection", "features": []},
              {"type": "FeatureCollection", "features": [None, 1, "a"]},
              {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": None}]},
              {"type": "Topology"}, [], "just a string", 42, None,
              {"type": "FeatureCollection", "features": [{"type": "Feature",
               "geometry": {"type": "Polygon", "coordinates": "nope"}}]},
              {"type": "FeatureCollection", "features": [{"type": "Feature",
               "geometry": {"type": "Point", "coordinates": [14.4, 50.1]}}]}]
    for i, doc in enumerate(shapes):
        c.add("malformed", "buildings", f"shape{i}.geojson", json.dumps(doc))
    for i, doc in enumerate(shapes):       # the last one is a valid single transformer
        c.add("malformed", "transformers", f"tshape{i}.geojson", json.dumps(doc),
              expect="warn" if i == len(shapes) - 1 else "refuse")
    c.add("malformed", "buildings", "utf16.geojson", json.dumps(fc).encode("utf-16"),
          match="UTF-8")
    c.add("malformed", "buildings", "latin1.geojson",
          json.dumps(fc).replace('"B', '"é', 1).encode("latin-1"), match="UTF-8")


def crs_attacks(c: Corpus, base: dict[str, Path]) -> None:
    fc = json.loads(base["geojson"].read_text())
    for i, href in enumerate(["http://127.0.0.1:9/crs.wkt", "https://example.com/crs",
                              "http://169.254.169.254/latest/meta-data/", "file:///etc/passwd",
                              "ftp://10.0.0.1/x", "http://[::1]:80/x", "//evil/x", "x" * 3000]):
        doc = {**fc, "crs": {"type": "link", "properties": {"href": href, "type": "ogcwkt"}}}
        c.add("remote CRS", "buildings", f"href{i}.geojson", json.dumps(doc), match="link")
        c.add("remote CRS", "transformers", f"thref{i}.geojson", json.dumps(doc), match="link")
    for i, name in enumerate(["urn:ogc:def:crs:EPSG::999999", "EPSG:0", "not a crs",
                              "urn:ogc:def:crs:OGC:1.3:CRS999", "", "EPSG:-4326"]):
        doc = {**fc, "crs": {"type": "name", "properties": {"name": name}}}
        c.add("unknown CRS", "buildings", f"crsname{i}.geojson", json.dumps(doc),
              match="coordinate system")
    for i, crs in enumerate([[], "EPSG:4326", {"type": "name"}, {"type": "EPSG", "x": 1}]):
        c.add("unknown CRS", "buildings", f"crsshape{i}.geojson", json.dumps({**fc, "crs": crs}),
              match="crs")
    # a valid named CRS in metres is read in it (accepted, no warning needed: match empty)
    foot = bubenec_footprints(12).to_crs(3857)
    doc = json.loads(foot.to_json())
    doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}
    c.add("named CRS", "buildings", "epsg3857.geojson", json.dumps(doc), expect="warn")


def archives(c: Corpus, base: dict[str, Path]) -> None:
    shp = shapefile_zip(bubenec_footprints(12), c.folder / "_ok_shp.zip")
    members = {n: d for n, d in _zip_members(shp.read_bytes()).items()}

    def z(entries: list[tuple[str, bytes]] | dict, *, symlink: str | None = None,
          compression: int = zipfile.ZIP_DEFLATED) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression) as zf:
            items = entries.items() if isinstance(entries, dict) else entries
            for name, data in items:
                zf.writestr(name, data)
            if symlink:
                info = zipfile.ZipInfo("link.shp")
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                zf.writestr(info, symlink)
        return buf.getvalue()

    for i, prefix in enumerate(["../", "../../", "/", "..\\", "a/../../", "x/../../../"]):
        c.add("archive", "buildings", f"slip{i}.zip",
              z({prefix + n: d for n, d in members.items()}), match="outside the archive")
    # "C:/" is a folder name on Linux: extracted inside the archive folder, accepted
    c.add("archive", "buildings", "drive.zip", z({"C:/" + n: d for n, d in members.items()}),
          expect="warn")
    for i, target in enumerate(["/etc/passwd", "../../secret", "/root/.ssh/id_rsa"]):
        c.add("archive", "buildings", f"symlink{i}.zip", z(members, symlink=target))
    for i, size in enumerate([300 * 2**20, 1100 * 2**20]):
        c.add("archive", "buildings", f"bomb{i}.zip", _bomb(size), match="zip bomb")
    c.add("archive", "buildings", "nested.zip", z({"inner.zip": shp.read_bytes()}),
          match="another archive")
    c.add("archive", "buildings", "many.zip", z({f"f{i}.txt": b"x" for i in range(250)}))
    c.add("archive", "buildings", "empty.zip", z({}))
    c.add("archive", "buildings", "onlytext.zip", z({"readme.txt": b"hello"}))
    c.add("archive", "buildings", "no_dbf.zip", z({n: d for n, d in members.items()
                                                    if not n.endswith(".dbf")}))
    for i in range(20):                       # members of random bytes under shapefile names
        c.add("archive", "buildings", f"garbage{i}.zip",
              z({n: c.rng.randbytes(200) for n in members}))


def _zip_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _bomb(size: int) -> bytes:
    """A zip that expands ``size`` bytes of zeros (a few hundred kB on disk)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("a.geojson", "w",
                                                                      force_zip64=True) as f:
        chunk = b"\0" * 2**20
        for _ in range(size // 2**20):
            f.write(chunk)
    return buf.getvalue()


def pandapower_attacks(c: Corpus, base: dict[str, Path]) -> None:
    doc = json.loads(base["network"].read_text())
    tables = doc["_object"]

    def with_table(name: str, table: dict) -> str:
        return json.dumps({**doc, "_object": {**tables, name: table}})

    for i, path in enumerate(["/etc/hosts.json", "/root/.cache/decentra/x.json",
                              "/proc/self/environ.json", "/tmp/../etc/passwd.json",
                              "file:///etc/passwd", "http://127.0.0.1:9/x.json",
                              "s3://bucket/x.json", "~/.bashrc.json", "x.json"]):
        t = {**tables["bus"], "_object": path}
        c.add("pandapower injection", "network", f"objpath{i}.json", with_table("bus", t),
              match="not inline JSON")
    for i, (module, klass) in enumerate([("os", "system"), ("subprocess", "Popen"),
                                         ("builtins", "eval"), ("builtins", "exec"),
                                         ("pandapower.toolbox", "function"),
                                         ("pandapower.io_utils", "method"),
                                         ("antigravity", "x"), ("ctypes", "CDLL"),
                                         ("pandas.io.pickle", "read_pickle"),
                                         ("numpy", "load"), ("shapely.geometry", "Point"),
                                         ("networkx", "MultiGraph"),
                                         ("geopandas.geodataframe", "GeoDataFrame")]):
        t = {"_module": module, "_class": klass, "_object": '{"a": 1}'}
        c.add("pandapower injection", "network", f"module{i}.json", with_table("bus", t),
              match="only pandapower networks")
        nested = {**tables, "std_types": {"line": {"x": t}}}
        c.add("pandapower injection", "network", f"nested{i}.json",
              json.dumps({**doc, "_object": nested}), match="only pandapower networks")
    for i, key in enumerate(["storage_options", "compression", "engine", "chunksize",
                             "nrows", "encoding"]):
        t = {**tables["line"], key: "x"}
        c.add("pandapower injection", "network", f"option{i}.json", with_table("line", t),
              match="options")
    c.add("pandapower injection", "network", "netstring.json",
          json.dumps({**doc, "_object": "/etc/hosts.json"}), match="not stored inline")
    c.add("pandapower injection", "network", "orient.json",
          with_table("bus", {**tables["bus"], "orient": "../../x"}), match="layout")

    import pandapower as pp

    net = pp.from_json(str(base["network"]))     # parsed once (0.6 s), copied per case
    for i, value in enumerate([-1.0, 0.0, None, 1e300, float("nan"), 1e-9]):
        n2 = copy.deepcopy(net)
        n2.trafo["sn_mva"] = n2.trafo["sn_mva"].astype(object)
        n2.trafo.loc[n2.trafo.index[0], "sn_mva"] = value
        c.add("network values", "network", f"sn{i}.json", pp.to_json(n2),
              match="transformer rating")
    for i, (col, value, what) in enumerate([("length_km", -5.0, "line length"),
                                            ("length_km", 1e9, "line length"),
                                            ("r_ohm_per_km", -0.1, "resistance"),
                                            ("max_i_ka", 0.0, "current rating"),
                                            ("x_ohm_per_km", float("inf"), "reactance")]):
        n2 = copy.deepcopy(net)
        n2.line.loc[n2.line.index[0], col] = value
        c.add("network values", "network", f"line{i}.json", pp.to_json(n2), match=what)
    for i, shift in enumerate([(18.0, 0.0), (0.0, 18.0), (-30.0, -30.0)]):
        n2 = copy.deepcopy(net)
        n2.bus["geo"] = [None if g is None else json.dumps(
            {"type": "Point", "coordinates": [json.loads(g)["coordinates"][0] + shift[0],
                                              json.loads(g)["coordinates"][1] + shift[1]]})
            for g in n2.bus["geo"]]
        c.add("far-away feeders", "network", f"far{i}.json", pp.to_json(n2),
              match="km from the nearest building")
    n2 = copy.deepcopy(net)
    n2.trafo["vk_percent"] = 0.0
    c.add("network values", "network", "vk0.json", pp.to_json(n2), match="short-circuit")
    del net


def weather_attacks(c: Corpus, base: dict[str, Path]) -> None:
    import dashboard as dc

    d = dc.load_district()
    w = d.weather.reset_index(drop=True)
    lat, lon, alt = d.site.latitude_deg, d.site.longitude_deg, d.site.altitude_m

    def epw(frame: pd.DataFrame, name: str, expect: str = "refuse", match: str = "",
            tz: float = 1.0, la: float = lat, lo: float = lon, al: float = alt) -> None:
        path = c.folder / "_tmp.epw"
        write_epw(frame, path, la, lo, tz, al, "Test")
        c.add("weather", "weather", name, path.read_bytes(), expect, match)

    kelvin = w.assign(temp_air=w["temp_air"] + 273.15)
    epw(kelvin, "kelvin.epw", match="kelvin")
    for n, expect, match in ((200, "refuse", "missing"), (60, "refuse", "missing"),
                             (5, "warn", "interpolated")):
        for col, marker in (("ghi", 9999), ("dni", 9999), ("temp_air", 99.9),
                            ("wind_speed", 999)):
            f = w.copy()
            hours = c.rng.sample(range(2000, 6000), n) if n > 5 else list(range(3000, 3000 + n))
            f.loc[hours, col] = marker
            epw(f, f"missing{n}_{col}.epw", expect, match)
    for factor in (10, 100):
        epw(w.assign(ghi=w["ghi"] * factor, dni=w["dni"] * factor, dhi=w["dhi"] * factor),
            f"scaled{factor}.epw", match="irradiance")
    epw(w.assign(wind_speed=-w["wind_speed"] - 1), "negwind.epw", match="wind")
    for shift in (6, 12, -9):
        epw(pd.DataFrame(np.roll(w.to_numpy(), shift, axis=0), columns=w.columns),
            f"shifted{shift}.epw", match="at night")
    idx = np.arange(8760)
    c.rng.shuffle(idx := list(idx))
    epw(w.iloc[idx].reset_index(drop=True), "shuffled.epw", match="night")
    one = w.iloc[np.tile(np.arange(24) + 24 * 180, 365)].reset_index(drop=True)
    epw(one, "oneday.epw", match="distinct days")
    epw(w, "utc-12.epw", tz=-12.0, match="does not fit longitude")
    epw(w, "utc+5.5.epw", tz=5.5, match="does not fit longitude")
    epw(w, "lat999.epw", la=999.0, match="latitude")
    epw(w, "lon-400.epw", lo=-400.0, match="longitude")
    for a in (99_999.0, -99_999.0):
        epw(w, f"alt{a:.0f}.epw", al=a, match="altitude")
    epw(w.assign(temp_air=w["temp_air"] + 80), "hot.epw", match="temperature")
    epw(w.assign(ghi=w["ghi"] * 0.0, dni=w["dni"] * 0.0, dhi=w["dhi"] * 0.0), "dark.epw",
        match="irradiation")
    # a consistent year of another place (clock and sun fit): refused for the distance
    epw(w, "elsewhere.epw", lo=lon + 90.0, tz=7.0, match="km from the district")
    # unusual but possible: warned, imported
    epw(w, "far300km.epw", expect="warn", la=lat + 2.7, match="km from the district")
    epw(w.assign(temp_air=w["temp_air"] - 35.0), "cold.epw", expect="warn", match="unusual")
    # DWD TRY with the beam column ×100
    from dashboard.io.weather import bundled_try_path

    lines = bundled_try_path(9).read_text(encoding="utf-8", errors="replace").splitlines()
    star = next(i for i, line in enumerate(lines) if line.startswith("***"))
    names = lines[max(i for i in range(star) if lines[i].startswith("RG"))].split()
    beam = names.index("B")

    def scaled(line: str) -> str:
        parts = line.split()
        if len(parts) == len(names):
            parts[beam] = str(int(float(parts[beam]) * 100))
        return " ".join(parts)
    c.add("weather", "weather", "dwd_beam_x100.dat",
          "\n".join(lines[: star + 1] + [scaled(x) for x in lines[star + 1:]]) + "\n",
          match="scaled")
    wind = names.index("WG")

    def negwind(line: str) -> str:
        parts = line.split()
        if len(parts) == len(names):
            parts[wind] = "-" + parts[wind]
        return " ".join(parts)
    c.add("weather", "weather", "dwd_negwind.dat",
          "\n".join(lines[: star + 1] + [negwind(x) for x in lines[star + 1:]]) + "\n",
          match="wind")
    body = lines[star + 1:]
    c.add("weather", "weather", "dwd_reversed.dat",
          "\n".join(lines[: star + 1] + body[::-1]) + "\n", match="not in order")


def building_values(c: Corpus, base: dict[str, Path]) -> None:
    foot = bubenec_footprints(12)

    def frame(**cols: list) -> bytes:
        f = foot.copy()
        for k, v in cols.items():
            f[k] = v
        return f.to_json().encode()

    n = len(foot)
    for i, v in enumerate(["1e300", "-5", "inf", "3e8", "nan", "1e20"]):
        c.add("building values", "buildings", f"demand{i}.geojson",
              frame(annual_kwh=[v] + ["5000"] * (n - 1)),
              match="annual demand" if v not in ("-5", "nan") else "annual_kwh")
    c.add("building values", "buildings", "demand_unusual.geojson",
          frame(annual_kwh=[3e7] + [5000.0] * (n - 1)), expect="warn", match="unusual")
    for i, v in enumerate([1e6, 250, 201, -3]):
        c.add("building values", "buildings", f"storeys{i}.geojson",
              frame(levels=[v] + [3] * (n - 1)), match="storeys" if v != -3 else "negative")
    c.add("building values", "buildings", "storeys_unusual.geojson",
          frame(levels=[75] + [3] * (n - 1)), expect="warn", match="unusual")
    for i, v in enumerate([5000.0, 1e9]):
        c.add("building values", "buildings", f"height{i}.geojson",
              frame(height=[v] + [10.0] * (n - 1)), match="height")
    for i, v in enumerate([1e9, 5e6]):
        c.add("building values", "buildings", f"roof{i}.geojson",
              frame(roof_area_m2=[v] + [100.0] * (n - 1)), match="roof area")
    # ids that must be escaped wherever they go (accepted: they are just names)
    for i, bid in enumerate(['B"quote', "<script>alert(1)</script>", "B'; DROP TABLE x;--",
                             "B\\back\\slash", "Bübeneč ✓", "B{}[]"]):
        c.add("odd ids", "buildings", f"id{i}.geojson",
              frame(id=[bid] + [f"B{j}" for j in range(1, n)]), expect="warn", match="")
    c.add("building values", "buildings", "longid.geojson",
          frame(id=["x" * 500] + [f"B{j}" for j in range(1, n)]), match="1-200 characters")
    c.add("building values", "buildings", "dupids.geojson", frame(id=["B1"] * n),
          match="not unique")
    far = foot.copy()
    far["geometry"] = far.geometry.translate(0.0, 60.0)          # near the pole? no: lat+60
    c.add("building values", "buildings", "arctic.geojson", far.to_json(), match="")
    huge = gpd.GeoDataFrame({"id": ["H1"]}, geometry=[foot.geometry.iloc[0].buffer(0.05)],
                            crs=4326)
    c.add("building values", "buildings", "hugefootprint.geojson", huge.to_json(),
          match="footprint")


def transformer_values(c: Corpus, base: dict[str, Path]) -> None:
    foot = bubenec_footprints(12)
    pts = gpd.GeoDataFrame({"id": ["T1", "T2"]},
                           geometry=[foot.geometry.iloc[0].centroid,
                                     foot.geometry.iloc[6].centroid], crs=4326)
    for i, v in enumerate([-1, 0, 1e300, "lots", 0.5]):
        p = pts.assign(rating_kva=[v, 400])
        c.add("transformer values", "transformers", f"rating{i}.geojson", p.to_json(),
              match="rating" if v != "lots" else "not numbers")
    for i, (dx, dy) in enumerate([(18.0, 0.0), (0.0, -20.0), (100.0, 0.0)]):
        p = pts.assign(geometry=pts.geometry.translate(dx, dy), rating_kva=[400, 400])
        c.add("far-away feeders", "transformers", f"tfar{i}.geojson", p.to_json(),
              match="km from the nearest building")
    p = pts.assign(geometry=pts.geometry.translate(0.1, 0.0), rating_kva=[400, 400])
    c.add("far-away feeders", "transformers", "tnear8km.geojson", p.to_json(), expect="warn",
          match="km from every building")


def scenario_attacks(c: Corpus) -> None:
    good = {"schema": "decentra.scenario", "version": 1, "name": "x",
            "pv": [{"building_id": "B002", "kwp": 10}]}
    variants = [
        ("version99", {**good, "version": 99}, "version"),
        ("schema", {**good, "schema": "other"}, "scenario"),
        ("negkwp", {**good, "pv": [{"building_id": "B002", "kwp": -1}]}, "kWp"),
        ("hugekwp", {**good, "pv": [{"building_id": "B002", "kwp": 1e300}]}, "kWp"),
        ("unknownid", {**good, "pv": [{"building_id": "NOPE", "kwp": 1}]}, "NOPE"),
        ("pvstring", {**good, "pv": "all"}, "pv"),
        ("longname", {**good, "name": "x" * 5000}, "name"),
        ("tilt", {**good, "pv": [{"building_id": "B002", "kwp": 1, "tilt_deg": 400}]}, "tilt"),
        ("battery", {**good, "batteries": [{"building_id": "B002", "capacity_kwh": -5,
                                            "power_kw": 1}]}, ""),
        ("params", {**good, "params": {"outage_horizon_h": 10**9}}, ""),
    ]
    for name, doc, match in variants:
        c.add("scenario", "scenario", f"{name}.json", json.dumps(doc), match=match)
    for i, text in enumerate(["", "null", "[]", '"x"', "{", '{"version": 1e999}',
                              "\ufeff{}", '{"pv": [' + "[" * 5000 + "]" * 5000 + "]}"]):
        c.add("scenario", "scenario", f"text{i}.json", text)
    c.add("scenario", "scenario", "big.json", b'{"name": "' + b"x" * (51 * 2**20) + b'"}',
          match="larger than")


def mutations(c: Corpus, base: dict[str, Path], n: int) -> None:
    """Valid GeoJSON with one structural token replaced: each must be refused or read, and
    nothing may escape as an unexpected failure (the label says which)."""
    fc = json.loads(base["geojson"].read_text())
    # (token, replacement, expectation, what the report or message says): one feature broken
    # in a valid collection is skipped with a note; the collection itself broken is refused
    replacements = [('"Polygon"', '"Nonsense"', "warn", "skipped"),
                    ('"coordinates"', '"coords"', "warn", "skipped"),
                    ('"geometry"', '"geom"', "warn", "skipped"),
                    ('"type": "Feature"', '"type": 7', "warn", ""),   # GDAL reads it anyway
                    ('"features"', '"things"', "refuse", "must be a list")]
    text = json.dumps(fc)
    for i in range(n):
        old, new, expect, match = replacements[i % len(replacements)]
        positions = [j for j in range(len(text)) if text.startswith(old, j)]
        j = positions[c.rng.randrange(len(positions))]
        mutated = text[:j] + new + text[j + len(old):]
        c.add("mutation", "buildings", f"mut{i}.geojson", mutated, expect=expect, match=match)


def build_corpus(folder: Path, random_n: int = 430) -> list[Case]:
    base = base_files(folder / "_base")
    c = Corpus(folder)
    random_bytes(c, random_n)
    truncations(c, base)
    json_attacks(c, base)
    crs_attacks(c, base)
    archives(c, base)
    pandapower_attacks(c, base)
    weather_attacks(c, base)
    building_values(c, base)
    transformer_values(c, base)
    scenario_attacks(c)
    mutations(c, base, 120)
    return c.cases


def write_manifest(cases: list[Case], path: Path, base: Path) -> None:
    path.write_text(json.dumps({"base": str(base), "cases": [vars(x) for x in cases]}))


__all__ = ["Case", "base_files", "build_corpus", "write_manifest"]
