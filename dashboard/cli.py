"""Command line: evaluate (and later export / import) without a browser.

    python -m dashboard evaluate [DISTRICT] [--scenario FILE] [--json] [--no-resilience]
    python -m dashboard export [DISTRICT] [--scenario FILE] -f FORMAT -o OUT
    python -m dashboard sweep [DISTRICT] [--steps N] [--order O] [--battery-kwh-per-kwp X]
                              [--csv OUT]
    python -m dashboard suggest [DISTRICT] --budget-eur B --objective OBJ [--critical-only]
                                -o SCENARIO.json
    python -m dashboard import BUILDINGS [--layer L] [--streets F] [--network F]
                               [--transformers F] [--weather F|pvgis] [--meter-data CSV]
                               [--pv-data CSV] -o DISTRICT.gpkg

Errors in user input print one line on stderr and exit with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dashboard.domain.errors import DecentraError
from dashboard.domain.indicators import SUMMARY_INDICATORS, format_value, hosting_text
from dashboard.export.registry import NAMES, export_bytes

MAX_SCENARIO_BYTES = 50 * 1024 * 1024


def _read_scenario(path: str):
    from dashboard.domain.scenario import Scenario

    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as err:
        raise DecentraError(f"cannot read the scenario file ({err.strerror})",
                            source=path) from None
    if size > MAX_SCENARIO_BYTES:
        raise DecentraError(f"the scenario file is larger than {MAX_SCENARIO_BYTES // 2**20} MB",
                            source=path)
    try:
        raw = p.read_bytes()
    except OSError as err:
        raise DecentraError(f"cannot read the scenario file ({err.strerror})",
                            source=path) from None
    try:
        return Scenario.from_json(raw)
    except DecentraError as err:
        raise DecentraError(err.message, source=path, rows=err.rows) from None


def _json_value(v: float) -> float | None:
    return None if isinstance(v, float) and not math.isfinite(v) else v


def cmd_evaluate(args: argparse.Namespace) -> int:
    import dashboard as dc

    district = dc.load_district(args.district)
    scenario = _read_scenario(args.scenario) if args.scenario else dc.Scenario(
        name="Baseline (no DER)")
    result = dc.evaluate(district, scenario, resilience=not args.no_resilience)
    if args.json:
        payload = {
            "district": district.name,
            "district_synthetic": district.is_synthetic,
            "scenario": scenario.name,
            "summary": {k: _json_value(v) for k, v in result.summary.items()},
            "warnings": dc.battery_warnings(district, scenario),
            "units": {i.key: i.unit for i in SUMMARY_INDICATORS},
            "transformers": [
                {k: _json_value(v) if isinstance(v, float) else v for k, v in row.items()}
                for row in result.transformers.to_dict("records")],
        }
        print(json.dumps(payload, indent=2, default=float))
        return 0
    print(f"District: {district.name}  ({district.n_buildings} buildings, "
          f"{len(district.transformers)} transformers)")
    print(f"Scenario: {scenario.name}  ({len(scenario.pv)} PV, {len(scenario.batteries)} "
          f"batteries, {len(scenario.community_batteries)} community batteries)")
    for warning in dc.battery_warnings(district, scenario):
        print(f"  warning: {warning}")
    print()
    width = max(len(i.label) for i in SUMMARY_INDICATORS)
    for ind in SUMMARY_INDICATORS:
        if ind.key in result.summary:
            print(f"  {ind.label:<{width}}  {format_value(ind.key, result.summary[ind.key])}")
    print()
    cols = ["rating_kva", "n_buildings", "pv_kwp", "self_sufficiency", "peak_import_kw",
            "peak_export_kw", "reverse_flow_hours", "loading_pct", "hours_above_rating",
            "hosting_capacity_kwp", "pv_curtailed_kwh", "npv_eur"]
    table = result.transformers[cols].copy()
    table["self_sufficiency"] = (100 * table["self_sufficiency"]).round(1)
    print("Transformers (self-sufficiency in %, loading in % of rating, hosting capacity "
          "estimate in kWp, community NPV in EUR):")
    print(table.round(1).to_string())
    return 0


def cmd_grid(args: argparse.Namespace) -> int:
    """Full-year AC power flow: voltages, loadings, violations, hosting capacity."""
    import dashboard as dc

    district = dc.load_district(args.district)
    scenario = _read_scenario(args.scenario) if args.scenario else dc.Scenario(
        name="Baseline (no DER)")
    study = dc.grid_study(district, scenario, hosting=not args.no_hosting)
    t = study.transformers
    if args.json:
        payload = {
            "district": district.name, "scenario": scenario.name,
            "converged": study.converged, "nonconverged_hours": study.nonconverged_hours,
            "fallback_hours": study.fallback_hours, "limits": study.limits,
            "summary": {k: _json_value(v) for k, v in study.summary.items()},
            # null in "summary" means not computed (``--no-hosting``), never zero
            "not_computed": [k for k, v in study.summary.items() if v != v],
            "transformers": [{"transformer_id": tid, **{
                k: (_json_value(v) if isinstance(v, float) else
                    (v.item() if hasattr(v, "item") else v)) for k, v in row.items()}}
                for tid, row in t.iterrows()],
            "violations": [{k: (_json_value(v) if isinstance(v, float) else
                                (v.item() if hasattr(v, "item") else v))
                            for k, v in row.items()}
                           for row in study.violations.to_dict("records")],
            "timings_ms": study.timings_ms,
        }
        print(json.dumps(payload, indent=2, default=float))
        return 0
    lim = study.limits
    print(f"District: {district.name}  ·  Scenario: {scenario.name}")
    state = ("converged" if study.converged
             else f"{study.nonconverged_hours} hours did not converge (left out)")
    if study.fallback_hours:
        state += f", {study.fallback_hours} hours by pandapower runpp"
    print(f"Full-year AC power flow, 8,760 hours: {state}  "
          f"({study.timings_ms.get('total_ms', 0) / 1000:.1f} s)")
    print(f"Limits: voltage {lim['voltage_min_pu']:g}-{lim['voltage_max_pu']:g} pu, loading "
          f"{lim['loading_max_pct']:g} %")
    print()
    cols = ["vm_min_pu", "vm_max_pu", "overvoltage_hours", "undervoltage_hours",
            "line_loading_max_pct", "trafo_loading_max_pct", "overload_hours",
            "hosting_capacity_kwp", "hosting_limit"]
    table = t[cols].round(3)
    table["hosting_capacity_kwp"] = [hosting_text(x) for x in t["hosting_capacity_kwp"]]
    print(table.to_string())
    print(f"Hosting capacity of the district: "
          f"{hosting_text(study.summary['hosting_capacity_kwp'])}"
          + (" (run without --no-hosting)" if args.no_hosting else ""))
    v = study.violations
    print()
    if v.empty:
        print("No limit broken in any hour.")
    else:
        print(f"{len(v)} elements outside their limits (worst first):")
        print(v.head(20)[["kind", "element", "transformer_id", "worst", "unit", "hours"]]
              .round(3).to_string(index=False))
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """Indicators as PV grows from 0 to 100 % of the district's rooftop PV potential."""
    import pandas as pd

    import dashboard as dc
    from dashboard.sweep import COLUMNS, penetration_sweep

    district = dc.load_district(args.district)
    base = _read_scenario(args.scenario) if args.scenario else None
    sweep = penetration_sweep(district, steps=args.steps, order=args.order,
                              battery_kwh_per_kwp=args.battery_kwh_per_kwp, base=base)
    if args.csv:
        try:
            sweep.to_csv(args.csv, float_format="%.6g")
        except OSError as err:
            raise DecentraError(f"cannot write the CSV ({err.strerror or err})",
                                source=args.csv) from None
    print(f"District: {district.name}  ·  PV sweep, {args.order}, "
          f"{sweep.attrs['potential_kwp']:,.0f} kWp potential, "
          f"{args.battery_kwh_per_kwp:g} kWh battery per kWp  ({sweep.attrs['seconds']:.2f} s)")
    short = {"share": "share %", "pv_added_kwp": "PV+ kWp", "pv_kwp": "PV kWp",
             "battery_kwh": "bat kWh", "self_sufficiency": "SS %", "self_consumption": "SC %",
             "p_survive_24h": "P24h %", "survival_mean_h": "surv h",
             "p_survive_24h_pooled": "P24h MG %", "hosting_headroom_kwp": "headroom kWp",
             "max_transformer_loading_pct": "max load %", "capex_eur": "capex EUR",
             "payback_years": "payback a"}
    table = pd.DataFrame({short.get(k, k): (100 * sweep[k] if COLUMNS.get(k, ("", ""))[1]
                                             == "1" else sweep[k]).round(1)
                          for k in sweep.columns})
    print(table.to_string(index=False, na_rep="—"))
    print("SS self-sufficiency, SC self-consumption, P24h P(survive 24 h) per building, "
          "MG the same with the buildings of a transformer as a microgrid.")
    print("Hosting headroom: estimated hosting capacity of all transformers minus the PV "
          "added (negative: reverse flow beyond the ratings).")
    if args.csv:
        print(f"Written {args.csv}")
    return 0


