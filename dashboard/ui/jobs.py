"""Background jobs (Dash background callbacks) that always finish or say why.

Two managers, one behaviour:

- :class:`LocalJobManager` (``scripts/run``, ``python app.py``): a small pool of worker
  processes started with ``spawn`` — clean interpreters that build the same app (so they hold
  the same callbacks) and never inherit the server's numba / OpenMP threads, locks or sqlite
  connections. Results and progress go through a private diskcache folder, as with Dash's
  DiskcacheManager. The server process supervises the pool: one job per worker, interactive
  jobs before power flows, a time limit per job, a worker that dies is replaced and its job
  reported as failed, and the workers die with the server (``PR_SET_PDEATHSIG``).
- :class:`CeleryJobManager` (``scripts/serve``): Dash's CeleryManager on Redis, plus the same
  guarantees: a job a worker lost (killed worker, time limit) or that no worker took is
  reported as failed instead of leaving the page waiting.

In both, **every job has its own result slot**: Dash derives a job's key from the callback's
inputs, so two sessions sending identical requests (every fresh session has the same state)
shared one slot and the first poll took the result of both; here the key is random per job.

A job that fails, times out or is lost produces Dash's ``background_callback_error`` result,
which the app's ``on_error`` handlers turn into a message with a way to retry.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import heapq
import itertools
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from dash.background_callback.managers import BaseBackgroundCallbackManager
from dash.background_callback.managers.diskcache_manager import DiskcacheManager

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 600.0          # a job running longer is stopped and reported
CANCEL_GRACE_S = 10.0              # a cancelled job that does not stop in time is killed
RESULT_TTL_S = 3600                # results nobody collected are dropped after this
LOW_PRIORITY = frozenset({"run_grid", "run_suggest"})   # long jobs: interactive ones first


class JobCancelled(BaseException):
    """Raised inside a job's progress callback once the job was cancelled (a BaseException so
    that a callback's own ``except Exception`` does not swallow it)."""


def error_result(message: str) -> dict[str, Any]:
    """The result Dash reads as a failed background callback."""
    return {"background_callback_error": {"msg": message, "tb": ""}}


def failure_text(err: BaseException) -> str:
    """The message of a failed background callback, without Dash's traceback."""
    text = str(err)
    prefix = "An error occurred inside a background callback: "
    if text.startswith(prefix):
        text = text[len(prefix):]
    return text.split("\nTraceback", 1)[0].strip() or type(err).__name__


# ---- what a worker needs to build the app -----------------------------------------------------
@dataclass(frozen=True)
class WorkerSpec:
    """How a worker process builds the app whose callbacks it runs: ``factory`` is
    ``module:function`` called with ``kwargs`` and ``role="worker"``."""

    factory: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent (the server) dies."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)          # PR_SET_PDEATHSIG


def _registered(key: str) -> tuple[Any, bool] | None:
    """The callback function and whether it takes ``set_progress``, registered under
    ``key`` by the app this process built."""
    for k, fn, progress in reversed(BaseBackgroundCallbackManager.functions):
        if k == key:
            return fn, bool(progress)
    return None


