"""Synthesize a radial low-voltage network along real streets.

Cities rarely have feeder data. Following common practice for synthetic LV grids (e.g. the
street-following approach of Kerber's reference networks and of SimBench), the network is built
as follows, everything measured in a metric CRS:

1. Streets are noded at their intersections and become a graph (edges weighted by length).
2. Each building joins the nearest street at the nearest point (a "tap"); its service line runs
   from the tap to the building.
3. Transformers sit at street nodes. Starting from the fewest transformers whose largest standard
   rating covers the district's coincident peak, sites are chosen by demand-weighted k-means
   snapped to street nodes, and each building is fed from the transformer nearest along the
   streets. While a transformer's coincident peak exceeds the planning share of the largest
   rating, or a building is further than the maximum feeder length, one more transformer is
   added.
4. Each transformer gets the smallest standard rating that keeps its baseline coincident peak
   (apparent power) below the planning share, so none is overloaded at baseline.
5. Feeder lines are the union of shortest street paths from each transformer to its taps — a
   tree, hence radial.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from numba import njit
from shapely.geometry import LineString, Point
from shapely.ops import substring

from dashboard.domain.assumptions import Assumptions
from dashboard.domain.district import profile_names
from dashboard.domain.errors import DecentraError
from dashboard.domain.geo import metric_crs

MAX_FEEDER_LENGTH_M = 600.0   # longest street distance from a transformer to a tap
SNAP_DECIMALS = 2             # node coordinates are rounded to 1 cm to join street ends


@dataclass(frozen=True)
class Network:
    buildings: gpd.GeoDataFrame      # input buildings with transformer_id filled
    transformers: gpd.GeoDataFrame   # EPSG:4326 points
    lines: gpd.GeoDataFrame          # EPSG:4326 linestrings


def _node_key(x: float, y: float) -> tuple[float, float]:
    return (round(float(x), SNAP_DECIMALS), round(float(y), SNAP_DECIMALS))


def _street_edges(streets_m: gpd.GeoSeries) -> list[LineString]:
    merged = shapely.union_all(shapely.line_merge(streets_m.values))
    noded = shapely.node(merged)
    parts = [g for g in shapely.get_parts(noded) if g.length > 0.01]
    if not parts:
        raise DecentraError("the street layer has no usable lines")
    return parts


def _coincident_peak_kw(annual_kwh: np.ndarray, prof_idx: np.ndarray,
                        profiles: np.ndarray) -> float:
    """max_t sum_b annual_b * profile[t, type_b] (coincident, hourly)."""
    per_type = np.bincount(prof_idx, weights=annual_kwh, minlength=profiles.shape[1])
    return float((profiles @ per_type).max())


def synthesize_network(buildings: gpd.GeoDataFrame, streets: gpd.GeoDataFrame,
                       load_profiles: pd.DataFrame, assumptions: Assumptions,
                       seed: int = 0) -> Network:
    """Radial LV network for ``buildings`` (canonical table, EPSG:4326) along ``streets``."""
    a = assumptions
    if len(streets) == 0:
        raise DecentraError("no streets to lay feeders along")
    crs = metric_crs(buildings)
    b_m = buildings.to_crs(crs)
    s_m = streets.to_crs(crs).geometry
    edges = _street_edges(s_m)
    tree = shapely.STRtree(edges)
    anchors = b_m.geometry.representative_point().values
    nearest = tree.nearest(anchors)
    edge_of = np.asarray(nearest, dtype=np.int64)
    along = np.array([edges[e].project(p) for e, p in zip(edge_of, anchors, strict=True)])

    # Street graph with a tap node on each edge where buildings join.
    graph = nx.Graph()
    taps: dict[int, tuple[float, float]] = {}
    for e, line in enumerate(edges):
        cuts = sorted({0.0, line.length, *along[edge_of == e].tolist()})
        pieces = []
        for d0, d1 in itertools.pairwise(cuts):
            if d1 - d0 < 1e-6:
                continue
            pieces.append(substring(line, d0, d1))
        for piece in pieces:
            c = piece.coords
            u, v = _node_key(*c[0]), _node_key(*c[-1])
            if u == v:
                continue
            if graph.has_edge(u, v) and graph[u][v]["length"] <= piece.length:
                continue
            graph.add_edge(u, v, length=piece.length, geometry=piece)
    for i, (e, d) in enumerate(zip(edge_of, along, strict=True)):
        p = edges[e].interpolate(d)
        key = _node_key(p.x, p.y)
        if key not in graph:  # tap fell within snap distance of an existing node
            nodes = np.array(list(graph.nodes), dtype=float)
            j = int(np.argmin((nodes[:, 0] - p.x) ** 2 + (nodes[:, 1] - p.y) ** 2))
            key = (float(nodes[j, 0]), float(nodes[j, 1]))
        taps[int(i)] = key

    profiles = load_profiles.to_numpy(float)
    names = list(load_profiles.columns)
    prof_idx = pd.Index(names).get_indexer(profile_names(b_m, a))
    annual = b_m["annual_demand_kwh"].to_numpy(float)
    pf = a.number("grid.power_factor")
    share = a.number("grid.transformer_planning_loading")
    ratings = sorted(a.numbers("grid.transformer_ratings_kva"))
    max_kva = ratings[-1] * share

    components = list(nx.connected_components(graph))
    comp_of = {n: ci for ci, comp in enumerate(components) for n in comp}
    b_comp = np.array([comp_of[taps[i]] for i in range(len(b_m))])
    xy = np.array([[p.x, p.y] for p in anchors])
    assignment = np.empty(len(b_m), dtype=np.int64)
    sites: list[tuple[float, float]] = []
    for ci in np.unique(b_comp):
        members = np.flatnonzero(b_comp == ci)
        sub = graph.subgraph(components[ci])
        peak = _coincident_peak_kw(annual[members], prof_idx[members], profiles) / pf
        k = max(1, int(np.ceil(peak / max_kva)))
        chosen = _choose_sites(sub, xy[members], annual[members], k, seed)
        member_taps = [taps[int(i)] for i in members]
        owner, dist = _nearest_site(sub, chosen, member_taps)
        # Repair by insertion (one shortest-path search per added transformer): a tap beyond
        # the maximum feeder length, or an overloaded transformer's farthest tap, gets a new
        # transformer half-way back along its feeder (k-center style farthest-point insertion).
        while len(chosen) < len(members):
            over = [j for j in range(len(chosen))
                    if (owner == j).sum() >= 2 and _coincident_peak_kw(
                        annual[members[owner == j]], prof_idx[members[owner == j]],
                        profiles) / pf > max_kva]
            if dist.max() > MAX_FEEDER_LENGTH_M:
                far = int(dist.argmax())
            elif over:
                in_j = np.flatnonzero(owner == over[0])
                far = int(in_j[dist[in_j].argmax()])
            else:
                break
            site = _midway_node(sub, chosen[int(owner[far])], member_taps[far],
                                min(float(dist[far]) / 2, MAX_FEEDER_LENGTH_M / 2), chosen)
            if site is None:
                break
            chosen.append(site)
            owner, dist = _nearest_site(sub, [site], member_taps, owner, dist,
                                        offset=len(chosen) - 1)
        used = sorted(set(owner.tolist()))
        remap = {j: len(sites) + r for r, j in enumerate(used)}
        assignment[members] = [remap[o] for o in owner]
        sites.extend(chosen[j] for j in used)

    n_tr = len(sites)
    width = max(2, len(str(n_tr)))
    tids = [f"T{j + 1:0{width}d}" for j in range(n_tr)]
    rating = []
    std = []
    for j in range(n_tr):
        sel = np.flatnonzero(assignment == j)
        s_kva = _coincident_peak_kw(annual[sel], prof_idx[sel], profiles) / pf
        fit = next((r for r in ratings if s_kva <= share * r), ratings[-1])
        rating.append(float(fit))
        std.append(f"{fit / 1000:g} MVA 20/0.4 kV")

    # Lines: shortest-path trees from each transformer to its taps, plus service lines.
    line_rows = []
    node_name: dict[tuple[float, float], str] = {}

    def name(n: tuple[float, float]) -> str:
        if n not in node_name:
            node_name[n] = f"N{len(node_name) + 1:05d}"
        return node_name[n]

    main_type = a.text("grid.main_line_std_type")
    service_type = a.text("grid.service_line_std_type")
    for j, site in enumerate(sites):
        sel = np.flatnonzero(assignment == j)
        _, paths = nx.single_source_dijkstra(graph, site, weight="length")
        used_edges: dict[tuple, tuple] = {}
        for i in sel.tolist():
            path = paths[taps[i]]
            for u, v in itertools.pairwise(path):
                used_edges.setdefault((u, v), (u, v))
        for u, v in used_edges:
            geom = graph[u][v]["geometry"]
            if _node_key(*geom.coords[0]) != u:
                geom = LineString(list(geom.coords)[::-1])
            line_rows.append(dict(transformer_id=tids[j], kind="main", std_type=main_type,
                                  length_m=geom.length, from_node=name(u), to_node=name(v),
                                  geometry=geom))
        for i in sel.tolist():
            tap = taps[i]
            target = anchors[i]
            geom = LineString([tap, (target.x, target.y)])
            line_rows.append(dict(transformer_id=tids[j], kind="service",
                                  std_type=service_type, length_m=max(geom.length, 1.0),
                                  from_node=name(tap),
                                  to_node=f"B:{b_m['building_id'].iloc[i]}", geometry=geom))
    lines = gpd.GeoDataFrame(line_rows, geometry="geometry", crs=crs)
    lines.insert(0, "line_id", [f"L{i + 1:05d}" for i in range(len(lines))])
    lines["length_m"] = lines["length_m"].round(2)
    building_node = {f"B:{bid}": i for i, bid in enumerate(b_m["building_id"])}
    budgets = {}
    for j, site in enumerate(sites):
        sel = np.flatnonzero(assignment == j)
        peak = _coincident_peak_kw(annual[sel], prof_idx[sel], profiles) if len(sel) else 0.0
        budgets[name(site)] = cable_budget(a, std[j], rating[j], peak)
    lines = size_cables(lines, building_node, annual, prof_idx, profiles, a, budgets)
    transformers = gpd.GeoDataFrame({
        "transformer_id": tids, "rating_kva": rating, "std_type": std,
        "node": [name(s) for s in sites],
    }, geometry=[Point(s) for s in sites], crs=crs)
    out_b = buildings.copy()
    out_b["transformer_id"] = [tids[j] for j in assignment]
    return Network(out_b, transformers.to_crs(4326), lines.to_crs(4326))


@dataclass(frozen=True)
class CableType:
    name: str
    r_ohm_per_km: float
    x_ohm_per_km: float
    max_i_ka: float


def cable_types(assumptions: Assumptions) -> list[CableType]:
    """The LV cable types the synthesis may lay, smallest first (pandapower standard types)."""
    import pandapower as pp

    table = pp.available_std_types(pp.create_empty_network(), "line")
    names = [n.strip() for n in assumptions.text("grid.cable_std_types").split(";") if n.strip()]
    unknown = [n for n in names if n not in table.index]
    if unknown:
        raise DecentraError("grid.cable_std_types names types pandapower does not know",
                            rows=unknown)
    out = [CableType(n, float(table.at[n, "r_ohm_per_km"]), float(table.at[n, "x_ohm_per_km"]),
                     float(table.at[n, "max_i_ka"])) for n in names]
    return sorted(out, key=lambda c: c.max_i_ka)


def cable_budget(assumptions: Assumptions, trafo_std_type: str, rating_kva: float,
                 peak_kw: float) -> float:
    """Voltage drop [pu] the cables behind a transformer may use at their peaks: the planning
    budget ``grid.cable_voltage_drop_max_pct``, or less where the transformer's own drop at
    the coincident peak, (vkr P + vx Q) / S_n, leaves less above ``grid.voltage_min_pu``
    (half a percent kept as a margin)."""
    import pandapower as pp

    a = assumptions
    budget = a.number("grid.cable_voltage_drop_max_pct") / 100.0
    types = pp.available_std_types(pp.create_empty_network(), "trafo")
    if trafo_std_type in types.index:
        vk = float(types.at[trafo_std_type, "vk_percent"]) / 100.0
        vkr = float(types.at[trafo_std_type, "vkr_percent"]) / 100.0
    else:
        vk, vkr = 0.06, 0.01
    pf = a.number("grid.power_factor")
    p = peak_kw / max(rating_kva, 1e-9)
    q = p * float(np.tan(np.arccos(pf)))
    drop_tr = vkr * p + float(np.sqrt(max(vk * vk - vkr * vkr, 0.0))) * q
    room = a.number("grid.slack_voltage_pu") - a.number("grid.voltage_min_pu") - drop_tr - 0.005
    return float(max(min(budget, room), 0.005))


def size_cables(lines: pd.DataFrame, building_node: dict[str, int], annual_kwh: np.ndarray,
                prof_idx: np.ndarray, profiles: np.ndarray, assumptions: Assumptions,
                budget_by_root: dict[str, float] | None = None) -> pd.DataFrame:
    """Cable type and parallel count of every line of radial trees, as a planner sizes them.

    1. Current: each line carries the coincident peak of the buildings downstream of it
       (hour by hour sum of their load profiles, at the power factor of the assumptions); it
       gets the smallest type of ``grid.cable_std_types`` whose rating, times the planning
       loading share, carries that current, in parallel where even the largest does not.
    2. Voltage drop: along the path to every building the drop of each line at its own peak,
       (R P + X Q) / V^2, adds up; while a building's drop exceeds
       ``grid.cable_voltage_drop_max_pct``, the line on its path contributing most is enlarged
       one step (next type, then one more cable in parallel). Adding the segments' own peaks
       is conservative (they are not simultaneous).

    ``lines`` needs transformer-to-building orientation (``from_node`` upstream), lengths in
    m; ``building_node`` maps "B:<id>" nodes to building rows; ``budget_by_root`` gives a
    tree's own drop budget [pu] by its root node (see :func:`cable_budget`)."""
    a = assumptions
    types = cable_types(a)
    pf = a.number("grid.power_factor")
    tan_phi = float(np.tan(np.arccos(pf)))
    share = a.number("grid.transformer_planning_loading")
    max_par = int(a.number("grid.max_parallel_cables"))
    budget = a.number("grid.cable_voltage_drop_max_pct") / 100.0
    v_kv = 0.4
    n = len(lines)
    out = lines.copy()
    if n == 0:
        out["parallel"] = np.zeros(0, dtype=np.int64)
        return out
    frm = out["from_node"].astype(str).to_numpy()
    to = out["to_node"].astype(str).to_numpy()
    children: dict[str, list[int]] = {}
    for i, f in enumerate(frm):
        children.setdefault(f, []).append(i)
    # downstream annual kWh per load profile of every line (post-order over the trees)
    n_prof = profiles.shape[1]
    down = np.zeros((n, n_prof))
    order: list[int] = []
    has_parent = set(to)
    roots = [f for f in dict.fromkeys(frm) if f not in has_parent]
    stack = [(i, False) for r in roots for i in children.get(r, [])]
    seen = np.zeros(n, dtype=bool)
    while stack:
        i, done = stack.pop()
        if done:
            order.append(i)
            continue
        if seen[i]:
            continue
        seen[i] = True
        stack.append((i, True))
        stack.extend((c, False) for c in children.get(to[i], []))
    for i in order:
        b = building_node.get(to[i])
        if b is not None:
            down[i, prof_idx[b]] += annual_kwh[b]
        for c in children.get(to[i], []):
            down[i] += down[c]
    # coincident peaks in chunks of lines (8760 x lines at once does not fit for a city)
    peak_kw = np.empty(n)
    prof32 = profiles.astype(np.float32)
    for lo in range(0, n, 512):
        peak_kw[lo:lo + 512] = (prof32 @ down[lo:lo + 512].T.astype(np.float32)).max(axis=0)
    amps = peak_kw / pf / (np.sqrt(3) * v_kv)                       # [A]
    # 1. by current: ladder position = (type, parallel)
    ladder = [(t, p) for p in range(1, max_par + 1) for t in range(len(types))
              if p == 1 or t == len(types) - 1]
    lad_r = np.array([types[t].r_ohm_per_km / p for t, p in ladder])
    lad_x = np.array([types[t].x_ohm_per_km / p for t, p in ladder])
    lad_amps = np.array([types[t].max_i_ka * 1000 * p * share for t, p in ladder])
    # the first ladder step that carries the current (the last one if none does)
    step = np.minimum(np.searchsorted(np.maximum.accumulate(lad_amps), amps),
                      len(ladder) - 1).astype(np.int64)
    # 2. by voltage drop to every building: drops summed down the trees (parents first);
    # each round enlarges, on every path still over its budget, the line contributing most
    length_km = out["length_m"].to_numpy(float) / 1000.0
    p_mw = peak_kw / 1000.0
    parent_line = {to[i]: i for i in range(n)}
    parent = np.array([parent_line.get(frm[i], -1) for i in range(n)], dtype=np.int64)
    top = np.array(order[::-1], dtype=np.int64)            # every line after its parent
    leaves = np.array([i for i in range(n) if to[i] in building_node], dtype=np.int64)
    root_of = np.empty(n, dtype=object)
    for i in top:
        root_of[i] = frm[i] if parent[i] < 0 else root_of[parent[i]]
    limit = np.array([(budget_by_root or {}).get(root_of[i], budget) for i in leaves])
    for _ in range(len(ladder) * 64):
        seg = (lad_r[step] + lad_x[step] * tan_phi) * p_mw * length_km / v_kv ** 2
        growable = step < len(ladder) - 1
        total, best = _path_drops(top, parent, seg, growable)
        over_budget = leaves[total[leaves] > limit]
        grow = np.unique(best[over_budget])
        grow = grow[grow >= 0]
        if not len(grow):
            break                                   # within budget, or as large as allowed
        step[grow] += 1
    out["std_type"] = [types[ladder[s][0]].name for s in step]
    out["parallel"] = [ladder[s][1] for s in step]
    return out


