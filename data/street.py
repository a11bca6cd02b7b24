"""Generate a synthetic street of neighbouring communities around the Lingxiao sample.

Run ``python data/street.py [--communities 12] [--street-count 1] --out DIR``
(``make street-sample`` writes ``var/street/``).  **Everything it writes is
illustrative**: it exists so that a deployment holding a whole street (or, with
``--street-count``, a whole district) has something realistic to load, check for
gaps and overlaps, and benchmark.  The output is deterministic: a fixed seed, the
same bytes on every run.

One street (``--street-count 1``) writes into ``DIR``:

* ``<community code>/``: one folder per community in exactly the layout of
  ``data/`` (``boundaries/{community,grids,districts}.geojson``, the point and
  polygon layers, ``members.csv``), loadable with ``gridgov load``.  Lingxiao
  (330206002016) is the sample of ``data/`` itself, file for file, at its place;
  the others tile the street around it without overlapping, sharing edges.
  Stand-ins for 高塘社区 (330206002017) and 向阳社区 (330206002019), real names
  and codes (NBS 2023) with invented boundaries and contents, are the two
  communities sharing the longest borders with Lingxiao.  The rest are invented
  (示意社区一 …) with codes from 330206002901 up, a range the NBS does not use in
  Xinqi, so they cannot be taken for real communities.
* ``street.json``: the street (330206002 新碶街道), its communities and a few
  street-level teams (综合执法队 …) for the dispatcher; ``street.geojson``: its
  outline, the union of its communities.
* ``categories.csv``, ``workdays.csv``: the catalogue every community shares, the
  same bytes as ``data/``'s.
* ``README.md``: what this is.

Several streets (``--street-count S``) write a district (330206 北仑区):
``DIR/district.json``, a ``README.md`` and one street folder as above per
street, ``DIR/<street code>/``; Xinqi holds Lingxiao, the others are invented
(示意街道一 …, codes 330206901 up).  Communities other than Lingxiao then get
only their boundaries (community, grids) and squads, so that hundreds stay
small and quick to write (``--detail full`` writes everything anyway).

How the layout is drawn: the street's outline is a jittered ellipse sized for
the number of communities (about 1.2 km² each besides Lingxiao's 2.46 km²),
enclosing Lingxiao.  Seeds spread evenly over it (Lloyd's relaxation of random
samples), and their Voronoi cells, clipped to the outline, are the other
communities.  Lingxiao must stay exactly ``data/``'s polygon and gain no
vertex, so within a band around it the borders leave the Voronoi lines for a
straight line to the nearest of Lingxiao's own vertices.  Grids cut each
community along a few jittered north-south (经) and east-west (纬) roads.

Neighbours share their edges vertex for vertex: all borders and roads come from
one noded set of lines, and a road ending on a border puts a vertex on both
sides of it.  That matters more than it seems: a straight edge in degrees is
not straight in metres, so a vertex lying on a neighbour's edge without being
one of its vertices opens gaps and overlaps of several m² once the validator
measures them in EPSG:4550 (more than its 0.5 m² tolerance).  Vertices are
rounded to 1e-7° (about 1 cm) where they are drawn; a crossing of two lines is
kept exact, so that it lies on both.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import LineString, MultiPoint, Point, Polygon
from shapely.ops import polylabel

if not __package__:  # run as a script, ``python data/street.py``: ``data`` is beside it
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from data import generate as lx

HERE = Path(__file__).resolve().parent
SEED = 330206002
PRECISION = lx.PRECISION

DISTRICT = ("330206", "北仑区", "Beilun district")
XINQI = ("330206002", "新碶街道", "Xinqi street")
LINGXIAO = (lx.COMMUNITY_CODE, "凌霄社区", "Lingxiao community")
# Real neighbours of Lingxiao in Xinqi (NBS 2023), drawn as illustrative stand-ins.
STAND_INS = [
    ("330206002017", "高塘社区", "Gaotang community"),
    ("330206002019", "向阳社区", "Xiangyang community"),
]
ILLUSTRATIVE_NOTE = "示意：边界与内容均为虚构 (illustrative: boundary and contents invented)"

COMMUNITY_M2 = 1.2e6  # a synthetic community's area, Lingxiao's being 2.46 km²
GRID_M2 = 0.16e6  # a synthetic grid's area (a 300-500 household urban grid)
MARGIN_M = 300.0  # the least distance from Lingxiao to the street's outline
BAND_M = 120.0  # within this of Lingxiao, borders run to its vertices

# Squads of a synthetic community: (id, name, name_en, categories, duty hours,
# capacity).  Together they handle every category of the catalogue.
SQUADS: list[tuple[str, str, str, list[str], str, int]] = [
    (
        "SQ1",
        "环境卫士先锋队",
        "Environment guards",
        ["city_appearance", "greenery", "construction", "waste_sorting"],
        "07:00-19:00",
        8,
    ),
    (
        "SQ2",
        "安全巡防先锋队",
        "Safety patrol",
        ["safety_hazard", "stairwell_clutter", "housing_land", "public_facility", "emergency"],
        "00:00-24:00",
        8,
    ),
    (
        "SQ3",
        "邻里服务先锋队",
        "Neighbourhood service",
        ["elder_care", "neighbour_dispute", "parking", "road_traffic"],
        "08:00-20:00",
        10,
    ),
    (
        "SQ4",
        "商户联络先锋队",
        "Merchant liaison",
        ["merchant", "advertising", "street_order"],
        "09:00-21:00",
        6,
    ),
]
SQUAD_POSTS = {
    "SQ1": ["环境整治", "垃圾分类督导"],
    "SQ2": ["楼道巡查", "应急值守"],
    "SQ3": ["助老服务", "邻里调解"],
    "SQ4": ["商户走访", "文明劝导"],
}
MEMBER_COUNTS = (30, 90)  # registered, in service: a small community's share
MERCHANT_PLACES: list[tuple[str | None, int]] = [("BD01", 18), (None, 8)]

# Street-level teams the dispatcher may call on: (suffix, name after the street's
# name, name_en, categories, duty hours, capacity).
# departments a case climbs to when the community cannot solve it (invented): the
# street's offices (街道科室), then the district's bureaus (区级部门), each with its
# own time limit; escalation above the community is to these, by level
STREET_DEPARTMENTS: list[tuple[str, str, str, list[str], str]] = [
    ("D1", "城市管理科", "urban management office",
     ["city_appearance", "street_order", "advertising", "construction", "road_traffic"], "5wd"),
    ("D2", "社会事务办", "social affairs office",
     ["elder_care", "neighbour_dispute", "housing_land", "waste_sorting"], "5wd"),
    ("D3", "应急管理办", "emergency management office",
     ["emergency", "safety_hazard", "public_facility"], "2d"),
]  # fmt: skip
DISTRICT_DEPARTMENTS: list[tuple[str, str, str, list[str], str]] = [
    ("D1", "住房和城乡建设局", "housing and urban-rural development bureau",
     ["housing_land", "construction", "public_facility", "road_traffic"], "10wd"),
    ("D2", "综合行政执法局", "comprehensive administrative law enforcement bureau",
     ["city_appearance", "street_order", "advertising", "merchant", "parking"], "10wd"),
    ("D3", "应急管理局", "emergency management bureau", ["emergency", "safety_hazard"], "3d"),
]  # fmt: skip

TEAMS: list[tuple[str, str, str, list[str], str, int]] = [
    (
        "T1",
        "综合执法队",
        "comprehensive law enforcement team",
        ["street_order", "advertising", "construction", "city_appearance"],
        "08:00-20:00",
        12,
    ),
    (
        "T2",
        "应急救援队",
        "emergency rescue team",
        ["emergency", "safety_hazard"],
        "00:00-24:00",
        10,
    ),
    (
        "T3",
        "市政养护队",
        "municipal maintenance team",
        ["public_facility", "road_traffic", "greenery"],
        "07:30-17:30",
        8,
    ),
    (
        "T4",
        "矛盾调解中心",
        "mediation centre",
        ["neighbour_dispute", "housing_land", "parking"],
        "08:30-17:30",
        6,
    ),
]


# --- plane geometry ---------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """A local metric plane (metres east and north of an origin) for distances and areas.

    Lloyd's relaxation and the Voronoi cells are drawn in metres so that cells
    are round on the ground, not in degrees; everything written is in degrees.
    """

    lon0: float
    lat0: float

    @property
    def kx(self) -> float:
        return 111_320.0 * float(np.cos(np.radians(self.lat0)))

    @property
    def ky(self) -> float:
        return 110_574.0

    def to_m(self, geom: shapely.Geometry) -> shapely.Geometry:
        scale = np.array([self.kx, self.ky])
        origin = np.array([self.lon0, self.lat0])
        return shapely.transform(geom, lambda c: (c - origin) * scale)

    def to_deg(self, geom: shapely.Geometry) -> shapely.Geometry:
        """Back to degrees, every vertex rounded to the written precision."""
        scale = np.array([self.kx, self.ky])
        origin = np.array([self.lon0, self.lat0])
        return shapely.transform(geom, lambda c: np.round(c / scale + origin, PRECISION))

    def m2(self, geom: shapely.Geometry) -> float:
        """Area in square metres of a geometry in degrees (near the origin)."""
        return float(shapely.area(geom)) * self.kx * self.ky


def lloyd_seeds(region_m: Polygon, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points spread evenly over ``region_m``: k-means of uniform samples.

    Each seed ends inside the region (one that the mean moved out of it goes to
    the nearest of its samples), so that its Voronoi cell keeps a piece there.
    """
    minx, miny, maxx, maxy = region_m.bounds
    samples = np.empty((0, 2))
    want = max(4000, 150 * n)
    shapely.prepare(region_m)
    while len(samples) < want:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(want, 2))
        samples = np.vstack([samples, xy[shapely.contains_xy(region_m, xy[:, 0], xy[:, 1])]])
    samples = samples[:want]
    seeds = kmeans(samples, samples[rng.choice(len(samples), n, replace=False)])
    _, owner = cKDTree(seeds).query(samples)
    for j in np.flatnonzero(~shapely.contains_xy(region_m, seeds[:, 0], seeds[:, 1])):
        mine = samples[owner == j]
        seeds[j] = mine[np.argmin(((mine - seeds[j]) ** 2).sum(axis=1))]
    return seeds