def cmd_suggest(args: argparse.Namespace) -> int:
    """Place PV and batteries within a budget to maximise an objective (dashboard.suggest)."""
    import dashboard as dc
    from dashboard.suggest import suggest

    district = dc.load_district(args.district)
    start = _read_scenario(args.scenario) if args.scenario else None
    sug = suggest(district, args.budget_eur, args.objective, start=start,
                  critical_only=args.critical_only, batteries=not args.no_batteries,
                  grid_hosting=True if args.grid_hosting else None)
    out = Path(args.output)
    try:
        out.write_text(sug.scenario.to_json(), encoding="utf-8")
    except OSError as err:
        raise DecentraError(f"cannot write the scenario ({err.strerror})",
                            source=str(out)) from None
    print(sug.scenario.notes)
    print(f"wrote {out} ({sug.evaluations} evaluations, "
          f"{sug.timings_ms['total_ms'] / 1000:.1f} s): open it in the app or "
          f"python -m dashboard evaluate --scenario {out}")
    return 0


def _write_file(path: str, data: bytes, what: str) -> None:
    """Write an export or report and say where, in bytes; one message if it cannot be."""
    from dashboard.export.report import write_bytes

    try:
        out = write_bytes(path, data)
    except OSError as err:
        raise DecentraError(f"cannot write {what} ({err.strerror})", source=str(path)) from None
    print(f"wrote {out} ({len(data):,} bytes)")


