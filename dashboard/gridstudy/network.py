"""A district's network as the power flow sees it: the pandapower network, its admittance model
and the joins between them (built once per district).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dashboard.cache import Memo
from dashboard.domain.district import District
from dashboard.energy import powerflow as pf


@dataclass(frozen=True, eq=False)
class NetModel:
    """A district's pandapower network, its admittance model and the joins between them."""

    dnet: Any                              # io.pandapower_net.DistrictNet
    grid: pf.GridModel
    building_ppc: np.ndarray               # (N,) ppc bus of each building
    building_island: np.ndarray            # (N,) island of each building (-1: not fed)
    transformer_island: np.ndarray         # (K,) island of each district transformer
    transformer_ppc: np.ndarray            # (K,) ppc LV bus of each transformer
    bus_table: pd.DataFrame                # pandapower buses: ppc, island, owner, lon, lat
    line_table: pd.DataFrame               # pandapower lines: line_id, owner, lon, lat
    owner_of_ppc: np.ndarray               # (n_ppc,) district transformer row feeding a bus
    notes: tuple[str, ...]
    branches: dict[int, Any] = field(default_factory=dict)   # island -> IslandBranches

    @property
    def n_islands(self) -> int:
        return len(self.grid.islands)


nets: Memo[str, NetModel] = Memo(4)


def net_model(district: District) -> NetModel:
    """The (cached) network model of a district."""
    hit = nets.get(district.content_hash)
    if hit is None:
        hit = _build_net_model(district)
        nets.put(district.content_hash, hit)
    return hit


def _point(geo: object) -> tuple[float, float]:
    import json

    if isinstance(geo, str) and geo:
        try:
            c = json.loads(geo)["coordinates"]
            return float(c[0]), float(c[1])
        except (ValueError, KeyError, TypeError, IndexError):
            pass
    return float("nan"), float("nan")


def _build_net_model(district: District) -> NetModel:
    import networkx as nx
    import pandapower.topology as top

    from dashboard.io.pandapower_net import grid_model, to_pandapower

    dnet = to_pandapower(district)
    grid = grid_model(dnet.net)
    net = dnet.net
    b_ppc = grid.ppc_buses(dnet.building_bus)
    b_isl = np.where(b_ppc >= 0, grid.island_of[np.maximum(b_ppc, 0)], -1)
    t_ppc = grid.ppc_buses(np.maximum(dnet.transformer_bus, 0))
    t_ppc = np.where(dnet.transformer_bus >= 0, t_ppc, -1)
    t_isl = np.where(t_ppc >= 0, grid.island_of[np.maximum(t_ppc, 0)], -1)
    # the transformer feeding each bus: reachable from its LV bus without crossing another
    graph = top.create_nxgraph(net, include_trafos=False, respect_switches=True)
    owner = pd.Series(-1, index=net.bus.index, dtype=np.int64)
    for j, lv in enumerate(dnet.transformer_bus):
        if lv < 0 or lv not in graph:
            continue
        for bus in nx.node_connected_component(graph, int(lv)):
            if owner.at[bus] < 0:
                owner.at[bus] = j
    ppc_all = grid.ppc_buses(net.bus.index.to_numpy())
    owner_ppc = np.full(grid.n_bus, -1, dtype=np.int64)
    ok = ppc_all >= 0
    owner_ppc[ppc_all[ok]] = owner.to_numpy()[ok]
    xy = np.array([_point(g) for g in net.bus["geo"]]) if "geo" in net.bus else \
        np.full((len(net.bus), 2), np.nan)
    buses = pd.DataFrame({"bus": net.bus.index.to_numpy(), "ppc": ppc_all,
                          "island": np.where(ok, grid.island_of[np.maximum(ppc_all, 0)], -1),
                          "owner": owner.to_numpy(), "vn_kv": net.bus["vn_kv"].to_numpy(float),
                          "lon": xy[:, 0], "lat": xy[:, 1]})
    f = net.line["from_bus"].to_numpy()
    t = net.line["to_bus"].to_numpy()
    pos = pd.Series(np.arange(len(net.bus)), index=net.bus.index)
    lon = (xy[pos[f].to_numpy(), 0] + xy[pos[t].to_numpy(), 0]) / 2
    lat = (xy[pos[f].to_numpy(), 1] + xy[pos[t].to_numpy(), 1]) / 2
    line_owner = np.maximum(owner.loc[f].to_numpy(), owner.loc[t].to_numpy())
    lines = pd.DataFrame({"line": net.line.index.to_numpy(), "line_id": list(dnet.line_ids),
                          "owner": line_owner, "lon": lon, "lat": lat,
                          "in_service": net.line["in_service"].to_numpy(bool)})
    notes = list(dnet.notes)
    unfed = int((b_isl < 0).sum())
    if unfed:
        notes.append(f"{unfed} buildings sit on buses no transformer feeds (open switches or "
                     "out-of-service lines): they are left out of the power flow")
    return NetModel(dnet, grid, b_ppc, b_isl, t_isl, t_ppc, buses, lines, owner_ppc,
                    tuple(notes))
