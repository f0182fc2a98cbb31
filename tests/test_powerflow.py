"""Grid physics against pandapower: the batched full-year power flow equals ``runpp`` hour by
hour (default district with PV and batteries, pandapower's mv_oberrhein), the district becomes a
pandapower network and comes back from one, non-convergence is reported, hosting capacity by
bisection equals a brute-force scan and holds under ``runpp``."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest
from shapely.geometry import Point

import dashboard as dc
from dashboard import gridstudy as gs
from dashboard.energy import powerflow as pf
from dashboard.engine import build_placements, district_model
from dashboard.io.pandapower_net import grid_model, to_pandapower
from tests.importfiles import bubenec_footprints

TOL_PU = 1e-6


@pytest.fixture(scope="module")
def pv_scenario(district):
    s = dc.place_pv_by_rule(district, dc.Scenario(name="PV for the grid"), min_roof_m2=250,
                            coverage=0.5)
    bats = [dc.BatteryPlacement(p.building_id, 20.0, 10.0) for p in s.pv[::3]]
    tid = district.transformers["transformer_id"].iloc[1]
    return s.with_battery(*bats).with_community_battery(dc.CommunityBattery(tid, 200, 100))


def runpp_hour(dnet, p_kw: np.ndarray, q_kvar: np.ndarray,
               community_kw: np.ndarray | None = None):
    """pandapower Newton-Raphson with every building's net load at its bus and, if given, each
    transformer's community battery (``community_kw``: (K,), charge positive) at its LV bus."""
    net = dnet.net
    net.load["p_mw"] = 0.0
    net.load["q_mvar"] = 0.0
    rows = net.load.index[: len(p_kw)]
    net.load.loc[rows, "p_mw"] = p_kw / 1000.0
    net.load.loc[rows, "q_mvar"] = q_kvar / 1000.0
    if community_kw is not None:
        for k, bus in enumerate(dnet.transformer_bus):
            if community_kw[k]:
                pp.create_load(net, int(bus), p_mw=community_kw[k] / 1000.0, name="community")
    try:
        pp.runpp(net, tolerance_mva=1e-10, calculate_voltage_angles=True)
    finally:
        net.load.drop(net.load.index[net.load["name"] == "community"], inplace=True)
    return net.res_bus["vm_pu"].copy(), net.res_line["loading_percent"].copy()


def test_year_equals_runpp_hour_by_hour_on_the_default_district(district, pv_scenario):
    """Injections come from the engine's per-building hourly series (an independent path from
    the study's aggregated coefficients), the reference is pandapower's runpp."""
    nm = gs.net_model(district)
    model = district_model(district)
    pl = build_placements(model, pv_scenario)
    result = dc.evaluate(district, pv_scenario, resilience=False)
    community = gs.community_kw(district, pv_scenario)
    tan_phi = np.tan(np.arccos(model.power_factor))
    hourly = {bid: result.hourly(building_id=bid) for bid in model.building_ids}
    # the hours with most export and most import, and a few at random
    net_kw = result.district_net_kw
    hours = sorted({int(net_kw.argmin()), int(net_kw.argmax()), 3000, 4500, 6200})
    solved = {}
    for i in range(nm.n_islands):
        inj = gs.island_injections(nm, model, pl, i, community)
        s = gs.s_pu(nm, inj.p_kw, inj.d_kw, tan_phi)
        sol = pf.solve_island(nm.grid.islands[i], s[hours].T)
        assert sol.converged.all()
        v, line, _ = gs.island_flows(nm, i, sol.v_pq)
        solved[i] = (v, line)
    dnet = nm.dnet
    for col, h in enumerate(hours):
        p = np.array([hourly[b]["net"].iloc[h] for b in model.building_ids])
        q = np.array([tan_phi * hourly[b]["demand"].iloc[h] for b in model.building_ids])
        # community batteries sit at their transformers' LV buses
        vm_ref, line_ref = runpp_hour(dnet, p, q,
                                      None if community is None else community[:, h])
        for i, (v, line) in solved.items():
            isl = nm.grid.islands[i]
            order = np.concatenate([isl.pq, isl.slack])
            buses = nm.bus_table.set_index("ppc").loc[order, "bus"].to_numpy()
            assert np.abs(np.abs(v[:, col]) - vm_ref.loc[buses].to_numpy()).max() < TOL_PU
            rows = gs.island_branches(nm, i).line_rows
            assert np.abs(line[:, col] - line_ref.to_numpy()[rows]).max() < 1e-4


