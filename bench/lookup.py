"""Benchmark: point-in-grid lookup with ``gis.index.AreaIndex``.

Compares, on the sample grids of the Lingxiao community and on a synthetic
city of irregular grids (a clipped Voronoi tessellation):

* bulk assignment of many random points: ``AreaIndex.locate_many`` (plus
  ``codes_of``, so both sides end with a code per point) against
  ``geopandas.sjoin(..., how="left", predicate="intersects")``;
* single lookups in a Python loop: ``AreaIndex.locate`` against a naive loop
  over unprepared polygons with ``shapely.intersects_xy``.

Run with ``python -m bench.lookup`` (``--quick`` for a smoke run about ten
times smaller, ``--points N`` to set the number of bulk points).  Timings are
printed, never judged; only a disagreement of the results fails the run.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

from bench import _scaffold as scaffold
from bench._timing import best_of, column_table, fmt_ratio, fmt_seconds, fmt_us, timed
from gis.index import OUTSIDE, AreaIndex

GRIDS_PATH = Path(__file__).resolve().parents[1] / "data" / "boundaries" / "grids.geojson"
SEED = 20261126
MARGIN = 0.05  # points are spread over the bounding box enlarged by 5 % (2.5 % a side)
SINGLE_TARGET_S = 20e-6  # a single lookup should take less than 20 µs
BULK_TARGET_RATIO = 1.0  # sjoin time / index query time should be at least 1

# Synthetic city: ~30 km x 30 km around lon 121.8, lat 29.9.
CITY_CENTRE = (121.8, 29.9)
CITY_SIDE_KM = 30.0
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON_EQUATOR = 111.320


@dataclass(frozen=True)
class Sizes:
    bulk_points: int
    single_points: int
    naive_points: int
    city_polygons: int
    city_naive_points: int
    repeat: int


FULL = Sizes(
    bulk_points=1_000_000,
    single_points=100_000,
    naive_points=2_000,
    city_polygons=20_000,
    city_naive_points=50,
    repeat=3,
)
QUICK = Sizes(
    bulk_points=100_000,
    single_points=10_000,
    naive_points=200,
    city_polygons=2_000,
    city_naive_points=5,
    repeat=1,
)


@dataclass(frozen=True)
class BulkResult:
    scenario: str
    polygons: int
    points: int
    build_s: float
    query_s: float
    sjoin_s: float
    check: str

    @property
    def ratio_query(self) -> float:
        return self.sjoin_s / self.query_s

    @property
    def ratio_build_query(self) -> float:
        return self.sjoin_s / (self.build_s + self.query_s)


@dataclass(frozen=True)
class SingleResult:
    scenario: str
    polygons: int
    index_points: int
    index_s: float  # mean seconds per lookup
    naive_points: int
    naive_s: float  # mean seconds per lookup

    @property
    def ratio(self) -> float:
        return self.naive_s / self.index_s


# --------------------------------------------------------------------------- data


def unprepared_copy(geoms: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """Fresh, unprepared copies of geometries (WKB keeps coordinates bit for bit).

    ``AreaIndex`` prepares the polygons it is given in place; giving it copies
    keeps the frame used by sjoin and the naive loop untouched.
    """
    return np.asarray(shapely.from_wkb(shapely.to_wkb(geoms)), dtype=np.object_)


def fresh_frame(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": frame["code"].to_numpy(dtype=object)},
        geometry=unprepared_copy(frame.geometry.to_numpy()),
        crs=frame.crs,
    )


def load_sample_grids() -> gpd.GeoDataFrame:
    frame = gpd.read_file(GRIDS_PATH)
    return fresh_frame(frame[["code", "geometry"]].reset_index(drop=True))


def make_city(n: int, seed: int) -> gpd.GeoDataFrame:
    """``n`` irregular polygons tiling a 30 km square exactly (clipped Voronoi cells)."""
    rng = np.random.default_rng([seed, 3])
    lon0, lat0 = CITY_CENTRE
    half_lat = CITY_SIDE_KM / 2 / KM_PER_DEG_LAT
    half_lon = CITY_SIDE_KM / 2 / (KM_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0)))
    x0, y0, x1, y1 = lon0 - half_lon, lat0 - half_lat, lon0 + half_lon, lat0 + half_lat
    seeds = np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])
    envelope = shapely.box(x0, y0, x1, y1)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=envelope)
    )
    cells = shapely.intersection(cells, envelope)
    cells = cells[~shapely.is_empty(cells)]
    if len(cells) != n or not (shapely.get_type_id(cells) == 3).all():
        raise RuntimeError(f"expected {n} polygons from the tessellation, got {len(cells)}")
    # 15-digit codes, handed out in an order unrelated to the geometry order.
    codes = [f"{330200000000000 + int(k):015d}" for k in rng.permutation(n) + 1]
    return gpd.GeoDataFrame({"code": codes}, geometry=cells, crs="EPSG:4326")


def random_points(
    frame: gpd.GeoDataFrame, n: int, stream: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``n`` uniform points over the frame's bounding box enlarged by ``MARGIN``."""
    rng = np.random.default_rng([SEED, stream])
    x0, y0, x1, y1 = frame.total_bounds
    dx, dy = (x1 - x0) * MARGIN / 2, (y1 - y0) * MARGIN / 2
    xs = rng.uniform(x0 - dx, x1 + dx, n)
    ys = rng.uniform(y0 - dy, y1 + dy, n)
    return xs, ys


