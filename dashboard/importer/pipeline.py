"""Bring your own city: a District from the files a city has.

    result = import_district("footprints.geojson")                    # footprints alone
    result = import_district("city.osm.pbf", weather="site.epw")      # OpenStreetMap extract
    result = import_district("b.gpkg", layer="buildings", network="grid.json")  # pandapower
    result.district, result.report.summary_lines(), result.scenario

What a city lacks is filled in and said so in the report: attributes from the assumptions table
(flagged ``*_assumed``), feeders synthesized along the streets (from the upload, the OSM extract,
or, failing both, the shortest lines joining the buildings), weather from PVGIS or a bundled DWD
test reference year, public holidays of the site's country. Every problem with a file is one
:class:`DecentraError` naming the file, the problem and the first offending rows; nothing is
returned or written half.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from dashboard.domain.assumptions import Assumptions
from dashboard.domain.district import District
from dashboard.domain.errors import DecentraError
from dashboard.importer.attributes import file_attributes, file_placements
from dashboard.importer.calendar import site_holidays
from dashboard.importer.footprints import clean_footprints
from dashboard.importer.network import check_transformer_distance, lines_layer, transformer_points
from dashboard.importer.report import ImportReport, ImportResult, Notes, attribute_counts
from dashboard.importer.sources import read_source
from dashboard.importer.weather import site_weather
from dashboard.io.formats import (
    Limits,
    check_size,
    list_layers,
    sniff,
)
from dashboard.io.plausibility import check_values


def import_district(buildings: str | Path, *, layer: str | None = None,
                    streets: str | Path | None = None, network: str | Path | None = None,
                    transformers: str | Path | None = None,
                    weather: str | Path | None = None, name: str | None = None,
                    meter_data: str | Path | None = None, pv_data: str | Path | None = None,
                    assumptions: Assumptions | None = None, limits: Limits | None = None,
                    cache_dir: Path | None = None) -> ImportResult:
    """A complete District from a city's files.

    Parameters
    ----------
    buildings:
        Footprints: GeoJSON, GeoPackage (``layer`` chooses one of several), zipped Shapefile,
        or an OpenStreetMap ``.osm.pbf`` extract (its streets are used for the feeders).
    streets:
        Street centre lines (any of the same formats) to lay synthesized feeders along.
    network:
        A pandapower network (``pandapower.to_json``) with bus geodata: its transformers and
        lines become the district's, buildings join its loads by id or nearest load bus.
    transformers:
        Transformer points (any vector format; ``rating_kva`` optional); buildings join the
        nearest. A GeoPackage's ``lines`` layer is kept as the feeders.
    weather:
        An EPW, TMY3 or DWD TRY file, ``"pvgis"`` to download a typical year for the
        district's location (cached), or None: PVGIS if it answers within 5 s, else a bundled
        DWD test reference year (:mod:`dashboard.importer.weather`).
    meter_data:
        A CSV of measured demand: a ``timestamp`` column (ISO 8601, hourly or 15-minute, one
        calendar year) and one column per building id [kW average]; measured buildings use
        their series (:mod:`dashboard.io.timeseries`), the others their standard profile.
    pv_data:
        The same format for the measured AC output [kW] of existing PV systems: the imported
        scenario places them (kWp from ``pv_kwp`` or estimated) and the engine uses the
        measured series for them.

    Raises
    ------
    DecentraError
        For every problem with the input; nothing else escapes for bad files.
    """
    from dashboard.energy.load import bdew_profiles
    from dashboard.io.assumptions import read_assumptions
    from dashboard.synthesis.buildings import building_attributes
    from dashboard.synthesis.feeders import (
        network_from_transformers,
        proxy_streets,
        synthesize_network,
    )

    limits = limits or Limits()
    path = Path(buildings)
    notes = Notes()
    if not path.exists():
        raise DecentraError("file not found", source=str(path))
    check_size(path, limits)
    if sniff_district(path):
        if meter_data is not None or pv_data is not None:
            raise DecentraError("a Decentra district file is loaded as it is; give meter data "
                                "with the building footprints instead", source=path.name)
        return _existing_district(path)
    src = read_source(path, layer, "buildings", limits, siblings=True)
    frame, extent_km = clean_footprints(src.frame, src.label, limits, notes, src.id_column)
    canon, mapping = file_attributes(frame, src.label, src.id_column, notes)
    ids = canon["building_id"].tolist()
    district_name = (name or _default_name(path)).strip()[:200] or "Imported district"
    scenario = file_placements(frame, ids, src.label, f"{district_name}: imported placements")

    a = assumptions or read_assumptions()
    centre = shapely.centroid(shapely.union_all(
        shapely.centroid(canon.geometry.values)))
    lat, lon = round(float(centre.y), 5), round(float(centre.x), 5)
    year = int(a.number("time.reference_year"))
    weather_df, site, weather_source = site_weather(weather, lat, lon, year, notes, cache_dir,
                                                limits)
    holidays = site_holidays(lat, lon, year, notes)   # the site's country, offline
    a = a.with_values(time__timezone=site.timezone, time__holidays=holidays)
    names = tuple(dict.fromkeys(a.use_text(u, "load_profile") for u in a.use_types()))
    try:
        profiles = bdew_profiles(year, site.timezone, names, holidays=holidays or None)
        table = building_attributes(canon, a, id_column="building_id")
    except DecentraError as err:
        raise DecentraError(err.message, source=src.label, rows=err.rows) from None

    assumed, provenance = attribute_counts(table, canon)
    if meter_data is not None:
        from dashboard.importer.meters import apply_meter_data
        from dashboard.io.timeseries import read_measured_csv

        series = read_measured_csv(meter_data, ids, year, site.timezone, limits=limits)
        table, profiles = apply_meter_data(table, profiles, series, notes)
        assumed["annual_demand_kwh"] = int(table["demand_assumed"].sum())
    pv_profiles = None
    if pv_data is not None:
        from dashboard.importer.meters import apply_pv_data
        from dashboard.io.timeseries import read_measured_csv

        pv_series = read_measured_csv(pv_data, ids, year, site.timezone, what="PV output",
                                      limits=limits)
        table, pv_profiles, scenario = apply_pv_data(
            table, pv_series, scenario, weather_df, site, a, notes,
            f"{district_name}: imported placements")
    critical = table.loc[table["critical"], "critical_reason"]
    if len(critical):        # resilience hubs: what the tags made critical, and why
        why = ", ".join(f"{k} ({v})" for k, v in critical.value_counts().head(5).items())
        notes.add(f"{len(critical):,} buildings are critical facilities from their tags: {why}")
    if mapping.get("footprint_area_m2"):
        notes.add(f"Footprint areas are measured from the geometry; the column "
                  f"'{mapping['footprint_area_m2']}' was checked but not used")

    # feeders and transformers
    street_frame: gpd.GeoDataFrame | None = None
    if network is not None:
        from dashboard.io.pandapower_net import assign_buildings, read_pandapower

        net_path = Path(network)
        if not net_path.exists():
            raise DecentraError("file not found", source=str(net_path))
        check_size(net_path, limits)
        pp_net = read_pandapower(net_path)
        for warning in pp_net.warnings:
            notes.add(warning)
        check_transformer_distance(table, pp_net.transformers, net_path.name, notes)
        try:
            table["transformer_id"] = assign_buildings(table, pp_net)
        except DecentraError as err:
            raise DecentraError(err.message, source=net_path.name) from None
        tr = pp_net.transformers.drop(columns="lv_bus")
        ln = pp_net.lines
        network_source = (f"pandapower network {net_path.name} ({len(tr)} transformers, "
                          f"{len(ln)} lines); buildings joined to loads by id or nearest load "
                          "bus")
        extra_meta = {"pandapower_json": pp_net.json_text}
    elif transformers is not None or "transformers" in src.siblings:
        if transformers is not None:
            t_src = read_source(Path(transformers), None, "transformers", limits,
                                 siblings=True)
            t_frame, t_label = t_src.frame, t_src.label
            line_frame = t_src.siblings.get("lines")
        else:
            t_frame, t_label = src.siblings["transformers"], f"{src.label}: transformers"
            line_frame = src.siblings.get("lines")
        tpts = transformer_points(t_frame, t_label)
        rated = tpts["rating_kva"].to_numpy(float)
        for warning in check_values("rating_kva", rated[np.isfinite(rated)], t_label,
                                    "rating_kva"):
            notes.add(warning)
        check_transformer_distance(table, tpts, t_label, notes)
        lines_in = lines_layer(line_frame, t_label) if line_frame is not None else None
        net = network_from_transformers(table, tpts, lines_in, profiles, a)
        table = net.buildings
        if "transformer_id" in frame.columns:   # a Decentra export keeps its assignment
            known = frame["transformer_id"].astype(str).to_numpy()
            if set(known) <= set(tpts["transformer_id"]):
                table["transformer_id"] = known
        tr, ln = net.transformers, net.lines
        network_source = (f"{len(tr)} transformers from {t_label}"
                          + (f", {len(ln)} lines as given" if lines_in is not None
                             else "; service lines drawn straight to the nearest transformer"))
        extra_meta = {}
    else:
        if streets is not None:
            s_src = read_source(Path(streets), None, "streets", limits)
            street_frame = lines_layer(s_src.frame, s_src.label)
            how = f"synthesized along the streets of {s_src.label}"
        elif "streets" in src.siblings:
            street_frame = lines_layer(src.siblings["streets"], src.label)
            how = f"synthesized along the streets in {src.label}"
        else:
            street_frame = proxy_streets(table)
            how = ("synthesized along the shortest lines joining the buildings (no streets "
                   "given)")
            notes.add("No feeders or streets given: feeders were synthesized along the "
                      "shortest lines joining the buildings; upload streets for a closer "
                      "network")
        try:
            net = synthesize_network(table, street_frame, profiles, a)
        except DecentraError as err:
            raise DecentraError(err.message, source=src.label) from None
        table, tr, ln = net.buildings, net.transformers, net.lines
        for note in net.notes:
            notes.add(note)
        network_source = f"{how} (dashboard.synthesis.feeders)"
        extra_meta = {}

    meta = {"synthetic": "false",
            "description": f"Imported from {src.label}",
            "buildings_source": src.label,
            "weather_source": weather_source,
            "load_profile_source": "BDEW standard load profiles 2025 via demandlib"
            + (f"; measured meter data from {Path(meter_data).name}" if meter_data else ""),
            **({"pv_output_source": f"measured PV output from {Path(pv_data).name}"}
               if pv_data else {}),
            "network_source": network_source, **extra_meta}
    streets_out = (gpd.GeoDataFrame(geometry=street_frame.to_crs(4326).geometry.values, crs=4326)
                   if street_frame is not None else gpd.GeoDataFrame(geometry=[], crs=4326))
    try:
        district = District(name=district_name, buildings=table.reset_index(drop=True),
                            transformers=tr, lines=ln, streets=streets_out,
                            weather=weather_df, load_profiles=profiles, assumptions=a,
                            site=site, meta=meta, pv_profiles=pv_profiles)
    except DecentraError as err:
        raise DecentraError(err.message, source=src.label, rows=err.rows) from None
    if scenario is not None:
        unknown = [p.building_id for p in scenario.pv if p.building_id not in set(ids)]
        if unknown:   # cannot happen: ids come from the same rows; kept as a guard
            raise DecentraError("placements on unknown buildings", source=src.label,
                                rows=unknown)
    d = district.describe()
    report = ImportReport(
        name=district_name, source=src.label, buildings=d["buildings"],
        footprint_area_m2=d["footprint_area_m2"], annual_demand_kwh=d["annual_demand_kwh"],
        pv_potential_kwp=d["pv_potential_kwp"], transformers=d["transformers"],
        lines=d["lines"], mapping={k: v for k, v in mapping.items()},
        assumed=assumed, notes=tuple(notes.items), network_source=network_source,
        weather_source=weather_source,
        placements=0 if scenario is None else len(scenario.pv) + len(scenario.batteries),
        extent_km=round(extent_km, 2), provenance=provenance)
    return ImportResult(district, report, scenario)


def _default_name(path: Path) -> str:
    stem = path.name
    for suffix in (".osm.pbf", ".geojson", ".json", ".gpkg", ".zip", ".shp", ".pbf"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return stem.replace("_", " ").strip() or "Imported district"


def sniff_district(path: Path) -> bool:
    """Whether ``path`` is a Decentra district GeoPackage (then it is loaded as it is)."""
    try:
        if sniff(path) != "gpkg":
            return False
        names = {n for n, _ in list_layers(path)}
    except (DecentraError, OSError):
        return False
    return {"meta", "weather", "load_profiles", "buildings"} <= names


def _existing_district(path: Path) -> ImportResult:
    from dashboard.io.district_gpkg import read_district

    district = read_district(path)
    d = district.describe()
    report = ImportReport(
        name=district.name, source=path.name, buildings=d["buildings"],
        footprint_area_m2=d["footprint_area_m2"], annual_demand_kwh=d["annual_demand_kwh"],
        pv_potential_kwp=d["pv_potential_kwp"], transformers=d["transformers"],
        lines=d["lines"], mapping={}, assumed={},
        notes=("A Decentra district file: loaded as it is",),
        network_source=str(district.meta.get("network_source", "from the district file")),
        weather_source=str(district.meta.get("weather_source", "from the district file")))
    return ImportResult(district, report, None)
