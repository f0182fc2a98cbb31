"""Grid-physics benchmark: the batched full-year power flow against pandapower's timeseries.

    python benchmarks/bench_grid.py [--hours 8760] [--sizes 0 10000] [--write]

In one run, on the same networks and hourly profiles (scenario: PV on roofs >= 150 m2 at 60 %
coverage, a 10 kWh battery on every third PV building):

- *one LV feeder-year*: transformer T01 of the default district with its feeders as a network
  of its own. Decentra's batched solver (all hours at once, statistics included) against
  ``pandapower.timeseries.run_timeseries`` with ``ConstControl`` on every load (the reference
  workflow), which runs ``runpp`` hour by hour; the largest voltage difference between the two
  over every bus and hour is reported. ``--hours`` below 8760 times pandapower on the first
  hours and extrapolates (marked in the table).
- *district year*: the whole default district (and synthetic cities of ``--sizes``): the
  power flow of every hour of every transformer, without and with hosting capacity.
- *hosting capacity*: every transformer, by bisection on the hours that still break a limit.

Numbers are minima of ``--repeat`` warm runs (the network model is built once per district).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import dashboard as dc  # noqa: E402
from benchmarks.bench_engine import best_of, machine, write_results  # noqa: E402
from dashboard import gridstudy as gs  # noqa: E402
from dashboard.domain.district import District  # noqa: E402
from dashboard.energy.powerflow import solve_island_rows  # noqa: E402
from dashboard.engine import build_placements, district_model  # noqa: E402


def scenario_for(district: District) -> dc.Scenario:
    s = dc.place_pv_by_rule(district, dc.Scenario(name="bench grid"), min_roof_m2=150,
                            coverage=0.6)
    return s.with_battery(*[dc.BatteryPlacement(p.building_id, 10.0, 5.0) for p in s.pv[::3]])


def one_feeder(district: District, tid: str) -> District:
    """The district cut down to one transformer and its feeders."""
    b = district.buildings[district.buildings["transformer_id"] == tid].reset_index(drop=True)
    t = district.transformers[district.transformers["transformer_id"] == tid]
    lines = district.lines[district.lines["transformer_id"] == tid].reset_index(drop=True)
    return District(name=f"{district.name}: feeder {tid}", buildings=b,
                    transformers=t.reset_index(drop=True), lines=lines,
                    streets=district.streets, weather=district.weather,
                    load_profiles=district.load_profiles, assumptions=district.assumptions,
                    site=district.site, meta=dict(district.meta))


def feeder_year(repeat: int, hours: int) -> dict[str, object]:
    import pandapower as pp
    from pandapower.control import ConstControl
    from pandapower.timeseries import DFData, OutputWriter, run_timeseries

    district = dc.load_district()
    feeder = one_feeder(district, "T01")
    scen = scenario_for(district)
    scen = dc.Scenario(name="feeder", pv=tuple(p for p in scen.pv if p.building_id in
                                                set(feeder.buildings["building_id"])),
                       batteries=tuple(b for b in scen.batteries if b.building_id in
                                       set(feeder.buildings["building_id"])))
    nm = gs.net_model(feeder)
    model = district_model(feeder)
    pl = build_placements(model, scen)
    limits = gs.limits_of(feeder)
    tan_phi = float(np.tan(np.arccos(model.power_factor)))
    inj = gs.island_injections(nm, model, pl, 0)
    s = gs.s_pu(nm, inj.p_kw, inj.d_kw, tan_phi)

    def ours() -> gs.IslandYear:
        return gs.solve_island_year(nm, 0, s, limits)

    ours()
    ours_s = best_of(ours, repeat) / 1e3
    v_rows, _, iterations = solve_island_rows(nm.grid.islands[0], s)
    v_ours = np.abs(v_rows).T                                  # (n_pq, T)

    # pandapower's timeseries on the same network: one load per PQ bus with its net load
    import copy
    net = copy.deepcopy(nm.dnet.net)
    net.load.drop(net.load.index, inplace=True)
    isl = nm.grid.islands[0]
    bus_of_ppc = nm.bus_table.drop_duplicates("ppc").set_index("ppc")["bus"]
    buses = [int(bus_of_ppc.loc[p]) for p in isl.pq]
    idx = pp.create_loads(net, buses, p_mw=0.0, q_mvar=0.0)
    n = min(hours, 8760)
    p_df = pd.DataFrame(inj.p_kw[:n] / 1000.0, columns=list(idx))
    q_df = pd.DataFrame(tan_phi * inj.d_kw[:n] / 1000.0, columns=list(idx))
    ConstControl(net, "load", "p_mw", element_index=list(idx), data_source=DFData(p_df),
                 profile_name=list(idx))
    ConstControl(net, "load", "q_mvar", element_index=list(idx), data_source=DFData(q_df),
                 profile_name=list(idx))
    ow = OutputWriter(net, time_steps=range(n), output_path=None, log_variables=[
        ("res_bus", "vm_pu")])
    t0 = time.perf_counter()
    run_timeseries(net, time_steps=range(n), verbose=False, continue_on_divergence=False)
    pp_s = time.perf_counter() - t0
    vm_pp = ow.output["res_bus.vm_pu"][buses].to_numpy().T       # (n_pq, n)
    diff = float(np.nanmax(np.abs(vm_pp - v_ours[:, :n])))
    pp_year_s = pp_s * 8760 / n
    return {"buses": len(isl.pq) + len(isl.slack), "buildings": feeder.n_buildings,
            "ours_s": ours_s, "pp_s": pp_s, "pp_hours": n, "pp_year_s": pp_year_s,
            "speedup": pp_year_s / ours_s, "max_dv_pu": diff,
            "iterations": float(iterations.mean())}


def district_year(size: int, repeat: int) -> dict[str, object]:
    district = dc.load_district() if size == 0 else dc.synthetic_city(size)
    scen = scenario_for(district)
    t0 = time.perf_counter()
    gs.net_model(district)
    model_s = time.perf_counter() - t0

    def run(hosting: bool) -> gs.GridStudy:
        gs.clear_grid_cache()
        gs.nets.put(district.content_hash, nm)        # keep the network model warm
        return dc.grid_study(district, scen, hosting=hosting)

    nm = gs.net_model(district)
    run(False)
    year_s = best_of(lambda: run(False), repeat) / 1e3
    study = run(True)

    def hosting_s(scenario: dc.Scenario) -> float:
        times = []
        for _ in range(max(1, repeat // 2)):
            gs.clear_grid_cache()
            gs.nets.put(district.content_hash, nm)
            times.append(dc.grid_study(district, scenario).timings_ms["hosting_ms"] / 1000)
        return min(times)

    # the search is longest where there is room for PV: without DER; with the scenario's PV
    # most transformers are already at their limit (found in two steps)
    host_base = hosting_s(dc.Scenario(name="no DER"))
    host_scen = hosting_s(scen)
    edit = scen.with_pv(dc.PvPlacement(scen.pv[0].building_id, scen.pv[0].kwp * 0.5,
                                       scen.pv[0].tilt_deg, scen.pv[0].azimuth_deg))
    t1 = time.perf_counter()
    dc.grid_study(district, edit, hosting=True)        # one island recomputed
    edit_s = time.perf_counter() - t1
    return {"buildings": district.n_buildings, "transformers": len(district.transformers),
            "buses": len(nm.dnet.net.bus), "model_s": model_s, "year_s": year_s,
            "hosting_s": host_base, "hosting_scenario_s": host_scen, "edit_s": edit_s,
            "nonconverged": study.nonconverged_hours}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=8760,
                        help="hours pandapower's timeseries runs (extrapolated to a year)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 10_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args()
    f = feeder_year(args.repeat, args.hours)
    print(f, flush=True)
    rows = [district_year(n, args.repeat) for n in args.sizes]
    for r in rows:
        print(r, flush=True)
    extrap = "" if f["pp_hours"] == 8760 else f" (ran {f['pp_hours']:,} h, extrapolated)"
    text = (f"Machine: {machine()}\n\n"
            "| one LV feeder-year (T01) | buses | Decentra s | pandapower run_timeseries s "
            "| speed-up | max \\|ΔV\\| pu | mean iterations |\n"
            "|---|---:|---:|---:|---:|---:|---:|\n"
            f"| {f['buildings']} buildings | {f['buses']} | {f['ours_s']:.3f} | "
            f"{f['pp_year_s']:.1f}{extrap} | {f['speedup']:,.0f}× | {f['max_dv_pu']:.1e} | "
            f"{f['iterations']:.1f} |\n\n"
            "| district | transformers | buses | network model s (once) | year, all hours s | "
            "hosting capacity, every transformer s (no DER / scenario) | one edit (year + "
            "hosting) s | hours not converged |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
    for r in rows:
        name = "144 (default)" if r["buildings"] == 144 else f"{r['buildings']:,} (synthetic)"
        text += (f"| {name} | {r['transformers']:,} | {r['buses']:,} | {r['model_s']:.1f} | "
                 f"{r['year_s']:.2f} | {r['hosting_s']:.2f} / {r['hosting_scenario_s']:.2f} | "
                 f"{r['edit_s']:.2f} | "
                 f"{r['nonconverged']} |\n")
    print(text)
    if args.write:
        write_results("grid", text)


if __name__ == "__main__":
    main()
