"""Benchmark: one dispatch decision, ``api.dispatcher.rank``, against brute force.

``rank`` applies the availability rules to every squad, then measures the
walking distance from the case to every able squad with one
``WalkingNetwork.matrix`` call (one Dijkstra search from the two end nodes of
the case's edge), and sorts the candidates by distance.  Two networks:

* **sample**: the streets of the Lingxiao community (``data/streets.geojson``);
* **city**: a synthetic street grid of more than 50,000 edges, about 15 km
  across in EPSG:4550 metres, with nodes jittered and some streets removed while
  the graph stays connected (checked with ``connected_components``).

For 8, 100 and 10,000 squads (bases on or near the streets, fixed seed) and many
cases at random points, it times ``rank(...)`` per case and, on the same cases,
a brute-force baseline: one ``scipy.sparse.csgraph.dijkstra`` per squad from its
own edge's ends, then the nearest squad.  Both must name the same nearest squad
at the same distance, or the run fails.  It also times one-to-all shortest paths
with scipy against networkx, and the network build, to back the choice of library.

Run with ``python -m bench.dispatch`` (``--quick`` for a smoke run about ten
times smaller).  Timings are printed, never judged; only a disagreement of the
answers fails the run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import numpy.typing as npt
import shapely
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra, minimum_spanning_tree

from bench import _scaffold as scaffold
from bench._timing import best_of, column_table, fmt_ratio, fmt_seconds, timed
from gis.crs import METRIC, from_metric, to_metric
from gis.index import AreaIndex
from gis.network import NETWORK, STRAIGHT, WalkingNetwork, edge_graph
from service.community import CommunitySnapshot, SquadInfo
from service.ranking import Ranking, rank
from service.settings import Settings

FloatArray = npt.NDArray[np.float64]

STREETS_PATH = Path(__file__).resolve().parents[1] / "data" / "streets.geojson"
SEED = 20261126
NOW = datetime(2026, 11, 26, 2, 0)  # 10:00 in Ningbo; every squad is on duty all day anyway
CATEGORY = "parking"
SQUAD_SPREAD_M = 15.0  # bases lie this far (standard deviation per axis) off a street point
REL_TOL = 1e-6  # relative agreement asked of distances
ABS_TOL_M = 1e-9  # for distances of zero
ROUNDING_M = 0.05  # rank reports distance_m rounded to 0.1 m
SAMPLE_TARGET_S = 5e-3  # one dispatch on the sample network under 5 ms
SPEEDUP_TARGET = 10.0  # rank at least 10x faster than brute force at the largest squad count
SAMPLE_SQUADS = 8  # the sample community's real number of squads

# Synthetic city: a jittered square grid of streets in EPSG:4550 metres.
CITY_CENTRE_M = (390_000.0, 3_310_000.0)
CITY_JITTER = 0.2  # node jitter, as a share of the street spacing, per axis
CITY_DROP = 0.2  # share of the streets outside a random spanning tree that are removed


@dataclass(frozen=True)
class Sizes:
    squad_counts: tuple[int, ...]
    rank_cases: tuple[int, ...]  # measured rank() calls, per squad count
    warmup: int  # unmeasured rank() calls before each measured series
    sample_baseline_cases: tuple[int, ...]  # brute-force dispatches, per squad count
    city_baseline_cases: tuple[int, ...]
    city_nodes_side: int  # nodes along each side of the city grid
    city_side_m: float
    repeat: int  # best-of count for builds and networkx
    scipy_repeat: int  # best-of count for a scipy search


FULL = Sizes(
    squad_counts=(8, 100, 10_000),
    rank_cases=(500, 300, 40),
    warmup=10,
    sample_baseline_cases=(100, 50, 5),
    city_baseline_cases=(30, 10, 2),  # 2 x 10,000 searches of 7-9 ms each: about 3 minutes
    city_nodes_side=170,
    city_side_m=15_000.0,
    repeat=3,
    scipy_repeat=10,
)
QUICK = Sizes(
    squad_counts=(8, 100, 1_000),
    rank_cases=(50, 30, 10),
    warmup=2,
    sample_baseline_cases=(10, 5, 2),
    city_baseline_cases=(5, 2, 1),
    city_nodes_side=54,
    city_side_m=5_000.0,
    repeat=1,
    scipy_repeat=3,
)


@dataclass(frozen=True)
class Scene:
    """A network with the lines it was built from and its build time."""

    name: str
    lines: npt.NDArray[np.object_]  # metric LineStrings
    net: WalkingNetwork
    build_s: float


@dataclass(frozen=True)
class Squads:
    areas: CommunitySnapshot
    ids: list[str]
    x: FloatArray  # metres, as rank computes them from lon/lat
    y: FloatArray


@dataclass(frozen=True)
class Cases:
    lon: FloatArray
    lat: FloatArray
    x: FloatArray
    y: FloatArray


@dataclass(frozen=True)
class DispatchResult:
    network: str
    edges: int
    nodes: int
    squads: int
    rank_s: FloatArray  # seconds per rank() call
    baseline_s: FloatArray  # seconds per brute-force dispatch
    straight: int  # baseline cases whose nearest squad is measured in a straight line

    @property
    def rank_mean(self) -> float:
        return float(self.rank_s.mean())

    @property
    def baseline_mean(self) -> float:
        return float(self.baseline_s.mean())

    @property
    def ratio(self) -> float:
        return self.baseline_mean / self.rank_mean


@dataclass(frozen=True)
class LibraryResult:
    network: str
    edges: int
    nodes: int
    walking_build_s: float
    csr_build_s: float
    nx_build_s: float
    scipy_s: float  # dijkstra(directed=False), as gis.network calls it
    scipy_directed_s: float  # dijkstra(directed=True) on the same, already symmetric, graph
    nx_s: float


@dataclass(frozen=True)
class Breakdown:
    """Parts of one rank() at the largest squad count, each timed alone (best of a few)."""

    network: str
    squads: int
    rank_s: float
    to_metric_s: float
    matrix_s: float
    snap_squads_s: float
    search_s: float

    @property
    def python_s(self) -> float:
        return self.rank_s - self.to_metric_s - self.matrix_s


# --------------------------------------------------------------------------- networks


def sample_lines() -> npt.NDArray[np.object_]:
    """The sample streets in metres, as ``WalkingNetwork.from_frame`` would take them."""
    streets = gpd.read_file(STREETS_PATH)
    return np.asarray(streets.to_crs(METRIC).geometry.to_numpy(), dtype=np.object_)


def city_lines(side: int, side_m: float, seed: int) -> npt.NDArray[np.object_]:
    """Straight streets between the nodes of a jittered ``side`` x ``side`` grid.

    A random spanning tree of the full grid is kept, and ``CITY_DROP`` of the
    other streets are removed, so the network stays connected.
    """
    rng = np.random.default_rng([seed, 10])
    spacing = side_m / (side - 1)
    ix, iy = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    jitter = rng.uniform(-CITY_JITTER, CITY_JITTER, (2, side, side)) * spacing
    x = (CITY_CENTRE_M[0] - side_m / 2 + ix * spacing + jitter[0]).ravel()
    y = (CITY_CENTRE_M[1] - side_m / 2 + iy * spacing + jitter[1]).ravel()
    node = np.arange(side * side).reshape(side, side)
    a = np.concatenate([node[:-1, :].ravel(), node[:, :-1].ravel()])
    b = np.concatenate([node[1:, :].ravel(), node[:, 1:].ravel()])
    n = side * side
    weights = rng.uniform(1.0, 2.0, len(a))
    tree = minimum_spanning_tree(coo_matrix((weights, (a, b)), shape=(n, n))).tocoo()
    tree_keys = np.minimum(tree.row, tree.col).astype(np.int64) * n + np.maximum(tree.row, tree.col)
    in_tree = np.isin(a.astype(np.int64) * n + b, tree_keys)
    keep = in_tree | (rng.random(len(a)) >= CITY_DROP)
    a, b = a[keep], b[keep]
    ends = np.stack([np.column_stack([x[a], y[a]]), np.column_stack([x[b], y[b]])], axis=1)
    return np.asarray(shapely.linestrings(ends), dtype=np.object_)


def build_scene(name: str, lines: npt.NDArray[np.object_], repeat: int = 1) -> Scene:
    build_s, net = best_of(partial(WalkingNetwork, lines), repeat)
    components, _ = connected_components(net.graph, directed=False)
    if components != 1:
        raise scaffold.CheckFailed(
            f"{name}: the network has {components} connected components, not 1"
        )
    return Scene(name, lines, net, build_s)


# --------------------------------------------------------------------------- squads, cases


def lonlat_and_metres(
    xs: FloatArray, ys: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """WGS84 of metric points, and the metres rank gets back from that WGS84."""
    lon, lat = from_metric(xs, ys)
    x, y = to_metric(lon, lat)
    return lon, lat, x, y


def make_squads(net: WalkingNetwork, n: int, stream: int) -> Squads:
    """``n`` squads whose bases lie near uniform random points along the streets."""
    rng = np.random.default_rng([SEED, stream])
    edge = rng.choice(net.n_edges, size=n, p=net.length / net.length.sum())
    along = rng.random(n)[:, None]
    start, end = net.node_xy[net.u[edge]], net.node_xy[net.v[edge]]
    xy = start + (end - start) * along + rng.normal(0.0, SQUAD_SPREAD_M, (n, 2))
    lon, lat, x, y = lonlat_and_metres(xy[:, 0], xy[:, 1])
    ids = [f"SQ{i:05d}" for i in range(n)]
    squads = tuple(
        SquadInfo(
            sid,
            sid,
            frozenset({CATEGORY}),
            "00:00-24:00",
            10,
            float(lon[i]),
            float(lat[i]),
            float(x[i]),
            float(y[i]),
        )
        for i, sid in enumerate(ids)
    )
    west, south = from_metric(*net.node_xy.min(axis=0))
    east, north = from_metric(*net.node_xy.max(axis=0))
    box = shapely.box(float(west), float(south), float(east), float(north))
    areas = CommunitySnapshot(
        grids=AreaIndex([box], ["G"]),
        districts=None,
        grid_names={},
        district_names={},
        outline=box,
        community_name="",
        squad_names={s.id: s.name for s in squads},
        unit_names={},
        squads=squads,
        network=net,
        metric_crs=METRIC,
        base_snaps=net.snap(x, y),  # as service.community does when it builds the snapshot
    )
    return Squads(areas, ids, x, y)


def make_cases(net: WalkingNetwork, n: int, stream: int) -> Cases:
    """``n`` uniform random points over the network's bounding box."""
    rng = np.random.default_rng([SEED, stream])
    (x0, y0), (x1, y1) = net.node_xy.min(axis=0), net.node_xy.max(axis=0)
    lon, lat, x, y = lonlat_and_metres(rng.uniform(x0, x1, n), rng.uniform(y0, y1, n))
    return Cases(lon, lat, x, y)