def _run_job(handle: Any, job_id: str, bkey: str, result_key: str, args: Any,
             context: dict[str, Any]) -> None:
    """Run one job in this worker the way Dash's DiskcacheManager does, with cancellation
    checked at every progress update."""
    from contextvars import copy_context

    from dash._callback_context import context_value
    from dash._utils import AttributeDict
    from dash.background_callback._proxy_set_props import ProxySetProps
    from dash.exceptions import PreventUpdate

    found = _registered(bkey)
    if found is None:
        handle.set(result_key, error_result("this job is unknown to the worker (the server "
                                            "was updated): reload the page"),
                   expire=RESULT_TTL_S)
        return
    fn, progress = found
    progress_key = BaseBackgroundCallbackManager._make_progress_key(result_key)
    cancel_key = f"cancel:{job_id}"

    def set_progress(value: Any) -> None:
        if handle.get(cancel_key) is not None:
            raise JobCancelled
        handle.set(progress_key, list(value) if isinstance(value, list | tuple) else [value],
                   expire=RESULT_TTL_S)

    def set_props(component_id: str, props: dict) -> None:
        handle.set(BaseBackgroundCallbackManager._make_set_props_key(result_key),
                   {component_id: props}, expire=RESULT_TTL_S)

    def run() -> None:
        c = AttributeDict(**context)
        c.ignore_register_page = False
        c.updated_props = ProxySetProps(set_props)
        context_value.set(c)
        first = [set_progress] if progress else []
        try:
            if isinstance(args, dict):
                out = fn(*first, **args)
            elif isinstance(args, list | tuple):
                out = fn(*first, *args)
            else:
                out = fn(*first, args)
        except PreventUpdate:
            out = {"_dash_no_update": "_dash_no_update"}
        except JobCancelled:
            return
        except Exception as err:
            log.exception("background job %s failed", getattr(fn, "__name__", bkey))
            out = {"background_callback_error": {"msg": f"{type(err).__name__}: {err}",
                                                 "tb": traceback.format_exc()}}
        handle.set(result_key, out, expire=RESULT_TTL_S)

    copy_context().run(run)


def worker_main(conn: Connection, parent_pid: int) -> None:
    """A job worker: receive what to build, build the app, say ready, run jobs one at a time
    until told to stop (or the server goes away)."""
    _die_with_parent()
    if os.getppid() != parent_pid:        # the server died before PR_SET_PDEATHSIG was set
        return
    spec, directory = conn.recv()     # spec.env: already this process's (LocalJobManager._spawn)
    with contextlib.suppress(OSError):
        os.nice(5)                 # page loads and edits in the server come first
    try:
        import diskcache

        module, _, name = spec.factory.partition(":")
        factory = getattr(__import__(module, fromlist=[name]), name)
        factory(**spec.kwargs, role="worker")
        handle = diskcache.Cache(directory, timeout=10)      # the server opened (repaired) it
    except BaseException as err:
        conn.send(("failed", f"{type(err).__name__}: {err}"))
        return
    conn.send(("ready", os.getpid()))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        job_id, bkey, result_key, args, context = msg
        try:
            _run_job(handle, job_id, bkey, result_key, args, context)
        except BaseException as err:   # never leave the server waiting without a result
            with contextlib.suppress(Exception):
                handle.set(result_key, error_result(f"{type(err).__name__}: {err}"),
                           expire=RESULT_TTL_S)
        conn.send(("done", job_id))


# ---- the local pool ----------------------------------------------------------------------------
@dataclass
class _Job:
    id: str
    bkey: str
    result_key: str
    args: Any
    context: dict[str, Any]
    priority: int
    state: str = "queued"               # queued, running, done
    started: float = 0.0
    cancelled_at: float = 0.0
    created: float = field(default_factory=time.monotonic)


@dataclass
class _Worker:
    process: subprocess.Popen
    conn: Connection
    ready: bool = False
    job: _Job | None = None

    def alive(self) -> bool:
        return self.process.poll() is None


