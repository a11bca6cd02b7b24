"""Benchmark: locating a point with 30 communities loaded, against one.

A street's deployment locates every report in its community and grid, as the
one-community service located it in its grid.  This benchmark loads the
synthetic street of ``data/street.py`` (Lingxiao and its invented neighbours)
into one SQLite database and Lingxiao alone into another, builds the service's
snapshot of each (``service.community.SnapshotCache``, as a request does), and
times the lookups a report makes:

* **inside**: ``locate`` (grid and business district) and ``community_at`` of
  random points in Lingxiao, the same points on both databases;
* **outside**: ``nearest_community`` of random points beyond every community,
  the refusal's "N m outside the nearest".

The baseline is the one-community database in the same run; the ratio is the
time per point with 30 communities over the time with one.  A check fails the
run: the Lingxiao points must get the same grid with 30 communities as with
one.

Run with ``python -m bench.communities`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from sqlalchemy.orm import Session

from bench import _scaffold as scaffold
from bench._timing import best_of, column_table, fmt_ratio, fmt_us

SEED = 20261130
LINGXIAO = "330206002016"


@dataclass(frozen=True)
class Sizes:
    communities: int
    points: int
    repeat: int


FULL = Sizes(communities=30, points=20_000, repeat=5)
QUICK = Sizes(communities=30, points=2_000, repeat=2)


@dataclass(frozen=True)
class Row:
    what: str
    one_s: float  # per point, one community loaded
    many_s: float  # per point, every community loaded

    @property
    def ratio(self) -> float:
        return self.many_s / self.one_s


def _street(folder: Path, communities: int) -> list[Path]:
    """The synthetic street's community folders, written by data/street.py."""
    from data.street import write_street

    write_street(folder, communities=communities, detail="light")
    return sorted(p for p in folder.iterdir() if p.is_dir() and p.name.isdigit())


def _snapshot(url: str) -> Any:
    from service.community import SnapshotCache
    from store.db import make_engine

    engine = make_engine(url)
    with Session(engine) as session:
        snapshot = SnapshotCache().require(session)
    engine.dispose()
    return snapshot


def _load(url: str, folders: Sequence[Path]) -> None:
    from store.db import create_schema, make_engine
    from store.load import load_folder

    engine = make_engine(url)
    create_schema(engine)
    for folder in folders:
        result = load_folder(engine, folder)
        if not result.ok:
            raise scaffold.CheckFailed(f"{folder.name} was refused: {result.refused}")
    engine.dispose()


def _points(outline: Any, n: int, rng: np.random.Generator, inside: bool) -> np.ndarray:
    """``n`` random points in ``outline`` (or beyond its bounding box, 1–3 km off)."""
    west, south, east, north = shapely.bounds(outline)
    if not inside:
        angle = rng.uniform(0, 2 * np.pi, n)
        reach = rng.uniform(0.01, 0.03, n)
        cx, cy = (west + east) / 2, (south + north) / 2
        half = max(east - west, north - south) / 2
        return np.column_stack(
            [cx + np.cos(angle) * (half + reach), cy + np.sin(angle) * (half + reach)]
        )
    found: list[np.ndarray] = []
    while sum(len(f) for f in found) < n:
        xy = np.column_stack([rng.uniform(west, east, n), rng.uniform(south, north, n)])
        found.append(xy[shapely.contains_xy(outline, xy[:, 0], xy[:, 1])])
    return np.concatenate(found)[:n]


def _per_point(fn: Callable[[float, float], object], xy: np.ndarray, repeat: int) -> float:
    def run() -> list[object]:
        return [fn(float(x), float(y)) for x, y in xy]

    seconds, _ = best_of(run, repeat)
    return seconds / len(xy)


def main(argv: Sequence[str] | None = None) -> None:
    parser = scaffold.arguments(
        "communities",
        "Locating a point with a street's communities loaded, against one community.",
        "2,000 points",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    sizes = scaffold.sizes(args.quick, FULL, QUICK)
    scaffold.banner(
        "Locating with many communities (service snapshot, SQLite)",
        scaffold.environment(["shapely", "sqlalchemy"]),
        f"mode {scaffold.mode(args.quick)}; {sizes.communities} communities of "
        f"data/street.py (light detail) against Lingxiao alone; {sizes.points:,} points "
        f"per case, best of {sizes.repeat}; seed {SEED}",
    )
    with tempfile.TemporaryDirectory(prefix="gridgov-bench-communities-") as tmp:
        work = Path(tmp)
        folders = _street(work / "street", sizes.communities)
        lingxiao = next(f for f in folders if f.name == LINGXIAO)
        one_url, many_url = scaffold.sqlite_url(work / "one"), scaffold.sqlite_url(work / "many")
        (work / "one").mkdir()
        (work / "many").mkdir()
        _load(one_url, [lingxiao])
        _load(many_url, folders)
        one, many = _snapshot(one_url), _snapshot(many_url)
    if len(many.outlines) != sizes.communities:
        raise scaffold.CheckFailed(f"{len(many.outlines)} communities in the snapshot")
    rng = np.random.default_rng(SEED)
    inside = _points(one.outlines[LINGXIAO], sizes.points, rng, inside=True)
    outside = _points(many.outline, sizes.points, rng, inside=False)
    same = [one.locate(x, y)[0] == many.locate(x, y)[0] for x, y in inside[:2000]]
    if not all(same):
        raise scaffold.CheckFailed(f"{same.count(False)} Lingxiao points changed grid")
    rows = [
        Row(
            "locate (grid, business district)",
            _per_point(one.locate, inside, sizes.repeat),
            _per_point(many.locate, inside, sizes.repeat),
        ),
        Row(
            "community_at",
            _per_point(one.community_at, inside, sizes.repeat),
            _per_point(many.community_at, inside, sizes.repeat),
        ),
        Row(
            "nearest_community (outside all)",
            _per_point(one.nearest_community, outside, sizes.repeat),
            _per_point(many.nearest_community, outside, sizes.repeat),
        ),
    ]
    scaffold.section(
        f"Per point: one community against {sizes.communities} (best of {sizes.repeat})",
        column_table(
            rows,
            {
                "lookup": lambda r: r.what,
                "1 community": lambda r: fmt_us(r.one_s),
                f"{sizes.communities} communities": lambda r: fmt_us(r.many_s),
                "ratio": lambda r: fmt_ratio(r.ratio),
            },
        ),
    )
    print(f"grids: {len(one.grid_names)} with one community, {len(many.grid_names)} with all")
    scaffold.footer(started)
    scaffold.ratios(
        f"{sizes.communities} communities / 1: "
        + ", ".join(f"{r.what.split(' ')[0]} {fmt_ratio(r.ratio)}" for r in rows)
    )


if __name__ == "__main__":
    scaffold.run(main)
