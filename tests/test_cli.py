"""The command line: plausible output, JSON, and one clear line for every bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import dashboard as dc
from dashboard.domain.scenario import PvPlacement


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dashboard", *args], capture_output=True,
                          text=True, timeout=300)


def test_evaluate_default_district():
    out = run("evaluate")
    assert out.returncode == 0, out.stderr
    assert "Bubeneč" in out.stdout and "Self-sufficiency" in out.stdout
    assert "T01" in out.stdout


def test_evaluate_scenario_json(tmp_path, district):
    scen = dc.place_pv_by_rule(district, dc.Scenario(name="cli"), min_roof_m2=200,
                               coverage=0.6)
    path = tmp_path / "s.json"
    path.write_text(scen.to_json())
    out = run("evaluate", "--scenario", str(path), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["scenario"] == "cli"
    assert 0.2 < data["summary"]["self_sufficiency"] < 0.6
    assert data["units"]["peak_export_kw"] == "kW"
    assert len(data["transformers"]) == len(district.transformers)


def bad_inputs(tmp_path, district):
    bid = district.buildings["building_id"].iloc[0]
    cases = {
        "not json": ("scenario", "{nope", "not valid JSON"),
        "old version": ("scenario", '{"schema": "decentra.scenario", "version": 0}',
                        "version 0 is not supported"),
        "unknown building": ("scenario", dc.Scenario(pv=(PvPlacement("ZZZ", 3),)).to_json(),
                             "not in this district. First offending: ZZZ."),
        "deeply nested": ("scenario", "[" * 100_000, "nested too deeply"),
        "too much pv": ("scenario", dc.Scenario(pv=(PvPlacement(bid, 5000),)).to_json(),
                        "does not fit"),
        "binary scenario": ("scenario", b"\x00\xff\xfe garbage", "not UTF-8"),
        "text as district": ("district", "hello", "not a GeoPackage"),
        "empty district": ("district", "", "not a GeoPackage"),
    }
    out = {}
    for name, (kind, content, message) in cases.items():
        path = tmp_path / f"{name.replace(' ', '_')}.{'json' if kind == 'scenario' else 'gpkg'}"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        out[name] = (kind, path, message)
    return out


@pytest.mark.parametrize("name", ["not json", "old version", "unknown building", "too much pv",
                                  "binary scenario", "text as district", "empty district",
                                  "deeply nested"])
def test_bad_input_exits_nonzero_with_one_message(tmp_path, district, name):
    kind, path, message = bad_inputs(tmp_path, district)[name]
    out = run("evaluate", "--scenario", str(path)) if kind == "scenario" else run(
        "evaluate", str(path))
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert message in out.stderr
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("error: ")


def test_missing_files(tmp_path):
    out = run("evaluate", str(tmp_path / "none.gpkg"))
    assert out.returncode == 2 and "file not found" in out.stderr
    out = run("evaluate", "--scenario", str(tmp_path / "none.json"))
    assert out.returncode == 2 and "cannot read" in out.stderr


def test_a_geopackage_that_is_not_a_district(tmp_path):
    from importlib import resources
    src = resources.files("momepy") / "datasets" / "bubenec.gpkg"
    out = run("evaluate", str(src))
    assert out.returncode == 2 and "not a Decentra district" in out.stderr
    assert "import" in out.stderr
    del tmp_path


def test_import_command(tmp_path):
    from tests.importfiles import bubenec_footprints

    src = tmp_path / "footprints.geojson"
    src.write_text(bubenec_footprints(20).to_json())
    out = tmp_path / "mine.gpkg"
    done = run("import", str(src), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "20 buildings" in done.stdout and f"wrote {out}" in done.stdout
    assert "assumed for 20 of 20 buildings" in done.stdout
    ev = run("evaluate", str(out), "--json", "--no-resilience")
    assert ev.returncode == 0, ev.stderr
    assert json.loads(ev.stdout)["district"] == "footprints"


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"),
    (b"hello", "not a recognised format"),
    (b'{"type": "FeatureCollection", "features": [', "not valid JSON"),
    (b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
     b'"geometry": {"type": "Point", "coordinates": [14.4, 50.1]}}]}',
     "holds points, but building footprints must be polygons"),
])
def test_import_bad_files_exit_non_zero_without_traceback(tmp_path, content, message):
    src = tmp_path / "upload.geojson"
    src.write_bytes(content)
    out = tmp_path / "d.gpkg"
    done = run("import", str(src), "-o", str(out))
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_grid_command_prints_the_power_flow(tmp_path, district):
    scen = dc.place_pv_by_rule(district, dc.Scenario(name="grid cli"), min_roof_m2=150,
                               coverage=0.6)
    path = tmp_path / "s.json"
    path.write_text(scen.to_json())
    out = run("grid", "--scenario", str(path), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["converged"] and data["nonconverged_hours"] == 0
    assert [t["transformer_id"] for t in data["transformers"]] == \
        district.transformers["transformer_id"].tolist()
    assert data["summary"]["vm_max_pu"] > 1.0 and data["violations"]
    text = run("grid", "--no-hosting")
    assert text.returncode == 0 and "No limit broken" in text.stdout
    bad = run("grid", "--scenario", str(tmp_path / "missing.json"))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_pandapower_export_is_a_network_with_the_scenario(tmp_path, district):
    import pandapower as pp

    scen = dc.place_pv_by_rule(district, dc.Scenario(name="pp"), min_roof_m2=300,
                               coverage=0.6)
    path = tmp_path / "s.json"
    path.write_text(scen.to_json())
    out = run("export", "--scenario", str(path), "-f", "pandapower", "-o",
              str(tmp_path / "grid.json"))
    assert out.returncode == 0, out.stderr
    net = pp.from_json(str(tmp_path / "grid.json"))
    assert len(net.sgen) == len(scen.pv) and len(net.load) == district.n_buildings
    assert net.sgen["p_mw"].sum() * 1000 == pytest.approx(sum(p.kwp for p in scen.pv))
    pp.runpp(net)                      # a valid network pandapower solves as it is
    assert net.converged