# --------------------------------------------------------------------------- baseline


def brute_force(
    net: WalkingNetwork, graph: csr_matrix, cx: float, cy: float, sx: FloatArray, sy: FloatArray
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Walking metres from every squad to the case, one Dijkstra search per squad.

    Same rules as ``WalkingNetwork.matrix``: a squad reaches the case's edge by
    either end of its own edge, walks along its own edge directly when both are
    on it, adds both snap distances, and falls back to the straight line when
    either point is more than ``max_snap_m`` from the streets.  Returns the
    metres and whether each one is a network distance.
    """
    case = net.snap([cx], [cy])
    cu, cv = int(case.u[0]), int(case.v[0])
    c_to_u, c_to_v = float(case.to_u[0]), float(case.to_v[0])
    c_edge, c_off = int(case.edge[0]), float(case.offset[0])
    limit = net.max_snap_m
    metres = np.empty(len(sx))
    network = np.empty(len(sx), dtype=bool)
    for i in range(len(sx)):
        s = net.snap(sx[i : i + 1], sy[i : i + 1])
        s_to_u, s_to_v, s_off = float(s.to_u[0]), float(s.to_v[0]), float(s.offset[0])
        tree = dijkstra(graph, directed=False, indices=[int(s.u[0]), int(s.v[0])])
        walked = min(
            tree[0, cu] + s_to_u + c_to_u,
            tree[0, cv] + s_to_u + c_to_v,
            tree[1, cu] + s_to_v + c_to_u,
            tree[1, cv] + s_to_v + c_to_v,
        )
        if int(s.edge[0]) == c_edge:
            walked = min(walked, abs(s_to_u - c_to_u))
        total = walked + s_off + c_off
        if s_off <= limit and c_off <= limit and np.isfinite(total):
            metres[i], network[i] = total, True
        else:
            metres[i], network[i] = float(np.hypot(sx[i] - cx, sy[i] - cy)), False
    return metres, network


def close(a: FloatArray | float, b: FloatArray | float) -> npt.NDArray[np.bool_]:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.asarray(np.abs(a - b) <= REL_TOL * np.maximum(np.abs(a), np.abs(b)) + ABS_TOL_M)


def verify(
    label: str,
    net: WalkingNetwork,
    squads: Squads,
    cx: float,
    cy: float,
    ranking: Ranking,
    base: FloatArray,
    base_network: npt.NDArray[np.bool_],
) -> None:
    """Fail unless rank and the brute-force baseline give the same answer for one case."""
    # The unrounded distances rank works from: one matrix row over every squad.
    row = net.matrix([cx], [cy], squads.x, squads.y)
    if not close(row.metres[0], base).all():
        worst = int(np.argmax(np.abs(row.metres[0] - base)))
        raise scaffold.CheckFailed(
            f"{label}: WalkingNetwork.matrix and brute-force Dijkstra differ for "
            f"{squads.ids[worst]}: "
            f"{row.metres[0][worst]:.6f} m against {base[worst]:.6f} m"
        )
    if not ((row.kind[0] == NETWORK) == base_network).all():
        worst = int(np.argmax((row.kind[0] == NETWORK) != base_network))
        raise scaffold.CheckFailed(
            f"{label}: WalkingNetwork.matrix and brute-force Dijkstra differ in the distance "
            f"kind of {squads.ids[worst]}: {row.kind[0][worst]} against "
            f"{NETWORK if base_network[worst] else STRAIGHT}"
        )
    # rank's first candidate is the baseline's nearest squad (or ties with it).
    if len(ranking.candidates) != len(squads.ids):
        raise scaffold.CheckFailed(
            f"{label}: rank lists {len(ranking.candidates)} candidates for "
            f"{len(squads.ids)} able squads"
        )
    where = {sid: i for i, sid in enumerate(squads.ids)}
    nearest = int(np.argmin(base))
    first: dict[str, Any] = ranking.candidates[0]
    pick = where[first["squad_id"]]
    if pick != nearest and not close(base[pick], base[nearest]):
        raise scaffold.CheckFailed(
            f"{label}: rank picks {first['squad_id']} at {first['distance_m']} m, "
            f"brute force {squads.ids[nearest]} at {base[nearest]:.6f} m"
        )
    # Every candidate's reported distance (rounded to 0.1 m) and kind match the baseline.
    for c in ranking.candidates:
        i = where[c["squad_id"]]
        if abs(c["distance_m"] - base[i]) > ROUNDING_M + REL_TOL * base[i] + ABS_TOL_M:
            raise scaffold.CheckFailed(
                f"{label}: rank says {c['squad_id']} is {c['distance_m']} m away, "
                f"brute force {base[i]:.6f} m"
            )
        if c["distance_kind"] != (NETWORK if base_network[i] else STRAIGHT):
            raise scaffold.CheckFailed(
                f"{label}: rank says {c['squad_id']} is {c['distance_kind']}, brute force "
                f"{NETWORK if base_network[i] else STRAIGHT}"
            )


# --------------------------------------------------------------------------- dispatch


def bench_dispatch(
    scene: Scene, squads: Squads, cases: Cases, n_rank: int, n_base: int, warmup: int
) -> DispatchResult:
    net, areas = scene.net, squads.areas
    settings = Settings()
    n = len(squads.ids)
    label = f"{scene.name}, {n:,} squads"

    def one(i: int) -> Ranking:
        return rank(
            areas, CATEGORY, float(cases.lon[i]), float(cases.lat[i]), NOW, {}, [], settings
        )

    # Warm-up on cases of their own: the last ones of the list, never measured.
    for i in range(len(cases.lon) - warmup, len(cases.lon)):
        one(i)
    rank_s = np.empty(n_rank)
    kept: list[Ranking] = []
    for i in range(n_rank):
        rank_s[i], ranking = timed(partial(one, i))
        if i < n_base:
            kept.append(ranking)
        del ranking

    graph = net.graph
    base_s = np.empty(n_base)
    straight = 0
    for i in range(n_base):
        cx, cy = float(cases.x[i]), float(cases.y[i])
        base_s[i], (metres, network) = timed(
            partial(brute_force, net, graph, cx, cy, squads.x, squads.y)
        )
        verify(f"{label}, case {i}", net, squads, cx, cy, kept[i], metres, network)
        straight += int(not network[int(np.argmin(metres))])
    print(
        f"{label}: rank mean {rank_s.mean() * 1e3:.2f} ms over {n_rank} cases; "
        f"brute force {fmt_seconds(float(base_s.mean()))} over {n_base} cases; answers agree "
        f"(nearest squad by straight line in {straight} of {n_base})",
        flush=True,
    )
    return DispatchResult(scene.name, net.n_edges, net.n_nodes, n, rank_s, base_s, straight)


def breakdown(scene: Scene, squads: Squads, cases: Cases, rank_s: float, repeat: int) -> Breakdown:
    """Time the parts of rank's distance step alone, on the first case."""
    net = scene.net
    lon = [s.lon for s in squads.areas.squads]
    lat = [s.lat for s in squads.areas.squads]
    cx, cy = float(cases.x[0]), float(cases.y[0])
    to_metric_s, _ = best_of(partial(to_metric, lon, lat), repeat)
    matrix_s, _ = best_of(partial(net.matrix, [cx], [cy], squads.x, squads.y), repeat)
    snap_s, _ = best_of(partial(net.snap, squads.x, squads.y), repeat)
    case = net.snap([cx], [cy])
    search_s, _ = best_of(partial(net.from_nodes, [int(case.u[0]), int(case.v[0])]), repeat)
    return Breakdown(scene.name, len(squads.ids), rank_s, to_metric_s, matrix_s, snap_s, search_s)


# --------------------------------------------------------------------------- libraries


def nx_graph(net: WalkingNetwork) -> nx.Graph:
    """The network as an ``nx.Graph``; of parallel edges the shortest is kept."""
    order = np.argsort(-net.length, kind="stable")  # longest first: later edges overwrite
    graph = nx.Graph()
    graph.add_nodes_from(range(net.n_nodes))
    graph.add_weighted_edges_from(
        zip(
            net.u[order].tolist(),
            net.v[order].tolist(),
            net.length[order].tolist(),
            strict=True,
        )
    )
    return graph


def bench_libraries(scene: Scene, sizes: Sizes, stream: int) -> LibraryResult:
    net = scene.net
    source = int(np.random.default_rng([SEED, stream]).integers(net.n_nodes))
    csr_s, _ = best_of(partial(edge_graph, net.u, net.v, net.length, net.n_nodes), sizes.repeat)
    nx_build_s, graph = best_of(partial(nx_graph, net), sizes.repeat)
    scipy_s, ours = best_of(
        partial(dijkstra, net.graph, directed=False, indices=[source]), sizes.scipy_repeat
    )
    directed_s, directed = best_of(
        partial(dijkstra, net.graph, directed=True, indices=[source]), sizes.scipy_repeat
    )
    nx_s, theirs = best_of(
        partial(nx.single_source_dijkstra_path_length, graph, source, weight="weight"),
        sizes.repeat,
    )
    expected = np.full(net.n_nodes, np.inf)
    expected[np.fromiter(theirs.keys(), dtype=np.int64, count=len(theirs))] = np.fromiter(
        theirs.values(), dtype=np.float64, count=len(theirs)
    )
    for name, got in (("directed=False", ours[0]), ("directed=True", directed[0])):
        if not (np.isinf(got) == np.isinf(expected)).all():
            raise scaffold.CheckFailed(
                f"{scene.name}: scipy dijkstra {name} and networkx reach different nodes "
                f"from node {source}"
            )
        reached = np.isfinite(expected)  # the same nodes as np.isfinite(got), checked above
        if not close(got[reached], expected[reached]).all():
            node = int(np.flatnonzero(reached)[np.argmax(~close(got[reached], expected[reached]))])
            raise scaffold.CheckFailed(
                f"{scene.name}: scipy dijkstra {name} and networkx differ from node {source} "
                f"to node {node}: {got[node]:.6f} m against {expected[node]:.6f} m"
            )
    print(f"{scene.name}: scipy and networkx shortest paths agree from node {source}", flush=True)
    return LibraryResult(
        scene.name,
        net.n_edges,
        net.n_nodes,
        scene.build_s,
        csr_s,
        nx_build_s,
        scipy_s,
        directed_s,
        nx_s,
    )


# --------------------------------------------------------------------------- report


def size_text(edges: int, nodes: int) -> str:
    return f"{edges:,} / {nodes:,}"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.2f}"


