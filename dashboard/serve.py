"""``scripts/serve``: Decentra for many users on one machine.

    python -m dashboard.serve [--host 127.0.0.1] [--port 8050] [--web-workers 2]
                              [--job-workers 2] [--district FILE.gpkg] [--store FILE.sqlite]

Starts and supervises three services, each in its own process group:

- **Redis** (Debian's ``redis-server``) on a Unix socket in the private cache folder (no TCP
  port; only this user can connect): the shared cache (database 0, ``allkeys-lru`` within
  ``--redis-max-mb``), the Celery broker (1) and result backend (2).
- **Celery workers** (``celery -A app:celery_app worker``, prefork): the background callbacks
  (power flow, rule placement, exports, import checks), one job per worker process at a time,
  each with a time limit.
- **gunicorn** (``gunicorn app:server``, threaded workers): the pages and the callbacks.

A service that exits is restarted (with a growing pause if it keeps failing); SIGINT / SIGTERM
stop all three, jobs included. Saved scenarios live in SQLite (WAL), not in Redis: stopping or
killing the stack loses no saved scenario. A leaf module: nothing imports it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from dashboard.cache import cache_dir
from dashboard.domain.processes import JOB_PROCESS_ENV

ROOT = Path(__file__).resolve().parents[1]     # app.py lives here


@dataclass
class Service:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    restarts: int = 0
    started: float = 0.0

    def start(self, log: Path) -> None:
        out = open(log, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        self.process = subprocess.Popen(self.argv, cwd=ROOT, env={**os.environ, **self.env},
                                        stdout=out, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        self.started = time.monotonic()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, grace_s: float) -> None:
        """SIGTERM to the whole group (workers and their children), SIGKILL after
        ``grace_s``."""
        if self.process is None:
            return
        for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline:
                if self.process.poll() is not None and not _group_alive(self.process.pid):
                    return
                time.sleep(0.05)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _redis_ping(sock: Path, timeout_s: float = 1.0) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout_s)
            s.connect(str(sock))
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return int(resp.status) == 200
    except OSError:
        return False


def redis_server() -> str:
    found = shutil.which("redis-server") or ("/usr/bin/redis-server"
                                             if Path("/usr/bin/redis-server").exists() else None)
    if not found:
        raise SystemExit("error: redis-server is not installed (scripts/serve installs "
                         "Debian's redis-server)")
    return found


def services(args: argparse.Namespace, run: Path) -> tuple[list[Service], str, Path]:
    sock = run / "redis.sock"
    redis_url = f"unix://{sock}"
    redis = Service("redis", [
        redis_server(), "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
        "--dir", str(run), "--save", "", "--appendonly", "no",
        "--maxmemory", f"{args.redis_max_mb}mb", "--maxmemory-policy", "allkeys-lru",
        "--databases", "4", "--loglevel", "warning"])
    env = {"DECENTRA_REDIS_URL": redis_url, "PYTHONUNBUFFERED": "1",
           "DECENTRA_BASEMAP": args.basemap}
    if args.district:
        env["DECENTRA_DISTRICT"] = str(Path(args.district).resolve())
    if args.store:
        env["DECENTRA_STORE"] = str(Path(args.store).resolve())
    py = sys.executable
    job_env = {**env, "DECENTRA_ROLE": "worker", **JOB_PROCESS_ENV}

    def celery(name: str, queues: str, concurrency: int) -> Service:
        return Service(name, [
            py, "-m", "celery", "-A", "app:celery_app", "worker", "--pool", "prefork",
            "--queues", queues, "--concurrency", str(concurrency), "--loglevel", "WARNING",
            "--hostname", f"{name}-{os.getpid()}@%h", "--without-gossip", "--without-mingle"],
            env=job_env)

    # one worker keeps interactive jobs (rule placement, exports, import checks) from ever
    # waiting behind power flows; the others take power flows first, then interactive jobs
    interactive = celery("celery-interactive", "interactive", 1)
    grid = celery("celery-grid", "grid,interactive", max(1, args.job_workers))
    web = Service("gunicorn", [
        py, "-m", "gunicorn", "app:server", "--workers", str(args.web_workers),
        "--worker-class", "gthread", "--threads", str(args.threads),
        "--bind", f"{args.host}:{args.port}", "--timeout", "120", "--graceful-timeout", "10",
        "--keep-alive", "5", "--max-requests", "5000", "--max-requests-jitter", "500",
        "--limit-request-line", "8190", "--no-control-socket"],
        env={**env, "DECENTRA_ROLE": "server"})
    return [redis, interactive, grid, web], redis_url, sock


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/serve", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default=os.environ.get("DECENTRA_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("DECENTRA_PORT", "8050")))
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument("--job-workers", type=int, default=2,
                        help="Celery worker processes for power flows (one more always "
                             "serves interactive jobs)")
    parser.add_argument("--redis-max-mb", type=int, default=1024)
    parser.add_argument("--district", default=os.environ.get("DECENTRA_DISTRICT"))
    parser.add_argument("--store", default=os.environ.get("DECENTRA_STORE"))
    parser.add_argument("--basemap", default=os.environ.get("DECENTRA_BASEMAP", "auto"),
                        choices=["auto", "osm", "plain"])
    args = parser.parse_args(argv)

    run = cache_dir("serve", str(args.port))
    logs = cache_dir("serve", "logs")
    stack, _redis_url, sock = services(args, run)
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    url = f"http://{args.host}:{args.port}"
    print(f"Decentra (serve): starting Redis, {args.job_workers + 1} Celery workers and "
          f"{args.web_workers} gunicorn workers; logs in {logs}", flush=True)
    announced = False
    try:
        for svc in stack:
            svc.start(logs / f"{svc.name}.log")
            if svc.name == "redis":
                deadline = time.monotonic() + 20
                while not _redis_ping(sock) and time.monotonic() < deadline:
                    if not svc.alive():
                        print(f"error: redis-server exited; see {logs / 'redis.log'}",
                              file=sys.stderr)
                        return 1
                    time.sleep(0.05)
        while not stopping:
            for svc in stack:
                if not svc.alive():
                    code = svc.process.returncode if svc.process else None
                    pause = min(30.0, 0.5 * 2 ** min(svc.restarts, 6))
                    if time.monotonic() - svc.started < 60:
                        svc.restarts += 1
                    else:
                        svc.restarts = 0
                    print(f"{svc.name} exited (code {code}); restarting in {pause:.1f} s",
                          file=sys.stderr, flush=True)
                    svc.stop(1.0)                     # whatever is left of its group
                    time.sleep(pause)
                    if stopping:
                        break
                    svc.start(logs / f"{svc.name}.log")
            if not announced and _http_ok(url + "/healthz"):
                print(f"Decentra: {url}", flush=True)
                announced = True
            time.sleep(0.25)
    finally:
        for svc in reversed(stack):               # web first, Redis last
            svc.stop(grace_s=5.0)
        print("Decentra (serve): stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