def test_year_equals_runpp_on_mv_oberrhein():
    net = pn.mv_oberrhein()
    net.sgen["scaling"] = 1.0
    model = grid_model(net)
    rng = np.random.default_rng(7)
    n_t = 400
    loads, sgens = net.load, net.sgen
    fl = rng.uniform(0.2, 1.6, (n_t, len(loads)))
    fg = rng.uniform(0.0, 1.2, (n_t, len(sgens)))
    s = np.zeros((model.n_bus, n_t), complex)
    lb, gb = model.ppc_buses(loads["bus"].to_numpy()), model.ppc_buses(sgens["bus"].to_numpy())
    for j in range(len(loads)):
        s[lb[j]] -= (loads["p_mw"].iat[j] + 1j * loads["q_mvar"].iat[j]) \
            * loads["scaling"].iat[j] * fl[:, j]
    for j in range(len(sgens)):
        s[gb[j]] += (sgens["p_mw"].iat[j] + 1j * sgens["q_mvar"].iat[j]) * fg[:, j]
    flows = pf.solve(model, s)
    assert flows.converged.all()
    p0, q0, g0 = loads["p_mw"].copy(), loads["q_mvar"].copy(), sgens["p_mw"].copy()
    for h in (0, 57, 199, 333):
        net.load["p_mw"], net.load["q_mvar"] = p0 * fl[h], q0 * fl[h]
        net.sgen["p_mw"] = g0 * fg[h]
        pp.runpp(net, tolerance_mva=1e-10, calculate_voltage_angles=True)
        ours = np.abs(flows.v[model.ppc_buses(net.bus.index.to_numpy()), h])
        ref = net.res_bus["vm_pu"].to_numpy()
        fed = np.isfinite(ref)
        assert np.abs(ours[fed] - ref[fed]).max() < TOL_PU
        assert np.nanmax(np.abs(flows.line_loading_pct[:, h]
                                - net.res_line["loading_percent"].to_numpy())) < 1e-4
        assert np.abs(flows.trafo_loading_pct[:, h]
                      - net.res_trafo["loading_percent"].to_numpy()).max() < 1e-4


def test_non_convergence_is_reported_not_returned(district):
    nm = gs.net_model(district)
    isl = nm.grid.islands[0]
    n = len(isl.pq)
    s = np.zeros((n, 4), complex)
    s[:, 1] = -2.0          # 2 MW at every bus of a 630 kVA feeder: no solution exists
    sol = pf.solve_island(isl, s / nm.grid.base_mva)
    assert sol.converged.tolist() == [True, False, True, True]
    # the study hands such hours to runpp, and reports those neither solves
    limits = gs.limits_of(district)
    year = gs.solve_island_year(nm, 0, s.T / nm.grid.base_mva, limits,
                                fallback=lambda hours: {})
    assert year.nonconverged.tolist() == [1]
    g = int(np.flatnonzero(year.groups == 0)[0])      # the buses behind transformer row 0
    assert np.isnan(year.vm_max_t[:, 1]).all() and np.isfinite(year.vm_max_t[g, [0, 2, 3]]).all()


