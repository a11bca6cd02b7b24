"""Point-in-area lookup: which grid (or business district) holds a point.

The index lays a regular lattice of cells over the areas.  A cell that no
area boundary touches lies wholly inside one area (or wholly outside all of
them), so a point falling there is answered by one array lookup.  Only points in
cells that a boundary crosses are tested exactly, against the few areas whose
boxes the point hits.  That keeps bulk assignment a handful of numpy operations
and a single lookup a few microseconds.

Edge rule
---------
A point lying exactly on a boundary shared by two or more areas belongs to the
area that comes first in the index order, which is ascending ``code`` when the
index is built with :meth:`AreaIndex.from_frame`.  A point on the outer edge of
an area counts as inside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from scipy import ndimage

OUTSIDE = -1
_MIXED = -2


@dataclass(frozen=True)
class _Lattice:
    x0: float
    y0: float
    step: float
    nx: int
    ny: int

    def cells(
        self, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.int64]:
        """Flat cell number of each coordinate, -1 where it falls off the lattice."""
        with np.errstate(invalid="ignore"):
            fx = np.floor((x - self.x0) / self.step)
            fy = np.floor((y - self.y0) / self.step)
        ok = (fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny)
        out = np.full(x.shape, -1, dtype=np.int64)
        out[ok] = fy[ok].astype(np.int64) * self.nx + fx[ok].astype(np.int64)
        return out


class AreaIndex:
    """Lookup structure over non-overlapping polygons.

    Parameters
    ----------
    polygons : array of shapely Polygon or MultiPolygon
        Areas in lookup order; ties on shared edges go to the earlier one.
    codes : sequence of str
        One code per polygon, returned by :meth:`codes_of`.
    cells_per_area : int
        Mean number of lattice cells per area; more cells mean fewer exact tests
        and a larger index.
    """

    def __init__(
        self,
        polygons: npt.ArrayLike,
        codes: npt.ArrayLike,
        cells_per_area: int = 64,
    ) -> None:
        self.polygons = np.asarray(polygons, dtype=object)
        self.codes = np.asarray(codes, dtype=object)
        if self.polygons.shape != self.codes.shape or self.polygons.ndim != 1:
            raise ValueError("polygons and codes must be 1-d and of equal length")
        if len(self.polygons) == 0:
            raise ValueError("an AreaIndex needs at least one polygon")
        shapely.prepare(self.polygons)
        self._tree = shapely.STRtree(self.polygons)
        self._lattice = _make_lattice(self.polygons, cells_per_area)
        self._owner = _classify_cells(self.polygons, self._lattice, self._tree)
        self._owner_list: list[int] = self._owner.tolist()

    @classmethod
    def from_frame(
        cls, frame: gpd.GeoDataFrame, code_column: str = "code", cells_per_area: int = 64
    ) -> AreaIndex:
        """Build from a WGS84 GeoDataFrame, ordered by ascending code."""
        ordered = frame.sort_values(code_column, kind="stable")
        return cls(ordered.geometry.values, ordered[code_column].astype(str).values, cells_per_area)

    def __len__(self) -> int:
        return len(self.polygons)

    def locate(self, x: float, y: float) -> int:
        """Position of the area holding one point, or ``OUTSIDE`` (-1)."""
        lat = self._lattice
        if not (math.isfinite(x) and math.isfinite(y)):
            return OUTSIDE
        fx = math.floor((x - lat.x0) / lat.step)
        fy = math.floor((y - lat.y0) / lat.step)
        if not (0 <= fx < lat.nx and 0 <= fy < lat.ny):
            return OUTSIDE
        owner = self._owner_list[fy * lat.nx + fx]
        if owner != _MIXED:
            return owner
        hits = self._tree.query(shapely.Point(x, y), predicate="intersects")
        return int(hits.min()) if len(hits) else OUTSIDE

    def locate_many(self, x: npt.ArrayLike, y: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Positions of the areas holding many points at once; -1 for outside."""
        xs = np.asarray(x, dtype=np.float64)
        ys = np.asarray(y, dtype=np.float64)
        cells = self._lattice.cells(xs, ys)
        result = np.full(xs.shape, OUTSIDE, dtype=np.int64)
        on = cells >= 0
        result[on] = self._owner[cells[on]]
        mixed = np.flatnonzero(result == _MIXED)
        if len(mixed):
            pts = shapely.points(xs[mixed], ys[mixed])
            pi, ai = self._tree.query(pts, predicate="intersects")
            best = np.full(len(mixed), np.iinfo(np.int64).max, dtype=np.int64)
            np.minimum.at(best, pi, ai)
            best[best == np.iinfo(np.int64).max] = OUTSIDE
            result[mixed] = best
        return result

    def codes_of(self, positions: npt.ArrayLike) -> npt.NDArray[np.object_]:
        """Codes for positions from :meth:`locate_many`, ``None`` where outside."""
        pos = np.asarray(positions, dtype=np.int64)
        out = np.full(pos.shape, None, dtype=object)
        inside = pos >= 0
        out[inside] = self.codes[pos[inside]]
        return out


