"""Threads in a job process: grid studies with the BLAS / OpenMP pools at their defaults
against one thread each (``dashboard.domain.processes.JOB_PROCESS_ENV``, what local job
workers and Celery workers start with).

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_threads.py [--studies 6] [--write]

Each case runs in fresh processes (BLAS reads its thread count when it is loaded): the grid
study (full-year power flow and hosting capacity) of ``--studies`` scenarios of the default
district (PV on roofs >= 100 + 10 i m2 at 50 + 5 i % coverage), after the kernels are warm.
Measured: wall time and CPU time (all threads of the process) of the studies, for one process
alone and for two processes at once (two job workers busy, as when two tabs run power flows).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_engine import machine, write_results  # noqa: E402
from dashboard.domain.processes import JOB_PROCESS_ENV  # noqa: E402

CHILD = """
import json, sys, time
import dashboard as dc
from dashboard.warmup import compile_kernels
d = dc.load_district()
compile_kernels(d)
n = int(sys.argv[1])
scenarios = [dc.place_pv_by_rule(d, dc.Scenario(name="b"), min_roof_m2=100 + 10 * i,
                                 coverage=0.5 + 0.05 * i) for i in range(n)]
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.readline()
cpu, wall = time.process_time(), time.perf_counter()
for s in scenarios:
    dc.grid_study(d, s)
print(json.dumps({"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall}))
"""


def run(env: dict[str, str], processes: int, studies: int) -> dict[str, float]:
    """``processes`` children warm up, then start their studies at the same moment."""
    full = {k: v for k, v in os.environ.items() if k not in JOB_PROCESS_ENV} | env
    full["PYTHONPATH"] = str(ROOT)
    kids = [subprocess.Popen([sys.executable, "-c", CHILD, str(studies)], env=full,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            for _ in range(processes)]
    for k in kids:
        assert k.stdout is not None and k.stdout.readline().strip() == "ready"
    for k in kids:
        assert k.stdin is not None
        k.stdin.write("go\n")
        k.stdin.flush()
    out = [json.loads(k.communicate()[0].strip().splitlines()[-1]) for k in kids]
    return {"wall_s": max(o["wall_s"] for o in out), "cpu_s": sum(o["cpu_s"] for o in out)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--studies", type=int, default=6)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    lines = [f"Machine: {machine()}", "",
             "| job processes at once | thread pools | wall s | CPU s (all processes) |",
             "|---:|---|---:|---:|"]
    for processes in (1, 2):
        for label, env in (("library defaults", {}), ("one thread (JOB_PROCESS_ENV)",
                                                       JOB_PROCESS_ENV)):
            r = run(env, processes, args.studies)
            lines.append(f"| {processes} | {label} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} |")
            print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    if args.write:
        write_results("threads", text, heading="## Threads in a job process "
                      "(`bench_threads.py`)")


if __name__ == "__main__":
    main()
