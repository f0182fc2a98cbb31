"""Assemble a complete District from footprints, streets and weather."""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import pandas as pd

from dashboard.domain.assumptions import Assumptions
from dashboard.domain.district import District, Site
from dashboard.energy.load import bdew_profiles
from dashboard.synthesis.buildings import building_attributes
from dashboard.synthesis.feeders import synthesize_network


def profiles_for(assumptions: Assumptions, year: int, timezone: str) -> pd.DataFrame:
    """The BDEW profiles that the assumptions' use types refer to."""
    names = tuple(dict.fromkeys(assumptions.use_text(u, "load_profile")
                                for u in assumptions.use_types()))
    holidays = assumptions.text("time.holidays") if "time.holidays" in assumptions else None
    return bdew_profiles(year, timezone, names, holidays=holidays or None)


def build_district(name: str, footprints: gpd.GeoDataFrame, streets: gpd.GeoDataFrame,
                   weather: pd.DataFrame, site: Site, assumptions: Assumptions,
                   meta: Mapping[str, str] | None = None, id_column: str | None = None,
                   seed: int = 0) -> District:
    """Buildings with attributes, a synthesized radial LV network along ``streets``, load
    profiles on the weather's clock."""
    year = int(weather.index[0].year)
    profiles = profiles_for(assumptions, year, site.timezone)
    buildings = building_attributes(footprints, assumptions, id_column=id_column)
    net = synthesize_network(buildings, streets, profiles, assumptions, seed=seed)
    return District(
        name=name, buildings=net.buildings, transformers=net.transformers, lines=net.lines,
        streets=gpd.GeoDataFrame(geometry=streets.to_crs(4326).geometry.values, crs=4326),
        weather=weather, load_profiles=profiles, assumptions=assumptions, site=site,
        meta=dict(meta or {}))