# --------------------------------------------------------------------------- bulk


def bench_bulk(
    scenario: str,
    frame: gpd.GeoDataFrame,
    xs: npt.NDArray[np.float64],
    ys: npt.NDArray[np.float64],
    repeat: int,
) -> tuple[BulkResult, AreaIndex]:
    # Index build: each run gets its own unprepared copy, made outside the timing.
    build_s = math.inf
    idx: AreaIndex | None = None
    for _ in range(repeat):
        copy = fresh_frame(frame)
        elapsed, idx = timed(partial(AreaIndex.from_frame, copy, code_column="code"))
        build_s = min(build_s, elapsed)
    assert idx is not None
    index = idx

    query_s, ours = best_of(lambda: index.codes_of(index.locate_many(xs, ys)), repeat)

    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, ys), crs=frame.crs)
    sjoin_s, joined = best_of(partial(sjoin_codes, points, frame), repeat)
    del points

    check = verify_bulk(scenario, ours, joined, len(xs))
    del joined
    result = BulkResult(scenario, len(frame), len(xs), build_s, query_s, sjoin_s, check)
    return result, index


def sjoin_codes(points: gpd.GeoDataFrame, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The sjoin being compared.  Selecting the columns inside the timed call gives
    a frame without a cached spatial index, so every run builds its own tree."""
    return gpd.sjoin(points, frame[["code", "geometry"]], how="left", predicate="intersects")


def verify_bulk(
    scenario: str, ours: npt.NDArray[np.object_], joined: gpd.GeoDataFrame, n: int
) -> str:
    """Fail unless the index and sjoin agree; describe how the points fell."""
    left = joined.index.to_numpy(dtype=np.int64)
    right = joined["index_right"].to_numpy(dtype=np.float64)
    hit = ~np.isnan(right)
    hits_per_point = np.bincount(left[hit], minlength=n)
    theirs = np.full(n, None, dtype=object)
    theirs[left[hit]] = joined["code"].to_numpy(dtype=object)[hit]

    single = hits_per_point == 1
    if not (ours[single] == theirs[single]).all():
        bad = np.flatnonzero(single & (ours != theirs))
        raise scaffold.CheckFailed(
            f"{scenario}: AreaIndex and geopandas.sjoin give {len(bad):,} point(s) in exactly "
            f"one grid different codes (point {bad[0]}: {ours[bad[0]]!r} against "
            f"{theirs[bad[0]]!r})"
        )
    outside = hits_per_point == 0
    placed = [int(i) for i in np.flatnonzero(outside) if ours[i] is not None]
    if placed:
        raise scaffold.CheckFailed(
            f"{scenario}: AreaIndex places {len(placed):,} point(s) in a grid where "
            f"geopandas.sjoin finds none (point {placed[0]}: {ours[placed[0]]!r})"
        )

    multi = np.flatnonzero(hits_per_point > 1)
    text = (
        f"results agree: {int(single.sum()):,} points in exactly one grid, "
        f"{int(outside.sum()):,} outside all grids"
    )
    if len(multi):
        rows = np.isin(left, multi) & hit
        lowest = joined.loc[rows, ["code"]].assign(point=left[rows]).groupby("point")["code"].min()
        same = int((ours[lowest.index.to_numpy()] == lowest.to_numpy(dtype=object)).sum())
        text += f", {len(multi):,} on shared edges ({same:,} given the lowest code)"
    else:
        text += ", 0 on shared edges"
    return text


# --------------------------------------------------------------------------- single


def naive_locate(
    polygons: Sequence[shapely.Geometry], xs: Sequence[float], ys: Sequence[float]
) -> list[int]:
    """Test every polygon in turn; the first hit (lowest code) wins."""
    out = []
    for x, y in zip(xs, ys, strict=True):
        found = OUTSIDE
        for i, poly in enumerate(polygons):
            if shapely.intersects_xy(poly, x, y):
                found = i
                break
        out.append(found)
    return out


def bench_single(
    scenario: str,
    frame: gpd.GeoDataFrame,
    index: AreaIndex,
    n_index: int,
    n_naive: int,
    repeat: int,
    naive_repeat: int,
    stream: int,
) -> SingleResult:
    xs_arr, ys_arr = random_points(frame, n_index, stream)
    xs: list[float] = xs_arr.tolist()
    ys: list[float] = ys_arr.tolist()
    locate = index.locate

    def loop() -> list[int]:
        return [locate(x, y) for x, y in zip(xs, ys, strict=True)]

    index_s, ours = best_of(loop, repeat)

    ordered = frame.sort_values("code", kind="stable")
    polygons: list[shapely.Geometry] = list(unprepared_copy(ordered.geometry.to_numpy()))
    codes = ordered["code"].to_numpy(dtype=object)
    nx, ny = xs[:n_naive], ys[:n_naive]
    naive_s, theirs = best_of(lambda: naive_locate(polygons, nx, ny), naive_repeat)

    ours_codes = index.codes_of(ours[:n_naive])
    theirs_codes = np.array([codes[p] if p >= 0 else None for p in theirs], dtype=object)
    if not (ours_codes == theirs_codes).all():
        i = int(np.argmax(ours_codes != theirs_codes))
        raise scaffold.CheckFailed(
            f"{scenario}: AreaIndex.locate and the naive polygon loop disagree on "
            f"{int((ours_codes != theirs_codes).sum()):,} point(s) (point {i}: "
            f"{ours_codes[i]!r} against {theirs_codes[i]!r})"
        )
    # The bulk and single paths of the index must agree too.
    many = index.locate_many(xs_arr, ys_arr).tolist()
    if many != ours:
        i = next(k for k, (a, b) in enumerate(zip(many, ours, strict=True)) if a != b)
        raise scaffold.CheckFailed(
            f"{scenario}: AreaIndex.locate_many and AreaIndex.locate disagree "
            f"(point {i}: {many[i]} against {ours[i]})"
        )

    return SingleResult(
        scenario, len(frame), n_index, index_s / n_index, n_naive, naive_s / n_naive
    )


# --------------------------------------------------------------------------- report


def bulk_table(results: Sequence[BulkResult]) -> str:
    return column_table(
        results,
        {
            "scenario": lambda r: r.scenario,
            "polygons": lambda r: f"{r.polygons:,}",
            "points": lambda r: f"{r.points:,}",
            "index build": lambda r: fmt_seconds(r.build_s),
            "index query": lambda r: fmt_seconds(r.query_s),
            "sjoin": lambda r: fmt_seconds(r.sjoin_s),
            "sjoin / query": lambda r: fmt_ratio(r.ratio_query),
            "sjoin / (build + query)": lambda r: fmt_ratio(r.ratio_build_query),
        },
    )


def single_table(results: Sequence[SingleResult]) -> str:
    return column_table(
        results,
        {
            "scenario": lambda r: r.scenario,
            "polygons": lambda r: f"{r.polygons:,}",
            "index points": lambda r: f"{r.index_points:,}",
            "index per lookup": lambda r: fmt_us(r.index_s),
            "naive points": lambda r: f"{r.naive_points:,}",
            "naive per lookup": lambda r: fmt_us(r.naive_s),
            "naive / index": lambda r: fmt_ratio(r.ratio),
        },
    )


def summary(bulk: Sequence[BulkResult], single: Sequence[SingleResult]) -> str:
    bulk_ok = all(r.ratio_query >= BULK_TARGET_RATIO for r in bulk)
    single_ok = all(r.index_s < SINGLE_TARGET_S for r in single)
    bulk_text = ", ".join(f"{r.scenario} {fmt_ratio(r.ratio_query)}" for r in bulk)
    single_text = ", ".join(f"{r.scenario} {fmt_us(r.index_s)}" for r in single)
    verdict = "ALL TARGETS MET" if bulk_ok and single_ok else "TARGETS NOT ALL MET"
    return (
        f"{verdict}: bulk sjoin/query >= {BULK_TARGET_RATIO:.1f} "
        f"{'met' if bulk_ok else 'NOT met'} ({bulk_text}); "
        f"single lookup < {SINGLE_TARGET_S * 1e6:.0f} µs "
        f"{'met' if single_ok else 'NOT met'} ({single_text})"
    )


def versions() -> str:
    return scaffold.environment(
        ("shapely", "geopandas", "numpy"),
        scaffold.geos(),
    )


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = scaffold.arguments(
        "lookup",
        "AreaIndex lookups against geopandas.sjoin and a naive polygon loop.",
        "sizes about 10x smaller, one run each",
    )
    parser.add_argument(
        "--points",
        type=scaffold.positive_int,
        metavar="N",
        help="bulk points per scenario (default 1,000,000)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    sizes = scaffold.sizes(args.quick, FULL, QUICK, bulk_points=args.points)

    scaffold.banner(
        "AreaIndex lookup benchmark",
        versions(),
        f"mode {scaffold.mode(args.quick)}; best of {sizes.repeat} (naive loop over the city: "
        f"1 run); seed {SEED}",
        f"bulk: {sizes.bulk_points:,} random points per scenario over the bounding box "
        f"enlarged by {MARGIN:.0%}; index query = locate_many + codes_of; "
        "sjoin = geopandas.sjoin(how='left', predicate='intersects'), points frame built "
        "beforehand",
        f"single: {sizes.single_points:,} idx.locate calls in a Python loop; naive loop "
        f"(shapely.intersects_xy over unprepared polygons) on the first "
        f"{sizes.naive_points:,} (sample) / {sizes.city_naive_points:,} (city) of them",
        f"city: {sizes.city_polygons:,} Voronoi polygons clipped to a "
        f"{CITY_SIDE_KM:.0f} km x {CITY_SIDE_KM:.0f} km square around "
        f"lon {CITY_CENTRE[0]}, lat {CITY_CENTRE[1]}",
    )
    bulk: list[BulkResult] = []
    single: list[SingleResult] = []

    grids = load_sample_grids()
    xs, ys = random_points(grids, sizes.bulk_points, stream=1)
    result, index = bench_bulk("sample grids", grids, xs, ys, sizes.repeat)
    print(f"sample grids: {result.check}", flush=True)
    bulk.append(result)
    del xs, ys
    single.append(
        bench_single(
            "sample grids",
            grids,
            index,
            sizes.single_points,
            sizes.naive_points,
            sizes.repeat,
            sizes.repeat,
            stream=2,
        )
    )
    del index

    gen_s, city = timed(lambda: make_city(sizes.city_polygons, SEED))
    print(f"city: {len(city):,} polygons generated in {fmt_seconds(gen_s)}", flush=True)
    xs, ys = random_points(city, sizes.bulk_points, stream=4)
    result, index = bench_bulk("city", city, xs, ys, sizes.repeat)
    print(f"city: {result.check}", flush=True)
    bulk.append(result)
    del xs, ys
    single.append(
        bench_single(
            "city",
            city,
            index,
            sizes.single_points,
            sizes.city_naive_points,
            sizes.repeat,
            1,
            stream=5,
        )
    )

    scaffold.section(
        "Bulk assignment (best run; ratio >= 1 means the index is faster)", bulk_table(bulk)
    )
    scaffold.section(
        f"Single lookups (mean per lookup; target < {SINGLE_TARGET_S * 1e6:.0f} µs)",
        single_table(single),
    )
    scaffold.footer(started)
    print(summary(bulk, single))
    scaffold.ratios(
        "sjoin / query: " + ", ".join(f"{r.scenario} {fmt_ratio(r.ratio_query)}" for r in bulk),
        "naive / index per lookup: "
        + ", ".join(f"{r.scenario} {fmt_ratio(r.ratio)}" for r in single),
    )


if __name__ == "__main__":
    scaffold.run(main)