class LocalJobManager(DiskcacheManager):
    """Dash background callbacks on a supervised pool of spawned worker processes (see the
    module docstring). In a worker process (``spec`` None) it only registers callbacks."""

    def __init__(self, directory: Path, spec: WorkerSpec | None, *, workers: int = 2,
                 timeout_s: float = DEFAULT_TIMEOUT_S, size_limit_mb: int = 256) -> None:
        from dashboard.cache import open_diskcache

        self.directory = Path(directory)
        handle = open_diskcache(self.directory, size_limit=size_limit_mb * 2**20,
                                eviction_policy="least-recently-used", timeout=10)
        super().__init__(handle)
        self.spec = spec
        self.n_workers = max(1, int(workers))
        self.timeout_s = float(timeout_s)
        self._jobs: dict[str, _Job] = {}
        self._pending: list[tuple[int, int, str]] = []
        self._seq = itertools.count()
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._start_failure: str | None = None
        self._failures = 0
        self._wake_r, self._wake_w = socket.socketpair()
        self._owner_pid = os.getpid()
        self._atexit = False

    # ---- Dash's interface -----------------------------------------------------------------
    def build_cache_key(self, fn: Any, args: Any, cache_args_to_ignore: Any,
                        triggered: Any) -> str:
        return secrets.token_hex(16)            # one result slot per job, never shared

    def call_job_fn(self, key: str, job_fn: Any, args: Any, context: Any) -> str:
        if self.spec is None:
            raise RuntimeError("this process runs jobs; it does not start them")
        bkey = _key_of(job_fn)
        name = _name_of(bkey)
        job = _Job(id=f"L{secrets.token_hex(8)}", bkey=bkey, result_key=key,
                   args=args, context=dict(context),
                   priority=1 if name in LOW_PRIORITY else 0)
        self._ensure_started()
        with self._lock:
            if self._start_failure is not None and not self._workers:
                self.handle.set(key, error_result(
                    f"background workers cannot start: {self._start_failure}"),
                    expire=RESULT_TTL_S)
                job.state = "done"
            else:
                heapq.heappush(self._pending, (job.priority, next(self._seq), job.id))
            self._jobs[job.id] = job
        self._wake()
        return job.id

    def make_job_fn(self, fn: Any, progress: Any, key: str | None = None) -> Any:
        return _JobRef(str(key))

    def job_running(self, job: Any) -> bool:
        """Queued, running, or finished with its result not collected yet: Dash reads the
        result slot and *then* asks whether the job runs; a job finishing between the two
        would otherwise end with no update and its result would never reach the page."""
        with self._lock:
            j = self._jobs.get(str(job))
            if j is None:
                return False
            if j.state in ("queued", "running"):
                return True
            key = j.result_key
        return key in self.handle

    def terminate_job(self, job: Any) -> None:
        if job is None:
            return
        with self._lock:
            j = self._jobs.get(str(job))
            if j is None or j.state == "done":
                return
            if j.state == "queued":
                j.state = "done"
                return
            j.cancelled_at = time.monotonic()
        self.handle.set(f"cancel:{j.id}", 1, expire=RESULT_TTL_S)
        self._wake()

    def terminate_unhealthy_job(self, job: Any) -> bool:
        return False

    def get_result(self, key: str, job: Any) -> Any:
        result = super().get_result(key, None)
        if result is not self.UNDEFINED:
            with self._lock:
                j = self._jobs.pop(str(job), None)
            if j is not None:
                j.state = "done"
            return result
        with self._lock:
            known = str(job) in self._jobs
        if not known and job is not None:
            # a job of an earlier server process (restarted meanwhile) or of another one
            return error_result("the server was restarted while this job ran")
        return self.UNDEFINED

    # ---- the pool ------------------------------------------------------------------------
    def _ensure_started(self) -> None:
        if self._thread is not None and self._thread.is_alive() \
                and self._owner_pid == os.getpid():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive() \
                    and self._owner_pid == os.getpid():
                return
            self._owner_pid = os.getpid()
            self._workers = []
            self._stopping = False
            self._thread = threading.Thread(target=self._supervise, name="decentra-jobs",
                                            daemon=True)
            self._thread.start()
            if not self._atexit:
                atexit.register(self.shutdown)
                self._atexit = True

    def start(self) -> None:
        """Start the workers now (the server does at start-up, so the first job need not
        wait for them to build the app)."""
        self._ensure_started()

    def _spawn(self) -> _Worker:
        """A fresh interpreter (``python -m dashboard.ui.jobs FD PID``), not a fork and not
        multiprocessing's spawn (which re-imports the server's main module); it talks over
        a socket pair."""
        assert self.spec is not None
        mine, theirs = socket.socketpair()
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "dashboard.ui.jobs", str(theirs.fileno()),
                 str(os.getpid())], pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                close_fds=True, env={**os.environ, **self.spec.env})   # before numpy loads
        finally:
            theirs.close()
        conn = Connection(os.dup(mine.fileno()))
        mine.close()
        conn.send((self.spec, str(self.directory)))
        return _Worker(process, conn)

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def _supervise(self) -> None:
        while not self._stopping:
            try:
                self._supervise_once()
            except Exception:                     # keep supervising whatever happened
                log.exception("job supervisor")
                time.sleep(0.5)

    def _supervise_once(self) -> None:
        with self._lock:
            while len(self._workers) < self.n_workers and self._failures < 5:
                self._workers.append(self._spawn())
            self._dispatch()
            waitables: list[Any] = [self._wake_r, *(w.conn for w in self._workers)]
        try:
            ready = wait(waitables, timeout=0.5)
        except OSError:
            ready = []
        if self._wake_r in ready:
            with contextlib.suppress(OSError):
                self._wake_r.recv(4096)
        with self._lock:
            self._collect()
            self._enforce_limits()
            self._forget_old_jobs()

    def _forget_old_jobs(self) -> None:
        """Jobs whose result nobody collected (the tab was closed) are forgotten with it."""
        now = time.monotonic()
        for job_id, j in list(self._jobs.items()):
            if j.state == "done" and now - j.created > RESULT_TTL_S:
                del self._jobs[job_id]

    def _collect(self) -> None:
        for w in list(self._workers):
            gone = False
            try:
                while w.conn.poll():
                    kind, value = w.conn.recv()
                    if kind == "ready":
                        w.ready = True
                        self._failures = 0
                    elif kind == "failed":
                        self._start_failure = value
                        self._failures += 1
                        log.error("a job worker could not start: %s", value)
                    elif kind == "done" and w.job is not None and w.job.id == value:
                        w.job.state = "done"
                        w.job = None
            except (EOFError, OSError):
                gone = True                    # the worker closed its end: it is exiting
                with contextlib.suppress(subprocess.TimeoutExpired):
                    w.process.wait(timeout=2)
            if gone or not w.alive():
                if not w.ready:
                    self._failures += 1
                    self._start_failure = self._start_failure or (
                        f"a worker exited while starting (code {w.process.returncode})")
                self._retire(w, "the worker running this job stopped unexpectedly (killed "
                                "or out of memory)")

    def _retire(self, w: _Worker, reason: str) -> None:
        if w.job is not None and w.job.state == "running":
            cancelled = w.job.cancelled_at > 0
            if not cancelled:
                self.handle.set(w.job.result_key, error_result(reason), expire=RESULT_TTL_S)
            w.job.state = "done"
            w.job = None
        if w.alive():
            w.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            w.process.wait(timeout=5)
        w.conn.close()
        if w in self._workers:
            self._workers.remove(w)

    def _enforce_limits(self) -> None:
        now = time.monotonic()
        for w in list(self._workers):
            j = w.job
            if j is None:
                continue
            if j.cancelled_at and now - j.cancelled_at > CANCEL_GRACE_S:
                self._retire(w, "cancelled")
            elif now - j.started > self.timeout_s:
                self._retire(w, f"stopped after {self.timeout_s:g} s, the time limit of a job")

    def _dispatch(self) -> None:
        for w in self._workers:
            if not (w.ready and w.job is None and w.alive()):
                continue
            while self._pending:
                _, _, job_id = heapq.heappop(self._pending)
                job = self._jobs.get(job_id)
                if job is None or job.state != "queued":
                    continue
                job.state = "running"
                job.started = time.monotonic()
                try:
                    w.conn.send((job.id, job.bkey, job.result_key, job.args, job.context))
                except (OSError, ValueError) as err:
                    self.handle.set(job.result_key, error_result(
                        f"the job could not be sent to a worker ({err})"),
                        expire=RESULT_TTL_S)
                    job.state = "done"
                    continue
                w.job = job
                break
        if self._failures >= 5 and not any(w.ready for w in self._workers):
            # the workers cannot start: fail what waits instead of waiting for ever
            for _, _, job_id in self._pending:
                job = self._jobs.get(job_id)
                if job is not None and job.state == "queued":
                    self.handle.set(job.result_key, error_result(
                        f"background workers cannot start: {self._start_failure}"),
                        expire=RESULT_TTL_S)
                    job.state = "done"
            self._pending.clear()

    def workers_ready(self) -> int:
        with self._lock:
            return sum(1 for w in self._workers if w.ready and w.alive())

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [int(w.process.pid) for w in self._workers if w.process.pid]

    def shutdown(self) -> None:
        """Stop the workers (and with them any job): the server is stopping."""
        if self._owner_pid != os.getpid():
            return
        self._stopping = True
        self._wake()
        with self._lock:
            workers, self._workers = list(self._workers), []
        for w in workers:
            if w.ready and w.job is None:     # idle: told to stop, it closes its cache
                with contextlib.suppress(OSError, ValueError):
                    w.conn.send(None)
            else:                             # warming up or running a job that would be
                with contextlib.suppress(OSError):   # dropped anyway: no need to wait
                    w.process.terminate()
        deadline = time.monotonic() + 2.0
        for w in workers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                w.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            if w.alive():
                w.process.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    w.process.wait(timeout=2)


