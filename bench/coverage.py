"""Benchmark: the parking-coverage analysis of ``gis.coverage`` against straight buffers.

The walking pipeline for one scenario (the open facilities) at a radius
of 300 m:

1. ``demand_points(buildings)``: a point and the households of each building;
2. ``scenario(parking)``: the open facilities, checked;
3. ``reach(network, facilities, demand, "walk", limit_m=800)``: walking metres
   from every facility to every building along the streets, the searches
   bounded at 800 m;
4. ``coverage(demand, facilities, found, 300)``: who is covered, spaces per car;
5. ``coverage_curve(...)`` at the radii 100, 150, ..., 800 m;
6. ``service_areas(network, facilities)``: walking isochrones at 150, 300 and
   500 m (reached streets widened by 40 m).

The network build (``WalkingNetwork``) is timed on its own, and the pipeline is
reported with and without it.  ``coverage`` alone at a second radius (500 m),
on the ``Reach`` already computed, shows what changing the radius costs once
the distances are known.

Baseline, in the same run on the same layers: the straight-line buffer
approach.  The buildings' representative points and the open facilities are
projected to EPSG:4550, ``facilities.buffer(300)``, ``geopandas.sjoin(points,
buffers, predicate="within")``, and the covered share is the households of the
buildings in any buffer over all households.  It answers a different question
(as the crow flies), so both covered shares are printed.

Checked outside the timings (the run fails when a check does):

* ``gis.coverage`` in ``mode="straight_line"`` and the baseline disagree only
  on buildings in the sliver between the 300 m circle and the 64-sided polygon
  ``buffer`` draws inside it (299.64-300 m from the nearest facility; counted
  and printed: the sample has one, at 299.84 m);
* with buffers of ``quad_segs=1024`` (a sliver of 0.09 mm) the buffer+sjoin
  share equals the straight-line share of ``gis.coverage`` to 1e-9;
* every building covered on foot is covered in a straight line, and
  ``coverage_curve`` at 300 m gives ``coverage``'s share.

Two cases:

* **sample**: the Lingxiao community (``data/buildings.geojson``,
  ``data/parking.geojson``, ``data/streets.geojson``).  The target of the issue,
  the whole walking pipeline for the sample area in under 1 s, is printed as
  met or not (never asserted).
* **city district**: 50,000 buildings (points within 60 m of a street,
  10-60 households each) and 200 open facilities (10-500 spaces, about a third
  smart, on or near the streets), fixed seed, on the synthetic street grid of
  ``bench.dispatch.city_lines`` (170 x 170 jittered nodes over 15 km, about
  51,700 edges).  The process's peak resident memory (``ru_maxrss``) is printed
  before and after the walking pipeline.

Run with ``python -m bench.coverage`` (``--quick`` for a smoke run about ten
times smaller).  Timings are printed, never judged; only a disagreement of the
answers fails the run.
"""

from __future__ import annotations

import math
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from bench import _scaffold as scaffold
from bench._timing import best_of, column_table, fmt_ratio, fmt_seconds, timed
from bench.dispatch import city_lines
from gis.coverage import (
    CURVE_RADII,
    FACILITY_OPEN,
    STRAIGHT_LINE,
    WALK,
    Coverage,
    Reach,
    coverage,
    coverage_curve,
    demand_points,
    reach,
    scenario,
    service_areas,
)
from gis.crs import METRIC, WGS84, from_metric
from gis.network import WalkingNetwork

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

DATA = Path(__file__).resolve().parents[1] / "data"
SEED = 20261126
RADIUS_M = 300.0
SECOND_RADIUS_M = 500.0
LIMIT_M = 800.0
SAMPLE_TARGET_S = 1.0  # the whole walking pipeline on the sample area under 1 s
SHARE_TOL = 1e-9
DIST_TOL_M = 1e-6
BUFFER_QUAD_SEGS = 16  # geopandas' default: 64 sides to the circle
FINE_QUAD_SEGS = 1024  # for the check: 4,096 sides, 0.09 mm inside the circle at most
# a point between the 64-gon's inner radius and the circle may fall outside the buffer
SLIVER_M = RADIUS_M * math.cos(math.pi / (4 * BUFFER_QUAD_SEGS))

# Synthetic district on bench.dispatch's city grid
BUILDING_OFFSET_M = 60.0  # buildings lie up to this far to either side of a street
FACILITY_SPREAD_M = 15.0  # facilities lie this far (standard deviation per axis) off a street
HOUSEHOLDS = (10, 60)
CAPACITY = (10, 500)
SMART_SHARE = 1 / 3