def kmeans(points: np.ndarray, centres: np.ndarray, rounds: int = 30) -> np.ndarray:
    """Lloyd's iterations: each centre moves to the mean of the points nearest it."""
    centres = centres.copy()
    for _ in range(rounds):
        _, owner = cKDTree(centres).query(points)
        count = np.bincount(owner, minlength=len(centres))
        sums = np.c_[
            np.bincount(owner, points[:, 0], len(centres)),
            np.bincount(owner, points[:, 1], len(centres)),
        ]
        some = count > 0
        centres[some] = sums[some] / count[some, None]
    return centres


def segments(lines: list[shapely.Geometry]) -> np.ndarray:
    """``lines`` noded: split at every crossing, each piece once."""
    return shapely.get_parts(shapely.union_all(lines))


def faces(noded: np.ndarray) -> list[Polygon]:
    """The faces that noded lines enclose."""
    return list(shapely.get_parts(shapely.polygonize(noded)))


def coverage_union(polys: list[Polygon]) -> Polygon:
    """The union of polygons that share edges vertex for vertex, keeping every vertex.

    An overlay union (``union_all``) may move a vertex by a rounding error or
    drop one; this keeps the shared vertices that neighbours rely on.
    """
    union = shapely.coverage_union_all(polys)
    if union.geom_type != "Polygon":
        raise RuntimeError(f"the union of {len(polys)} faces is a {union.geom_type}")
    return union