def test_hours_outside_limits_count_hours_not_the_worst_element(district, pv_scenario):
    """Two buses above the limit in different hours are two hours for their transformer."""
    study = dc.grid_study(district, pv_scenario, hosting=False)
    for tid, row in study.transformers.iterrows():
        hourly = study.hourly[tid]
        assert row["overvoltage_hours"] == int((hourly["vm_max_pu"] > 1.05).sum())
        assert row["overload_hours"] == int((hourly["loading_max_pct"] > 100).sum())
        mine = study.buses[study.buses["transformer_id"] == tid]
        # at least as many as the worst single bus, at most the sum over buses
        assert mine["overvoltage_hours"].max() <= row["overvoltage_hours"] \
            <= mine["overvoltage_hours"].sum()
    # every transformer has its own hourly curve
    curves = [study.hourly[t]["vm_max_pu"].to_numpy() for t in study.transformers.index]
    assert not np.allclose(curves[0], curves[1])


def test_the_default_district_is_within_limits_without_der(district):
    """Cables and transformers of the synthesized network are sized for today's loads."""
    study = dc.grid_study(district, hosting=False)
    t = study.transformers
    assert study.converged and study.nonconverged_hours == 0
    assert (t["overload_hours"] == 0).all() and (t["overvoltage_hours"] == 0).all()
    assert (t["undervoltage_hours"] == 0).all()
    assert (t["vm_min_pu"] >= 0.95).all() and (t["line_loading_max_pct"] <= 100).all()
    assert study.violations.empty


def test_pv_raises_voltage_and_violations_are_located(district, pv_scenario):
    base = dc.grid_study(district, hosting=False)
    study = dc.grid_study(district, pv_scenario, hosting=False)
    assert (study.transformers["vm_max_pu"] > base.transformers["vm_max_pu"]).all()
    v = study.violations
    assert {"kind", "element", "transformer_id", "worst", "hours", "lon", "lat"} <= set(v)
    if len(v):
        assert v["hours"].is_monotonic_decreasing
        assert v[["lon", "lat"]].notna().all().all()
        bounds = district.buildings.total_bounds
        assert ((v["lon"] > bounds[0] - 0.01) & (v["lon"] < bounds[2] + 0.01)).all()


def small_feeder(tmp_path):
    frame = bubenec_footprints(5)
    path = tmp_path / "blocks.geojson"
    path.write_text(frame[["geometry"]].to_json(), encoding="utf-8")
    return dc.import_district(path).district


def test_hosting_capacity_bisection_agrees_with_a_brute_force_scan(tmp_path):
    d = small_feeder(tmp_path)
    nm = gs.net_model(d)
    model = district_model(d)
    pl = build_placements(model, dc.Scenario())
    limits = gs.limits_of(d)
    tan_phi = np.tan(np.arccos(model.power_factor))
    tr = 0
    island = int(nm.transformer_island[tr])
    inj = gs.island_injections(nm, model, pl, island)
    s0 = gs.s_pu(nm, inj.p_kw, inj.d_kw, tan_phi)
    hc = gs.hosting_capacity(nm, model, pl, tr, s0, limits, cap_kwp=1500.0, tol_kwp=0.5)
    assert 0 < hc.kwp < 1500 and hc.limit in ("voltage", "line", "transformer")
    # brute force: every sunny hour at every added kWp on a 2 kWp grid, no bisection
    isl = nm.grid.islands[island]
    local = np.full(nm.grid.n_bus, -1)
    local[isl.pq] = np.arange(len(isl.pq))
    rows = np.flatnonzero(model.building_transformer == tr)
    room = np.maximum(model.roof_area_m2[rows] / model.module_area_m2_per_kwp - pl.kwp[rows], 0)
    w = np.zeros(len(isl.pq))
    np.add.at(w, local[nm.building_ppc[rows]], room / room.sum())
    unit = model.hosting_unit.astype(float)
    sunny = np.flatnonzero(unit > 1e-6)
    base = pf.solve_island(isl, s0[sunny].T)
    _, bl, bt = gs.island_flows(nm, island, base.v_pq)
    first_broken = None
    for x in np.arange(0.0, 1500.0, 2.0):
        s = (s0[sunny] + x * unit[sunny][:, None] * w[None, :] / 1000.0 / nm.grid.base_mva).T
        sol = pf.solve_island(isl, s)
        _, line, trafo = gs.island_flows(nm, island, sol.v_pq)
        vm = np.abs(sol.v_pq)
        broken = (~sol.converged | (vm > limits["voltage_max_pu"]).any(axis=0)
                  | ((line > 100) & (line > bl + 1e-6)).any(axis=0)
                  | ((trafo > 100) & (trafo > bt + 1e-6)).any(axis=0))
        if broken.any():
            first_broken = x
            break
    assert first_broken is not None
    assert first_broken - 2.0 - 0.5 <= hc.kwp <= first_broken + 0.5
    # and pandapower agrees at the binding hour: just below holds, just above breaks
    dnet = nm.dnet
    h = hc.hour
    p_b = model.annual_kwh * model.load_prof[h, model.prof_idx]
    add = np.zeros(len(p_b))
    add[rows] = room / room.sum() * unit[h]
    q_b = tan_phi * p_b

    def worst(x):
        vm, line = runpp_hour(dnet, p_b - x * add, q_b)
        return vm.max(), line.max(), dnet.net.res_trafo["loading_percent"].max()

    below, above = worst(0.98 * hc.kwp), worst(1.02 * hc.kwp)
    assert below[0] <= limits["voltage_max_pu"] + 1e-9 and below[1] <= 100 + 1e-6 \
        and below[2] <= 100 + 1e-6
    assert (above[0] > limits["voltage_max_pu"] or above[1] > 100 or above[2] > 100)


