"""The Celery side of ``scripts/serve``: one Celery app per Redis URL, configured so that a
job always ends (a time limit, one task per worker process at a time, a worker process that is
replaced after a number of tasks) and each worker process is warm before its first job."""

from __future__ import annotations

import contextlib
import logging
import os
from typing import Any

log = logging.getLogger(__name__)

_apps: dict[str, Any] = {}
JOB_TIME_LIMIT_S = 600
WARM_TIMEOUT_S = 300.0       # a new pool process may take this long to warm up


def celery_app_for(redis_url: str) -> Any:
    """The Celery app of this Redis URL (broker and result backend), made once per process."""
    hit = _apps.get(redis_url)
    if hit is not None:
        return hit
    from celery import Celery, signals

    app = Celery("decentra", broker=_with_db(redis_url, 1), backend=_with_db(redis_url, 2))
    limit = int(os.environ.get("DECENTRA_JOB_TIMEOUT_S", JOB_TIME_LIMIT_S))
    app.conf.update(
        task_default_queue="interactive",
        task_serializer="json", result_serializer="json", accept_content=["json"],
        task_track_started=True,
        task_time_limit=limit, task_soft_time_limit=max(limit - 10, 1),
        worker_prefetch_multiplier=1, task_acks_late=False,
        worker_max_tasks_per_child=500, worker_max_memory_per_child=2_000_000,   # kB
        # a pool process reports "up" only after _warm below; Celery's default 4 s made a
        # busy machine kill every replacement process in a loop (the pool never refilled
        # after a killed worker, and jobs sent to it were lost)
        worker_proc_alive_timeout=WARM_TIMEOUT_S,
        result_expires=3600, broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False, worker_send_task_events=False,
        broker_transport_options={"visibility_timeout": 2 * limit},
    )

    @signals.worker_process_init.connect(weak=False)
    def _warm(**_: Any) -> None:
        """Each forked pool process yields the CPU to the web workers (pages and edits come
        first) and compiles (loads) the kernels and builds the default district's models
        before its first job."""
        with contextlib.suppress(OSError):
            os.nice(10)
        try:
            from dashboard import load_district
            from dashboard.warmup import compile_kernels

            compile_kernels(load_district(os.environ.get("DECENTRA_DISTRICT") or None))
        except Exception as err:          # an optimisation: jobs still run without it
            log.warning("worker warm-up failed: %s", err)

    _apps[redis_url] = app
    return app


def _with_db(url: str, db: int) -> str:
    """``url`` on Redis database ``db`` (the shared cache keeps database 0)."""
    if url.startswith("unix://"):
        base = url.split("?", 1)[0]
        return f"redis+socket://{base[len('unix://'):]}?virtual_host={db}"
    base = url.rstrip("/")
    head, _, tail = base.rpartition("/")
    if tail.isdigit() and head.count("/") >= 2:
        base = head
    return f"{base}/{db}"


__all__ = ["celery_app_for"]