def shared_length(a: shapely.Geometry, b: shapely.Geometry) -> float:
    """Length of the border ``a`` and ``b`` share."""
    return float(shapely.length(shapely.intersection(a.boundary, b.boundary)))


def merge_into_neighbour(piece: Polygon, cells: dict[int, Polygon]) -> int:
    """Join ``piece`` to the cell it shares most border with; that cell's key."""
    best = max(cells, key=lambda k: (shared_length(piece, cells[k]), -k))
    if shared_length(piece, cells[best]) == 0:
        raise RuntimeError(f"a piece of {piece.area:.3g} deg² touches no cell")
    cells[best] = coverage_union([cells[best], piece])
    return best


def merge_strays(strays: list[Polygon], cells: dict[int, Polygon]) -> None:
    """Join every piece to the cell it shares most border with, pass after pass."""
    while strays:
        waiting = [p for p in strays if not any(shared_length(p, c) > 0 for c in cells.values())]
        if len(waiting) == len(strays):
            raise RuntimeError(f"{len(strays)} pieces touch no cell")
        for piece in strays:
            if not any(piece is w for w in waiting):
                merge_into_neighbour(piece, cells)
        strays = waiting


def reading_order(polys: list[Polygon], row_gap: float) -> list[int]:
    """Indices west to east within a row, rows north to south, as grid codes run.

    A row is the polygons whose northern edges lie within ``row_gap`` degrees of
    the next one's, the rule the sample's own test applies to Lingxiao's grids.
    """
    if not polys:
        return []
    north = np.array([p.bounds[3] for p in polys])
    west = np.array([p.bounds[0] for p in polys])
    ranked = np.sort(north)[::-1]
    starts = ranked[np.r_[True, -np.diff(ranked) > row_gap]]
    row = np.searchsorted(-starts, -north, side="right")
    return np.lexsort((west, row)).tolist()


# --- the layout of communities ----------------------------------------------------------


def street_outline(fixed_m: Polygon, n: int, rng: np.random.Generator) -> Polygon:
    """A jittered ellipse (in metres) holding ``n`` communities and enclosing ``fixed_m``."""
    area = fixed_m.area + (n - 1) * COMMUNITY_M2
    b = float(np.sqrt(area / (np.pi * 1.5)))
    a = 1.5 * b
    centre = np.array(fixed_m.centroid.coords[0]) + np.array([0.12 * a, -0.08 * b])
    angles = np.linspace(0, 2 * np.pi, 36, endpoint=False)
    jitter = 1 + 0.05 * np.sin(3 * angles + rng.uniform(0, 2 * np.pi))
    jitter *= 1 + rng.uniform(-0.03, 0.03, len(angles))
    ring = centre + np.c_[a * np.cos(angles), b * np.sin(angles)] * jitter[:, None]
    hull = fixed_m.buffer(MARGIN_M, join_style="mitre")
    return shapely.union_all([Polygon(ring), hull]).simplify(1.0)


def nearest_vertex_along(ring: shapely.LinearRing, point: Point) -> tuple[float, float]:
    """The vertex of ``ring`` nearest ``point``'s foot on it, of the edge the foot is on."""
    coords = shapely.get_coordinates(ring)
    along = np.r_[0.0, np.cumsum(np.hypot(*np.diff(coords, axis=0).T))]
    foot = ring.project(point)
    i = int(np.clip(np.searchsorted(along, foot), 1, len(coords) - 1))
    j = i if along[i] - foot < foot - along[i - 1] else i - 1
    return (float(coords[j, 0]), float(coords[j, 1]))