def cmd_export(args: argparse.Namespace) -> int:
    import dashboard as dc

    district = dc.load_district(args.district)
    scenario = _read_scenario(args.scenario) if args.scenario else dc.Scenario(
        name="Baseline (no DER)")
    result = dc.evaluate(district, scenario)
    from dashboard.io.tiles import OSM_TILES

    data = export_bytes(district, result, dc.baseline(district), args.format, args.color_by,
                        args.width, args.height,
                        tiles_url=OSM_TILES if args.basemap == "osm" else None)
    _write_file(args.output, data, "the export")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """The stakeholder report: the recommended scenario against alternatives, with the
    consultant's name and logo; the grid figures verified where a power flow of exactly that
    scenario exists (run now with --power-flow), else said to be an estimate."""
    import dashboard as dc
    from dashboard.export.council import MAX_ALTERNATIVES, ReportOptions
    from dashboard.export.logo import MAX_LOGO_BYTES, sanitize_logo
    from dashboard.export.report import report_html, report_pdf
    from dashboard.gridstudy import cached_study, store_study

    district = dc.load_district(args.district)
    scenario = _read_scenario(args.scenario)
    if len(args.compare or []) > MAX_ALTERNATIVES:
        raise DecentraError(f"compare at most {MAX_ALTERNATIVES} alternatives at once, got "
                            f"{len(args.compare)}")
    others = [_read_scenario(p) for p in args.compare or []]
    logo = None
    if args.logo:
        try:
            with open(args.logo, "rb") as fh:
                raw = fh.read(MAX_LOGO_BYTES + 1)
        except OSError as err:
            raise DecentraError(f"cannot read the logo ({err.strerror})",
                                source=args.logo) from None
        logo = sanitize_logo(raw, Path(args.logo).name)
    options = ReportOptions(question=args.question or "", consultant=args.consultant or "",
                            logo_png=logo)
    # the study run here is handed to the report directly (the CLI has no shared cache to
    # find it in); report.verified_study still checks it belongs to exactly that scenario
    studies = {}
    if args.power_flow:
        study = cached_study(district, scenario) or dc.grid_study(district, scenario)
        store_study(district, scenario, study)
        studies[scenario.content_hash()] = study

    def study_of(d: dc.District, s: dc.Scenario) -> Any:
        return studies.get(s.content_hash()) or cached_study(d, s)

    alternatives = [dc.evaluate(district, s) for s in others]
    result, base = dc.evaluate(district, scenario), dc.baseline(district)
    if args.html:
        data: bytes = report_html(district, result, base, alternatives=alternatives,
                                  options=options, study_of=study_of).encode()
    else:
        data = report_pdf(district, result, base, alternatives=alternatives, options=options,
                          study_of=study_of)
    _write_file(args.output, data, "the report")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from dashboard.importer import import_district
    from dashboard.io.district_gpkg import write_district
    from dashboard.io.formats import Limits

    limits = Limits() if args.max_mb is None else Limits(max_file_bytes=int(args.max_mb * 2**20))
    out = Path(args.output)
    if out.suffix.lower() != ".gpkg":
        raise DecentraError("the district is written as a GeoPackage: give a .gpkg name",
                            source=str(out))
    result = import_district(args.buildings, layer=args.layer, streets=args.streets,
                             network=args.network, transformers=args.transformers,
                             weather=args.weather, name=args.name,
                             meter_data=args.meter_data, pv_data=args.pv_data, limits=limits)
    if args.json:
        print(json.dumps(result.report.to_dict(), indent=2))
    else:
        print(f"Imported {result.report.name}:")
        for line in result.report.summary_lines():
            print(f"  {line}")
    try:
        write_district(result.district, out)
    except OSError as err:
        raise DecentraError(f"cannot write the district ({err.strerror})",
                            source=str(out)) from None
    if result.scenario is not None:
        scenario_out = Path(args.scenario_out) if args.scenario_out else out.with_suffix(
            ".scenario.json")
        scenario_out.write_text(result.scenario.to_json(), encoding="utf-8")
        if not args.json:
            print(f"wrote {scenario_out} (the placements found in the file)")
    if not args.json:
        print(f"wrote {out}: open it with  python app.py --district {out}")
    return 0


