"""Run a hostile corpus through the CLI (``dashboard.cli.main``, in this one process) and
write what happened to each case, the peak memory, and every file opened for writing.

    python -m tests.fuzz_runner MANIFEST.json RESULTS.json

Run it with the working folder as the current directory and HOME, TMPDIR and
DECENTRA_CACHE_DIR inside it: an audit hook records every file Python opens for writing,
renames or removes, so the test can check that nothing happens outside that folder.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import sys
import time
from pathlib import Path

WRITES: list[str] = []


def _audit(event: str, args: tuple) -> None:
    if event == "open" and len(args) >= 3:
        path, mode, flags = args[0], args[1], args[2]
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        if writing and isinstance(path, str | bytes | os.PathLike):
            WRITES.append(os.path.abspath(os.fsdecode(path)))
    elif event in ("os.rename", "os.remove", "os.mkdir", "os.rmdir", "shutil.rmtree",
                   "os.symlink", "os.link", "os.truncate") and args:
        target = args[1] if event in ("os.rename", "os.symlink", "os.link") else args[0]
        if isinstance(target, str | bytes | os.PathLike):
            WRITES.append(os.path.abspath(os.fsdecode(target)))


def argv_for(case: dict, base: Path, out: Path) -> list[str]:
    role, path = case["role"], case["path"]
    if role == "buildings":
        return ["import", path, "-o", str(out)]
    if role == "network":
        return ["import", str(base / "all.geojson"), "--network", path, "-o", str(out)]
    if role == "transformers":
        return ["import", str(base / "good.geojson"), "--transformers", path, "-o", str(out)]
    if role == "weather":
        return ["import", str(base / "good.geojson"), "--weather", path, "-o", str(out)]
    if role == "scenario":
        return ["evaluate", "--scenario", path, "--no-resilience"]
    raise ValueError(role)


def main() -> int:
    manifest = json.loads(Path(sys.argv[1]).read_text())
    base = Path(manifest["base"])
    from dashboard.cli import main as cli

    sys.addaudithook(_audit)
    results = []
    for i, case in enumerate(manifest["cases"]):
        out = Path.cwd() / "out" / f"{i:04d}.gpkg"
        out.parent.mkdir(exist_ok=True)
        stdout, stderr = io.StringIO(), io.StringIO()
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = cli(argv_for(case, base, out))
            except SystemExit as exc:          # argparse
                code = int(exc.code or 0)
            except BaseException as exc:       # must never happen
                code = 99
                print(f"ESCAPED {type(exc).__name__}: {exc}", file=sys.stderr)
        results.append({**case, "code": code, "stderr": stderr.getvalue(),
                        "stdout": stdout.getvalue()[-3000:], "written": out.exists(),
                        "seconds": time.perf_counter() - t0})
        if out.exists():
            out.unlink()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(sys.argv[2]).write_text(json.dumps({"results": results, "peak_mb": peak_mb,
                                             "writes": sorted(set(WRITES))}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