def tessellate(
    frame: Frame, outline: Polygon, fixed: Polygon, n_free: int, rng: np.random.Generator
) -> tuple[list[Polygon], np.ndarray]:
    """``n_free`` cells tiling ``outline`` less ``fixed`` (all in degrees), and their seeds.

    The cells are Voronoi cells of evenly spread seeds.  ``fixed`` keeps its
    vertices and gains none: within a band around it the cells' borders leave
    the Voronoi lines for a straight line to the nearest of ``fixed``'s own
    vertices, and the band's pieces join the cells beside them.  Cells share
    edges vertex for vertex (one noded set of lines); a cell's piece cut off
    from its seed joins the neighbour it shares most border with.
    """
    band = frame.to_deg(frame.to_m(fixed).buffer(BAND_M, join_style="mitre"))
    region_m = shapely.difference(frame.to_m(outline), frame.to_m(band))
    seeds = lloyd_seeds(region_m, n_free, rng)
    envelope = region_m.envelope.buffer(5 * np.sqrt(COMMUNITY_M2))
    voronoi = shapely.get_parts(shapely.voronoi_polygons(MultiPoint(seeds), extend_to=envelope))
    lines = [frame.to_deg(shapely.boundary(c)) for c in voronoi]
    noded = segments([*lines, outline.exterior, band.exterior])
    mids = shapely.line_interpolate_point(noded, 0.5, normalized=True)
    inside = shapely.contains(band, mids)  # Voronoi lines within the band: dropped
    on_ring = shapely.distance(mids, band.exterior) < 1e-12
    ring_nodes = {tuple(p) for p in shapely.get_coordinates(noded[on_ring])}
    ends = {
        tuple(p) for seg in noded[~inside & ~on_ring] for p in shapely.get_coordinates(seg)[[0, -1]]
    }
    connectors = [  # from where a Voronoi line reaches the band, on to Lingxiao
        LineString([p, nearest_vertex_along(fixed.exterior, Point(p))])
        for p in sorted(ends & ring_nodes)
    ]
    final = segments([*noded[~inside], *connectors, fixed.exterior])
    check_no_new_vertex(final, fixed)

    shapely.prepare(outline)
    shapely.prepare(band)
    outer: list[Polygon] = []
    strays: list[Polygon] = []
    for f in faces(final):
        rep = f.representative_point()
        if not outline.contains(rep) or fixed.contains(rep):
            continue
        (strays if band.contains(rep) else outer).append(f)
    reps = np.array([frame.to_m(f.representative_point()).coords[0] for f in outer])
    _, owner = cKDTree(seeds).query(reps)
    cells: dict[int, Polygon] = {}
    for k in range(n_free):
        mine = [outer[i] for i in np.flatnonzero(owner == k)]
        if not mine:
            raise RuntimeError(f"seed {k} has no face")
        parts = sorted(
            shapely.get_parts(shapely.coverage_union_all(mine)), key=lambda p: (-p.area, p.wkb)
        )
        cells[k] = parts[0]
        strays += parts[1:]
    merge_strays(strays, cells)
    return [cells[k] for k in range(n_free)], seeds


def check_no_new_vertex(noded: np.ndarray, fixed: Polygon) -> None:
    """Raise if a line meets ``fixed``'s boundary other than at one of its vertices."""
    ends = np.unique(shapely.get_coordinates(noded), axis=0)
    near = shapely.distance(shapely.points(ends), fixed.exterior) < 1e-9
    own = {tuple(p) for p in shapely.get_coordinates(fixed.exterior)}
    extra = [tuple(p) for p in ends[near] if tuple(p) not in own]
    if extra:
        raise RuntimeError(f"lines meet Lingxiao's boundary between its vertices at {extra[:3]}")


def road_plan(frame: Frame, c: Community, rng: np.random.Generator) -> list[lx.Road]:
    """Jittered 经 (north-south) and 纬 (east-west) roads across ``c``, about 400 m apart."""
    minx, miny, maxx, maxy = c.polygon.bounds
    step_x = np.sqrt(GRID_M2) / frame.kx
    step_y = np.sqrt(GRID_M2) / frame.ky
    kx = np.arange(1, int((maxx - minx) / step_x) + 1)
    ky = np.arange(1, int((maxy - miny) / step_y) + 1)
    xs = minx + step_x * (kx + rng.uniform(-0.2, 0.2, len(kx)))
    ys = maxy - step_y * (ky + rng.uniform(-0.2, 0.2, len(ky)))
    xs = np.round(xs[xs < maxx - 0.3 * step_x], PRECISION)
    ys = np.round(ys[ys > miny + 0.3 * step_y], PRECISION)
    pad = 0.0004
    lo_x, hi_x = round(minx - pad, PRECISION), round(maxx + pad, PRECISION)
    lo_y, hi_y = round(miny - pad, PRECISION), round(maxy + pad, PRECISION)
    kinds = ("lane", "primary")
    return [
        (f"{c.short}经{lx.chinese_number(i)}路", kinds[i % 2], [(x, lo_y), (x, hi_y)])
        for i, x in enumerate(xs.tolist(), 1)
    ] + [
        (f"{c.short}纬{lx.chinese_number(i)}路", kinds[i % 2], [(lo_x, y), (hi_x, y)])
        for i, y in enumerate(ys.tolist(), 1)
    ]


def cut_grids(frame: Frame, free: list[Community], fixed: Polygon, seed: int) -> None:
    """Cut every community but ``fixed`` into grids along its roads, all in one go.

    One noded set of lines (every border and every community's roads) gives
    the grids, so a road that ends on a border puts a vertex on both sides of
    it and neighbours keep sharing their edges vertex for vertex.  A road
    reaches 1 m past its community's border (an end that closes no face) and
    stops 3 m short of ``fixed``, which must gain no vertex.  Faces under a
    third of a grid's size join a neighbouring grid.
    """
    lines: list[shapely.Geometry] = [fixed.exterior, *(c.polygon.boundary for c in free)]
    keep_off = fixed.buffer(3e-5)
    for c in free:
        c.roads = road_plan(frame, c, np.random.default_rng([seed, int(c.code), 1]))
        reach = shapely.difference(c.polygon.buffer(1e-5, join_style="mitre"), keep_off)
        lines += [shapely.intersection(LineString(xy), reach) for _, _, xy in c.roads]
    noded = segments([g for g in lines if not g.is_empty])
    check_no_new_vertex(noded, fixed)
    polys = [c.polygon for c in free]
    tree = shapely.STRtree(polys)
    mine: list[list[Polygon]] = [[] for _ in free]
    for f in faces(noded):
        hits = tree.query(f.representative_point(), predicate="within")
        if len(hits) == 1:
            mine[int(hits[0])].append(f)
    small = 0.35 * GRID_M2
    for c, grids in zip(free, mine, strict=True):
        c.polygon = shapely.normalize(coverage_union(grids))
        cells = dict(enumerate(grids))
        while len(cells) > 1:
            i = min(cells, key=lambda k: (frame.m2(cells[k]), k))
            if frame.m2(cells[i]) >= small:
                break
            merge_into_neighbour(cells.pop(i), cells)
        done = [shapely.normalize(g) for g in cells.values()]
        c.grids = [done[i] for i in reading_order(done, 3e-4)]