def dispatch_table(results: Sequence[DispatchResult]) -> str:
    return column_table(
        results,
        {
            "network": lambda r: r.network,
            "edges / nodes": lambda r: size_text(r.edges, r.nodes),
            "squads": lambda r: f"{r.squads:,}",
            "rank cases": lambda r: f"{len(r.rank_s):,}",
            "rank mean ms": lambda r: ms(r.rank_mean),
            "rank median ms": lambda r: ms(float(np.median(r.rank_s))),
            "rank p95 ms": lambda r: ms(float(np.percentile(r.rank_s, 95))),
            "baseline cases": lambda r: f"{len(r.baseline_s):,}",
            "baseline mean per dispatch": lambda r: fmt_seconds(r.baseline_mean),
            "baseline / rank": lambda r: fmt_ratio(r.ratio),
        },
    )


def breakdown_table(parts: Sequence[Breakdown]) -> str:
    return column_table(
        parts,
        {
            "network": lambda b: b.network,
            "squads": lambda b: f"{b.squads:,}",
            "rank mean ms": lambda b: ms(b.rank_s),
            "to_metric(squads) ms": lambda b: ms(b.to_metric_s),
            "matrix(1 x squads) ms": lambda b: ms(b.matrix_s),
            "of which snap(squads) ms": lambda b: ms(b.snap_squads_s),
            "of which dijkstra ms": lambda b: ms(b.search_s),
            "rest (rules, candidates) ms": lambda b: ms(b.python_s),
        },
    )


