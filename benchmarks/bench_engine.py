"""Engine benchmark: synthetic cities of 1k, 10k, 100k buildings.

    python benchmarks/bench_engine.py [--sizes 1000 10000 100000] [--repeat 5] [--write]

For each size it measures, in one run (minimum over repeats, warm JIT caches):

- memory floor: one parallel read of (hours x buildings) float32 demand and PV arrays — what any
  engine that materialises profiles must at least read (the engine itself never builds them);
- full evaluate without and with resilience, for two scenarios: "PV" (rule: roofs >= 100 m² at
  60 %) and "PV + batteries" (also a 10 kWh / 5 kW battery on every second PV building);
- one-edit recompute: one building's PV changed, evaluated incrementally from the cached parent;
- resilience alone (outage from every hour, horizon 168 h);
- PV unit profiles for all distinct orientations of the district (fresh profile bank);
- reference: pvlib ModelChain per building on a sample, extrapolated to all buildings.

``--write`` replaces the results table in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from numba import njit, prange

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import dashboard as dc  # noqa: E402
from dashboard.domain.scenario import BatteryPlacement, PvPlacement  # noqa: E402
from dashboard.energy.pv import ProfileBank, PvModel  # noqa: E402
from dashboard.scenarios import clear_cache, district_model  # noqa: E402


@njit(parallel=True, fastmath=True, cache=True)
def _read_all(a, b):
    total = 0.0
    for i in prange(a.shape[0]):
        ra = a[i]
        rb = b[i]
        acc = 0.0
        for j in range(ra.shape[0]):
            acc += ra[j] + rb[j]
        total += acc
    return total


def write_results(section: str, text: str, heading: str = "") -> None:
    """Replace the ``<!-- section:begin -->`` … ``end`` block of benchmarks/RESULTS.md with
    ``text`` (appended, under ``heading`` if given, when the file has no such block)."""
    path = ROOT / "benchmarks" / "RESULTS.md"
    old = path.read_text() if path.exists() else ""
    begin, end = f"<!-- {section}:begin -->", f"<!-- {section}:end -->"
    block = f"{begin}\n{text}{end}"
    if begin in old and end in old:
        new = old[:old.index(begin)] + block + old[old.index(end) + len(end):]
    else:
        new = old.rstrip() + "\n\n" + (f"{heading}\n\n" if heading else "") + block + "\n"
    path.write_text(new)


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * min(times)


def memory_floor_ms(n: int, repeat: int) -> float:
    demand = np.ones((8760, n), np.float32)
    pv = np.ones((8760, n), np.float32)
    _read_all(demand, pv)
    return best_of(lambda: _read_all(demand, pv), repeat)


def scenarios(city: dc.District) -> dict[str, dc.Scenario]:
    pv = dc.place_pv_by_rule(city, dc.Scenario(name="PV"), min_roof_m2=100, coverage=0.6)
    ids = [p.building_id for p in pv.pv][::2]
    bat = pv.with_battery(*[BatteryPlacement(i, 10.0, 5.0) for i in ids]).renamed(
        "PV + batteries")
    return {"PV": pv, "PV + batteries": bat}


def pv_profiles_ms(city: dc.District, repeat: int) -> tuple[float, int]:
    model = district_model(city)
    b = city.buildings
    bins = PvModel.from_assumptions(city.assumptions).quantize_orientation(
        b["roof_tilt_deg"].to_numpy(), b["azimuth_deg"].to_numpy())
    n_bins = len(set(zip(*bins, strict=True)))

    def run() -> None:
        bank = ProfileBank(city.weather, model.bank.geometry, model.bank.model)
        bank.columns(b["roof_tilt_deg"].to_numpy(), b["azimuth_deg"].to_numpy())
    return best_of(run, repeat), n_bins


def modelchain_ms_per_building(city: dc.District, sample: int = 10) -> float:
    import pvlib

    from dashboard.energy.weather import midpoints

    a = city.assumptions
    model = PvModel.from_assumptions(a)
    loc = pvlib.location.Location(city.site.latitude_deg, city.site.longitude_deg,
                                  tz=city.site.timezone, altitude=city.site.altitude_m)
    weather = city.weather.copy()
    weather.index = midpoints(weather.index)
    rows = city.buildings.head(sample)
    t0 = time.perf_counter()
    for _, row in rows.iterrows():
        system = pvlib.pvsystem.PVSystem(
            surface_tilt=row["roof_tilt_deg"], surface_azimuth=row["azimuth_deg"],
            albedo=model.albedo,
            module_parameters={"pdc0": 1000.0 * row["pv_potential_kwp"],
                               "gamma_pdc": model.gamma_pdc_per_c},
            inverter_parameters={"pdc0": 1000.0 * row["pv_potential_kwp"] / model.dc_ac_ratio},
            temperature_model_parameters=pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS[
                "sapm"][model.temperature_model])
        mc = pvlib.modelchain.ModelChain.with_pvwatts(system, loc)
        mc.run_model(weather)
    return 1e3 * (time.perf_counter() - t0) / len(rows)


def bench(sizes: list[int], repeat: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    mc_ms = None
    for n in sizes:
        t0 = time.perf_counter()
        city = dc.load_district() if n == 0 else dc.synthetic_city(n)
        n = city.n_buildings
        build_s = time.perf_counter() - t0
        floor = memory_floor_ms(n, repeat)
        prof_ms, n_bins = pv_profiles_ms(city, repeat)
        if mc_ms is None:
            mc_ms = modelchain_ms_per_building(city)
        reps = repeat if n <= 10_000 else max(2, repeat // 2)
        for name, scen in scenarios(city).items():
            dc.evaluate(city, scen, use_cache=False)  # warm (JIT, profile bins, pair tables)
            energy = best_of(lambda c=city, s=scen: dc.evaluate(c, s, resilience=False,
                                                                use_cache=False), reps)
            res_times = []
            total_times = []
            for _ in range(reps):
                t1 = time.perf_counter()
                result = dc.evaluate(city, scen, use_cache=False)
                total_times.append(time.perf_counter() - t1)
                res_times.append(result.timings_ms["resilience_ms"])
            # one edit: evaluate the parent (cached), then a child with one PV changed
            clear_cache()
            dc.evaluate(city, scen)
            target = city.buildings["building_id"].iloc[n // 2]
            edits = []
            for k in range(reps):
                child = scen.with_pv(PvPlacement(str(target), 5.0 + k, 30.0, 180.0))
                t1 = time.perf_counter()
                r = dc.evaluate(city, child)
                edits.append(time.perf_counter() - t1)
                assert r.incremental
            n_batt = len(scen.batteries)
            rows.append({
                "buildings": n, "scenario": name, "batteries": n_batt,
                "transformers": len(city.transformers), "build_city_s": build_s,
                "floor_ms": floor, "energy_ms": energy,
                "resilience_ms": min(res_times), "full_ms": 1e3 * min(total_times),
                "edit_ms": 1e3 * min(edits), "pv_profiles_ms": prof_ms, "pv_bins": n_bins,
                "modelchain_est_ms": mc_ms * n,
            })
            print(rows[-1], flush=True)
            clear_cache()
        del city
    return rows


def machine() -> str:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if "model name" in line)
    except (OSError, StopIteration):
        pass
    import numba
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip() or "?"
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy "
            f"{np.__version__}, numba {numba.__version__} ({numba.get_num_threads()} threads), "
            f"commit {commit}")


def table(rows: list[dict[str, object]]) -> str:
    head = ("| buildings | scenario | batteries | floor ms | energy ms | ×floor | resilience ms "
            "| full ms | one edit ms | PV profiles ms (bins) | pvlib ModelChain per building, "
            "extrapolated |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    lines = []
    for r in rows:
        ratio = float(r["energy_ms"]) / float(r["floor_ms"])  # type: ignore[arg-type]
        name = "144 (default)" if r["buildings"] == 144 else f"{r['buildings']:,}"
        lines.append(
            f"| {name} | {r['scenario']} | {r['batteries']:,} | "
            f"{r['floor_ms']:.1f} | {r['energy_ms']:.1f} | {ratio:.1f} | "
            f"{r['resilience_ms']:.0f} | {r['full_ms']:.0f} | {r['edit_ms']:.2f} | "
            f"{r['pv_profiles_ms']:.1f} ({r['pv_bins']}) | "
            f"{float(r['modelchain_est_ms']) / 1000:,.0f} s |")  # type: ignore[arg-type]
    return head + "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 1000, 10_000, 100_000],
                        help="synthetic city sizes; 0 = the default district (144 buildings)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args()
    rows = bench(args.sizes, args.repeat)
    text = f"Machine: {machine()}\n\n" + table(rows)
    print(text)
    if args.write:
        write_results("engine", text)


if __name__ == "__main__":
    main()