def cmd_workspaces(args: argparse.Namespace) -> int:
    """The workspaces of a scenario store, with the link that opens each (administration;
    the legacy workspace holds what was saved before workspaces existed)."""
    from dashboard.store import ScenarioStore

    store = ScenarioStore(args.store)
    legacy = store.legacy_workspace()
    base = args.base_url.rstrip("/")
    rows = store.workspaces()
    if not rows:
        print("no saved scenarios")
    for ws, n in rows:
        mark = "  (saved before workspaces)" if ws == legacy else ""
        print(f"{n:5d} scenarios  {base}/w/{ws}{mark}")
    return 0


def _read_profile(path: str) -> list[float]:
    """Hourly values from a CSV: the last column of each row, a header row allowed; 24 or
    8760 values (checked by the registry)."""
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise DecentraError(f"cannot read the hourly profile ({err})", source=path) from None
    values: list[float] = []
    for i, line in enumerate(lines, start=1):
        cell = line.replace(";", ",").split(",")[-1].strip()
        if not cell:
            continue
        try:
            values.append(float(cell))
        except ValueError:
            if i > 1 or values:
                raise DecentraError(f"row {i}: '{cell[:30]}' is not a number",
                                    source=path) from None
    return values


def cmd_assumptions(args: argparse.Namespace) -> int:
    """The scenario's effective assumptions: the district's value and the override of each
    overridable row (no simulation); ``--set`` / ``--emission-profile`` with ``-o`` write the
    scenario with more overrides."""
    import dashboard as dc
    from dashboard.domain.overrides import table_rows

    district = dc.load_district(args.district)
    scenario = _read_scenario(args.scenario) if args.scenario else dc.Scenario()
    changes: dict[str, object] = {}
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise DecentraError(f"--set needs KEY=VALUE, got '{item}'")
        changes[key.strip()] = value.strip() or None
    if args.emission_profile:
        changes["emissions.hourly_kg_co2_per_kwh"] = _read_profile(args.emission_profile)
    scenario = scenario.with_assumptions(changes)
    if changes:
        dc.scenarios.validate(district, scenario)
        dc.evaluate(district, scenario, resilience=False)     # district-dependent checks
    rows = table_rows(district.assumptions, scenario.assumptions)
    width = max(len(r["key"]) for r in rows)
    print(f"{'key':<{width}}  {'district':>18}  {'scenario':>18}  unit")
    for r in rows:
        override = r["override"] if len(r["override"]) <= 18 else \
            f"{r['override'].count(';') + 1} values"
        print(f"{r['key']:<{width}}  {r['district'][:18]:>18}  {override:>18}  {r['unit']}")
        if r["warning"]:
            print(f"  warning: {r['warning']}")
    if args.output:
        Path(args.output).write_text(scenario.to_json() + "\n", encoding="utf-8")
        print(f"wrote {args.output}")
    return 0


