"""Build the embedded default district, data/bubenec_district.gpkg, from open data.

    python data/build_default_district.py

Inputs (all bundled in installed packages, no download):
- 144 building footprints and 35 streets of Bubeneč, Prague: momepy's ``bubenec.gpkg``
  (derived from OpenStreetMap, © OpenStreetMap contributors, ODbL; momepy is BSD-3-Clause).
- Weather: DWD test reference year TRY2010 climate region 9 (Chemnitz station; the region nearest
  Prague), bundled with demandlib (© Deutscher Wetterdienst).
- Load profiles: BDEW standard load profiles 2025 (H25, G25, L25) via demandlib (MIT).
- Assumptions: data/assumptions.csv (every value with unit and source).

The result is deterministic: the same inputs give the same file content.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

import geopandas as gpd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashboard.domain.district import Site  # noqa: E402
from dashboard.energy.weather import hourly_index, weather_from_horizontal  # noqa: E402
from dashboard.io.assumptions import read_assumptions  # noqa: E402
from dashboard.io.district_gpkg import write_district  # noqa: E402
from dashboard.io.weather import bundled_try_path, read_dwd_try  # noqa: E402
from dashboard.synthesis.district import build_district  # noqa: E402

OUT = ROOT / "data" / "bubenec_district.gpkg"
TRY_REGION = 9
# content hashes of earlier releases of this district: scenarios saved on them stay listed
# (District.lineage); add the released hash here whenever a rebuild changes it
SUPERSEDES = ("98e85deca5b4ab3ba31a38643b473024",)
ALTITUDE_M = 230.0  # approximate ground elevation of Bubeneč (Prague 6) above sea level


def main(out: Path = OUT) -> Path:
    source = Path(str(resources.files("momepy") / "datasets" / "bubenec.gpkg"))
    footprints = gpd.read_file(source, layer="buildings")     # EPSG:3857
    streets = gpd.read_file(source, layer="streets")
    footprints["building_id"] = [f"B{int(u):03d}" for u in footprints["uID"]]
    assumptions = read_assumptions()
    centre = footprints.to_crs(4326).union_all().centroid
    site = Site(latitude_deg=round(centre.y, 5), longitude_deg=round(centre.x, 5),
                altitude_m=ALTITUDE_M, timezone=assumptions.text("time.timezone"))
    raw, try_meta = read_dwd_try(bundled_try_path(TRY_REGION))
    index = hourly_index(int(assumptions.number("time.reference_year")), site.timezone)
    weather = weather_from_horizontal(index, site, raw["bhi"].to_numpy(),
                                      raw["dhi"].to_numpy(), raw["temp_air"].to_numpy(),
                                      raw["wind_speed"].to_numpy())
    meta = {
        "synthetic": "false",
        "supersedes": ";".join(SUPERSEDES),
        "description": "144 real building footprints and 35 streets of Bubeneč, Prague, with a "
                       "synthesized low-voltage network",
        "buildings_source": "momepy bubenec.gpkg (OpenStreetMap data, © OpenStreetMap "
                            "contributors, ODbL 1.0)",
        "weather_source": f"DWD TRY2010 region {TRY_REGION} "
                          f"({try_meta.get('station', '?')}), © Deutscher Wetterdienst, "
                          "bundled with demandlib",
        "load_profile_source": "BDEW standard load profiles 2025 via demandlib",
        "network_source": "synthesized along the streets (dashboard.synthesis.feeders)",
    }
    district = build_district("Bubeneč, Prague", footprints, streets, weather, site,
                              assumptions, meta=meta, id_column="building_id")
    write_district(district, out)
    d = district.describe()
    print(f"wrote {out}: {d['buildings']} buildings, {d['transformers']} transformers, "
          f"{d['lines']} lines, {d['annual_demand_kwh'] / 1e6:.2f} GWh/a, "
          f"{d['pv_potential_kwp']:.0f} kWp potential")
    return out


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
