"""Synthesize a radial low-voltage network along real streets, as a utility would plan it.

Cities rarely have feeder data. Following common practice for synthetic LV grids (e.g. the
street-following approach of Kerber's reference networks and of SimBench), the network is built
as follows, everything measured in a metric CRS:

1. Streets are noded at their intersections and become a graph (edges weighted by length).
2. Each building joins the nearest street at the nearest point (a "tap"); its service line runs
   from the tap to the building.
3. A building whose own peak (apparent power) exceeds the largest standard LV substation at the
   planning share gets its own MV connection: a customer substation at the building
   (``grid.mv_customer_ratings_kva``; several units where one is not enough), labelled
   ``connection = "MV connection"``.
4. LV substations sit at street nodes. Starting from the fewest whose largest standard rating
   covers each street component's coincident peak, sites are chosen by demand-weighted k-means
   snapped to street nodes (junctions preferred), and each building is fed from the substation
   nearest along the streets (one multi-source Dijkstra), so feeders are the shortest-path
   forest: radial.
5. Cables: each line gets the smallest type (then parallel cables) that carries its downstream
   coincident peak at the planning share and keeps the voltage drop to every building within
   the budget left after the transformer's own drop (:func:`check_cables`).
6. Repair until every planning limit holds: a substation with a feeder longer than
   ``MAX_FEEDER_LENGTH_M``, a coincident peak above the largest rating, or a building its
   cables cannot serve within current and drop limits gets one more substation half-way to
   its worst building; a building still beyond limits at its own substation gets an MV
   connection. What cannot be repaired is listed (``Network.infeasible``).
7. Each substation gets the smallest standard rating that keeps its baseline coincident peak
   below the planning share.

The planning checks are conservative (segment peaks added along a path), so the synthesized
grid is within the power-flow limits in every hour without DER; tests verify that with the
full-year AC power flow on real OpenStreetMap extracts.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
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
MV_CUSTOMER_RATINGS_KVA = (800.0, 1000.0, 1250.0, 1600.0, 2000.0, 2500.0)
SNAP_DECIMALS = 2             # node coordinates are rounded to 1 cm to join street ends


@dataclass(frozen=True)
class Network:
    buildings: gpd.GeoDataFrame      # input buildings with transformer_id filled
    transformers: gpd.GeoDataFrame   # EPSG:4326 points
    lines: gpd.GeoDataFrame          # EPSG:4326 linestrings
    notes: tuple[str, ...] = ()      # how it was synthesized and sized (for the import report)
    infeasible: tuple[str, ...] = ()  # "T12: why" for substations still beyond a limit


LV_SUBSTATION = "LV substation"
MV_CONNECTION = "MV connection"


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


def smallest_rating(s_kva: float, ratings: list[float] | tuple[float, ...], share: float
                    ) -> float | None:
    """The smallest of ``ratings`` (ascending) [kVA] that carries ``s_kva`` at the planning
    ``share`` of its rating; None if none does."""
    return next((float(r) for r in ratings if s_kva <= share * r), None)


def _cluster_peaks_kw(owner: np.ndarray, n_clusters: int, annual_kwh: np.ndarray,
                      prof_idx: np.ndarray, profiles: np.ndarray) -> np.ndarray:
    """The coincident peak of every cluster at once: (hours x profiles) @ (profiles x
    clusters)."""
    per = np.zeros((profiles.shape[1], n_clusters))
    np.add.at(per, (prof_idx, owner), annual_kwh)
    return (profiles @ per).max(axis=0) if n_clusters else np.zeros(0)


@dataclass
class StreetGraph:
    """Streets noded at their intersections and at every building's tap (metric CRS)."""

    xy: np.ndarray                                 # (nodes, 2) [m]
    csr: Any                                       # symmetric lengths [m], scipy CSR
    geometry: dict[tuple[int, int], LineString]    # by (smaller, larger) node index
    tap: np.ndarray                                # node of each building's tap
    degree: np.ndarray

    @classmethod
    def build(cls, edges: list[LineString], anchors: np.ndarray) -> StreetGraph:
        """Each building joins the nearest street at the nearest point (its tap)."""
        from scipy.sparse import coo_matrix
        from scipy.spatial import cKDTree

        lines = np.empty(len(edges), dtype=object)
        lines[:] = edges
        edge_of = np.asarray(shapely.STRtree(edges).nearest(anchors), dtype=np.int64)
        along = shapely.line_locate_point(lines[edge_of], anchors)
        index: dict[tuple[float, float], int] = {}
        best: dict[tuple[int, int], tuple[float, LineString]] = {}
        cuts_of: dict[int, set[float]] = {}
        for e, d in zip(edge_of.tolist(), along.tolist(), strict=True):
            cuts_of.setdefault(e, set()).add(d)
        for e, line in enumerate(edges):
            cuts = sorted({0.0, line.length, *cuts_of.get(e, ())})
            for d0, d1 in itertools.pairwise(cuts):
                if d1 - d0 < 1e-6:
                    continue
                piece = line if len(cuts) == 2 else substring(line, d0, d1)
                c = piece.coords
                u = index.setdefault(_node_key(*c[0][:2]), len(index))
                v = index.setdefault(_node_key(*c[-1][:2]), len(index))
                if u == v:
                    continue
                k = (min(u, v), max(u, v))
                if k not in best or best[k][0] > piece.length:
                    best[k] = (piece.length, piece)
        xy = np.array(list(index), dtype=float).reshape(-1, 2)
        tap_xy = shapely.get_coordinates(shapely.line_interpolate_point(lines[edge_of], along))
        tap = np.array([index.get(_node_key(x, y), -1) for x, y in tap_xy], dtype=np.int64)
        if (tap < 0).any():          # within snap distance of another node: that node
            miss = np.flatnonzero(tap < 0)
            tap[miss] = cKDTree(xy).query(tap_xy[miss])[1]
        pairs = np.array(list(best), dtype=np.int64).reshape(-1, 2)
        length = np.array([v[0] for v in best.values()], dtype=float)
        n = len(xy)
        csr = coo_matrix((np.concatenate([length, length]),
                          (np.concatenate([pairs[:, 0], pairs[:, 1]]),
                           np.concatenate([pairs[:, 1], pairs[:, 0]]))), shape=(n, n)).tocsr()
        return cls(xy, csr, {k: v[1] for k, v in best.items()}, tap,
                   np.bincount(pairs.ravel(), minlength=n))

    def nearest_site(self, sites: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Street distance [m] of every node to its nearest site, the node before it on the way
        there and that site (one multi-source Dijkstra; inf / negative where unreachable)."""
        from scipy.sparse.csgraph import dijkstra

        dist, pred, src = dijkstra(self.csr, directed=False, indices=np.asarray(sites),
                                   min_only=True, return_predecessors=True)
        return dist, pred, src

    def edge_length_m(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.asarray(self.csr[u, v]).ravel() if len(u) else np.zeros(0)


@dataclass
class _Trees:
    """The radial feeders of the LV buildings: main lines along the streets from every
    substation to its taps, and a service line per building (arrays, no geometry)."""

    frm: np.ndarray       # upstream node index (main lines)
    to: np.ndarray        # downstream node index
    length_m: np.ndarray
    table: pd.DataFrame   # main then service lines: from_node, to_node, length_m, root


def _trees(g: StreetGraph, lv: np.ndarray, pred: np.ndarray, src: np.ndarray,
           bid: np.ndarray, service_m: np.ndarray) -> _Trees:
    used = np.zeros(len(g.xy), dtype=bool)
    frm: list[int] = []
    to: list[int] = []
    for t in np.unique(g.tap[lv]).tolist():
        n = t
        while not used[n] and pred[n] >= 0:
            used[n] = True
            frm.append(int(pred[n]))
            to.append(n)
            n = int(pred[n])
    f, t_ = np.array(frm, dtype=np.int64), np.array(to, dtype=np.int64)
    length = g.edge_length_m(f, t_)
    names = np.char.add("N", np.arange(len(g.xy)).astype(str))
    table = pd.DataFrame({
        "from_node": np.concatenate([names[f], names[g.tap[lv]]]),
        "to_node": np.concatenate([names[t_], np.char.add("B:", bid[lv].astype(str))]),
        "length_m": np.concatenate([length, service_m[lv]]),
        "root": np.concatenate([src[t_], src[g.tap[lv]]]).astype(np.int64)})
    return _Trees(f, t_, length, table)


@dataclass
class CableCheck:
    """Cables sized by :func:`size_cables` and what they could not meet."""

    lines: pd.DataFrame        # with std_type and parallel
    leaf: np.ndarray           # rows of the lines that end at a building
    drop_pu: np.ndarray        # voltage drop at the end of each leaf line at the segment peaks
    limit_pu: np.ndarray       # the budget of each leaf line's tree
    overloaded: np.ndarray     # per line: current above the largest cables allowed


class _Sizing:
    """Substation ratings and cable budgets of clusters (standard types read once)."""

    def __init__(self, a: Assumptions, profiles: np.ndarray, prof_idx: np.ndarray,
                 annual: np.ndarray) -> None:
        self.a, self.profiles, self.prof_idx, self.annual = a, profiles, prof_idx, annual
        self.pf = a.number("grid.power_factor")
        self.share = a.number("grid.transformer_planning_loading")
        self.ratings = sorted(a.numbers("grid.transformer_ratings_kva"))
        self.trafo_types = std_types("trafo")
        self.types = cable_types(a)

    def rating(self, s_kva: float) -> tuple[float, str]:
        fit = smallest_rating(s_kva, self.ratings, self.share) or self.ratings[-1]
        return float(fit), f"{fit / 1000:g} MVA {self.a.number('grid.mv_voltage_kv'):g}/0.4 kV"

    def peaks_kw(self, members: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
        return _cluster_peaks_kw(owner, n, self.annual[members], self.prof_idx[members],
                                 self.profiles)

    def cables(self, trees: _Trees, budgets: dict[str, float], bid: np.ndarray
               ) -> CableCheck:
        node = {f"B:{b}": i for i, b in enumerate(bid)}
        return check_cables(trees.table, node, self.annual, self.prof_idx, self.profiles,
                            self.a, budgets, self.types)


def synthesize_network(buildings: gpd.GeoDataFrame, streets: gpd.GeoDataFrame,
                       load_profiles: pd.DataFrame, assumptions: Assumptions,
                       seed: int = 0) -> Network:
    """Radial LV network for ``buildings`` (canonical table, EPSG:4326) along ``streets``, within
    every planning limit at the coincident peak (see the module docstring)."""
    from scipy.sparse.csgraph import connected_components

    a = assumptions
    if len(streets) == 0:
        raise DecentraError("no streets to lay feeders along")
    crs = metric_crs(buildings)
    b_m = buildings.to_crs(crs)
    anchors = b_m.geometry.representative_point().values
    g = StreetGraph.build(_street_edges(streets.to_crs(crs).geometry), anchors)
    bid = b_m["building_id"].astype(str).to_numpy()
    b_xy = shapely.get_coordinates(anchors)
    profiles = load_profiles.to_numpy(float)
    names = list(load_profiles.columns)
    prof_idx = pd.Index(names).get_indexer(profile_names(b_m, a)).astype(np.int64)
    annual = b_m["annual_demand_kwh"].to_numpy(float)
    sz = _Sizing(a, profiles, prof_idx, annual)
    max_kva = sz.ratings[-1] * sz.share
    own_kva = annual * profiles.max(axis=0)[prof_idx] / sz.pf
    service_m = np.maximum(np.hypot(*(b_xy - g.xy[g.tap]).T), 1.0)
    mv = own_kva > max_kva                         # larger than any LV substation carries

    # 1. first sites: the fewest substations per street component for its coincident peak
    _, comp = connected_components(g.csr, directed=False)
    lv = np.flatnonzero(~mv)
    sites: list[int] = []
    for c in np.unique(comp[g.tap[lv]]).tolist():
        members = lv[comp[g.tap[lv]] == c]
        peak = _coincident_peak_kw(annual[members], prof_idx[members], profiles) / sz.pf
        k = max(1, int(np.ceil(peak / max_kva)))
        sites += _choose_sites(g, np.flatnonzero(comp == c), b_xy[members],
                               annual[members] + 1e-9, k, seed, set(sites))
    # 2. repair: a feeder too long, a substation or a cable beyond its limit gets one more
    # substation half-way to its worst building, until every limit holds
    unfixable: dict[int, str] = {}
    added = own_site = 0
    for _ in range(4 * len(bid) + 10):
        lv = np.flatnonzero(~mv)
        if not len(lv):
            break
        plan = _problems(g, sz, lv, sites, bid, service_m)
        problems = {s: p for s, p in plan.problems.items() if s not in unfixable}
        if not problems:
            break
        changed = False
        for site, (b, why) in problems.items():
            new = _midway(g, int(b), site, plan.dist, plan.pred, set(sites))
            if new is not None:
                sites.append(new)
                added += 1
                changed = True
            elif int(g.tap[b]) == site:
                mv[b] = True                 # alone at its own substation and still beyond
                own_site += 1
                changed = True
            else:
                unfixable[site] = why
        if not changed:
            break
    return _assemble(buildings, g, mv, sites, sz, own_kva, bid, b_xy, service_m, crs, added,
                     own_site)


@dataclass
class _Plan:
    """The LV buildings fed from ``sites``, and what breaks a planning limit."""

    problems: dict[int, tuple[int, str]]   # site -> (building to move towards, why)
    trees: _Trees
    cables: CableCheck
    owner: np.ndarray                      # site of each LV building
    sizing: dict[int, tuple[float, str]]   # site -> (rating kVA, standard type)
    dist: np.ndarray                       # street distance of every node to its site [m]
    pred: np.ndarray                       # the node before it on the way there


def _problems(g: StreetGraph, sz: _Sizing, lv: np.ndarray, sites: list[int], bid: np.ndarray,
              service_m: np.ndarray) -> _Plan:
    """Each substation beyond a planning limit, with the building to move a substation
    towards and why: feeder longer than MAX_FEEDER_LENGTH_M, coincident peak above the
    largest rating at the planning share, or cables that cannot meet current or drop."""
    dist, pred, src = g.nearest_site(sites)
    owner = src[g.tap[lv]]
    far = dist[g.tap[lv]]
    used, inv = np.unique(owner, return_inverse=True)
    peaks = sz.peaks_kw(lv, inv, len(used))
    sizing = {int(s): sz.rating(p / sz.pf) for s, p in zip(used, peaks, strict=True)}
    budgets = {f"N{int(s)}": cable_budget(sz.a, sizing[int(s)][1], sizing[int(s)][0], float(p),
                                          sz.trafo_types)
               for s, p in zip(used, peaks, strict=True)}
    trees = _trees(g, lv, pred, src, bid, service_m)
    check = sz.cables(trees, budgets, bid)
    out: dict[int, tuple[int, str]] = {}
    farthest: dict[int, int] = {}
    for i in np.argsort(far)[::-1].tolist():        # farthest member of every cluster
        farthest.setdefault(int(owner[i]), int(lv[i]))
    n_of = np.bincount(inv, minlength=len(used))
    for j, s in enumerate(used.tolist()):
        members_far = float(dist[g.tap[farthest[s]]])
        if members_far > MAX_FEEDER_LENGTH_M:
            out[s] = (farthest[s], f"feeder {members_far:,.0f} m long (at most "
                                   f"{MAX_FEEDER_LENGTH_M:g} m)")
        elif peaks[j] / sz.pf > sz.ratings[-1] * sz.share and n_of[j] >= 2:
            out[s] = (farthest[s], f"coincident peak {peaks[j] / sz.pf:,.0f} kVA above "
                                   f"{100 * sz.share:.0f} % of {sz.ratings[-1]:g} kVA")
    roots = check.lines["root"].to_numpy()
    ratio = check.drop_pu / check.limit_pu
    rows = {f"B:{b}": i for i, b in enumerate(bid.tolist())}
    for row in np.argsort(ratio)[::-1].tolist():
        if ratio[row] <= 1.0 + 1e-9:
            break
        line = int(check.leaf[row])
        s = int(roots[line])
        if s in out:
            continue
        b = rows[str(check.lines["to_node"].iat[line])]
        out[s] = (b, f"voltage drop {100 * check.drop_pu[row]:.1f} % to building {bid[b]} "
                     f"(budget {100 * check.limit_pu[row]:.1f} %)")
    for line in np.flatnonzero(check.overloaded).tolist():
        s = int(roots[line])
        if s not in out:
            out[s] = (farthest[s], "a cable beyond the largest parallel cables allowed")
    return _Plan(out, trees, check, owner, sizing, dist, pred)


def _midway(g: StreetGraph, b: int, site: int, dist: np.ndarray, pred: np.ndarray,
            taken: set[int]) -> int | None:
    """The street node on the way from building ``b``'s tap to ``site`` about half the distance
    (at most MAX_FEEDER_LENGTH_M / 2) before the tap, not already a substation."""
    tap = int(g.tap[b])
    back = min(float(dist[tap]) / 2, MAX_FEEDER_LENGTH_M / 2)
    pick = None
    n = tap
    while n >= 0 and n != site:
        if n not in taken:
            pick = n
            if dist[tap] - dist[n] >= back:
                break
        n = int(pred[n])
    return pick


def _choose_sites(g: StreetGraph, nodes: np.ndarray, xy: np.ndarray, weight: np.ndarray,
                  k: int, seed: int, taken: set[int]) -> list[int]:
    """Demand-weighted k-means on building positions, centres snapped to distinct street nodes
    of the component (junctions within 60 m preferred: transformers stand at corners)."""
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    k = min(k, len(xy), len(nodes))
    w = weight / weight.sum()
    centres = xy[rng.choice(len(xy), size=k, replace=False, p=w)]
    for _ in range(50):
        lab = cKDTree(centres).query(xy)[1]
        sums = np.zeros((k, 2))
        np.add.at(sums, lab, xy * weight[:, None])
        tot = np.bincount(lab, weights=weight, minlength=k)
        new = np.where(tot[:, None] > 0, sums / np.maximum(tot, 1e-300)[:, None], centres)
        if np.allclose(new, centres):
            break
        centres = new
    node_tree = cKDTree(g.xy[nodes])
    chosen: list[int] = []
    for c in centres:
        d, idx = node_tree.query(c, k=min(50, len(nodes)))
        d, idx = np.atleast_1d(d), np.atleast_1d(idx)
        cand = nodes[idx]
        pick = next((int(n) for dd, n in zip(d, cand, strict=True)
                     if dd <= 60 and g.degree[n] >= 3 and n not in taken and n not in chosen),
                    None)
        if pick is None:
            pick = next((int(n) for n in cand if n not in taken and n not in chosen), None)
        if pick is None:
            free = [int(n) for n in nodes if n not in taken and n not in chosen]
            if not free:
                break
            pick = free[0]
        chosen.append(pick)
    return chosen


def _assemble(buildings: gpd.GeoDataFrame, g: StreetGraph, mv: np.ndarray, sites: list[int],
              sz: _Sizing, own_kva: np.ndarray, bid: np.ndarray, b_xy: np.ndarray,
              service_m: np.ndarray, crs: Any, added: int, own_site: int = 0) -> Network:
    a = sz.a
    lv = np.flatnonzero(~mv)
    tr_rows: list[dict] = []
    line_rows: list[dict] = []
    owner_tid = np.empty(len(bid), dtype=object)
    infeasible: list[str] = []
    node_name: dict[int, str] = {}

    def name(n: int) -> str:
        if n not in node_name:
            node_name[n] = f"N{len(node_name) + 1:05d}"
        return node_name[n]

    if len(lv):
        plan = _problems(g, sz, lv, sites, bid, service_m)
        problems, trees, check, owner, sizing = (plan.problems, plan.trees, plan.cables,
                                                 plan.owner, plan.sizing)
        used = sorted(sizing)
        tid_of = {s: f"T{j + 1}" for j, s in enumerate(used)}
        for s in used:
            rating, std = sizing[s]
            why = problems[s][1] if s in problems else ""
            tr_rows.append(dict(transformer_id=tid_of[s], rating_kva=rating, std_type=std,
                                node=name(s), connection=LV_SUBSTATION, note=why,
                                geometry=Point(g.xy[s])))
            if why:
                infeasible.append(f"{tid_of[s]}: {why}")
        owner_tid[lv] = [tid_of[int(s)] for s in owner]
        lines = check.lines
        n_main = len(trees.frm)
        for i in range(len(lines)):
            root = int(lines["root"].iat[i])
            if i < n_main:
                u, v = int(trees.frm[i]), int(trees.to[i])
                geom = g.geometry[(min(u, v), max(u, v))]
                if np.hypot(*(np.asarray(geom.coords[0][:2]) - g.xy[u])) > \
                        np.hypot(*(np.asarray(geom.coords[-1][:2]) - g.xy[u])):
                    geom = LineString(list(geom.coords)[::-1])
                line_rows.append(dict(transformer_id=tid_of[root], kind="main",
                                      from_node=name(u), to_node=name(v), geometry=geom,
                                      length_m=float(lines["length_m"].iat[i]),
                                      std_type=lines["std_type"].iat[i],
                                      parallel=int(lines["parallel"].iat[i])))
            else:
                b = int(lv[i - n_main])
                tap = int(g.tap[b])
                line_rows.append(dict(transformer_id=tid_of[root], kind="service",
                                      from_node=name(tap), to_node=f"B:{bid[b]}",
                                      geometry=LineString([tuple(g.xy[tap]), tuple(b_xy[b])]),
                                      length_m=float(lines["length_m"].iat[i]),
                                      std_type=lines["std_type"].iat[i],
                                      parallel=int(lines["parallel"].iat[i])))
    # buildings larger than any LV substation: their own MV connection (customer substation)
    try:
        customer = sorted(a.numbers("grid.mv_customer_ratings_kva")) or \
            list(MV_CUSTOMER_RATINGS_KVA)
    except DecentraError:          # an assumptions table from before this row existed
        customer = list(MV_CUSTOMER_RATINGS_KVA)
    mv_kv = a.number("grid.mv_voltage_kv")
    for j, b in enumerate(np.flatnonzero(mv).tolist()):
        s_kva = float(own_kva[b])
        fit = smallest_rating(s_kva, sorted({*sz.ratings, *customer}), sz.share)
        units = 1 if fit is not None else int(np.ceil(s_kva / (sz.share * customer[-1])))
        unit = fit if fit is not None else customer[-1]
        tid = f"TM{j + 1}"
        tr_rows.append(dict(
            transformer_id=tid, rating_kva=float(units * unit),
            std_type=(f"{units} x " if units > 1 else "") + f"{unit / 1000:g} MVA {mv_kv:g}/0.4 kV",
            node=f"B:{bid[b]}", connection=MV_CONNECTION, note="", geometry=Point(b_xy[b])))
        owner_tid[b] = tid
    width = max(2, len(str(len(tr_rows))))
    rename = {r["transformer_id"]: (f"T{int(r['transformer_id'][1:]):0{width}d}"
                                    if r["connection"] == LV_SUBSTATION
                                    else f"TM{int(r['transformer_id'][2:]):0{width}d}")
              for r in tr_rows}
    for r in tr_rows + line_rows:
        r["transformer_id"] = rename[r["transformer_id"]]
    infeasible = [rename[s.split(":")[0]] + s[s.index(":"):] for s in infeasible]
    transformers = gpd.GeoDataFrame(tr_rows, geometry="geometry", crs=crs) if tr_rows else \
        gpd.GeoDataFrame({"transformer_id": [], "rating_kva": [], "std_type": [], "node": [],
                          "connection": [], "note": []}, geometry=[], crs=crs)
    lines_out = gpd.GeoDataFrame(line_rows, geometry="geometry", crs=crs) if line_rows else \
        gpd.GeoDataFrame({"transformer_id": [], "kind": [], "from_node": [], "to_node": [],
                          "length_m": [], "std_type": [], "parallel": []}, geometry=[], crs=crs)
    lines_out.insert(0, "line_id", [f"L{i + 1:05d}" for i in range(len(lines_out))])
    lines_out["length_m"] = lines_out["length_m"].astype(float).round(2)
    lines_out["parallel"] = lines_out["parallel"].astype(np.int64)
    lines_out = lines_out[["line_id", "transformer_id", "kind", "std_type", "length_m",
                           "from_node", "to_node", "parallel", "geometry"]]
    out_b = buildings.copy()
    out_b["transformer_id"] = [rename[t] for t in owner_tid]
    notes = _sizing_notes(transformers, lines_out, sz, int(mv.sum()) - own_site, own_site,
                          added, infeasible)
    return Network(out_b, transformers.to_crs(4326), lines_out.to_crs(4326), notes,
                   tuple(infeasible))


def _sizing_notes(transformers: gpd.GeoDataFrame, lines: gpd.GeoDataFrame, sz: _Sizing,
                  n_mv: int, own_site: int, added: int, infeasible: list[str]
                  ) -> tuple[str, ...]:
    lv_t = transformers[transformers["connection"] == LV_SUBSTATION]
    by_rating = lv_t["rating_kva"].value_counts().sort_index(ascending=False)
    out = [f"Synthesized grid: {len(lv_t):,} LV substations ("
           + ", ".join(f"{n:,} x {r:g} kVA" for r, n in by_rating.items())
           + f"), each rated so that its coincident peak (BDEW profiles, power factor "
             f"{sz.pf:g}) stays below {100 * sz.share:.0f} % of the rating; feeders at most "
             f"{MAX_FEEDER_LENGTH_M:g} m along the streets"
           + (f"; {added:,} substations were added to keep feeders, substations and cables "
              "within their limits" if added else "")]
    if n_mv:
        out.append(f"{n_mv:,} buildings with a peak above {sz.ratings[-1] * sz.share:g} kVA "
                   "(more than the largest LV substation carries) have their own MV "
                   "connection: a customer substation (transformer ids TM…)")
    if own_site:
        out.append(f"{own_site:,} buildings too far from the street feeders for a service line "
                   "within the voltage-drop budget have a substation of their own (MV "
                   "connection, transformer ids TM…)")
    if len(lines):
        kinds = (lines.assign(n=lines["parallel"].astype(int))
                 .groupby(["std_type", "n"]).size().sort_index())
        out.append("Cables: " + ", ".join(
            f"{c:,} x {t}" + (f" ({n} in parallel)" if n > 1 else "")
            for (t, n), c in kinds.items())
            + f"; each carries its coincident peak at up to {100 * sz.share:.0f} % of its "
              "rating and the voltage drop to every building stays within the budget "
              f"(grid.cable_voltage_drop_max_pct, less the transformer's own drop)")
    if infeasible:
        out.append("Could not be kept within the planning limits (shown on the map): "
                   + "; ".join(infeasible[:10]) + (" …" if len(infeasible) > 10 else ""))
    return tuple(out)


@dataclass(frozen=True)
class CableType:
    name: str
    r_ohm_per_km: float
    x_ohm_per_km: float
    max_i_ka: float


@functools.cache
def std_types(kind: str) -> pd.DataFrame:
    """pandapower's standard types of ``kind`` ("line", "trafo"): the table
    ``pp.available_std_types(pp.create_empty_network(), kind)`` gives, read once from
    pandapower's own basic types instead of building an empty network each time (0.5 s, two
    thirds of importing a small district). Read only."""
    from pandapower.std_types import basic_std_types

    return pd.DataFrame(basic_std_types()[kind]).T


def cable_types(assumptions: Assumptions) -> list[CableType]:
    """The LV cable types the synthesis may lay, smallest first (pandapower standard types)."""
    table = std_types("line")
    names = [n.strip() for n in assumptions.text("grid.cable_std_types").split(";") if n.strip()]
    unknown = [n for n in names if n not in table.index]
    if unknown:
        raise DecentraError("grid.cable_std_types names types pandapower does not know",
                            rows=unknown)
    out = [CableType(n, float(table.at[n, "r_ohm_per_km"]), float(table.at[n, "x_ohm_per_km"]),
                     float(table.at[n, "max_i_ka"])) for n in names]
    return sorted(out, key=lambda c: c.max_i_ka)


def cable_budget(assumptions: Assumptions, trafo_std_type: str, rating_kva: float,
                 peak_kw: float, trafo_types: pd.DataFrame | None = None) -> float:
    """Voltage drop [pu] the cables behind a transformer may use at their peaks: the planning
    budget ``grid.cable_voltage_drop_max_pct``, or less where the transformer's own drop at
    the coincident peak, (vkr P + vx Q) / S_n, leaves less above ``grid.voltage_min_pu``
    (half a percent kept as a margin)."""
    a = assumptions
    budget = a.number("grid.cable_voltage_drop_max_pct") / 100.0
    types = trafo_types if trafo_types is not None else std_types("trafo")
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
    """The lines with the cable type and parallel count :func:`check_cables` chose."""
    return check_cables(lines, building_node, annual_kwh, prof_idx, profiles, assumptions,
                        budget_by_root).lines


def check_cables(lines: pd.DataFrame, building_node: dict[str, int], annual_kwh: np.ndarray,
                 prof_idx: np.ndarray, profiles: np.ndarray, assumptions: Assumptions,
                 budget_by_root: dict[str, float] | None = None,
                 types: list[CableType] | None = None) -> CableCheck:
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
    types = types or cable_types(a)
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
        empty = np.zeros(0)
        return CableCheck(out, empty.astype(np.int64), empty, empty, empty.astype(bool))
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
    seg = (lad_r[step] + lad_x[step] * tan_phi) * p_mw * length_km / v_kv ** 2
    total, _ = _path_drops(top, parent, seg, step < len(ladder) - 1)
    return CableCheck(out, leaves, total[leaves], limit, amps > lad_amps.max() * (1 + 1e-9))


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


def proxy_streets(buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Stand-in streets when a city brings neither streets nor feeders: the minimum spanning
    tree of the buildings' Delaunay triangulation (shortest lines connecting all buildings,
    as a radial LV cable network roughly does). EPSG:4326 lines."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import minimum_spanning_tree
    from scipy.spatial import Delaunay, QhullError

    crs = metric_crs(buildings)
    pts = buildings.to_crs(crs).geometry.representative_point()
    xy = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
    n = len(xy)
    if n == 1 or np.ptp(xy, axis=0).max() < 1.0:       # one building, or all at one point
        x, y = xy.mean(axis=0)
        lines = [LineString([(x - 15, y - 15), (x + 15, y - 15)])]
    else:
        centred = xy - xy.mean(axis=0)
        # in a row within 1 m: reprojection noise must not make a row look like a plane
        flat = n == 2 or np.linalg.matrix_rank(centred, tol=1.0) < 2
        if not flat:
            try:
                tri = Delaunay(xy)
            except QhullError:                                  # nearly flat: a row after all
                flat = True
        if flat:
            axis = np.linalg.svd(centred, full_matrices=False)[2][0]   # along the row
            order = np.argsort(centred @ axis, kind="stable")
            pairs = np.column_stack([order[:-1], order[1:]])
        else:
            edges = np.vstack([tri.simplices[:, [0, 1]], tri.simplices[:, [1, 2]],
                               tri.simplices[:, [0, 2]], tri.coplanar[:, [0, 2]]])
            pairs = np.unique(np.sort(edges, axis=1), axis=0)   # coplanar: duplicates joined
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
        fit = smallest_rating(s_kva, ratings, share) or ratings[-1]
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