def _district_arguments(command: argparse.ArgumentParser) -> None:
    """The district and scenario a command works on (both optional)."""
    command.add_argument("district", nargs="?", default=None,
                         help="district GeoPackage (default: the embedded Bubeneč district)")
    command.add_argument("--scenario",
                         help="scenario JSON file (default: no PV, no batteries)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dashboard",
                                     description="Decentra: decentralized energy planning")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("evaluate", help="print the indicators of a scenario")
    _district_arguments(ev)
    ev.add_argument("--json", action="store_true", help="machine-readable output")
    ev.add_argument("--no-resilience", action="store_true", help="skip outage simulation")
    ev.set_defaults(func=cmd_evaluate)
    asm = sub.add_parser("assumptions", help="a scenario's effective assumptions (district "
                         "value and override); --set KEY=VALUE -o FILE writes overrides")
    _district_arguments(asm)
    asm.add_argument("--set", action="append", metavar="KEY=VALUE",
                     help="override (repeatable; lists with ';'; empty VALUE drops it)")
    asm.add_argument("--emission-profile", metavar="CSV",
                     help="hourly emission factor [kg/kWh]: 24 (hour of day) or 8760 rows, "
                     "last column")
    asm.add_argument("-o", "--output", help="write the scenario with its overrides here")
    asm.set_defaults(func=cmd_assumptions)
    ex = sub.add_parser("export", help="write a map, GIS file, table or the report")
    _district_arguments(ex)
    ex.add_argument("--format", "-f", required=True, choices=NAMES)
    ex.add_argument("--output", "-o", required=True, help="file to write")
    ex.add_argument("--color-by", default="self_sufficiency",
                    help="indicator that colours buildings on maps")
    ex.add_argument("--basemap", choices=["plain", "osm"], default="plain",
                    help="PNG only: draw over OpenStreetMap tiles when they can be reached")
    ex.add_argument("--width", type=int, default=1400)
    ex.add_argument("--height", type=int, default=900)
    ex.set_defaults(func=cmd_export)
    rp = sub.add_parser("report", help="the stakeholder report (PDF): a recommended scenario "
                                       "against alternatives, consultant's name and logo")
    rp.add_argument("district", nargs="?", default=None,
                    help="district GeoPackage (default: the embedded Bubeneč district)")
    rp.add_argument("--scenario", required=True, help="the recommended scenario (JSON)")
    rp.add_argument("--compare", nargs="+", metavar="FILE",
                    help="scenario files of the alternatives compared (at most 6)")
    rp.add_argument("--question", help="the question the report answers (default: names the "
                                       "district and the objective)")
    rp.add_argument("--consultant", help="the consultant's name on the report")
    rp.add_argument("--logo", help="the consultant's logo (PNG or JPEG, at most 2 MB)")
    rp.add_argument("--power-flow", action="store_true",
                    help="run the full-year power flow of the scenario first (verified grid "
                         "figures; without it the grid figures are the estimate, said so)")
    rp.add_argument("--html", action="store_true", help="write the HTML instead of the PDF")
    rp.add_argument("--output", "-o", required=True, help="file to write")
    rp.set_defaults(func=cmd_report)
    gr = sub.add_parser("grid", help="full-year AC power flow: voltages, loading, "
                                     "violations, hosting capacity")
    _district_arguments(gr)
    gr.add_argument("--json", action="store_true", help="machine-readable output")
    gr.add_argument("--no-hosting", action="store_true", help="skip hosting capacity")
    gr.set_defaults(func=cmd_grid)
    sw = sub.add_parser("sweep", help="self-sufficiency, resilience and hosting headroom as "
                                      "PV grows from 0 to 100 %% of the rooftop potential")
    sw.add_argument("district", nargs="?", default=None,
                    help="district GeoPackage (default: the embedded Bubeneč district)")
    sw.add_argument("--scenario", help="scenario JSON the sweep adds to (default: none)")
    sw.add_argument("--steps", type=int, default=11, help="shares from 0 to 100 %% (2-101)")
    sw.add_argument("--order", default="largest roofs first",
                    choices=["largest roofs first", "best yield first"],
                    help="which roofs are filled first")
    sw.add_argument("--battery-kwh-per-kwp", type=float, default=0.0,
                    help="battery capacity added with every kWp [kWh/kWp]")
    sw.add_argument("--csv", help="also write the table as CSV")
    sw.set_defaults(func=cmd_sweep)
    sg = sub.add_parser("suggest", help="place PV and batteries within a budget to maximise "
                                        "an objective (writes a scenario)")
    _district_arguments(sg)
    sg.add_argument("--budget-eur", type=float, required=True, help="added capex [EUR]")
    sg.add_argument("--objective", choices=["self_sufficiency", "resilience", "npv"],
                    default="self_sufficiency",
                    help="npv: the community's net present value (econ.* assumptions)")
    sg.add_argument("--critical-only", action="store_true",
                    help="place only on buildings flagged critical")
    sg.add_argument("--no-batteries", action="store_true", help="place PV only")
    sg.add_argument("--grid-hosting", action="store_true",
                    help="cap PV by the power flow's hosting capacity too (a few seconds)")
    sg.add_argument("--output", "-o", required=True, help="scenario JSON to write")
    sg.set_defaults(func=cmd_suggest)
    im = sub.add_parser("import", help="make a district from a city's own files")
    im.add_argument("buildings", help="footprints: GeoJSON, GeoPackage, zipped Shapefile or "
                                      "OpenStreetMap .osm.pbf")
    im.add_argument("--layer", help="the GeoPackage layer holding the buildings")
    im.add_argument("--streets", help="street lines to lay synthesized feeders along")
    im.add_argument("--network", help="pandapower network (pandapower.to_json) with geodata")
    im.add_argument("--transformers", help="transformer points (GIS file)")
    im.add_argument("--weather", help="EPW, TMY3 or DWD TRY file, or 'pvgis' to download "
                                      "(default: PVGIS if it answers within 5 s, else the bundled "
                                      "DWD TRY year of the site's region)")
    im.add_argument("--meter-data", help="CSV of measured demand: 'timestamp' (ISO 8601, "
                    "hourly or 15-minute, one year) and one column per building id [kW]")
    im.add_argument("--pv-data", help="CSV of the measured output of existing PV systems, "
                    "same format as --meter-data [kW AC]")
    im.add_argument("--name", help="district name (default: from the file name)")
    im.add_argument("--max-mb", type=float, default=None,
                    help="largest accepted file in MB (default 200, DECENTRA_MAX_UPLOAD_MB)")
    im.add_argument("--output", "-o", required=True, help="district GeoPackage to write")
    im.add_argument("--scenario-out", help="where to write placements found in the file "
                                           "(default: OUTPUT with .scenario.json)")
    im.add_argument("--json", action="store_true", help="print the import report as JSON")
    im.set_defaults(func=cmd_import)
    ws = sub.add_parser("workspaces", help="list the workspaces of the scenario store with "
                                           "the private link that opens each")
    ws.add_argument("--store", default=None, help="SQLite store (default DECENTRA_STORE or "
                                                  "~/.decentra/scenarios.sqlite)")
    ws.add_argument("--base-url", default="http://127.0.0.1:8050",
                    help="where the app is served")
    ws.set_defaults(func=cmd_workspaces)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            if not args.debug:            # libraries' warnings are not the user's message
                warnings.simplefilter("ignore")
            return int(args.func(args))
    except DecentraError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # the last line of defence: never a traceback for users
        if args.debug:
            raise
        print(f"error: unexpected failure ({type(err).__name__}: {err}); rerun with --debug "
              "and report it", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
