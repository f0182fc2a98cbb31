"""Import a city's own data: footprints (GeoJSON, GeoPackage, zipped Shapefile, OSM PBF), feeders
(pandapower, GIS transformers, streets or synthesized) and weather (EPW, TMY3, DWD TRY, PVGIS).

By job: :mod:`.sources` (reading files), :mod:`.footprints`, :mod:`.attributes`,
:mod:`.weather`, :mod:`.calendar` (the site's public holidays), :mod:`.network`,
:mod:`.report`, and :mod:`.pipeline` (``import_district``).
"""

from __future__ import annotations

from dashboard.importer.attributes import file_attributes, file_placements
from dashboard.importer.calendar import site_country, site_holidays
from dashboard.importer.footprints import clean_footprints
from dashboard.importer.network import (
    FAR_TRANSFORMER_KM,
    MAX_TRANSFORMER_KM,
    RATING_ALIASES,
    TRANSFORMER_ID_ALIASES,
    check_transformer_distance,
    lines_layer,
    transformer_points,
)
from dashboard.importer.pipeline import import_district, sniff_district
from dashboard.importer.report import ImportReport, ImportResult, Notes
from dashboard.importer.sources import (
    FEEDER_KINDS,
    FEEDER_LAYERS,
    feeder_file_kind,
    read_source,
    source_layers,
)
from dashboard.importer.weather import (
    FAR_WEATHER_KM,
    FAR_WEATHER_MARK,
    MAX_WEATHER_DISTANCE_KM,
    site_weather,
)

__all__ = [
    'FAR_TRANSFORMER_KM',
    'FAR_WEATHER_KM',
    'FAR_WEATHER_MARK',
    'FEEDER_KINDS',
    'FEEDER_LAYERS',
    'MAX_TRANSFORMER_KM',
    'MAX_WEATHER_DISTANCE_KM',
    'RATING_ALIASES',
    'TRANSFORMER_ID_ALIASES',
    'ImportReport',
    'ImportResult',
    'Notes',
    'check_transformer_distance',
    'clean_footprints',
    'feeder_file_kind',
    'file_attributes',
    'file_placements',
    'import_district',
    'lines_layer',
    'read_source',
    'site_country',
    'site_holidays',
    'site_weather',
    'sniff_district',
    'source_layers',
    'transformer_points',
]
