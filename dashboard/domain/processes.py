"""How a process that runs background jobs (a local job worker, a Celery worker) uses threads.

Two such processes share the machine's cores with the server, so each job runs on one thread:
our island solver (``DECENTRA_SOLVER_THREADS``), numba's parallel loops and the BLAS / OpenMP
pools. Measured for the BLAS pool (six grid studies of the default district in one process,
2 cores, idle machine): OpenBLAS's default two threads made them 20 % faster (2.7 vs 3.3 s)
but cost 65 % more CPU (5.4 vs 3.3 CPU-s: its threads spin between calls), CPU taken from
the page and the other job; under load a worker's first study took 4-7 CPU-s.

The variables are set in the environment the process starts with: BLAS reads them when it
is loaded, before any of our code runs.
"""

from __future__ import annotations

#: Environment of a job process: one thread per job everywhere.
JOB_PROCESS_ENV: dict[str, str] = {
    "DECENTRA_SOLVER_THREADS": "1", "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

__all__ = ["JOB_PROCESS_ENV"]