STEPS = (
    "demand_points",
    "scenario",
    "reach",
    f"coverage({RADIUS_M:g})",
    "coverage_curve",
    "service_areas",
)


@dataclass(frozen=True)
class Sizes:
    buildings: int
    facilities: int
    city_nodes_side: int
    city_side_m: float
    sample_repeat: int  # best-of count on the sample
    city_repeat: int  # best-of count of the city's walking pipeline
    repeat: int  # best-of count of the city's network build, baseline and second radius


FULL = Sizes(
    buildings=50_000,
    facilities=200,
    city_nodes_side=170,
    city_side_m=15_000.0,
    sample_repeat=10,
    city_repeat=2,
    repeat=3,
)
QUICK = Sizes(
    buildings=5_000,
    facilities=20,
    city_nodes_side=54,
    city_side_m=5_000.0,
    sample_repeat=2,
    city_repeat=1,
    repeat=1,
)


@dataclass(frozen=True)
class Layers:
    """A case's inputs as the service gets them: WGS84 frames, and the network's source."""

    name: str
    buildings: gpd.GeoDataFrame
    parking: gpd.GeoDataFrame
    build: Callable[[], WalkingNetwork]


@dataclass(frozen=True)
class Pipeline:
    """One run of the walking pipeline: each step's time and what it gave."""

    steps: dict[str, float]
    demand: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    found: Reach
    result: Coverage
    curve: pd.DataFrame
    areas: gpd.GeoDataFrame

    @property
    def seconds(self) -> float:
        return sum(self.steps.values())


@dataclass(frozen=True)
class Baseline:
    covered: BoolArray
    share: float


@dataclass(frozen=True)
class CaseResult:
    name: str
    buildings: int
    facilities: int
    edges: int
    build_s: float
    first_s: float  # the first pipeline run, caches cold
    steps: dict[str, float]  # of the best run
    pipeline_s: float  # best run, network not included
    second_radius_s: float
    baseline_s: float
    walking_share: float
    straight_share: float
    second_share: float
    sliver: int  # buildings where the straight-line and buffer answers differ

    @property
    def ratio(self) -> float:
        return self.pipeline_s / self.baseline_s

    @property
    def ratio_with_build(self) -> float:
        return (self.pipeline_s + self.build_s) / self.baseline_s


# --------------------------------------------------------------------------- layers


def sample_layers() -> Layers:
    streets = gpd.read_file(DATA / "streets.geojson")
    return Layers(
        "sample",
        gpd.read_file(DATA / "buildings.geojson"),
        gpd.read_file(DATA / "parking.geojson"),
        partial(WalkingNetwork.from_frame, streets),
    )


