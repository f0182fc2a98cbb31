"""numba's parallel kernels run on TBB, whose thread pool survives fork: a process that ran
them (the community-battery and resilience kernels) can fork a child that runs them again.
With GNU OpenMP the child died: "Terminating: fork() called from a process already using GNU
OpenMP" — the power-flow job of every scenario with a community battery."""

from __future__ import annotations

import os

import numba

import dashboard as dc
from dashboard.energy import THREADING_LAYER


def test_parallel_kernels_use_tbb_and_a_forked_child_runs_them(district):
    tid = str(district.transformers["transformer_id"].iloc[0])
    scen = dc.place_pv_by_rule(district, dc.Scenario(name="fork"), min_roof_m2=200,
                               coverage=0.6).with_community_battery(
        dc.CommunityBattery(tid, 500.0, 250.0))
    parent = dc.evaluate(district, scen, use_cache=False)       # parallel kernels ran here
    assert THREADING_LAYER == "tbb" and numba.threading_layer() == "tbb"
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:                                                 # the child
        code = 1
        try:
            child = dc.evaluate(district, scen, use_cache=False)
            ok = abs(child.summary["self_sufficiency"] - parent.summary["self_sufficiency"])
            os.write(write, f"{ok:.3e}".encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    diff = os.read(read, 64).decode()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    assert float(diff) < 1e-12
