"""Awkward geometry never crashes an import: buildings in a straight row (WGS 84, so with
reprojection noise), one or two buildings, duplicates, bow-ties, slivers and a stray far away
are repaired and reported with counts and ids, or refused in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, box

from dashboard.importer import import_district
from dashboard.synthesis.feeders import proxy_streets

X0, Y0 = 458_000.0, 5_550_000.0          # metres in UTM 33N (EPSG:32633), near Prague


def square(x: float, y: float, side_m: float = 10.0) -> Polygon:
    return box(x, y, x + side_m, y + side_m)


def row(n: int, dx_m: float = 20.0, dy_m: float = 7.0) -> list[Polygon]:
    return [square(X0 + dx_m * i, Y0 + dy_m * i) for i in range(n)]


def cluster(n: int) -> list[Polygon]:
    return [square(X0 + 30 * i, Y0 + 40 + 13 * (i % 3)) for i in range(n)]


def bowtie(x: float, y: float) -> Polygon:
    """Two 20 m x 10 m triangles touching at a point: 200 m2 once repaired."""
    return Polygon([(x, y), (x + 20, y + 20), (x + 20, y), (x, y + 20), (x, y)])


def frame(geoms: list[Polygon]) -> gpd.GeoDataFrame:
    """Footprints drawn in metres, stored as WGS 84 longitude/latitude (as cities send)."""
    return gpd.GeoDataFrame({"id": [f"b{i}" for i in range(len(geoms))]}, geometry=geoms,
                            crs=32633).to_crs(4326)


def geojson(geoms: list[Polygon], path: Path) -> Path:
    path.write_text(frame(geoms).to_json(), encoding="utf-8")
    return path


def buildings_for_streets(geoms: list[Polygon]) -> gpd.GeoDataFrame:
    return frame(geoms).rename(columns={"id": "building_id"})


# ---- the stand-in streets (minimum spanning tree) on degenerate layouts -------------------
@pytest.mark.parametrize("n, dx_m, dy_m", [(5, 20.0, 7.0), (50, 20.0, 7.0), (5, 0.0, 20.0)])
def test_a_row_of_buildings_is_joined_in_order(n, dx_m, dy_m):
    """A row is a chain: n - 1 lines, each between neighbours, so the total is (n - 1) times
    the spacing (an order by noise, e.g. by x in a north-south row, would zig-zag)."""
    lines = proxy_streets(buildings_for_streets(row(n, dx_m, dy_m)))
    assert len(lines) == n - 1
    length_m = lines.to_crs(32633).length.to_numpy()
    np.testing.assert_allclose(length_m, np.hypot(dx_m, dy_m), rtol=1e-4)


def test_repeated_points_in_a_plane_are_all_joined():
    """Qhull sets repeated points aside (``coplanar``): they must still join the tree, so the
    tree has one line fewer than there are buildings and reaches every building."""
    geoms = cluster(7) + [square(X0, Y0 + 40)] * 3 + [square(X0 + 60, Y0 + 66)]
    b = buildings_for_streets(geoms)
    lines = proxy_streets(b)
    assert len(lines) == len(geoms) - 1
    ends = shapely.get_coordinates(lines.to_crs(32633).geometry.values)
    anchors = b.to_crs(32633).representative_point()
    gap = [np.hypot(*(ends - (p.x, p.y)).T).min() for p in anchors]
    assert max(gap) < 1e-6


def test_buildings_at_one_point_get_one_stub():
    nested = [square(X0 - 5, Y0 - 5, 10), square(X0 - 4, Y0 - 4, 8), square(X0 - 3, Y0 - 3, 6)]
    lines = proxy_streets(buildings_for_streets(nested))
    assert len(lines) == 1 and lines.to_crs(32633).length.iloc[0] == pytest.approx(30, 1e-6)


# ---- whole imports ------------------------------------------------------------------------
CASES = {
    "row of 5": (row(5), 5, None),
    "row of 50": (row(50), 50, None),
    "two": (row(2), 2, None),
    "one": (row(1), 1, None),
    "all at one point": ([square(X0, Y0)] * 6, 1,
                         "5 duplicate footprints (the same outline as an earlier one) were "
                         "skipped: b1, b2, b3, b4, b5"),
    "row with a duplicate": ([*row(5), square(X0 + 20, Y0 + 7)], 5,
                             "1 duplicate footprints (the same outline as an earlier one) "
                             "were skipped: b5"),
    "nested at one point": ([square(X0 - 5, Y0 - 5, 10), square(X0 - 4, Y0 - 4, 8)], 2, None),
    "bow-tie": ([bowtie(X0, Y0), *cluster(6)], 7,
                "1 invalid or self-intersecting polygons were repaired (make_valid: b0)"),
    "only bow-ties": ([bowtie(X0 + 30 * i, Y0) for i in range(6)], 6,
                      "6 invalid or self-intersecting polygons were repaired (make_valid: "
                      "b0, b1, b2, b3, b4, ...)"),
    "slivers": ([Polygon([(X0, Y0), (X0 + 50, Y0), (X0 + 100, Y0)]),
                 Polygon([(X0, Y0 + 50), (X0 + 40, Y0 + 50.0001), (X0 + 80, Y0 + 50)]),
                 *cluster(6)], 6, "2 slivers smaller than 1 m2 were skipped: b0, b1"),
    "far away alone": ([*cluster(8), square(X0 + 4000, Y0 + 3000)], 9,
                       "1 buildings stand more than 1 km from any other (check their "
                       "coordinates): b8"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_awkward_footprints_import_with_a_note(tmp_path, case):
    geoms, n, note = CASES[case]
    result = import_district(geojson(geoms, tmp_path / "case.geojson"))
    d = result.district
    assert d.n_buildings == n
    assert set(d.buildings["transformer_id"]) <= set(d.transformers["transformer_id"])
    assert d.buildings.geometry.is_valid.all()
    if note is not None:
        assert any(line.startswith(note) for line in result.report.notes), \
            result.report.notes
    if case == "bow-tie":    # the repaired bow-tie keeps both triangles: 2 x 20 x 10 / 2
        b = d.buildings.set_index("building_id")
        assert b.loc["b0", "footprint_area_m2"] == pytest.approx(200.0, rel=1e-3)


def test_a_stray_within_a_kilometre_is_not_flagged(tmp_path):
    result = import_district(geojson([*cluster(8), square(X0 + 900, Y0)],
                                     tmp_path / "near.geojson"))
    assert not any("from any other" in line for line in result.report.notes)


# ---- as a process: exit 0 with a district, or exit 2 with one line ------------------------
def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dashboard", "import", *args],
                          capture_output=True, text=True, timeout=300)


def test_a_row_imports_from_the_command_line(tmp_path):
    out = cli(str(geojson(row(5), tmp_path / "row.geojson")), "-o", str(tmp_path / "r.gpkg"))
    assert out.returncode == 0, out.stderr
    assert "5 buildings" in out.stdout and (tmp_path / "r.gpkg").exists()


def test_only_slivers_are_refused_in_one_line(tmp_path):
    slivers = [Polygon([(X0 + i, Y0), (X0 + 50 + i, Y0), (X0 + 100 + i, Y0)]) for i in range(4)]
    out = cli(str(geojson(slivers, tmp_path / "slivers.geojson")), "-o",
              str(tmp_path / "s.gpkg"))
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0
    assert "slivers.geojson" in out.stderr and "smaller than 1 m2" in out.stderr
    assert not (tmp_path / "s.gpkg").exists()