@dataclass(frozen=True)
class _JobRef:
    """What the server keeps of a background callback: its registry key (the worker that
    runs the job finds the function under the same key in the app it built)."""

    key: str


def _key_of(job_fn: Any) -> str:
    if isinstance(job_fn, _JobRef):
        return job_fn.key
    raise RuntimeError("not a job of this manager")


def _name_of(bkey: str) -> str:
    found = _registered(bkey)
    return getattr(found[0], "__name__", "") if found else ""


# ---- Celery (scripts/serve) ------------------------------------------------------------------
def celery_manager(celery_app: Any, queue_timeout_s: float = 300.0,
                   heartbeat_s: float = 2.0, lost_after_s: float = 15.0) -> Any:
    """Dash's CeleryManager with a result slot per job and lost / stuck jobs reported."""
    from celery import signals
    from dash import CeleryManager

    backend = celery_app.backend

    class CeleryJobManager(CeleryManager):
        def build_cache_key(self, fn: Any, args: Any, cache_args_to_ignore: Any,
                            triggered: Any) -> str:
            return secrets.token_hex(16)

        def make_job_fn(self, fn: Any, progress: Any, key: str | None = None) -> Any:
            return super().make_job_fn(_cancellable(fn, progress, backend), progress, key)

        def call_job_fn(self, key: str, job_fn: Any, args: Any, context: Any) -> Any:
            """Power flows go to the ``grid`` queue, everything else to ``interactive``
            (served by a worker of its own): a rule placement never waits behind power
            flows."""
            bkey = str(job_fn.name).removeprefix("background_callback_")
            queue = "grid" if _name_of(bkey) in LOW_PRIORITY else "interactive"
            task = job_fn.apply_async(args=(key, self._make_progress_key(key), args, context),
                                      queue=queue)
            backend.set(f"dc-job-queued:{task.task_id}", str(time.time()))
            backend.set(f"dc-job-key:{task.task_id}", key)
            return task.task_id

        def terminate_job(self, job: Any) -> None:
            """Cancel without killing the worker process (a killed prefork child is
            replaced and must warm up again): a queued job is dropped, a running one stops
            at its next progress update."""
            if job is None:
                return
            backend.set(f"dc-cancel:{job}", "1")
            self.handle.control.revoke(job)

        def _collect(self, key: str, job: Any) -> Any:
            """The job's result (read once: Dash deletes it), forgetting which slot was the
            job's once it was read."""
            result = super().get_result(key, None)
            if result is not self.UNDEFINED and job:
                backend.delete(f"dc-job-key:{job}")
            return result

        def get_result(self, key: str, job: Any) -> Any:
            result = self._collect(key, job)
            if result is not self.UNDEFINED:
                return result
            if job is None:
                return result
            task = self.handle.AsyncResult(job)
            state = task.state
            if state == "FAILURE":
                reason = task.result
                return error_result(
                    "the job's worker stopped (killed or out of memory)"
                    if type(reason).__name__ == "WorkerLostError"
                    else f"the job failed: {type(reason).__name__}: {reason}")
            if state == "REVOKED":
                return result                    # cancelled by a newer request
            if state == "SUCCESS":
                again = self._collect(key, job)   # written just after the first read
                if again is not self.UNDEFINED:
                    return again
                return error_result("the job finished but its result was lost (evicted "
                                    "or read twice)")
            beat = _float(backend.get(f"dc-job-beat:{job}"))
            queued = _float(backend.get(f"dc-job-queued:{job}"))
            now = time.time()
            if beat is not None and now - beat > lost_after_s:
                return error_result("the job's worker stopped answering (killed or "
                                    "restarted)")
            if beat is None and queued is not None and now - queued > queue_timeout_s:
                return error_result(f"no worker took the job within {queue_timeout_s:.0f} s "
                                    "(are the Celery workers running?)")
            return result

        def job_running(self, job: Any) -> bool:
            """Running, or finished with its result not collected yet (see
            :meth:`LocalJobManager.job_running`: Dash asks after reading the result slot)."""
            if not job:
                return False
            state = self.handle.AsyncResult(job).state
            if state in ("PENDING", "RECEIVED", "STARTED", "RETRY", "PROGRESS"):
                return True
            key = backend.get(f"dc-job-key:{job}")
            if state != "SUCCESS" or key is None:
                return False
            return backend.get(key.decode() if isinstance(key, bytes) else key) is not None

    beats: dict[str, threading.Event] = {}

    def _beat(task_id: str, stop: threading.Event) -> None:
        while not stop.wait(heartbeat_s):
            with contextlib.suppress(Exception):
                backend.set(f"dc-job-beat:{task_id}", str(time.time()))

    @signals.task_prerun.connect(weak=False)
    def _start_beat(task_id: str | None = None, **_: Any) -> None:
        if not task_id:
            return
        backend.set(f"dc-job-beat:{task_id}", str(time.time()))
        stop = threading.Event()
        beats[task_id] = stop
        threading.Thread(target=_beat, args=(task_id, stop), daemon=True).start()

    @signals.task_postrun.connect(weak=False)
    def _stop_beat(task_id: str | None = None, **_: Any) -> None:
        stop = beats.pop(task_id or "", None)
        if stop is not None:
            stop.set()
        with contextlib.suppress(Exception):
            backend.delete(f"dc-job-beat:{task_id}")
            backend.delete(f"dc-job-queued:{task_id}")

    return CeleryJobManager(celery_app)