def build_table(results: Sequence[LibraryResult]) -> str:
    return column_table(
        results,
        {
            "network": lambda r: r.network,
            "edges / nodes": lambda r: size_text(r.edges, r.nodes),
            "WalkingNetwork(...)": lambda r: fmt_seconds(r.walking_build_s),
            "CSR graph only": lambda r: fmt_seconds(r.csr_build_s),
            "nx.Graph": lambda r: fmt_seconds(r.nx_build_s),
            "nx.Graph / CSR graph": lambda r: fmt_ratio(r.nx_build_s / r.csr_build_s),
        },
    )


def search_table(results: Sequence[LibraryResult]) -> str:
    return column_table(
        results,
        {
            "network": lambda r: r.network,
            "edges / nodes": lambda r: size_text(r.edges, r.nodes),
            "scipy directed=False ms": lambda r: ms(r.scipy_s),
            "scipy directed=True ms": lambda r: ms(r.scipy_directed_s),
            "networkx ms": lambda r: ms(r.nx_s),
            "networkx / scipy": lambda r: fmt_ratio(r.nx_s / r.scipy_s),
            "directed=False / directed=True": lambda r: fmt_ratio(r.scipy_s / r.scipy_directed_s),
        },
    )


def summary(results: Sequence[DispatchResult]) -> str:
    sample = next(r for r in results if r.network == "sample" and r.squads == SAMPLE_SQUADS)
    sample_p95 = float(np.percentile(sample.rank_s, 95))
    sample_ok = sample.rank_mean < SAMPLE_TARGET_S and sample_p95 < SAMPLE_TARGET_S
    largest = max(r.squads for r in results)
    big = [r for r in results if r.squads == largest]
    big_ok = all(r.ratio >= SPEEDUP_TARGET for r in big)
    big_text = ", ".join(f"{r.network} {fmt_ratio(r.ratio)}" for r in big)
    verdict = "ALL TARGETS MET" if sample_ok and big_ok else "TARGETS NOT ALL MET"
    return (
        f"{verdict}: one dispatch on the sample network with its {SAMPLE_SQUADS} squads "
        f"< {SAMPLE_TARGET_S * 1e3:.0f} ms in-process {'met' if sample_ok else 'NOT met'} "
        f"(mean {ms(sample.rank_mean)} ms, p95 {ms(sample_p95)} ms); "
        f"rank >= {SPEEDUP_TARGET:.0f}x faster than brute force at {largest:,} squads "
        f"{'met' if big_ok else 'NOT met'} ({big_text})"
    )