@njit(cache=True)
def _path_drops(top: np.ndarray, parent: np.ndarray, seg: np.ndarray, growable: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Voltage drop from the root to the end of every line (``top``: lines in an order with
    parents first) and, on that path, the growable line with the largest drop (-1: none)."""
    n = seg.shape[0]
    total = np.zeros(n)
    best = np.full(n, -1, dtype=np.int64)
    for k in range(top.shape[0]):
        i = top[k]
        p = parent[i]
        up_total = total[p] if p >= 0 else 0.0
        up_best = best[p] if p >= 0 else -1
        total[i] = up_total + seg[i]
        if growable[i] and (up_best < 0 or seg[i] >= seg[up_best]):
            best[i] = i
        else:
            best[i] = up_best
    return total, best


def _choose_sites(graph: nx.Graph, xy: np.ndarray, weight: np.ndarray, k: int,
                  seed: int) -> list[tuple[float, float]]:
    """Demand-weighted k-means on building positions, centres snapped to distinct street nodes
    (intersections preferred: transformers stand at corners)."""
    nodes = list(graph.nodes)
    node_xy = np.array(nodes, dtype=float)
    degree = np.array([graph.degree(n) for n in nodes])
    rng = np.random.default_rng(seed)
    k = min(k, len(xy), len(nodes))
    w = weight / weight.sum()
    centres = xy[rng.choice(len(xy), size=k, replace=False, p=w)]
    for _ in range(50):
        d = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        lab = d.argmin(axis=1)
        new = np.array([np.average(xy[lab == j], axis=0, weights=weight[lab == j])
                        if (lab == j).any() else centres[j] for j in range(k)])
        if np.allclose(new, centres):
            break
        centres = new
    chosen: list[tuple[float, float]] = []
    # prefer junctions (degree >= 3) within 60 m, else the nearest node
    for c in centres:
        d = np.hypot(*(node_xy - c).T)
        order = np.argsort(d)
        pick = None
        for idx in order[:50]:
            if d[idx] > 60:
                break
            if degree[idx] >= 3 and nodes[idx] not in chosen:
                pick = nodes[idx]
                break
        if pick is None:
            pick = next(nodes[i] for i in order if nodes[i] not in chosen)
        chosen.append(pick)
    return chosen


def _nearest_site(graph: nx.Graph, sites: list[tuple[float, float]],
                  taps: list[tuple[float, float]], owner: np.ndarray | None = None,
                  best: np.ndarray | None = None, offset: int = 0
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Index of the site nearest along the streets, and that distance [m], for each tap;
    with ``owner``/``best`` given, ``sites`` (numbered from ``offset``) are added to them."""
    best = np.full(len(taps), np.inf) if best is None else best.copy()
    owner = np.zeros(len(taps), dtype=np.int64) if owner is None else owner.copy()
    for j, s in enumerate(sites):
        dist = nx.single_source_dijkstra_path_length(graph, s, weight="length")
        d = np.array([dist.get(t, np.inf) for t in taps])
        better = d < best
        best[better] = d[better]
        owner[better] = offset + j
    return owner, best


def _midway_node(graph: nx.Graph, site: tuple[float, float], tap: tuple[float, float],
                 back_m: float, taken: list[tuple[float, float]]
                 ) -> tuple[float, float] | None:
    """The street node on the path from ``site`` to ``tap`` about ``back_m`` before the tap
    (not already a transformer site)."""
    path = nx.shortest_path(graph, site, tap, weight="length")
    to_tap = 0.0
    pick = None
    for u, v in itertools.pairwise(path[::-1]):
        if u not in taken:
            pick = u
        to_tap += graph[u][v]["length"]
        if to_tap >= back_m and pick is not None:
            break
    return pick


def proxy_streets(buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Stand-in streets when a city brings neither streets nor feeders: the minimum spanning
    tree of the buildings' Delaunay triangulation (shortest lines connecting all buildings,
    as a radial LV cable network roughly does). EPSG:4326 lines."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import minimum_spanning_tree
    from scipy.spatial import Delaunay

    crs = metric_crs(buildings)
    pts = buildings.to_crs(crs).geometry.representative_point()
    xy = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
    n = len(xy)
    if n == 1:
        x, y = xy[0]
        lines = [LineString([(x - 15, y - 15), (x + 15, y - 15)])]
    else:
        if n == 2 or np.linalg.matrix_rank(xy - xy.mean(axis=0)) < 2:
            order = np.lexsort((xy[:, 1], xy[:, 0]))
            pairs = np.column_stack([order[:-1], order[1:]])
        else:
            tri = Delaunay(xy)
            edges = np.vstack([tri.simplices[:, [0, 1]], tri.simplices[:, [1, 2]],
                               tri.simplices[:, [0, 2]]])
            pairs = np.unique(np.sort(edges, axis=1), axis=0)
        weights = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T) + 1e-6
        graph = coo_matrix((weights, (pairs[:, 0], pairs[:, 1])), shape=(n, n))
        tree = minimum_spanning_tree(graph).tocoo()
        lines = [LineString([tuple(xy[i]), tuple(xy[j])]) for i, j in zip(tree.row, tree.col,
                                                                           strict=True)]
    return gpd.GeoDataFrame(geometry=lines, crs=crs).to_crs(4326)


