"""Dash asks a background job two questions on every poll, in this order: is there a result,
and does the job still run? A job that finishes between the two answered "no" to both and
Dash ended it with no update: the page never received what the job computed (CI saw a
suggestion vanish this way under load). Both managers must say "still running" until the
result written by the job has been collected."""

from __future__ import annotations

import json

from celery import Celery

from dashboard.ui import jobs
from dashboard.ui.jobs import LocalJobManager, celery_manager


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