def _cancellable(fn: Any, progress: Any, backend: Any) -> Any:
    """``fn`` whose ``set_progress`` first checks whether the running Celery task was
    cancelled; a cancelled job ends with no update (the page asked for a newer one)."""
    if not progress:
        return fn
    from functools import wraps

    from celery import current_task
    from dash.exceptions import PreventUpdate

    @wraps(fn)
    def run(set_progress: Any, *args: Any, **kwargs: Any) -> Any:
        task_id = getattr(getattr(current_task, "request", None), "id", None)

        def checked(value: Any) -> None:
            if task_id and backend.get(f"dc-cancel:{task_id}") is not None:
                raise JobCancelled
            set_progress(value)

        try:
            return fn(checked, *args, **kwargs)
        except JobCancelled:
            raise PreventUpdate from None

    return run


def _float(value: Any) -> float | None:
    try:
        return float(value.decode() if isinstance(value, bytes) else value)
    except (TypeError, ValueError, AttributeError):
        return None


__all__ = ["CANCEL_GRACE_S", "DEFAULT_TIMEOUT_S", "JobCancelled", "LocalJobManager",
           "WorkerSpec", "celery_manager", "error_result", "failure_text", "worker_main"]


if __name__ == "__main__":      # a job worker started by LocalJobManager._spawn
    worker_main(Connection(int(sys.argv[1])), int(sys.argv[2]))
