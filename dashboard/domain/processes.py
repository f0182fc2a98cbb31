"""How a process that runs background jobs (a local job worker, a Celery worker) uses threads.

Two such processes share the machine's cores with the server, so each job runs on one thread:
our island solver (``DECENTRA_SOLVER_THREADS``), numba's parallel loops and the BLAS / OpenMP
pools. ``benchmarks/bench_threads.py`` (six grid studies of the default district per process,
2 cores; RESULTS.md): two job processes at once took 5.7 s with the libraries' default pools
and 3.3 s with one thread each (11.1 vs 6.6 CPU-s: OpenBLAS's threads spin between calls);
one process alone 3.1 vs 3.2 s, at 5.6 vs 3.2 CPU-s — CPU the page and the browser need.

The variables are set in the environment the process starts with: BLAS reads them when it
is loaded, before any of our code runs.
"""

from __future__ import annotations

#: Environment of a job process: one thread per job everywhere.
JOB_PROCESS_ENV: dict[str, str] = {
    "DECENTRA_SOLVER_THREADS": "1", "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

__all__ = ["JOB_PROCESS_ENV"]
