"""The cache design (dashboard.cache): values shared between processes survive restarts and
upgrades without ever breaking a start. A stale, foreign, damaged or planted entry is a miss,
never an error and never unpickled; the disk store is bounded; the folder is private."""

from __future__ import annotations

import os
import pickle
import stat
import time
from pathlib import Path

import numpy as np
import pytest

import dashboard as dc
from dashboard import cache, scenarios
from dashboard.domain.errors import DecentraError
from dashboard.domain.result import Result


@pytest.fixture()
def disk(tmp_path, monkeypatch):
    """This process's shared cache on a disk store in a private folder, as in the app."""
    monkeypatch.setenv("DECENTRA_CACHE_DIR", str(tmp_path / "cache"))
    before = cache.shared()
    shared = cache.configure(cache.DiskStore(cache.cache_dir("shared")))
    scenarios.clear_cache()
    yield shared
    cache._shared = before
    scenarios.clear_cache()


def wait_shared(shared, namespace, key, expected, timeout_s=10.0):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if shared.get(namespace, key, expected) is not None:
            return
        time.sleep(0.02)
    raise AssertionError("value was not shared")


def test_a_result_computed_elsewhere_is_found_renamed_and_edited(disk, district, monkeypatch):
    scen = dc.place_pv_by_rule(district, dc.Scenario(name="shared"), min_roof_m2=150,
                               coverage=0.6)
    first = dc.evaluate(district, scen)
    key = (district.content_hash, scen.content_hash(), True)
    wait_shared(disk, scenarios.NAMESPACE, scenarios._shared_key(key), Result)
    scenarios.clear_cache()                      # a new process: nothing in memory
    with monkeypatch.context() as m:             # found, not recomputed
        m.setattr(scenarios, "_full", lambda *a, **k: pytest.fail("recomputed"))
        again = dc.evaluate(district, scen)
        # the crash of every second start: a shared result renamed (no engine state)
        renamed = dc.evaluate(district, scen.renamed("another name"))
    # NaN (no critical facility marked, no payback) equals NaN here: same value, not the same
    # object after the trip through the shared store
    assert again is not first and again.summary == pytest.approx(first.summary, rel=0, abs=0,
                                                                 nan_ok=True)
    assert renamed.scenario.name == "another name" and renamed.summary == pytest.approx(
        first.summary, rel=0, abs=0, nan_ok=True)
    bid = scen.pv[0].building_id
    np.testing.assert_array_equal(again.hourly(building_id=bid).to_numpy(),
                                  first.hourly(building_id=bid).to_numpy())
    # a child of a result from elsewhere has no engine state here: computed in full, right
    child = scen.with_battery(dc.BatteryPlacement(bid, 20.0, 10.0))
    inc = dc.evaluate(district, child)
    full = dc.evaluate(district, child, use_cache=False)
    assert not inc.incremental
    for k, v in full.summary.items():
        assert inc.summary[k] == pytest.approx(v, rel=1e-9, abs=1e-9, nan_ok=True), k
    # and an edit of a result computed here is incremental, and equal to the full one
    grandchild = child.with_battery(dc.BatteryPlacement(bid, 30.0, 10.0))
    inc2 = dc.evaluate(district, grandchild)
    assert inc2.incremental
    full2 = dc.evaluate(district, grandchild, use_cache=False)
    for k, v in full2.summary.items():
        assert inc2.summary[k] == pytest.approx(v, rel=1e-6, abs=1e-6, nan_ok=True), k


def test_results_never_carry_hung_attributes(district):
    res = dc.evaluate(district, dc.Scenario(name="plain"))
    assert set(vars(res)) <= {f for f in Result.__dataclass_fields__} | {
        "buildings", "transformers"}        # cached_property values only


def test_an_entry_of_other_code_is_never_read(disk, monkeypatch):
    disk.set("scenario", "k1", dc.Scenario(name="old"))
    assert disk.get("scenario", "k1", dc.Scenario) is not None
    monkeypatch.setattr(cache, "CODE_VERSION", "an-older-one")      # after an upgrade
    assert disk.get("scenario", "k1", dc.Scenario) is None


