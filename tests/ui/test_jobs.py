"""Dash asks a background job two questions on every poll, in this order: is there a result,
and does the job still run? A job that finishes between the two answered "no" to both and
Dash ended it with no update: the page never received what the job computed (CI saw a
suggestion vanish this way under load). Both managers must say "still running" until the
result written by the job has been collected. And a job process runs every thread pool on
one thread (two of them share the cores with the server)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from celery import Celery

from dashboard.domain.processes import JOB_PROCESS_ENV
from dashboard.serve import services
from dashboard.ui import jobs
from dashboard.ui.jobs import LocalJobManager, celery_manager
from tests.e2e.conftest import free_port


def test_a_local_job_finishing_between_the_two_questions_delivers_its_result(tmp_path):
    m = LocalJobManager(tmp_path / "jobs", spec=None)
    job = jobs._Job(id="L1", bkey="b", result_key="k1", args=(), context={}, priority=0,
                    state="running")
    m._jobs[job.id] = job
    assert m.get_result("k1", job.id) is m.UNDEFINED        # the poll: no result yet
    m.handle.set("k1", {"answer": 42})                      # the worker writes its result
    job.state = "done"                                      # and reports that it is done
    assert m.job_running(job.id)                            # Dash must poll once more
    assert m.get_result("k1", job.id) == {"answer": 42}
    assert not m.job_running(job.id)                        # collected: the job is over


def test_a_local_job_cancelled_before_it_ran_is_not_running(tmp_path):
    m = LocalJobManager(tmp_path / "jobs", spec=None)
    job = jobs._Job(id="L2", bkey="b", result_key="k2", args=(), context={}, priority=0)
    m._jobs[job.id] = job
    m.terminate_job(job.id)                                 # queued: dropped, no result
    assert not m.job_running(job.id)
    assert m.get_result("k2", job.id) is m.UNDEFINED


def _nothing(*args: object) -> None:
    return None


def test_a_celery_job_finishing_between_the_two_questions_delivers_its_result():
    app = Celery("decentra-test", broker="memory://", backend="cache+memory://")
    m = celery_manager(app)
    task = app.task(name="background_callback_test")(_nothing)
    job = m.call_job_fn("k3", task, (), {})
    assert m.get_result("k3", job) is m.UNDEFINED           # queued: no result yet
    app.backend.set("k3", json.dumps({"answer": 42}))       # the task writes its result
    app.backend.store_result(job, None, "SUCCESS")          # and ends
    assert m.job_running(job)
    assert m.get_result("k3", job) == {"answer": 42}
    assert not m.job_running(job)
    assert app.backend.get(f"dc-job-key:{job}") is None     # nothing left behind


def test_job_processes_run_every_thread_pool_on_one_thread(tmp_path):
    """Job processes start with JOB_PROCESS_ENV (local workers and Celery workers alike), and
    that environment leaves numpy's and scipy's BLAS / OpenMP pools one thread each."""
    code = ("import json, numpy, scipy.linalg, threadpoolctl; "
            "print(json.dumps([i['num_threads'] for i in threadpoolctl.threadpool_info()]))")
    env = {**os.environ, **JOB_PROCESS_ENV}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    pools = json.loads(done.stdout)
    assert pools and set(pools) == {1}, pools
    # the Celery workers of scripts/serve get it; the web workers do not need it
    stack, _, _ = services(argparse.Namespace(
        redis_max_mb=64, basemap="plain", district=None, store=None, job_workers=2,
        web_workers=1, threads=2, host="127.0.0.1", port=free_port()), tmp_path)
    celery = [s for s in stack if s.name.startswith("celery")]
    assert len(celery) == 2
    assert all(s.env.items() >= JOB_PROCESS_ENV.items() for s in celery)
