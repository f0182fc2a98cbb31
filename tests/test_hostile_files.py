"""Over a thousand hostile and implausible files through the CLI (tests/hostile.py): each is
refused with one line naming the file, or imported with the warning it deserves. Nothing
escapes as an unexpected failure, nothing is written outside the working folder, no message
shows a server path, and the whole run stays under 1 GB.

The corpus runs in one subprocess (tests/fuzz_runner.py calls ``dashboard.cli.main`` for each
case) with HOME, TMPDIR and the cache inside a fresh working folder; an audit hook records
every file it opens for writing. A few cases also run as real ``python -m dashboard``
processes, to check the exit codes and the one-line stderr end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.fuzz_runner import argv_for
from tests.hostile import build_corpus, write_manifest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, list]:
    folder = tmp_path_factory.mktemp("hostile")
    cases = build_corpus(folder / "files")
    write_manifest(cases, folder / "manifest.json", folder / "files" / "_base")
    return folder, cases


def clean_env(work: Path) -> dict[str, str]:
    for sub in ("home", "tmp", "cache"):
        (work / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
    return dict(os.environ, HOME=str(work / "home"), TMPDIR=str(work / "tmp"),
                DECENTRA_CACHE_DIR=str(work / "cache"), XDG_CACHE_HOME=str(work / "cache"),
                PYTHONPATH=str(ROOT), PYTHONWARNINGS="ignore")


def verdict(case: dict) -> str:
    """Why a case's outcome is wrong ('' if right)."""
    err, out, code = case["stderr"], case["stdout"], case["code"]
    if code not in (0, 2):
        return f"exit {code}"
    if "Traceback" in err or "unexpected failure" in err or "ESCAPED" in err:
        return "unexpected failure"
    if case["expect"] == "refuse":
        if code != 2:
            return "wrongly accepted"
        if case["written"]:
            return "refused but a district was written"
        lines = [x for x in err.splitlines() if x.strip()]
        if len(lines) != 1 or not lines[0].startswith("error: "):
            return f"not one line: {err[:200]!r}"
        if case["match"].lower() not in err.lower():
            return f"message lacks {case['match']!r}: {err.strip()[:200]}"
    else:
        if code != 0:
            return f"wrongly refused: {err.strip()[:200]}"
        if case["match"].lower() not in out.lower():
            return f"report lacks {case['match']!r}"
    return ""


def test_a_thousand_hostile_files_through_the_cli(corpus, tmp_path):
    folder, cases = corpus
    assert len(cases) >= 1000
    families = Counter(c.family for c in cases)
    for family in ("random bytes", "nesting", "huge numbers", "archive",
                   "pandapower injection", "weather", "far-away feeders", "remote CRS",
                   "building values", "network values", "scenario"):
        assert families[family] > 0, family
    work = tmp_path / "work"
    env = clean_env(work)
    out = subprocess.run([sys.executable, "-m", "tests.fuzz_runner",
                          str(folder / "manifest.json"), str(work / "results.json")],
                         cwd=work, env=env,
                         capture_output=True, text=True, timeout=1800)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads((work / "results.json").read_text())
    wrong = [(c["family"], c["name"], verdict(c)) for c in report["results"] if verdict(c)]
    assert not wrong, f"{len(wrong)} of {len(cases)} cases wrong: {wrong[:20]}"
    # nothing written outside the working folder (compilers' own bytecode caches aside)
    outside = [w for w in report["writes"] if not w.startswith(str(work))
               and "__pycache__" not in w]
    assert not outside, outside[:10]
    # no server path in any message
    leaked = [c["name"] for c in report["results"] if str(folder) in c["stderr"]
              or str(work) in c["stderr"] or "/site-packages/" in c["stderr"]]
    assert not leaked, leaked[:10]
    assert report["peak_mb"] < 1024, report["peak_mb"]
    refused = sum(c["code"] == 2 for c in report["results"])
    print(f"{len(cases)} files: {refused} refused, {len(cases) - refused} imported with "
          f"warnings; peak {report['peak_mb']:.0f} MB")


def test_the_cli_as_a_process_gives_one_line_and_exit_2(corpus, tmp_path):
    """A sample of each family as real ``python -m dashboard`` runs."""
    folder, cases = corpus
    base = folder / "files" / "_base"
    env = clean_env(tmp_path)
    seen: set[str] = set()
    for case in cases:
        if case.family in seen or case.expect != "refuse":
            continue
        seen.add(case.family)
        out = subprocess.run([sys.executable, "-m", "dashboard",
                              *argv_for(vars(case), base, tmp_path / "o.gpkg")],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 2, (case.name, out.stderr)
        lines = [x for x in out.stderr.splitlines() if x.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), (case.name, out.stderr)
        assert case.match.lower() in out.stderr.lower(), (case.name, out.stderr)
        assert not (tmp_path / "o.gpkg").exists()
        if len(seen) == 6:
            break
    assert len(seen) == 6
