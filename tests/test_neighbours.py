"""A new community beside loaded ones: overlaps refused, gaps warned, the nearest found.

Shapes are drawn in metres on Lingxiao's Gauss-Krüger zone (EPSG:4550) and
unprojected to WGS84, so their areas and distances are known exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely import affinity

from gis.boundaries import AREA_TOLERANCE_M2
from gis.crs import from_metric, to_metric
from gis.io import read_layer_file
from gis.neighbours import (
    MAX_GAP_M,
    CommunityOverlap,
    Gap,
    Overlap,
    check_new_community,
    gaps,
    nearest,
    overlaps,
)
from tests.helpers import BOUNDARIES

CRS = "EPSG:4550"
ORIGIN = (121.84, 29.89)  # Lingxiao
_X0, _Y0 = (float(v) for v in to_metric(*ORIGIN, metric_crs=CRS))
NEW = "330206002016"
WEST = "330206002015"  # same street (Xinqi)
EAST = "330206002017"
NORTH = "330206002018"
ELSEWHERE = "330206003001"  # another street


def lonlat(x: float, y: float) -> tuple[float, float]:
    """Metres from the origin to WGS84."""
    lon, lat = from_metric(_X0 + x, _Y0 + y, metric_crs=CRS)
    return float(lon), float(lat)


def metres(lon: float, lat: float) -> tuple[float, float]:
    """WGS84 to metres from the origin."""
    x, y = to_metric(lon, lat, metric_crs=CRS)
    return float(x) - _X0, float(y) - _Y0


def shape(*corners: tuple[float, float]) -> shapely.Polygon:
    """A WGS84 polygon through corners given in metres from the origin."""
    return shapely.Polygon([lonlat(x, y) for x, y in corners])


def rect(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shape((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def inside(found: Overlap | Gap, x0: float, y0: float, x1: float, y1: float) -> bool:
    x, y = metres(found.lon, found.lat)
    return x0 < x < x1 and y0 < y < y1


SQUARE = rect(0, 0, 100, 100)


# --- overlaps ------------------------------------------------------------------------------


def test_squares_sharing_an_edge_neither_overlap_nor_leave_a_gap() -> None:
    east = rect(100, 0, 200, 100)
    assert overlaps(SQUARE, {EAST: east}) == []
    assert gaps(SQUARE, {EAST: east}) == []
    assert check_new_community(NEW, SQUARE, {EAST: east}) == []


def test_an_overlap_has_its_area_and_a_point_inside_it() -> None:
    (found,) = overlaps(SQUARE, {EAST: rect(90, 0, 190, 100), WEST: rect(-100, 0, 0, 100)})
    assert found.other == EAST
    assert found.area_m2 == pytest.approx(10 * 100, rel=0.01)
    assert inside(found, 90, 0, 100, 100)


def test_overlaps_come_in_code_order_each_with_its_own_area() -> None:
    loaded = {
        EAST: rect(95, 0, 195, 100),
        WEST: rect(-100, 0, 20, 50),
        ELSEWHERE: rect(0, 500, 100, 600),
    }
    found = overlaps(SQUARE, loaded)
    assert [o.other for o in found] == [WEST, EAST]
    assert [round(o.area_m2) for o in found] == [20 * 50, 5 * 100]


def test_a_community_inside_another_overlaps_all_of_it() -> None:
    (found,) = overlaps(rect(20, 20, 40, 40), {EAST: SQUARE})
    assert found.area_m2 == pytest.approx(400, rel=0.01)
    assert inside(found, 20, 20, 40, 40)


def test_a_hairline_overlap_along_a_shared_edge_is_ignored() -> None:
    east = affinity.translate(rect(100, 0, 200, 100), xoff=-1e-9)
    assert shapely.area(shapely.intersection(SQUARE, east)) > 0
    assert overlaps(SQUARE, {EAST: east}) == []
    assert check_new_community(NEW, SQUARE, {EAST: east}) == []


def test_a_thin_strip_along_a_long_edge_is_a_sliver_despite_its_area() -> None:
    long_new = rect(0, 0, 2000, 100)
    north = rect(0, 99.8, 2000, 200)  # 0.2 m by 2 km: 400 m²
    assert overlaps(long_new, {EAST: north}) == []
    (found,) = overlaps(long_new, {EAST: north}, min_width_m=0.0)
    assert found.area_m2 == pytest.approx(400, rel=0.01)


def test_small_overlaps_are_ignored_below_the_area_tolerance() -> None:
    corner = {EAST: rect(98.8, 98.8, 150, 150)}  # 1.2 m by 1.2 m
    assert overlaps(SQUARE, corner, min_area_m2=1.5) == []
    assert len(overlaps(SQUARE, corner, min_area_m2=1.0)) == 1


def test_overlap_pieces_are_summed_and_located_in_the_largest() -> None:
    comb = shapely.union_all(
        [
            rect(90, 0, 130, 30),
            rect(95, 60, 130, 100),
            rect(99.9, 35, 130, 55),
            rect(120, 0, 130, 100),
        ]
    )
    (found,) = overlaps(SQUARE, {EAST: comb})
    assert found.area_m2 == pytest.approx(10 * 30 + 5 * 40, rel=0.01)  # the 0.1 m strip left out
    assert inside(found, 90, 0, 100, 30)


def test_an_invalid_outline_is_measured_after_repair() -> None:
    bowtie = shape((50, 0), (150, 100), (150, 0), (50, 100))
    assert not bowtie.is_valid
    (found,) = overlaps(SQUARE, {EAST: bowtie})
    assert found.area_m2 == pytest.approx(100 * 50 / 2, rel=0.01)  # its western triangle


def test_a_multipolygon_community_is_checked_part_by_part() -> None:
    exclave = shapely.MultiPolygon([rect(-300, 0, -200, 100), rect(90, 0, 150, 100)])
    (found,) = overlaps(SQUARE, {EAST: exclave})
    assert found.area_m2 == pytest.approx(1000, rel=0.01)


def test_check_new_community_refuses_an_overlap_naming_codes_area_and_place() -> None:
    with pytest.raises(CommunityOverlap) as caught:
        check_new_community(NEW, SQUARE, {EAST: rect(90, 0, 190, 100), WEST: rect(-100, 0, 0, 100)})
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.code == NEW and [o.other for o in error.overlaps] == [EAST]
    (o,) = error.overlaps
    message = str(error)
    assert message.startswith(f"community {NEW} overlaps {EAST} by 1,000.0 m² near (121.84")
    assert f"({o.lon:.6f}, {o.lat:.6f})" in message
    assert WEST not in message


def test_a_reload_is_not_an_overlap_with_the_previous_outline() -> None:
    assert check_new_community(NEW, SQUARE, {NEW: rect(0, 0, 120, 120)}) == []


def test_an_overlap_reads_as_a_layer_problem() -> None:
    (found,) = overlaps(SQUARE, {EAST: rect(90, 0, 190, 100)})
    problem = found.as_problem(NEW)
    assert (problem.layer, problem.kind, problem.feature) == ("community", "overlap", NEW)
    assert problem.area_m2 == found.area_m2
    assert str(problem).startswith(f"community {NEW}: overlaps {EAST} by 1,000.0 m²")


# --- gaps ----------------------------------------------------------------------------------


def test_a_20_m_gap_between_neighbours_is_reported_with_its_area_and_place() -> None:
    (gap,) = gaps(SQUARE, {EAST: rect(120, 0, 220, 100)})
    assert gap.neighbours == (EAST,)
    assert gap.area_m2 == pytest.approx(20 * 100, rel=0.01)
    assert inside(gap, 100, 0, 120, 100)
    assert check_new_community(NEW, SQUARE, {EAST: rect(120, 0, 220, 100)}) == [gap]


def test_a_gap_is_only_where_the_neighbours_face_each_other() -> None:
    # the neighbour is 20 m east and 50 m north: they face each other over 50 m only
    (gap,) = gaps(SQUARE, {EAST: rect(120, 50, 220, 150)})
    assert gap.area_m2 == pytest.approx(20 * 50, rel=0.01)
    assert inside(gap, 100, 50, 120, 100)


def test_a_gap_between_both_neighbours_names_both() -> None:
    loaded = {EAST: rect(110, 0, 210, 100), WEST: rect(-100, -50, -5, 50)}
    found = gaps(SQUARE, loaded)
    assert [g.neighbours for g in found] == [(EAST,), (WEST,)]  # largest first
    # a road running on past the new community is one gap, bordered by all three
    road = {EAST: rect(110, 0, 210, 300), WEST: rect(0, 110, 100, 300)}
    (gap,) = gaps(SQUARE, road)
    assert gap.neighbours == (WEST, EAST)


@pytest.mark.parametrize(("width", "reported"), [(MAX_GAP_M * 0.8, True), (MAX_GAP_M * 1.2, False)])
def test_only_gaps_narrower_than_max_gap_are_reported(width: float, reported: bool) -> None:
    east = {EAST: rect(100 + width, 0, 200 + width, 100)}
    assert bool(gaps(SQUARE, east)) is reported
    assert len(gaps(SQUARE, east, max_gap_m=3 * width)) == 1


@pytest.mark.parametrize(
    "loaded",
    [
        pytest.param({EAST: rect(300, 0, 400, 100)}, id="far-apart"),
        pytest.param({EAST: rect(100, 0, 200, 200)}, id="inward-corner-at-the-edge"),
        pytest.param({EAST: rect(100, 100, 200, 200)}, id="touching-at-a-corner"),
        pytest.param({EAST: shape((100, 0), (200, 0), (200, 300), (100, 100))}, id="open-bay"),
    ],
)
def test_open_space_beside_neighbours_is_not_a_gap(loaded: dict) -> None:
    # the rule: uncovered space is a gap only if neighbours face each other across it
    # closer than max_gap_m, or they enclose it; open land, bays and corners are not
    assert gaps(SQUARE, loaded) == []


def test_a_notch_enclosed_on_three_sides_is_a_gap() -> None:
    loaded = {EAST: rect(140, 0, 240, 100), WEST: rect(100, 0, 140, 60)}
    (gap,) = gaps(SQUARE, loaded)
    assert gap.area_m2 == pytest.approx(40 * 40, rel=0.01)
    assert gap.neighbours == (WEST, EAST)


def test_an_enclosed_hole_is_a_gap_whatever_its_size() -> None:
    # a ring of communities around a 150 m block that nobody took
    ring = {
        WEST: rect(0, 100, 100, 350),
        EAST: rect(250, 0, 350, 350),
        NORTH: rect(100, 250, 250, 350),
    }
    south = rect(0, 0, 250, 100)
    (gap,) = gaps(south, ring)
    assert gap.area_m2 == pytest.approx(150 * 150, rel=0.01)
    assert gap.neighbours == tuple(sorted(ring))
    assert inside(gap, 100, 100, 250, 250)


def test_a_gap_next_to_neighbours_only_is_not_the_new_communitys() -> None:
    loaded = {EAST: rect(300, 0, 400, 100), WEST: rect(420, 0, 520, 100)}
    assert gaps(SQUARE, loaded) == []


def test_a_hairline_gap_along_a_shared_edge_is_ignored() -> None:
    east = affinity.translate(rect(100, 0, 200, 100), xoff=1e-9)
    assert gaps(SQUARE, {EAST: east}) == []
    long_gap = {EAST: rect(0, 100.3, 2000, 200)}  # 0.3 m by 2 km
    assert gaps(rect(0, 0, 2000, 100), long_gap) == []


def test_a_hairline_crack_does_not_make_a_faraway_gap_the_new_communitys() -> None:
    # a crack between two neighbours runs from the new community to a gap between
    # them and a third: the gap is not next to the new community
    north_half = affinity.translate(rect(100, 50, 200, 100), yoff=1e-8)
    far = rect(220, 0, 320, 100)
    assert gaps(SQUARE, {EAST: rect(100, 0, 200, 50), NORTH: north_half, WEST: far}) == []
    # seen from the far side, the gap is there, and the new community is not beside it
    (gap,) = gaps(far, {EAST: rect(100, 0, 200, 50), NORTH: north_half, NEW: SQUARE})
    assert gap.neighbours == (EAST, NORTH)
    assert gap.area_m2 == pytest.approx(20 * 100, rel=0.01)


def test_check_new_community_looks_for_gaps_in_its_own_street() -> None:
    loaded = {ELSEWHERE: rect(120, 0, 220, 100)}
    assert check_new_community(NEW, SQUARE, loaded) == []
    (gap,) = check_new_community(NEW, SQUARE, loaded, street="330206")
    assert gap.neighbours == (ELSEWHERE,)


def test_a_gap_reads_as_a_layer_problem() -> None:
    (gap,) = gaps(SQUARE, {EAST: rect(120, 0, 220, 100)})
    problem = gap.as_problem(NEW)
    assert (problem.layer, problem.kind, problem.feature) == ("community", "gap", NEW)
    assert f"gap of 2,000.0 m² next to {EAST} near (121.84" in problem.message


def test_the_sample_grids_tile_without_overlaps_or_gaps() -> None:
    # grids stand in for communities: they tile Lingxiao exactly, as a street's should
    grids = read_layer_file(BOUNDARIES / "grids.geojson")
    outlines = dict(zip(grids["code"], grids.geometry, strict=True))
    for code, outline in outlines.items():
        others = {c: o for c, o in outlines.items() if c != code}
        assert overlaps(outline, others, min_area_m2=AREA_TOLERANCE_M2) == [], code
        assert gaps(outline, others) == [], code


def test_a_shrunk_sample_grid_leaves_a_gap_around_it() -> None:
    grids = read_layer_file(BOUNDARIES / "grids.geojson")
    outlines = dict(zip(grids["code"], grids.geometry, strict=True))
    code = grids["code"].iloc[12]  # an interior grid, as in test_boundaries
    shrunk = outlines.pop(code).buffer(-0.0001, join_style="mitre")
    (gap,) = gaps(shrunk, outlines)
    assert gap.area_m2 > 1000
    assert len(gap.neighbours) >= 3


# --- nearest -------------------------------------------------------------------------------


_PROJECT = Transformer.from_crs("EPSG:4326", CRS, always_xy=True).transform


def projected(outline: shapely.Geometry) -> shapely.Geometry:
    """A WGS84 outline in metres, with pyproj and shapely alone."""
    return shapely.transform(outline, lambda xy: np.column_stack(_PROJECT(xy[:, 0], xy[:, 1])))


def direct_metres(lon: float, lat: float, outline: shapely.Geometry) -> float:
    """The metric distance from a WGS84 point to a WGS84 outline, with pyproj and shapely alone."""
    return float(projected(outline).distance(shapely.Point(_PROJECT(lon, lat))))


def test_nearest_picks_the_nearest_in_metres() -> None:
    communities = {WEST: rect(-300, 0, -200, 100), EAST: rect(300, 0, 400, 100), NEW: SQUARE}
    point = lonlat(150, 180)  # 94.3 m from NEW's corner (100, 100), 170 m from EAST's
    code, distance = nearest(*point, communities)
    assert code == NEW
    assert distance == pytest.approx(np.hypot(50, 80), abs=1e-6)
    assert distance == pytest.approx(direct_metres(*point, SQUARE), rel=1e-9)


def test_nearest_is_in_metres_not_degrees() -> None:
    # 500 m east beats 540 m north, though a degree of longitude is the shorter, so
    # in degrees the northern one is nearer
    north, east = rect(-50, 540, 50, 640), rect(500, -50, 600, 50)
    point = lonlat(0, 0)
    deg = [shapely.distance(shapely.Point(point), g) for g in (north, east)]
    assert deg[0] < deg[1]
    code, distance = nearest(*point, {NORTH: north, EAST: east})
    assert code == EAST
    assert distance == pytest.approx(500, abs=1e-3)


def test_a_point_inside_a_community_is_0_m_from_it() -> None:
    assert nearest(*lonlat(50, 50), {EAST: rect(100, 0, 200, 100), NEW: SQUARE}) == (NEW, 0.0)


def test_nearest_needs_an_outline() -> None:
    with pytest.raises(ValueError, match="no community outline"):
        nearest(*ORIGIN, {})
    with pytest.raises(ValueError, match="no community outline"):
        nearest(*ORIGIN, {NEW: shapely.Polygon()})


def _random_street(rng: np.random.Generator, n: int) -> dict[str, shapely.Geometry]:
    """``n`` jittered polygons on a 15 x 20 lattice with gaps, about 6 km by 8 km."""
    out: dict[str, shapely.Geometry] = {}
    for i in range(n):
        cx, cy = (i % 15) * 400.0, (i // 15) * 400.0
        w, h = rng.uniform(80, 340, 2)
        skew = rng.uniform(-60, 60)
        out[f"330206002{i:03d}"] = shape(
            (cx, cy), (cx + w, cy + skew), (cx + w, cy + h), (cx + rng.uniform(0, w / 2), cy + h)
        )
    return out


def test_nearest_of_300_agrees_with_brute_force() -> None:
    rng = np.random.default_rng(20240601)
    communities = _random_street(rng, 300)
    codes = sorted(communities)
    outlines = np.array([projected(communities[c]) for c in codes], dtype=object)
    for x, y in zip(rng.uniform(-2000, 8000, 300), rng.uniform(-2000, 10000, 300), strict=True):
        point = lonlat(x, y)
        every = shapely.distance(shapely.Point(_PROJECT(*point)), outlines)
        code, distance = nearest(*point, communities)
        assert distance == pytest.approx(every.min(), rel=1e-9, abs=1e-6)
        assert code == codes[int(np.argmin(every))]
