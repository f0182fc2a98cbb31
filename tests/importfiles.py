"""Real files for import tests: footprints of Bubeneč written in every format a city brings,
an EPW writer, and archives built to attack the importer."""

from __future__ import annotations

import io
import zipfile
from importlib import resources
from pathlib import Path

import geopandas as gpd
import pandas as pd


def bubenec_footprints(n: int | None = None) -> gpd.GeoDataFrame:
    """Real OSM footprints of Bubeneč (momepy), EPSG:4326, with a few attributes a city's
    GIS would have."""
    source = Path(str(resources.files("momepy") / "datasets" / "bubenec.gpkg"))
    frame = gpd.read_file(source, layer="buildings").to_crs(4326)
    frame = frame.iloc[: n or len(frame)].reset_index(drop=True)
    out = gpd.GeoDataFrame({"id": [f"B{int(u):03d}" for u in frame["uID"]]},
                           geometry=frame.geometry.values, crs=4326)
    return out


def shapefile_zip(frame: gpd.GeoDataFrame, path: Path, *, prj: bool = True,
                  encoding: str | None = None) -> Path:
    """A zipped Shapefile of ``frame`` (optionally without its .prj file)."""
    folder = path.parent / (path.stem + "_shp")
    folder.mkdir(parents=True, exist_ok=True)
    shp = folder / "buildings.shp"
    kwargs = {"encoding": encoding} if encoding else {}
    frame.to_file(shp, driver="ESRI Shapefile", **kwargs)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in sorted(folder.iterdir()):
            if part.suffix == ".prj" and not prj:
                continue
            zf.write(part, part.name)
    return path


def write_epw(weather: pd.DataFrame, path: Path, latitude: float, longitude: float,
              tz_hours: float, elevation_m: float, city: str = "Test") -> Path:
    """An EnergyPlus weather file (EPW) of 8760 hourly rows in file order (hour 1 =
    00:00-01:00 local standard time), as weather services write them."""
    header = [
        f"LOCATION,{city},-,CZE,test,000000,{latitude:.4f},{longitude:.4f},{tz_hours:.1f},"
        f"{elevation_m:.1f}",
        "DESIGN CONDITIONS,0", "TYPICAL/EXTREME PERIODS,0", "GROUND TEMPERATURES,0",
        "HOLIDAYS/DAYLIGHT SAVINGS,No,0,0,0", "COMMENTS 1,written by the Decentra tests",
        "COMMENTS 2,", "DATA PERIODS,1,1,Data,Sunday, 1/ 1,12/31"]
    stamps = pd.date_range("2019-01-01", periods=8760, freq="h")
    row = ("{},{},{},{},60,?9?9?9?9E0?9?9?9?9?9?9?9?9?9?9?9?9,{:.1f},0.0,70,98000,0,0,300,"
           "{:.0f},{:.0f},{:.0f},0,0,0,0,180,{:.1f},5,5,20,77777,9,999999999,10,0.1,0,88,0.2,0,1")
    if len(weather) != len(stamps):
        raise ValueError("an EPW needs 8760 hourly rows")
    lines = [row.format(*v) for v in zip(
        stamps.year.tolist(), stamps.month.tolist(), stamps.day.tolist(),
        (stamps.hour + 1).tolist(), *(weather[c].to_numpy(float).tolist() for c in
                                      ("temp_air", "ghi", "dni", "dhi", "wind_speed")),
        strict=True)]
    path.write_text("\n".join(header + lines) + "\n", encoding="ascii")
    return path


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()