# --- who is who -------------------------------------------------------------------------


@dataclass
class Community:
    """One community of the output: its codes, names, boundary, grids and roads."""

    code: str
    name: str
    name_en: str
    polygon: Polygon
    role: str = "invented"  # or "sample" (Lingxiao, data/'s files) or "stand-in"
    grids: list[Polygon] = field(default_factory=list)
    roads: list[lx.Road] = field(default_factory=list)

    @property
    def short(self) -> str:
        """The name without 社区, for naming its roads, compounds and service points."""
        return self.name.removesuffix("社区")


@dataclass
class Street:
    """One street of the output and its communities."""

    code: str
    name: str
    name_en: str
    communities: list[Community] = field(default_factory=list)
    name_source: str = "invented"  # or "NBS 2023" (a real street's code and name)


def numeral(n: int) -> str:
    """Chinese numerals up to 99 (示意社区十二), digits beyond."""
    return lx.chinese_number(n) if n < 100 else str(n)


def invented_code(k: int) -> str:
    """The k-th (1-based) invented 3-digit code: 901-999, then 801-899, … down to 501.

    NBS codes communities 0xx and villages 2xx, so these never name a real one.
    """
    block, offset = divmod(k - 1, 99)
    if block > 4:
        raise ValueError(f"more than {5 * 99} invented codes under one parent")
    return f"{(9 - block) * 100 + 1 + offset:03d}"


def frame_of(lingxiao: Polygon) -> Frame:
    """The metric plane every layout is drawn in, centred near Lingxiao."""
    lon, lat = np.round(lingxiao.centroid.coords[0], 3)
    return Frame(float(lon), float(lat))


def layout(n: int, street_count: int, seed: int = SEED) -> list[Street]:
    """The streets and their communities: ``n`` communities in ``street_count`` streets.

    Lingxiao keeps its own polygon; the other ``n - 1`` cells tile an outline
    around it.  With one street all belong to Xinqi; with several, the cells'
    seeds are grouped into streets by k-means, Xinqi being the group holding
    Lingxiao.
    """
    if street_count < 1 or n < 3 * street_count:
        raise ValueError("need at least one street and 3 communities a street")
    rng = np.random.default_rng(seed)
    lingxiao = lx.lingxiao_outline()
    frame = frame_of(lingxiao)
    outline = frame.to_deg(street_outline(frame.to_m(lingxiao), n, rng))
    cells, seeds = tessellate(frame, outline, lingxiao, n - 1, rng)

    points = np.vstack([frame.to_m(lingxiao.centroid).coords[0], seeds])
    group = np.zeros(len(points), dtype=int)
    if street_count > 1:
        _, group = cKDTree(lloyd_groups(points, street_count, rng)).query(points)
        if len(set(group.tolist())) != street_count:
            raise RuntimeError("a street got no community")
    polys = [lingxiao, *cells]
    streets: list[Street] = []
    others = [g for g in reading_order_of_points(points, group) if g != group[0]]
    for number, g in enumerate([int(group[0]), *others]):
        members = [i for i in range(len(polys)) if group[i] == g]
        if number == 0:
            street = Street(*XINQI, name_source="NBS 2023")
        else:
            code = f"{DISTRICT[0]}{invented_code(number)}"
            street = Street(code, f"示意街道{numeral(number)}", f"Illustrative street {number}")
        street.communities = name_communities(street, number, polys, members)
        streets.append(street)
    free = [c for s in streets for c in s.communities if c.code != LINGXIAO[0]]
    cut_grids(frame, free, lingxiao, seed)
    for street in streets:
        check_connected(street)
    return streets