def _make_lattice(polygons: npt.NDArray[np.object_], cells_per_area: int) -> _Lattice:
    x0, y0, x1, y1 = shapely.total_bounds(polygons)
    width, height = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
    target = min(max(cells_per_area * len(polygons), 1 << 16), 1 << 22)
    step = math.sqrt(width * height / target)
    # one column and row more than the extent, so the upper edges are on the lattice
    nx = math.floor(width / step) + 1
    ny = math.floor(height / step) + 1
    return _Lattice(float(x0), float(y0), step, nx, ny)


def _classify_cells(
    polygons: npt.NDArray[np.object_], lat: _Lattice, tree: shapely.STRtree
) -> npt.NDArray[np.int32]:
    """Owner of each lattice cell: an area position, ``OUTSIDE`` or ``_MIXED``.

    A cell is mixed when some boundary passes through it.  Boundaries are
    sampled at half a cell's spacing, so consecutive samples fall in the same or
    neighbouring cells; the cells of the samples, plus both corner cells of each
    diagonal step, are exactly the cells a segment can cross.  Every other cell
    lies inside one area or outside all of them, and so does each connected run
    of such cells: one centre point per run is tested.
    """
    coords, which = shapely.get_coordinates(shapely.boundary(polygons), return_index=True)
    same = which[1:] == which[:-1]
    start, end = coords[:-1][same], coords[1:][same]
    length = np.hypot(*(end - start).T)
    n = np.ceil(length / (lat.step / 2)).astype(np.int64) + 1
    seg = np.repeat(np.arange(len(n)), n)
    t = (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)) / np.repeat(np.maximum(n - 1, 1), n)
    samples = start[seg] + (end[seg] - start[seg]) * t[:, None]
    fx = np.clip(np.floor((samples[:, 0] - lat.x0) / lat.step).astype(np.int64), 0, lat.nx - 1)
    fy = np.clip(np.floor((samples[:, 1] - lat.y0) / lat.step).astype(np.int64), 0, lat.ny - 1)

    mixed = np.zeros((lat.ny, lat.nx), dtype=bool)
    mixed[fy, fx] = True
    step = seg[1:] == seg[:-1]
    diagonal = step & (fx[1:] != fx[:-1]) & (fy[1:] != fy[:-1])
    mixed[fy[:-1][diagonal], fx[1:][diagonal]] = True
    mixed[fy[1:][diagonal], fx[:-1][diagonal]] = True

    labels, count = ndimage.label(~mixed)
    owner = np.full(lat.ny * lat.nx, _MIXED, dtype=np.int32)
    if count:
        flat = labels.ravel()
        first = np.unique(flat, return_index=True)[1][1:]  # one cell per run (label 0 = mixed)
        cy, cx = np.divmod(first, lat.nx)
        centres = shapely.points(lat.x0 + (cx + 0.5) * lat.step, lat.y0 + (cy + 0.5) * lat.step)
        pi, ai = tree.query(centres, predicate="intersects")
        run_owner = np.full(count + 1, OUTSIDE, dtype=np.int32)
        run_owner[flat[first[pi]]] = ai
        interior = flat > 0
        owner[interior] = run_owner[flat[interior]]
    return owner
