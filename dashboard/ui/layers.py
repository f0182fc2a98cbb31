"""Content-addressed GeoJSON layers for the map.

A layer is described by a small payload (which district, which buildings / transformers, and
the figures shown in hover), stored in the shared cache under the hash of its content; its URL
is that hash. The same content always has the same URL, so after an edit only the layers that
really changed get a new URL and are fetched again; the rest stay untouched in the browser.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd

from dashboard.cache import Memo, shared
from dashboard.domain.district import District
from dashboard.domain.forksafe import ForkSafeLock
from dashboard.figures.maps import (
    LINE_CLASSES,
    N_CLASSES,
    ColorSpec,
    LayerUrls,
    class_breaks,
    classify,
    content_key,
    feature_collection,
    geometry_strings,
    gzip_bytes,
    props_json,
    tip_table,
    transformer_classes,
)

SERVICE_LINES_MAX_BUILDINGS = 5000


class LayerService:
    """Builds layer URLs for a view and serves their GeoJSON (gzipped)."""

    def __init__(self) -> None:
        self._lock = ForkSafeLock()
        self._geoms: dict[str, dict[str, list[str]]] = {}
        self._line_owner: dict[str, np.ndarray] = {}
        self._served: Memo[str, bytes] = Memo(256)
        self._payloads: Memo[str, dict] = Memo(4096)

    # ---- static geometry per district ------------------------------------------------------
    def _geometry(self, district: District, kind: str) -> list[str]:
        key = district.content_hash
        with self._lock:
            hit = self._geoms.get(key, {}).get(kind)
        if hit is not None:
            return hit
        if kind == "polygons":
            geoms = np.asarray(district.buildings.geometry.values)
        elif kind == "points":
            geoms = np.asarray(district.buildings.geometry.representative_point().values)
        else:
            geoms = np.asarray(district.lines.geometry.values)
        # ~0.1 m coordinates for a district, ~0.5 m for a city (a quarter less to send)
        grid = 1e-6 if district.n_buildings <= SERVICE_LINES_MAX_BUILDINGS else 5e-6
        strings = geometry_strings(geoms, grid)
        with self._lock:
            self._geoms.setdefault(key, {})[kind] = strings
        return strings

    def line_owner(self, district: District) -> np.ndarray:
        """Transformer row of each line; -1 for lines not drawn (service connections of
        districts above SERVICE_LINES_MAX_BUILDINGS: invisible at city scale)."""
        key = district.content_hash
        with self._lock:
            hit = self._line_owner.get(key)
        if hit is None:
            index = pd.Index(district.transformers["transformer_id"].astype(str))
            hit = index.get_indexer(district.lines["transformer_id"].astype(str))
            if district.n_buildings > SERVICE_LINES_MAX_BUILDINGS:
                hit = np.where(district.lines["kind"].to_numpy() == "service", -1, hit)
            with self._lock:
                self._line_owner[key] = hit
        return hit

    # ---- URLs for a view ---------------------------------------------------------------------
    def _register(self, district: District, payload: dict) -> str:
        parts = [payload["kind"], district.content_hash]
        for name in ("rows", "tips"):
            if name in payload:
                parts.append(payload[name])
        key = content_key(*parts)
        if self._payloads.get(key) is None:
            value = {**payload, "district": district.content_hash}
            self._payloads.put(key, value)
            shared().set("layer", key, value, only_new=True)
        return f"/geo/{district.content_hash}/layer/{key}.geojson"

    def building_classes(self, district: District, frame: pd.DataFrame, spec: ColorSpec,
                         ) -> tuple[tuple[str | None, ...], tuple[float, ...]]:
        """URL of each colour class (None when empty) and the class breaks."""
        values = frame[spec.key].to_numpy(float) * spec.factor
        reference = (district.buildings["pv_potential_kwp"].to_numpy(float)
                     if spec.key in ("pv_kwp", "pv_potential_kwp") else values)
        breaks = class_breaks(spec, reference)
        classes = classify(values, breaks)
        tips = tip_table(frame, values)
        urls: list[str | None] = []
        for c in range(N_CLASSES + 1):
            rows = np.flatnonzero(classes == c).astype(np.int64)
            urls.append(None if len(rows) == 0 else self._register(
                district, {"kind": "buildings", "rows": rows, "tips": tips[rows]}))
        return tuple(urls), breaks

    def points(self, district: District, mask: np.ndarray) -> str | None:
        rows = np.flatnonzero(mask).astype(np.int64)
        return None if len(rows) == 0 else self._register(
            district, {"kind": "points", "rows": rows})

    def outlines(self, district: District, mask: np.ndarray) -> str | None:
        """Footprint outlines of the buildings in ``mask`` (None: none)."""
        rows = np.flatnonzero(mask).astype(np.int64)
        return None if len(rows) == 0 else self._register(
            district, {"kind": "selection", "rows": rows})

    def selection(self, district: District, building_ids: Sequence[str]) -> str | None:
        if not building_ids:
            return None
        rows = np.flatnonzero(district.buildings["building_id"].isin(list(building_ids)))
        return self._register(district, {"kind": "selection", "rows": rows.astype(np.int64)})

    def lines(self, district: District, transformers: pd.DataFrame) -> tuple[str | None, ...]:
        classes = transformer_classes(transformers)
        owner = self.line_owner(district)
        urls: list[str | None] = []
        owned = owner >= 0
        for c in range(len(LINE_CLASSES)):
            rows = np.flatnonzero(owned & (classes[np.maximum(owner, 0)] == c)).astype(np.int64)
            urls.append(None if len(rows) == 0 else self._register(
                district, {"kind": "lines", "rows": rows}))
        return tuple(urls)

    def lines_by_class(self, district: District, classes: np.ndarray
                       ) -> tuple[str | None, ...]:
        """Line layers from a class per district line (index into LINE_CLASSES; -1: hidden),
        e.g. each line's own power-flow loading."""
        owner = self.line_owner(district)
        urls: list[str | None] = []
        for c in range(len(LINE_CLASSES)):
            rows = np.flatnonzero((owner >= 0) & (classes == c)).astype(np.int64)
            urls.append(None if len(rows) == 0 else self._register(
                district, {"kind": "lines", "rows": rows}))
        return tuple(urls)

    def buses(self, district: District, lon: np.ndarray, lat: np.ndarray,
              classes: np.ndarray, tips: list[str], n_classes: int
              ) -> tuple[str | None, ...]:
        """Bus point layers, one per class; ``tips`` are the buses' hover texts."""
        urls: list[str | None] = []
        for c in range(n_classes):
            rows = np.flatnonzero(classes == c)
            if not len(rows):
                urls.append(None)
                continue
            coords = np.round(np.column_stack([lon[rows], lat[rows]]), 6)
            urls.append(self._register(district, {
                "kind": "buses", "rows": coords, "tips": np.array([tips[i] for i in rows])}))
        return tuple(urls)

    def view(self, district: District, frame: pd.DataFrame, spec: ColorSpec,
             transformers: pd.DataFrame, selection: Sequence[str],
             ) -> tuple[LayerUrls, tuple[float, ...]]:
        classes, breaks = self.building_classes(district, frame, spec)
        return LayerUrls(
            classes=classes, selection=self.selection(district, selection),
            lines=self.lines(district, transformers),
            pv=self.points(district, frame["pv_kwp"].to_numpy(float) > 0),
            battery=self.points(district, frame["battery_kwh"].to_numpy(float) > 0),
            critical=self.outlines(district, frame["critical"].to_numpy(bool))), breaks

    # ---- serving -----------------------------------------------------------------------------
    def geojson(self, district: District, key: str) -> bytes | None:
        """Gzipped GeoJSON of a registered layer (None if unknown)."""
        hit = self._served.get(key)
        if hit is not None:
            return hit
        payload = self._payloads.get(key) or shared().get("layer", key, dict)
        if payload is None or payload.get("district") != district.content_hash:
            return None
        kind = payload["kind"]
        ids = district.buildings["building_id"].astype(str).tolist()
        if kind == "buildings":
            rows = payload["rows"]
            geoms = self._geometry(district, "polygons")
            body = feature_collection([geoms[i] for i in rows],
                                      props_json([ids[i] for i in rows], payload["tips"]))
        elif kind == "selection":   # footprints drawn by a line layer
            rows = payload["rows"]
            geoms = self._geometry(district, "polygons")
            body = feature_collection([geoms[i] for i in rows], ["{}"] * len(rows))
        elif kind == "points":
            rows = payload["rows"]
            geoms = self._geometry(district, "points")
            body = feature_collection([geoms[i] for i in rows],
                                      [json.dumps({"b": ids[i]}) for i in rows])
        elif kind == "lines":
            rows = payload["rows"]
            geoms = self._geometry(district, "lines")
            body = feature_collection([geoms[i] for i in rows], ["{}"] * len(rows))
        elif kind == "buses":
            coords = payload["rows"]
            body = feature_collection(
                [f'{{"type":"Point","coordinates":[{float(x)!r},{float(y)!r}]}}'
                 for x, y in coords],
                [json.dumps({"bus": t}) for t in payload["tips"]])
        else:
            return None
        data = gzip_bytes(body)
        self._served.put(key, data)
        return data