def test_district_to_pandapower_and_back(tmp_path, district):
    dnet = to_pandapower(district)
    net = dnet.net
    assert len(net.trafo) == len(district.transformers)
    assert len(net.line) == len(district.lines)
    assert net.line["length_km"].sum() == pytest.approx(district.lines["length_m"].sum() / 1000,
                                                        rel=1e-3)
    assert (net.line["parallel"].to_numpy() == district.lines["parallel"].to_numpy()).all()
    assert sorted(net.trafo["sn_mva"] * 1000) == sorted(district.transformers["rating_kva"])
    path = tmp_path / "bubenec_grid.json"
    pp.to_json(net, str(path))
    # the footprints and that network import as a district that keeps its parameters
    b = district.buildings[["building_id", "geometry"]].rename(columns={"building_id": "id"})
    footprints = tmp_path / "footprints.geojson"
    footprints.write_text(b.to_json(), encoding="utf-8")
    imported = dc.import_district(footprints, network=path).district
    assert len(imported.transformers) == len(district.transformers)
    assert sorted(imported.transformers["rating_kva"]) == sorted(district.transformers[
        "rating_kva"])
    back = to_pandapower(imported)
    assert back.net.line["std_type"].tolist() == net.line["std_type"].tolist()
    assert back.net.line["parallel"].tolist() == net.line["parallel"].tolist()
    # every building on the same bus as before, so the power flow is the same
    assert (back.building_bus == dnet.building_bus).all()
    a = dc.grid_study(district, hosting=False).transformers
    c = dc.grid_study(imported, hosting=False).transformers
    assert np.allclose(np.sort(a["vm_min_pu"]), np.sort(c["vm_min_pu"]), atol=1e-9)
    # the network's own parameters are part of the district's identity: a stiffer source
    # is another district, with its own (cached) results
    net.ext_grid["vm_pu"] = 1.02
    pp.to_json(net, str(path))
    stiffer = dc.import_district(footprints, network=path).district
    assert stiffer.content_hash != imported.content_hash
    e = dc.grid_study(stiffer, hosting=False).transformers
    assert (e["vm_max_pu"] > c["vm_max_pu"] + 0.015).all()