@pytest.mark.parametrize("payload", [
    b"", b"garbage", cache.MAGIC + b"\0" * 10,
    pickle.dumps(dc.Scenario(name="unsigned")),                      # a raw pickle
])
def test_damaged_or_unsigned_entries_are_misses(disk, payload):
    full = cache.versioned_key("scenario", "k2")
    disk.store.set_bytes(full, payload, None)
    assert disk.get("scenario", "k2", dc.Scenario) is None
    assert disk.store.get_bytes(full) is None              # and removed


def test_an_entry_of_another_type_or_key_is_a_miss(disk):
    disk.set("scenario", "k3", "not a scenario")
    assert disk.get("scenario", "k3", dc.Scenario) is None
    # an envelope moved to another key does not verify there
    good = cache.seal(disk.secret, cache.versioned_key("scenario", "a"), dc.Scenario(name="a"))
    disk.store.set_bytes(cache.versioned_key("scenario", "b"), good, None)
    assert disk.get("scenario", "b", dc.Scenario) is None


class Boom:
    def __reduce__(self):
        return (os.system, ("touch /tmp/decentra-planted-ran",))


def test_a_planted_pickle_never_executes(disk, tmp_path):
    marker = Path("/tmp/decentra-planted-ran")
    marker.unlink(missing_ok=True)
    for ns, key in [("scenario", "k4"), ("result", "x:y:1"), ("study", "a:b")]:
        full = cache.versioned_key(ns, key)
        disk.store.set_bytes(full, pickle.dumps(Boom()), None)
        disk.store.set_bytes(full + "x", cache.MAGIC + b"\0" * 32 + pickle.dumps(Boom()), None)
        assert disk.get(ns, key, object) is None
        assert disk.get(ns, key + "x", object) is None
    assert not marker.exists()


def test_a_truncated_cache_file_is_a_miss(disk):
    big = np.arange(200_000, dtype=np.float64)       # stored as a file of its own
    disk.set("island", "big", big)
    assert disk.get("island", "big", np.ndarray) is not None
    files = [p for p in Path(disk.store.directory).rglob("*.val")]
    assert files, "diskcache keeps large values in files"
    for p in files:
        data = p.read_bytes()
        p.write_bytes(data[: len(data) // 2])
    assert disk.get("island", "big", np.ndarray) is None


def test_the_disk_store_is_bounded_in_size(tmp_path, monkeypatch):
    monkeypatch.setenv("DECENTRA_CACHE_DIR", str(tmp_path / "c"))
    store = cache.DiskStore(cache.cache_dir("shared"), size_limit_mb=2)
    shared = cache.SharedCache(store, secret=b"s" * 32)
    blob = os.urandom(100_000)
    for i in range(200):                              # 20 MB written
        shared.set("layer", f"k{i}", blob)
    assert store.volume_bytes() < 3 * 2**20
    assert shared.get("layer", "k199", bytes) == blob  # the newest are kept


def test_the_cache_folder_is_private(tmp_path, monkeypatch):
    monkeypatch.setenv("DECENTRA_CACHE_DIR", str(tmp_path / "new"))
    root = cache.cache_dir()
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o700
    key = root / "secret.key"
    cache.secret_key()
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    # readable by others: tightened; writable by others: refused
    os.chmod(root, 0o755)
    cache.cache_dir()
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o700
    os.chmod(root, 0o777)
    with pytest.raises(DecentraError, match="written by other users"):
        cache.cache_dir()
    os.chmod(root, 0o700)
    link = tmp_path / "link"
    link.symlink_to(root)
    monkeypatch.setenv("DECENTRA_CACHE_DIR", str(link))
    with pytest.raises(DecentraError, match="not a plain folder"):
        cache.cache_dir()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a folder to another user")
def test_a_cache_folder_of_another_user_is_refused(tmp_path, monkeypatch):
    other = tmp_path / "other"
    other.mkdir(mode=0o700)
    os.chown(other, 12345, 12345)
    monkeypatch.setenv("DECENTRA_CACHE_DIR", str(other))
    with pytest.raises(DecentraError, match="another user"):
        cache.cache_dir()


def test_the_default_folder_is_per_user_not_in_tmp(monkeypatch):
    monkeypatch.delenv("DECENTRA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere/cache")
    assert cache.cache_root() == Path("/somewhere/cache/decentra")