def versions() -> str:
    return scaffold.environment(
        ("numpy", "scipy", "networkx", "shapely", "geopandas", "pyproj"),
        scaffold.geos(),
    )


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> None:
    args = scaffold.arguments(
        "dispatch",
        "api.dispatcher.rank against brute-force Dijkstra per squad, and scipy against networkx.",
        "sizes about 10x smaller, one run each",
    ).parse_args(argv)
    started = time.perf_counter()
    sizes = scaffold.sizes(args.quick, FULL, QUICK)

    scaffold.banner(
        "Dispatch benchmark",
        versions(),
        f"mode {scaffold.mode(args.quick)}; seed {SEED}",
        f"squads {', '.join(f'{n:,}' for n in sizes.squad_counts)}: bases near uniform random "
        f"points along the streets (offset N(0, {SQUAD_SPREAD_M:.0f} m) per axis), all "
        f"'{CATEGORY}', on duty 00:00-24:00, capacity 10; loads {{}}, no member positions",
        f"rank: {', '.join(map(str, sizes.rank_cases))} cases (uniform over the network's "
        f"bounding box) per squad count, each timed alone after {sizes.warmup} warm-up calls",
        "baseline: per squad, net.snap + scipy dijkstra(directed=False) from its edge's two "
        f"ends; on the first {', '.join(map(str, sizes.sample_baseline_cases))} (sample) / "
        f"{', '.join(map(str, sizes.city_baseline_cases))} (city) of the same cases",
        f"city: jittered {sizes.city_nodes_side} x {sizes.city_nodes_side} grid of streets, "
        f"{sizes.city_side_m / 1000:.0f} km across, centred on EPSG:4550 "
        f"({CITY_CENTRE_M[0]:,.0f}, {CITY_CENTRE_M[1]:,.0f}), {CITY_DROP:.0%} of the streets "
        "outside a random spanning tree removed",
    )

    sample = build_scene("sample", sample_lines(), sizes.repeat)
    print(
        f"sample: {sample.net.n_edges:,} edges, {sample.net.n_nodes:,} nodes, 1 connected "
        f"component, built in {fmt_seconds(sample.build_s)}",
        flush=True,
    )
    gen_s, lines = timed(partial(city_lines, sizes.city_nodes_side, sizes.city_side_m, SEED))
    city = build_scene("city", lines, sizes.repeat)
    del lines
    print(
        f"city: {city.net.n_edges:,} edges, {city.net.n_nodes:,} nodes, 1 connected component "
        f"(scipy connected_components); streets made in {fmt_seconds(gen_s)}, "
        f"network built in {fmt_seconds(city.build_s)}",
        flush=True,
    )

    results: list[DispatchResult] = []
    parts: list[Breakdown] = []
    for k, (scene, base_cases) in enumerate(
        ((sample, sizes.sample_baseline_cases), (city, sizes.city_baseline_cases))
    ):
        n_cases = max(sizes.rank_cases) + sizes.warmup
        cases = make_cases(scene.net, n_cases, stream=100 + k)
        for j, (n_squads, n_rank, n_base) in enumerate(
            zip(sizes.squad_counts, sizes.rank_cases, base_cases, strict=True)
        ):
            squads = make_squads(scene.net, n_squads, stream=10 * k + j)
            result = bench_dispatch(scene, squads, cases, n_rank, n_base, sizes.warmup)
            results.append(result)
            if n_squads == max(sizes.squad_counts):
                parts.append(breakdown(scene, squads, cases, result.rank_mean, sizes.repeat))
            del squads
    libraries = [
        bench_libraries(scene, sizes, stream=200 + k) for k, scene in enumerate((sample, city))
    ]

    scaffold.section(
        "One dispatch: rank() against brute-force Dijkstra per squad (same cases)",
        dispatch_table(results),
    )
    scaffold.section(
        f"Where rank's time goes at {max(sizes.squad_counts):,} squads "
        "(parts timed alone, best of a few; rest = rank mean - to_metric - matrix)",
        breakdown_table(parts),
    )
    scaffold.section("Network build (best run)", build_table(libraries))
    scaffold.section("One-to-all shortest paths from one node (best run)", search_table(libraries))
    scaffold.footer(started)
    print(summary(results))
    largest = max(sizes.squad_counts)
    scaffold.ratios(
        f"brute force / rank at {largest:,} squads: "
        + ", ".join(f"{r.network} {fmt_ratio(r.ratio)}" for r in results if r.squads == largest),
        "networkx / scipy one-to-all: "
        + ", ".join(f"{r.network} {fmt_ratio(r.nx_s / r.scipy_s)}" for r in libraries),
    )


if __name__ == "__main__":
    scaffold.run(main)
