"""Walking distances along a street network, in metres of a metric CRS.

Street centrelines are noded into an undirected graph whose edges are the
straight pieces between vertices.  A point joins the graph at the nearest
point of the nearest edge (not just the nearest node); the snap distance is
walked too.  Shortest paths come from ``scipy.sparse.csgraph.dijkstra``, run
from the few nodes next to the origins, so one origin against ten thousand
destinations costs one search, not ten thousand.

A point farther than ``max_snap_m`` from every street, or a missing network,
falls back to the straight line, and the answer says which kind each distance
is (``"network"`` or ``"straight_line"``).

A network's coordinates are metres in one CGCS2000 3-degree Gauss-Krüger zone
(:func:`gis.crs.metric_crs_for`), kept as ``WalkingNetwork.metric_crs``: points
must be projected with that CRS (``to_metric(lon, lat, metric_crs=net.metric_crs)``)
before they are measured on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from gis.crs import METRIC, metric_crs_of

NETWORK = "network"
STRAIGHT_LINE = "straight_line"
STRAIGHT = STRAIGHT_LINE  # the older name, still imported by bench/dispatch.py
FloatArray = npt.NDArray[np.float64]
MATRIX_CELLS = 1 << 20  # origin-destination pairs worked on at once


class EmptyNetworkError(ValueError):
    """The lines given hold no street with a length."""


@dataclass(frozen=True)
class Snapped:
    """Where points join the network: edge, its end nodes, metres to each, snap length."""

    edge: npt.NDArray[np.int64]
    u: npt.NDArray[np.int64]
    v: npt.NDArray[np.int64]
    to_u: FloatArray
    to_v: FloatArray
    offset: FloatArray

    def take(self, index: npt.ArrayLike) -> Snapped:
        """The snaps at ``index``, in that order."""
        i = np.asarray(index, dtype=np.int64)
        return Snapped(
            self.edge[i], self.u[i], self.v[i], self.to_u[i], self.to_v[i], self.offset[i]
        )

    @staticmethod
    def concat(parts: list[Snapped]) -> Snapped:
        """One set of snaps from several, in order."""
        return Snapped(
            *(
                np.concatenate([getattr(p, f) for p in parts])
                for f in ("edge", "u", "v", "to_u", "to_v", "offset")
            )
        )


@dataclass(frozen=True)
class Distances:
    """Metres from origins to destinations, and whether each was walked on the network."""

    metres: FloatArray
    walked: npt.NDArray[np.bool_]

    @property
    def kind(self) -> npt.NDArray[np.str_]:
        """``"network"`` or ``"straight_line"`` for each distance."""
        return np.where(self.walked, NETWORK, STRAIGHT_LINE)


class WalkingNetwork:
    """An undirected street graph in metres, ready for shortest-path queries.

    Parameters
    ----------
    lines : array of LineString or MultiLineString
        Street centrelines in metres, in ``metric_crs``.  They need not be
        noded: crossing lines are split where they cross.
    max_snap_m : float
        Points farther than this from every street use straight lines.
    metric_crs : str, optional
        The CRS of ``lines``, kept as :attr:`metric_crs` so that callers can
        project points onto the network's grid.  ``None`` (the default for
        bare lines) means unknown: users of the network then pick a CRS from
        their own data, which agrees only if the lines were projected the
        same way.  :meth:`from_frame` always sets it.
    """

    metric_crs: str | None

    def __init__(
        self, lines: npt.ArrayLike, max_snap_m: float = 150.0, *, metric_crs: str | None = None
    ) -> None:
        geoms = np.asarray(lines, dtype=object)
        geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
        if len(geoms) == 0:
            raise EmptyNetworkError("no street lines to build a walking network from")
        noded = shapely.get_parts(shapely.node(shapely.multilinestrings(shapely.get_parts(geoms))))
        coords, part = shapely.get_coordinates(noded, return_index=True)
        keep = part[1:] == part[:-1]
        start, end = coords[:-1][keep], coords[1:][keep]
        length = np.hypot(*(end - start).T)
        start, end, length = start[length > 0], end[length > 0], length[length > 0]
        if len(length) == 0:
            raise EmptyNetworkError("the street lines have no length")
        # nodes are vertices; equal to the millimetre is the same node
        keys = np.round(np.vstack([start, end]) * 1000).astype(np.int64)
        _, first, node = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        node = node.ravel()
        self.node_xy = np.vstack([start, end])[first]
        self.max_snap_m = float(max_snap_m)
        self.metric_crs = metric_crs
        self.u, self.v = node[: len(length)], node[len(length) :]
        self.length = length
        self.segments = shapely.linestrings(np.stack([start, end], axis=1))
        self._tree = shapely.STRtree(self.segments)
        self.graph = edge_graph(self.u, self.v, length, len(self.node_xy))
        self.component = connected_components(self.graph, directed=False)[1]

    @classmethod
    def from_frame(
        cls,
        streets: gpd.GeoDataFrame,
        max_snap_m: float = 150.0,
        *,
        metric_crs: str | None = None,
    ) -> WalkingNetwork:
        """From a street layer in any CRS.

        Parameters
        ----------
        streets : GeoDataFrame
            Street centrelines, in any CRS.
        max_snap_m : float
            Points farther than this from every street use straight lines.
        metric_crs : str, optional
            The CRS to build the network in.  By default the zone of the
            streets' centre (:func:`gis.crs.metric_crs_of`): EPSG:4550 for
            Lingxiao.

        Raises
        ------
        gis.crs.MetricZoneError
            By default, for streets outside China's zones.
        EmptyNetworkError
            When there is no street with a length.
        """
        # no streets at all: the zone does not matter, the constructor refuses them
        crs = metric_crs or metric_crs_of(streets, default=METRIC)
        return cls(streets.to_crs(crs).geometry.values, max_snap_m, metric_crs=crs)

    @classmethod
    def from_osm_xml(
        cls, path: str | Path, max_snap_m: float = 150.0, *, metric_crs: str | None = None
    ) -> WalkingNetwork:
        """From an OpenStreetMap XML extract (read with osmnx ``graph_from_xml``).

        ``metric_crs`` is as for :meth:`from_frame`: by default the extract's zone.
        """
        from gis.io import read_layer_file

        return cls.from_frame(read_layer_file(path), max_snap_m, metric_crs=metric_crs)

    @property
    def n_nodes(self) -> int:
        return len(self.node_xy)

    @property
    def n_edges(self) -> int:
        return len(self.length)

    def snap(self, x: npt.ArrayLike, y: npt.ArrayLike) -> Snapped:
        """Join metric points to their nearest edges."""
        pts = shapely.points(
            np.atleast_1d(np.asarray(x, dtype=float)), np.atleast_1d(np.asarray(y, dtype=float))
        )
        which, offset = self._tree.query_nearest(pts, return_distance=True, all_matches=False)
        edge = which[1]
        along = shapely.line_locate_point(self.segments[edge], pts)
        return Snapped(
            edge=edge,
            u=self.u[edge],
            v=self.v[edge],
            to_u=along,
            to_v=self.length[edge] - along,
            offset=np.asarray(offset, dtype=float),
        )

    def from_nodes(self, nodes: npt.ArrayLike, limit_m: float = np.inf) -> FloatArray:
        """Shortest metres from each of ``nodes`` to every node (one row per node).

        Searches stop at ``limit_m``; nodes beyond it are ``inf``.
        """
        # every edge is stored both ways, so a directed search is exact and spares
        # scipy from building the transpose
        return np.atleast_2d(
            dijkstra(
                self.graph,
                directed=True,
                indices=np.asarray(nodes, dtype=np.int64),
                limit=limit_m,
            )
        )

    def reach(self, snapped: Snapped, limit_m: float = np.inf) -> FloatArray:
        """Metres from each snapped point to every node, leaving by either end of its edge.

        The snap offset is not included.  Nodes beyond ``limit_m`` are ``inf``.
        """
        sources, where = np.unique(np.concatenate([snapped.u, snapped.v]), return_inverse=True)
        tree = self.from_nodes(sources, limit_m)
        n = len(snapped.u)
        iu, iv = where[:n], where[n:]
        reach = np.minimum(tree[iu] + snapped.to_u[:, None], tree[iv] + snapped.to_v[:, None])
        reach[reach > limit_m] = np.inf
        return reach

    def matrix(
        self,
        ox: npt.ArrayLike,
        oy: npt.ArrayLike,
        dx: npt.ArrayLike,
        dy: npt.ArrayLike,
        snapped: Snapped | None = None,
        limit_m: float = np.inf,
    ) -> Distances:
        """Walking metres from every origin to every destination (origins × destinations).

        ``snapped`` may give the destinations' snaps when they were made before
        (fixed places such as squad bases), to save snapping them again.  With
        ``limit_m`` the searches stop there and every distance beyond it is
        ``inf``, which keeps catchment questions cheap on a large network.
        """
        ox, oy, dx, dy = (np.atleast_1d(np.asarray(a, dtype=float)) for a in (ox, oy, dx, dy))
        o = self.snap(ox, oy)
        d = snapped if snapped is not None else self.snap(dx, dy)
        reach = self.reach(o, limit_m)
        metres = np.empty((len(ox), len(dx)))
        walked = np.empty((len(ox), len(dx)), dtype=bool)
        # a few origins at a time keeps the temporaries small for many destinations
        rows = max(1, MATRIX_CELLS // max(len(dx), 1))
        for start in range(0, len(ox), rows):
            part = slice(start, start + rows)
            metres[part], walked[part] = self._rows(
                o.take(np.arange(len(ox))[part]), d, reach[part], ox[part], oy[part], dx, dy
            )
        metres[metres > limit_m] = np.inf
        return Distances(metres=metres, walked=walked)

    def _rows(
        self,
        o: Snapped,
        d: Snapped,
        reach: FloatArray,
        ox: FloatArray,
        oy: FloatArray,
        dx: FloatArray,
        dy: FloatArray,
    ) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
        """Metres and whether walked, for some origins against every destination."""
        walked = np.minimum(reach[:, d.u] + d.to_u[None, :], reach[:, d.v] + d.to_v[None, :])
        same = o.edge[:, None] == d.edge[None, :]
        along = np.abs(o.to_u[:, None] - d.to_u[None, :])
        walked = np.where(same, np.minimum(walked, along), walked)
        total = walked + o.offset[:, None] + d.offset[None, :]
        # no path at all (another component) falls back; a path beyond the limit does not
        connected = self.component[o.u][:, None] == self.component[d.u][None, :]
        usable = (
            (o.offset <= self.max_snap_m)[:, None]
            & (d.offset <= self.max_snap_m)[None, :]
            & (np.isfinite(total) | connected)
        )
        straight = np.hypot(ox[:, None] - dx[None, :], oy[:, None] - dy[None, :])
        return np.where(usable, total, straight), usable


def edge_graph(
    u: npt.NDArray[np.int64], v: npt.NDArray[np.int64], length: FloatArray, n: int
) -> csr_matrix:
    """The street graph as a symmetric sparse matrix, for ``scipy.sparse.csgraph``.

    This is the graph-building step of ``WalkingNetwork``: each edge is stored
    both ways, so that a directed search on it is exact, and of edges joining
    the same two nodes only the shortest is kept, since a walk never takes the
    longer one (a plain sparse matrix would add their lengths up).

    Parameters
    ----------
    u, v : array of int
        The end nodes of each edge, numbers in ``range(n)``; the order of the
        two ends does not matter.
    length : array of float
        The length of each edge in metres, greater than 0.
    n : int
        The number of nodes.

    Returns
    -------
    scipy.sparse.csr_matrix
        An ``n`` x ``n`` matrix whose entry ``[a, b]`` is the length of the
        shortest edge between nodes ``a`` and ``b``.
    """
    a, b = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((length, b, a))
    a, b, length = a[order], b[order], length[order]
    first = np.r_[True, (a[1:] != a[:-1]) | (b[1:] != b[:-1])]
    a, b, length = a[first], b[first], length[first]
    rows, cols = np.concatenate([a, b]), np.concatenate([b, a])
    return coo_matrix((np.concatenate([length, length]), (rows, cols)), shape=(n, n)).tocsr()


def straight_matrix(
    ox: npt.ArrayLike, oy: npt.ArrayLike, dx: npt.ArrayLike, dy: npt.ArrayLike
) -> Distances:
    """Straight-line metres when no network is loaded."""
    ox, oy, dx, dy = (np.atleast_1d(np.asarray(a, dtype=float)) for a in (ox, oy, dx, dy))
    metres = np.hypot(ox[:, None] - dx[None, :], oy[:, None] - dy[None, :])
    return Distances(metres=metres, walked=np.zeros(metres.shape, dtype=bool))


def walking_matrix(
    network: WalkingNetwork | None,
    ox: npt.ArrayLike,
    oy: npt.ArrayLike,
    dx: npt.ArrayLike,
    dy: npt.ArrayLike,
    snapped: Snapped | None = None,
) -> Distances:
    """Walking metres where a network is loaded, straight lines otherwise."""
    if network is None:
        return straight_matrix(ox, oy, dx, dy)
    return network.matrix(ox, oy, dx, dy, snapped)