def test_lines_given_without_topology_are_joined_where_they_meet(tmp_path, district):
    """GIS lines carry no node ids that join them: the network snaps their ends."""
    d = district
    lines = d.lines.copy()
    lines["from_node"] = [f"a{i}" for i in range(len(lines))]
    lines["to_node"] = [f"b{i}" for i in range(len(lines))]
    cut = dc.District(name="GIS", buildings=d.buildings, transformers=d.transformers,
                      lines=lines, streets=d.streets, weather=d.weather,
                      load_profiles=d.load_profiles, assumptions=d.assumptions, site=d.site,
                      meta=dict(d.meta))
    dnet = to_pandapower(cut)
    assert any("joined where they meet" in n for n in dnet.notes)
    # one connected feeder per transformer, every building fed
    model = grid_model(dnet.net)
    assert len(model.islands) == len(d.transformers)
    fed = model.island_of[model.ppc_buses(dnet.building_bus)]
    assert (fed >= 0).all()
    assert len(dnet.net.line) >= 0.95 * len(d.lines)


def test_grid_study_api_and_units(district, pv_scenario):
    study = dc.grid_study(district, pv_scenario)
    t = study.transformers
    assert list(t.index) == list(district.transformers["transformer_id"])
    for col in ("vm_max_pu", "vm_min_pu", "overvoltage_hours", "undervoltage_hours",
                "line_loading_max_pct", "trafo_loading_max_pct", "overload_hours",
                "hosting_capacity_kwp", "hosting_limit"):
        assert col in t
    assert (t["hosting_capacity_kwp"] >= 0).all()
    assert set(study.hourly) == set(t.index)
    assert len(study.hourly[t.index[0]]) == 8760
    assert study.summary["vm_max_pu"] == pytest.approx(t["vm_max_pu"].max())
    # an edit elsewhere recomputes only its island: the others come from the memo
    first = t.index[0]
    edited = pv_scenario.with_pv(dc.PvPlacement(
        district.buildings.loc[district.buildings["transformer_id"] == t.index[-1],
                               "building_id"].iloc[0], 5.0, 30.0, 180.0))
    again = dc.grid_study(district, edited)
    assert again.transformers.loc[first].equals(t.loc[first])


def test_points_of_the_map_layers(district):
    study = dc.grid_study(district, hosting=False)
    buses = study.buses
    assert buses[["lon", "lat"]].notna().all().all()
    assert set(buses["transformer_id"].dropna()) <= set(district.transformers["transformer_id"])
    assert set(study.lines.index) == set(district.lines["line_id"])
    geo = gpd.GeoDataFrame(buses, geometry=[Point(x, y) for x, y in zip(
        buses["lon"], buses["lat"], strict=True)], crs=4326)
    assert geo.total_bounds[0] == pytest.approx(district.lines.total_bounds[0], abs=1e-3)
    json.dumps(study.summary)


def test_transformer_overload_counts_the_transformers_own_hours(district):
    """The "transformer overload" violation gives the hours the transformer itself is above
    its rating (not those of its lines); reference: the loading matrix (checked against
    pandapower's res_trafo above) of every hour, counted here."""
    heavy = dc.place_pv_by_rule(district, dc.Scenario(name="heavy"), min_roof_m2=100,
                                coverage=0.6)
    study = dc.grid_study(district, heavy, hosting=False)
    over = study.violations[study.violations["kind"] == "transformer overload"]
    assert len(over)
    nm = gs.net_model(district)
    model = district_model(district)
    pl = build_placements(model, heavy)
    tan_phi = float(np.tan(np.arccos(model.power_factor)))
    expected = {}
    for i in range(nm.n_islands):
        inj = gs.island_injections(nm, model, pl, i)
        v_rows, ok, _ = pf.solve_island_rows(nm.grid.islands[i],
                                             gs.s_pu(nm, inj.p_kw, inj.d_kw, tan_phi))
        assert ok.all()
        _, trafo = gs.island_loading_rows(nm, i, v_rows)
        for j, r in enumerate(gs.island_branches(nm, i).trafo_rows):
            expected[str(nm.dnet.net.trafo["name"].iat[int(r)])] = int((trafo[j] > 100).sum())
    t = study.transformers
    assert t["trafo_overload_hours"].to_dict() == expected
    for _, row in over.iterrows():
        assert row["hours"] == expected[row["transformer_id"]]
    assert (t["trafo_overload_hours"] <= t["overload_hours"]).all()
