"""Benchmark of the optimizer (dashboard.suggest): time on the default district per objective,
gain against the best simple rule at equal budget, and the gap to the exact HiGHS MILP on a
20-building feeder (PV only, self-sufficiency).

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_suggest.py [--write]

``--write`` replaces the suggest section of benchmarks/RESULTS.md. Targets (issue 13): default
district < 10 s; better than the best rule; within 2 % of the MILP.
"""

from __future__ import annotations

import argparse
import dataclasses
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args()
    text = main()
    print(text)
    if args.write:
        write_results("suggest", text, "## Optimizer: suggest (bench_suggest.py)")