def lloyd_groups(points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` k-means centres of ``points``, the first seeded at Lingxiao's point."""
    pick = rng.choice(np.arange(1, len(points)), k - 1, replace=False)
    return kmeans(points, np.vstack([points[:1], points[pick]]))


def reading_order_of_points(points: np.ndarray, group: np.ndarray) -> list[int]:
    """The groups, north to south in bands then west to east, by their mean point."""
    ids = sorted(set(group.tolist()))
    means = np.array([points[group == g].mean(axis=0) for g in ids])
    band = np.floor(-means[:, 1] / (4 * np.sqrt(COMMUNITY_M2)))
    return [ids[i] for i in np.lexsort((means[:, 0], band))]


def name_communities(
    street: Street, number: int, polys: list[Polygon], members: list[int]
) -> list[Community]:
    """Codes and names of a street's communities (``polys[0]`` is Lingxiao).

    In Xinqi: Lingxiao, then the stand-ins for the neighbours sharing the
    longest borders with it, then invented ones in reading order.
    """
    out: list[Community] = []
    rest = list(members)
    if 0 in rest:
        rest.remove(0)
        out.append(Community(*LINGXIAO, polys[0], role="sample"))
        touching = sorted(
            (i for i in rest if shared_length(polys[0], polys[i]) > 0),
            key=lambda i: (-shared_length(polys[0], polys[i]), i),
        )
        for (code, name, name_en), i in zip(STAND_INS, touching, strict=False):
            out.append(
                Community(code, name, f"{name_en} (illustrative)", polys[i], role="stand-in")
            )
            rest.remove(i)
    ordered = [rest[i] for i in reading_order([polys[i] for i in rest], 0.004)]
    for k, i in enumerate(ordered, 1):
        code = f"{street.code}{invented_code(k)}"
        if number == 0:
            name, name_en = f"示意社区{numeral(k)}", f"Illustrative community {k}"
        else:
            name = f"示意{numeral(number)}街社区{numeral(k)}"
            name_en = f"Illustrative community {number}-{k}"
        out.append(Community(code, name, name_en, polys[i]))
    return sorted(out, key=lambda c: c.code)


def check_connected(street: Street) -> None:
    """A street is one piece: its communities' union is a single polygon."""
    coverage_union([c.polygon for c in street.communities])


# --- one community's files --------------------------------------------------------------


def write_synthetic(
    out: Path, c: Community, street: Street, frame: Frame, full: bool, seed: int = SEED
) -> None:
    """Write an invented community's folder in ``data/``'s layout.

    ``full`` writes every layer; otherwise the boundaries (community and
    grids) and the squads only.
    """
    rng = np.random.default_rng([seed, int(c.code)])
    grids, roads = c.grids, c.roads
    info = [
        lx.grid_record(rng, f"{c.code}{i:03d}", f"{c.name}第{numeral(i)}网格", i, "general", None)
        for i in range(1, len(grids) + 1)
    ]
    props = {
        "code": c.code,
        "name": c.name,
        "name_en": c.name_en,
        "street": street.name,
        "district": DISTRICT[1],
        "illustrative": True,
        "note": ILLUSTRATIVE_NOTE,
    }
    districts = [business_district(c, frame)] if full else None
    lx.write_boundaries(out, props, c.polygon, grids, info, districts)
    squads = [
        (i, zh, en, cats, duty, cap, place(lx.rand_point_in(c.polygon, rng)), True)
        for i, zh, en, cats, duty, cap in SQUADS
    ]
    lx.write_geojson(
        out / "squads.geojson", lx.point_features(lx.squad_rows(squads), lx.SQUAD_KEYS), "squads"
    )
    if not full:
        return
    assert districts is not None
    compounds, buildings = build_compounds(c, grids, info, rng)
    lx.write_geojson(out / "compounds.geojson", [f for f, _ in compounds], "compounds")
    lx.write_geojson(out / "buildings.geojson", buildings, "buildings")
    lx.write_geojson(
        out / "streets.geojson", lx.build_streets(compounds, roads, c.polygon), "streets"
    )
    lx.write_geojson(
        out / "merchants.geojson",
        lx.build_merchants(rng, districts, c.polygon, MERCHANT_PLACES),
        "merchants",
    )
    units = [
        (i, zh, en, at if i == "U05" else place(lx.rand_point_in(c.polygon, rng)), cats)
        for i, zh, en, at, cats in lx.UNITS
    ]
    lx.write_geojson(
        out / "units.geojson", lx.point_features(lx.unit_rows(units), lx.UNIT_KEYS), "units"
    )
    first = compounds[0][0]["properties"]["name"] if compounds else c.short
    points = [
        ("SP1", f"{c.name}党群服务中心", f"{c.name_en} service centre", "office"),
        ("SP2", f"{c.short}居民驿站", f"{c.name_en} residents' station", "station"),
        ("SP3", f"{first}物管中心", "Property management centre", "property"),
    ]
    hours = {"office": "08:30-17:30", "station": "00:00-24:00", "property": "08:00-20:00"}
    lx.write_geojson(
        out / "service_points.geojson",
        lx.point_features(
            [
                (i, zh, en, kind, place(lx.rand_point_in(c.polygon, rng)), hours[kind])
                for i, zh, en, kind in points
            ],
            lx.SERVICE_POINT_KEYS,
        ),
        "service_points",
    )
    lots = [
        ("P01", f"{first}地下车库", "garage", int(rng.integers(150, 400)), False, "open"),
        (
            "P02",
            f"{roads[0][0] if roads else c.short}路内泊位",
            "on_street",
            int(rng.integers(30, 80)),
            True,
            "open",
        ),
        ("P03", f"{c.short}智慧停车场", "lot", int(rng.integers(80, 200)), True, "planned"),
    ]
    lx.write_geojson(
        out / "parking.geojson",
        lx.point_features(
            [(*lot, place(lx.rand_point_in(c.polygon, rng))) for lot in lots], lx.PARKING_KEYS
        ),
        "parking",
    )
    lx.write_csv(out / "members.csv", lx.build_members(rng, info, MEMBER_COUNTS, SQUAD_POSTS))


ID_PROPERTIES = ("id", "compound", "squad")  # properties that name a feature by its id


def id_tag(code: str) -> str:
    """The prefix of an invented community's ids: the last three digits of its code."""
    return f"{code[-3:]}-"


def own_ids(folder: Path, tag: str) -> None:
    """Prefix every id in a community folder (and the business districts' codes) with ``tag``.

    Division codes (all digits) are left as they are.
    """
    for path in sorted([*folder.glob("*.geojson"), *(folder / "boundaries").glob("*.geojson")]):
        data = json.loads(path.read_text(encoding="utf-8"))
        for feature in data["features"]:
            props = feature["properties"]
            for key in (*ID_PROPERTIES, "code"):
                value = props.get(key)
                if isinstance(value, str) and value and not value.isdigit():
                    props[key] = tag + value
        lx.write_geojson(path, data["features"], data.get("name", path.stem))
    members = folder / "members.csv"
    if members.exists():
        rows = list(csv.DictReader(members.open(encoding="utf-8", newline="")))
        for row in rows:
            for key in ("id", "squad"):
                if row.get(key):
                    row[key] = tag + row[key]
        lx.write_csv(members, rows)


def place(p: Point) -> tuple[float, float]:
    """A point's (lon, lat), as the point layers' rows give positions."""
    return (float(p.x), float(p.y))


def business_district(c: Community, frame: Frame) -> tuple[str, str, str, Polygon]:
    """One business district, at most 500 m x 400 m, around the community's most inner point."""
    heart = polylabel(c.polygon, tolerance=1e-5)
    half_x, half_y = 250 / frame.kx, 200 / frame.ky
    area = shapely.box(heart.x - half_x, heart.y - half_y, heart.x + half_x, heart.y + half_y)
    inside = shapely.intersection(area, c.polygon.buffer(-0.0001))
    parts = sorted(shapely.get_parts(inside), key=lambda p: (-p.area, p.wkb))
    return ("BD01", f"{c.short}商圈", f"{c.name_en} business district", lx.rounded(parts[0]))


def build_compounds(
    c: Community, grids: list[Polygon], info: list[dict], rng: np.random.Generator
) -> tuple[list[tuple[dict, Polygon]], list[dict]]:
    """One or two compounds per grid, cut to fit the grid, with their buildings.

    Like the sample's, but a grid here need not be a rectangle: a compound is its
    share of the grid's inset bounding box clipped to the inset grid, and keeps
    the slab blocks that fit inside it.
    """
    compounds: list[tuple[dict, Polygon]] = []
    buildings: list[dict] = []
    for grid, g in zip(grids, info, strict=True):
        inset = grid.buffer(-0.00018)
        n = 2 if grid.area > 1.1e-5 else 1
        for cbox, hh in zip(
            lx.compound_boxes(grid, n), lx.split_evenly(g["households"], n), strict=True
        ):
            parts = sorted(
                shapely.get_parts(shapely.intersection(cbox, inset)), key=lambda p: (-p.area, p.wkb)
            )
            if not parts:
                continue
            outline = lx.rounded(parts[0])
            blds = [b for b in lx.buildings_in(outline) if outline.contains(b)]
            if not blds:
                continue
            cid = f"C{len(compounds) + 1:02d}"
            name = f"{c.short}第{numeral(len(compounds) + 1)}小区"
            compound, blds_f = lx.compound_features(cid, name, g["code"], outline, blds, hh, rng)
            compounds.append((compound, grid))
            buildings += blds_f
    return compounds, buildings


# --- the street's and district's files --------------------------------------------------


def street_json(street: Street, frame: Frame, rng: np.random.Generator) -> dict:
    """What ``street.json`` says: the street, its communities, its teams, and the street's
    and district's departments a case is escalated to."""
    union = coverage_union([c.polygon for c in street.communities])
    teams = []
    for suffix, name, name_en, cats, duty, cap in TEAMS:
        lon, lat = place(lx.rand_point_in(union, rng))
        teams.append(
            {
                "id": f"{street.code}-{suffix}",
                "name": f"{street.name}{name}",
                "name_en": f"{street.name_en} {name_en}",
                "categories": cats,
                "lon": lon,
                "lat": lat,
                "capacity": cap,
                "duty_hours": duty,
                "illustrative": True,
            }
        )
    office = place(shapely.point_on_surface(union))  # where the offices are drawn

    def departments(
        code: str, prefix: str, prefix_en: str, rows: list[tuple[str, str, str, list[str], str]]
    ) -> list[dict]:
        return [
            {
                "id": f"{code}-{suffix}",
                "name": f"{prefix}{name}",
                "name_en": f"{prefix_en} {name_en}",
                "categories": cats,
                "time_limit": limit,
                "lon": office[0],
                "lat": office[1],
                "illustrative": True,
            }
            for suffix, name, name_en, cats, limit in rows
        ]

    district = {
        "code": DISTRICT[0],
        "name": DISTRICT[1],
        "name_en": DISTRICT[2],
        "departments": departments(DISTRICT[0], DISTRICT[1], DISTRICT[2], DISTRICT_DEPARTMENTS),
    }
    return {
        "code": street.code,
        "name": street.name,
        "name_en": street.name_en,
        "district": district,
        "departments": departments(street.code, street.name, street.name_en, STREET_DEPARTMENTS),
        "name_source": street.name_source,
        "illustrative": True,
        "note": "Synthetic street for tests and benchmarks: every boundary, team, compound, "
        "merchant and member is invented (Lingxiao's are the illustrative sample of data/); "
        "only codes and names from NBS 2023 are real. See README.md.",
        "boundary": "street.geojson",
        "catalogue": {"categories": "categories.csv", "workdays": "workdays.csv"},
        "communities": [
            {
                "code": c.code,
                "name": c.name,
                "name_en": c.name_en,
                "folder": c.code,
                "role": c.role,
            }
            for c in street.communities
        ],
        "teams": teams,
    }


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


README = """# Synthetic {what} (illustrative)

**Not real data.** Written by `data/street.py` (`{command}`) for tests and
benchmarks: communities that tile a {what} without overlapping, sharing their
edges, so that a deployment holding more than one community, and checks of
gaps and overlaps between communities, have something realistic to work on.

- Lingxiao's folder (330206002016, in Xinqi 330206002) is the sample of `data/`,
  file for file, at its place; its boundary is as illustrative as the rest.
- 高塘社区 (330206002017) and 向阳社区 (330206002019) are real names and codes
  (NBS 2023 statistical division codes) on invented boundaries and contents:
  stand-ins, marked `illustrative` with a 示意 note in their community layer.
- Every other community (示意社区…, codes …901 up, a range the NBS does not use
  for communities) and street (示意街道…, codes 330206901 up) is invented, name
  and all; `role` in `street.json` says which is which.
- The street-level teams in `street.json` are invented.
- `categories.csv` and `workdays.csv` are the shared catalogue, the same as `data/`'s.
- {detail}

Each community folder has `data/`'s layout and loads with `gridgov load FOLDER`.
Ids are unique across a deployment (a case names its squad by id alone), so
every invented community's ids start with the last three digits of its code
(`017-SQ1`, `017-MER001`, `017-PM0001` …); Lingxiao keeps `data/`'s.  The
shared catalogue's escalation units (`U01`…) are Lingxiao's.

The layout is drawn around the Lingxiao sample, whose boundary is placed on
OpenStreetMap positions, and the units' hospital is the OSM position of the
District People's Hospital: © OpenStreetMap contributors and the gridgov
developers, Open Database Licence (ODbL 1.0), as `data/README.md` explains.
"""
DETAIL = {
    "full": "Every community has every layer of `data/`, at a smaller scale than Lingxiao.",
    "light": "Communities other than Lingxiao have their boundaries (community, grids) "
    "and squads only.",
}


def write_street_folder(
    out: Path, street: Street, frame: Frame, full: bool, readme: str, seed: int = SEED
) -> None:
    """Write one street's folder: its communities, ``street.json``, outline, catalogue."""
    out.mkdir(parents=True, exist_ok=True)
    for c in street.communities:
        if c.code == LINGXIAO[0]:
            lx.write_community(out / c.code)
        else:
            write_synthetic(out / c.code, c, street, frame, full, seed)
            own_ids(out / c.code, id_tag(c.code))
    rng = np.random.default_rng([seed, int(street.code)])
    write_json(out / "street.json", street_json(street, frame, rng))
    union = coverage_union([c.polygon for c in street.communities])
    lx.write_geojson(
        out / "street.geojson",
        [
            lx.feature(
                shapely.normalize(union),
                {"code": street.code, "name": street.name, "name_en": street.name_en},
            )
        ],
        "street",
    )
    lx.write_categories(out)
    shutil.copyfile(HERE / "workdays.csv", out / "workdays.csv")
    (out / "README.md").write_text(readme.format(what="street"), encoding="utf-8")


def write_street(
    out: Path, communities: int = 12, street_count: int = 1, detail: str | None = None
) -> list[Street]:
    """Write ``communities`` communities in ``street_count`` streets into the empty folder
    ``out`` (what ``python data/street.py`` does; importable as ``data.street``).

    ``detail`` is ``full`` (every layer) or ``light`` (boundaries and squads);
    by default full for one street, light for a district.
    """
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty; remove it first")
    full = (detail or ("full" if street_count == 1 else "light")) == "full"
    streets = layout(communities, street_count)
    frame = frame_of(lx.lingxiao_outline())
    command = f"python data/street.py --communities {communities} --street-count {street_count}"
    readme = README.replace("{command}", command).replace(
        "{detail}", DETAIL["full" if full else "light"]
    )
    if street_count == 1:
        write_street_folder(out, streets[0], frame, full, readme)
        return streets
    out.mkdir(parents=True, exist_ok=True)
    for street in streets:
        write_street_folder(out / street.code, street, frame, full, readme)
    write_json(
        out / "district.json",
        {
            "code": DISTRICT[0],
            "name": DISTRICT[1],
            "name_en": DISTRICT[2],
            "illustrative": True,
            "note": "Synthetic district for benchmarks; see README.md.",
            "streets": [
                {
                    "code": s.code,
                    "name": s.name,
                    "name_en": s.name_en,
                    "folder": s.code,
                    "communities": len(s.communities),
                    "name_source": s.name_source,
                }
                for s in streets
            ],
        },
    )
    (out / "README.md").write_text(readme.format(what="district"), encoding="utf-8")
    return streets


def main(argv: list[str] | None = None) -> None:
    """The command line: ``python data/street.py --communities N --out DIR``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--communities", type=int, default=12, help="how many, Lingxiao included")
    parser.add_argument("--street-count", type=int, default=1, help="streets to share them")
    parser.add_argument("--out", type=Path, required=True, help="an empty or new folder")
    parser.add_argument(
        "--detail",
        choices=("full", "light"),
        help="every layer, or boundaries and squads only (default: full for one street)",
    )
    args = parser.parse_args(argv)
    try:
        streets = write_street(args.out, args.communities, args.street_count, args.detail)
    except (ValueError, FileExistsError) as exc:
        parser.error(str(exc))
    total = sum(len(s.communities) for s in streets)
    print(f"{args.out}: {total} communities in {len(streets)} street(s)")


if __name__ == "__main__":
    main()