def network_from_transformers(buildings: gpd.GeoDataFrame, transformers: gpd.GeoDataFrame,
                              lines: gpd.GeoDataFrame | None, load_profiles: pd.DataFrame,
                              assumptions: Assumptions) -> Network:
    """Buildings fed by the nearest of the given transformers (straight-line distance); lines
    kept as given, or drawn as straight service connections. Transformers without a rating
    are sized like synthesized ones."""
    a = assumptions
    crs = metric_crs(buildings)
    b_m = buildings.to_crs(crs)
    t_m = transformers.to_crs(crs)
    anchors = b_m.geometry.representative_point()
    tx = np.column_stack([t_m.geometry.x.to_numpy(), t_m.geometry.y.to_numpy()])
    bx = np.column_stack([anchors.x.to_numpy(), anchors.y.to_numpy()])
    owner = ((bx[:, None, :] - tx[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    tids = t_m["transformer_id"].astype(str).tolist()
    profiles = load_profiles.to_numpy(float)
    names = list(load_profiles.columns)
    prof_idx = pd.Index(names).get_indexer(profile_names(b_m, a))
    annual = b_m["annual_demand_kwh"].to_numpy(float)
    pf = a.number("grid.power_factor")
    share = a.number("grid.transformer_planning_loading")
    ratings = sorted(a.numbers("grid.transformer_ratings_kva"))
    given = pd.to_numeric(t_m.get("rating_kva", pd.Series(np.nan, index=t_m.index)),
                          errors="coerce").to_numpy(float)
    rating, std = [], []
    for j in range(len(t_m)):
        sel = np.flatnonzero(owner == j)
        if np.isfinite(given[j]) and given[j] > 0:
            rating.append(float(given[j]))
            std.append(str(t_m["std_type"].iloc[j]) if "std_type" in t_m else "")
            continue
        s_kva = (_coincident_peak_kw(annual[sel], prof_idx[sel], profiles) / pf
                 if len(sel) else 0.0)
        fit = next((r for r in ratings if s_kva <= share * r), ratings[-1])
        rating.append(float(fit))
        std.append(f"{fit / 1000:g} MVA 20/0.4 kV")
    out_t = gpd.GeoDataFrame({"transformer_id": tids, "rating_kva": rating, "std_type": std,
                              "node": [f"T:{t}" for t in tids]}, geometry=t_m.geometry.values,
                             crs=crs)
    service_type = a.text("grid.service_line_std_type")
    if lines is not None and len(lines):
        l_m = lines.to_crs(crs)
        mids = l_m.geometry.interpolate(0.5, normalized=True)
        lx = np.column_stack([mids.x.to_numpy(), mids.y.to_numpy()])
        l_owner = ((lx[:, None, :] - tx[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
        out_l = gpd.GeoDataFrame({
            "line_id": [f"L{i + 1:05d}" for i in range(len(l_m))],
            "transformer_id": [tids[j] for j in l_owner], "kind": "main",
            "std_type": l_m["std_type"].astype(str) if "std_type" in l_m
            else a.text("grid.main_line_std_type"),
            "length_m": np.round(l_m.geometry.length.to_numpy(), 2),
            "from_node": [f"N{i:05d}a" for i in range(len(l_m))],
            "to_node": [f"N{i:05d}b" for i in range(len(l_m))]},
            geometry=l_m.geometry.values, crs=crs)
    else:
        geoms = [LineString([tuple(tx[j]), tuple(bx[i])]) for i, j in enumerate(owner)]
        out_l = gpd.GeoDataFrame({
            "line_id": [f"L{i + 1:05d}" for i in range(len(geoms))],
            "transformer_id": [tids[j] for j in owner], "kind": "service",
            "std_type": service_type,
            "length_m": [max(round(g.length, 2), 1.0) for g in geoms],
            "from_node": [f"T:{tids[j]}" for j in owner],
            "to_node": [f"B:{b}" for b in b_m["building_id"]]}, geometry=geoms, crs=crs)
        building_node = {f"B:{bid}": i for i, bid in enumerate(b_m["building_id"])}
        out_l = size_cables(out_l, building_node, annual, prof_idx, profiles, a)
    out_b = buildings.copy()
    out_b["transformer_id"] = [tids[j] for j in owner]
    return Network(out_b, out_t.to_crs(4326), out_l.to_crs(4326))