def along_streets(
    net: WalkingNetwork, n: int, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """``n`` uniform random points along the streets (n x 2), and the streets' unit normals."""
    edge = rng.choice(net.n_edges, size=n, p=net.length / net.length.sum())
    start, end = net.node_xy[net.u[edge]], net.node_xy[net.v[edge]]
    xy = start + (end - start) * rng.random(n)[:, None]
    unit = (end - start) / net.length[edge][:, None]
    return xy, np.column_stack([-unit[:, 1], unit[:, 0]])


def points_frame(xy: FloatArray, columns: dict[str, npt.ArrayLike]) -> gpd.GeoDataFrame:
    lon, lat = from_metric(xy[:, 0], xy[:, 1])
    return gpd.GeoDataFrame(columns, geometry=shapely.points(lon, lat), crs=WGS84)


def city_layers(sizes: Sizes) -> tuple[Layers, WalkingNetwork, float]:
    """The synthetic district, its network (for placing things) and the street-making time."""
    gen_s, lines = timed(partial(city_lines, sizes.city_nodes_side, sizes.city_side_m, SEED))
    net = WalkingNetwork(lines)
    rng = np.random.default_rng([SEED, 1])
    nb, nf = sizes.buildings, sizes.facilities
    xy, normal = along_streets(net, nb, rng)
    xy = xy + normal * rng.uniform(-BUILDING_OFFSET_M, BUILDING_OFFSET_M, nb)[:, None]
    buildings = points_frame(
        xy,
        {
            "id": [f"B{i:05d}" for i in range(nb)],
            "households": rng.integers(HOUSEHOLDS[0], HOUSEHOLDS[1] + 1, nb),
        },
    )
    xy, _ = along_streets(net, nf, rng)
    xy = xy + rng.normal(0.0, FACILITY_SPREAD_M, (nf, 2))
    parking = points_frame(
        xy,
        {
            "id": [f"P{i:03d}" for i in range(nf)],
            "capacity": rng.integers(CAPACITY[0], CAPACITY[1] + 1, nf),
            "smart": rng.random(nf) < SMART_SHARE,
            "status": np.full(nf, FACILITY_OPEN),
        },
    )
    return Layers("city district", buildings, parking, partial(WalkingNetwork, lines)), net, gen_s


# --------------------------------------------------------------------------- what is timed


def walking_pipeline(
    net: WalkingNetwork, buildings: gpd.GeoDataFrame, parking: gpd.GeoDataFrame
) -> Pipeline:
    steps: dict[str, float] = {}
    names = iter(STEPS)
    t, demand = timed(partial(demand_points, buildings))
    steps[next(names)] = t
    t, facilities = timed(partial(scenario, parking))
    steps[next(names)] = t
    t, found = timed(partial(reach, net, facilities, demand, WALK, limit_m=LIMIT_M))
    steps[next(names)] = t
    t, result = timed(partial(coverage, demand, facilities, found, RADIUS_M))
    steps[next(names)] = t
    t, curve = timed(partial(coverage_curve, demand, facilities, found, CURVE_RADII))
    steps[next(names)] = t
    t, areas = timed(partial(service_areas, net, facilities))
    steps[next(names)] = t
    return Pipeline(steps, demand, facilities, found, result, curve, areas)


def best_pipeline(net: WalkingNetwork, layers: Layers, repeat: int) -> tuple[float, Pipeline]:
    """Run the pipeline ``repeat`` times; the first run's time and the best run."""
    best = walking_pipeline(net, layers.buildings, layers.parking)
    first = best.seconds
    for _ in range(repeat - 1):
        run = walking_pipeline(net, layers.buildings, layers.parking)
        if run.seconds < best.seconds:
            best = run
        del run
    return first, best


def buffer_baseline(
    buildings: gpd.GeoDataFrame,
    parking: gpd.GeoDataFrame,
    radius_m: float,
    quad_segs: int = BUFFER_QUAD_SEGS,
) -> Baseline:
    """The straight-line buffer approach: buffers round the open facilities, sjoin."""
    facilities = parking[parking["status"] == FACILITY_OPEN]
    points = gpd.GeoDataFrame(
        {"households": pd.to_numeric(buildings["households"]).to_numpy(dtype=float)},
        geometry=buildings.representative_point().to_numpy(),
        crs=buildings.crs,
    ).to_crs(METRIC)
    buffers = gpd.GeoDataFrame(
        geometry=facilities.to_crs(METRIC).buffer(radius_m, quad_segs=quad_segs), crs=METRIC
    )
    joined = gpd.sjoin(points, buffers, predicate="within")
    covered = np.zeros(len(points), dtype=bool)
    covered[points.index.get_indexer(joined.index.unique())] = True
    households = points["households"].to_numpy(dtype=float)
    return Baseline(covered, float(households[covered].sum() / households.sum()))


# --------------------------------------------------------------------------- checks


def distance_text(metres: float) -> str:
    """A distance for a message: NaN is what ``coverage`` gives beyond the search limit."""
    return f"{metres:.6f} m" if np.isfinite(metres) else f"more than {LIMIT_M:g} m"


def check(name: str, layers: Layers, run: Pipeline, base: Baseline) -> tuple[float, int]:
    """Fail unless the answers agree; return the straight-line share and the sliver count."""
    demand, facilities = run.demand, run.facilities
    straight = coverage(
        demand, facilities, reach(None, facilities, demand, STRAIGHT_LINE, LIMIT_M), RADIUS_M
    )
    ours = straight.buildings["covered"].to_numpy(dtype=bool)
    share = straight.figures["households_covered_share"]
    nearest = straight.buildings["nearest_m"].to_numpy(dtype=float)
    differ = ours != base.covered
    unexplained = differ & ~(
        (nearest >= SLIVER_M - DIST_TOL_M) & (nearest <= RADIUS_M + DIST_TOL_M)
    )
    if unexplained.any():
        i = int(np.argmax(unexplained))
        raise scaffold.CheckFailed(
            f"{name}: gis.coverage (straight line) and buffer+sjoin disagree on building "
            f"{demand['id'].iloc[i]!r} ({distance_text(nearest[i])} from its nearest facility): "
            f"covered={ours[i]} against {base.covered[i]}"
        )
    fine = buffer_baseline(layers.buildings, layers.parking, RADIUS_M, FINE_QUAD_SEGS)
    if abs(share - fine.share) > SHARE_TOL:
        raise scaffold.CheckFailed(
            f"{name}: gis.coverage's straight-line share {share:.9f} disagrees with "
            f"buffer+sjoin's {fine.share:.9f} (quad_segs={FINE_QUAD_SEGS})"
        )
    walked = run.result.buildings["covered"].to_numpy(dtype=bool)
    if (walked & ~ours).any():
        i = int(np.argmax(walked & ~ours))
        raise scaffold.CheckFailed(
            f"{name}: gis.coverage covers building {demand['id'].iloc[i]!r} on foot but not "
            "in a straight line"
        )
    walk_share = run.result.figures["households_covered_share"]
    curve_at = run.curve.set_index("radius_m")["households_covered_share"]
    if abs(float(curve_at[RADIUS_M]) - walk_share) > SHARE_TOL:
        raise scaffold.CheckFailed(
            f"{name}: coverage_curve gives {float(curve_at[RADIUS_M]):.9f} at {RADIUS_M:g} m, "
            f"coverage {walk_share:.9f}"
        )
    return share, int(differ.sum())


# --------------------------------------------------------------------------- one case


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def bench_case(layers: Layers, pipeline_repeat: int, repeat: int, memory: bool) -> CaseResult:
    name = layers.name
    build_s, net = best_of(layers.build, repeat)
    rss_before = peak_rss_mb()
    first_s, run = best_pipeline(net, layers, pipeline_repeat)
    rss_after = peak_rss_mb()
    base_s, base = best_of(
        partial(buffer_baseline, layers.buildings, layers.parking, RADIUS_M), repeat
    )
    second_s, second = best_of(
        partial(coverage, run.demand, run.facilities, run.found, SECOND_RADIUS_M), repeat
    )
    straight_share, sliver = check(name, layers, run, base)
    finite = int(np.isfinite(run.found.metres).sum())
    walk_share = float(run.result.figures["households_covered_share"])
    print(
        f"{name}: {len(run.demand):,} buildings, {len(run.facilities):,} open facilities, "
        f"{net.n_edges:,} edges / {net.n_nodes:,} nodes; network built in "
        f"{fmt_seconds(build_s)}; walking pipeline {fmt_seconds(run.seconds)} best of "
        f"{pipeline_repeat} (first run {fmt_seconds(first_s)}); buffer+sjoin "
        f"{fmt_seconds(base_s)}",
        flush=True,
    )
    print(
        f"{name}: facility-building pairs within {LIMIT_M:g} m on foot: {finite:,} of "
        f"{run.found.metres.size:,} ({finite / max(run.found.metres.size, 1):.2%}); "
        f"service areas: {len(run.areas):,} polygons for all {len(run.facilities):,} facilities",
        flush=True,
    )
    if memory:
        print(
            f"{name}: process peak RSS {rss_before:,.0f} MB before the walking pipeline, "
            f"{rss_after:,.0f} MB after (+{rss_after - rss_before:,.0f} MB)",
            flush=True,
        )
    print(
        f"{name}: answers agree: straight-line share {straight_share:.6f} from gis.coverage "
        f"= buffer+sjoin with quad_segs={FINE_QUAD_SEGS}; {base.share:.6f} with the default "
        f"64-gon buffers, which miss {sliver} building(s) in the sliver "
        f"{SLIVER_M:.2f}-{RADIUS_M:g} m from the nearest facility; every building covered on "
        "foot is covered in a straight line",
        flush=True,
    )
    print(
        f"{name}: covered share at {RADIUS_M:g} m: walking {walk_share:.4f}, "
        f"straight buffer {base.share:.4f}; at {SECOND_RADIUS_M:g} m on foot "
        f"{second.figures['households_covered_share']:.4f} (coverage alone on the same Reach: "
        f"{fmt_seconds(second_s)})",
        flush=True,
    )
    return CaseResult(
        name=name,
        buildings=len(run.demand),
        facilities=len(run.facilities),
        edges=net.n_edges,
        build_s=build_s,
        first_s=first_s,
        steps=dict(run.steps),
        pipeline_s=run.seconds,
        second_radius_s=second_s,
        baseline_s=base_s,
        walking_share=walk_share,
        straight_share=base.share,
        second_share=float(second.figures["households_covered_share"]),
        sliver=sliver,
    )


# --------------------------------------------------------------------------- report


def summary_table(results: Sequence[CaseResult]) -> str:
    return column_table(
        results,
        {
            "case": lambda r: r.name,
            "buildings": lambda r: f"{r.buildings:,}",
            "facilities": lambda r: f"{r.facilities:,}",
            "edges": lambda r: f"{r.edges:,}",
            "network build": lambda r: fmt_seconds(r.build_s),
            "walking pipeline": lambda r: fmt_seconds(r.pipeline_s),
            "walking + build": lambda r: fmt_seconds(r.pipeline_s + r.build_s),
            "buffer baseline": lambda r: fmt_seconds(r.baseline_s),
            "walking / buffer": lambda r: fmt_ratio(r.ratio),
            f"walking share ({RADIUS_M:g} m)": lambda r: f"{r.walking_share:.3f}",
            "straight share": lambda r: f"{r.straight_share:.3f}",
        },
    )


def step_time(step: str) -> Callable[[CaseResult], str]:
    """How a case's cell in the column of ``step`` is written."""
    return lambda r: fmt_seconds(r.steps[step])


def steps_table(results: Sequence[CaseResult]) -> str:
    return column_table(
        results,
        {
            "case": lambda r: r.name,
            **{step: step_time(step) for step in STEPS},
            "pipeline": lambda r: fmt_seconds(r.pipeline_s),
            f"coverage({SECOND_RADIUS_M:g}) alone": lambda r: fmt_seconds(r.second_radius_s),
        },
    )


def versions() -> str:
    return scaffold.environment(
        ("numpy", "scipy", "pandas", "shapely", "geopandas", "pyproj"),
        scaffold.geos(),
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = scaffold.arguments(
        "coverage",
        "gis.coverage's walking parking coverage against straight buffers + sjoin.",
        "sizes about 10x smaller, fewer runs",
    ).parse_args(argv)
    started = time.perf_counter()
    sizes = scaffold.sizes(args.quick, FULL, QUICK)

    scaffold.banner(
        "Parking coverage benchmark",
        versions(),
        f"mode {scaffold.mode(args.quick)}; seed {SEED}",
        f"walking pipeline: demand_points, scenario (open facilities), reach(walk, limit "
        f"{LIMIT_M:g} m), coverage({RADIUS_M:g} m), coverage_curve({CURVE_RADII[0]:g}.."
        f"{CURVE_RADII[-1]:g} m), service_areas (150/300/500 m, all facilities); "
        f"best of {sizes.sample_repeat} (sample) / {sizes.city_repeat} (city), each step "
        "timed with the garbage collector paused; network build timed apart, "
        f"best of {sizes.sample_repeat} / {sizes.repeat}",
        f"baseline: representative points and open facilities to EPSG:4550, "
        f"buffer({RADIUS_M:g}), sjoin(predicate='within'), share of households; best of "
        f"{sizes.sample_repeat} / {sizes.repeat}",
        f"city district: {sizes.buildings:,} building points within "
        f"{BUILDING_OFFSET_M:g} m of a street ({HOUSEHOLDS[0]}-{HOUSEHOLDS[1]} households), "
        f"{sizes.facilities:,} facilities near the streets (N(0, {FACILITY_SPREAD_M:g} m) per "
        f"axis, {CAPACITY[0]}-{CAPACITY[1]} spaces, {SMART_SHARE:.0%} smart), on "
        f"bench.dispatch.city_lines({sizes.city_nodes_side}, {sizes.city_side_m:,.0f} m)",
    )

    results = [bench_case(sample_layers(), sizes.sample_repeat, sizes.sample_repeat, False)]
    layers, _, gen_s = city_layers(sizes)
    print(f"city district: streets made in {fmt_seconds(gen_s)}", flush=True)
    results.append(bench_case(layers, sizes.city_repeat, sizes.repeat, True))
    del layers

    scaffold.section(
        f"Walking coverage pipeline against straight buffers + sjoin ({RADIUS_M:g} m)",
        summary_table(results),
    )
    scaffold.section("Steps of the walking pipeline (best run)", steps_table(results))
    sample = results[0]
    total = sample.pipeline_s + sample.build_s
    met = total < SAMPLE_TARGET_S and sample.first_s + sample.build_s < SAMPLE_TARGET_S
    scaffold.footer(started)
    print(
        f"TARGET {'MET' if met else 'NOT MET'}: the sample area's walking pipeline with the "
        f"network build in < {SAMPLE_TARGET_S:g} s ({fmt_seconds(total)} best, "
        f"{fmt_seconds(sample.first_s + sample.build_s)} with the first, cold run)"
    )
    scaffold.ratios(
        "walking / buffer: " + ", ".join(f"{r.name} {fmt_ratio(r.ratio)}" for r in results)
    )


if __name__ == "__main__":
    scaffold.run(main)
