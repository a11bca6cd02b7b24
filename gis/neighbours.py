"""Adding a community beside those already loaded: overlaps, gaps, the nearest one.

A deployment holds many communities (a street, later a district), each loaded
on its own.  A new community's outline must not overlap one already loaded: a
place would then belong to two communities, and a report there to both.  It
should not leave gaps either, since a report in a gap lies outside every
community and is refused, but a gap may be real (a river, a road between two
streets' communities), so gaps are warnings and overlaps refusals.

Outlines are WGS84 polygons or multipolygons.  Areas and distances are
measured in metres in a CGCS2000 3-degree Gauss-Krüger zone
(:mod:`gis.crs`): by default the zone of the new community
(:func:`gis.crs.metric_crs_of`), or of the point measured from.  Invalid
outlines are repaired (:func:`shapely.make_valid`) before they are measured,
as :mod:`gis.boundaries` does; refusing them is the layer checks' work.

Shared edges digitised twice never coincide exactly, so two neighbours overlap
or part along them by a hairline.  Such slivers are noise, not overlaps or
gaps.  An overlap or a gap is first shrunk by half of ``min_width_m`` and grown
back (an opening, with mitred corners so that square corners stay square):
whatever is thinner than ``min_width_m`` vanishes, including hairline cracks
that would otherwise join a real gap to faraway neighbours.  What is left is
split into pieces, and a piece counts only if its area is at least
``min_area_m2``.  An area test alone would not do along long edges, where a
strip a centimetre wide and a kilometre long has ten square metres.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias

import numpy as np
import numpy.typing as npt
import shapely

from gis.crs import check_lonlat, from_metric, metric_crs_for, metric_crs_of
from gis.distance import degree_margin, distance_to_m, to_metric_geometry
from gis.validate import Problem

Outline: TypeAlias = shapely.Polygon | shapely.MultiPolygon

MIN_AREA_M2: Final = 1.0  # pieces below this are digitising noise
MIN_WIDTH_M: Final = 0.5  # so are strips thinner than this, however long
MAX_GAP_M: Final = 50.0  # space narrower than this between neighbours is a gap: a road, say
STREET_DIGITS: Final = 9  # a community code is its street's 9 digits and 3 more
_TOUCH_M: Final = 0.01  # a piece cut from the union lies this close to what bounds it
_LAYER: Final = "community"
_POLYGONAL: Final = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)


@dataclass(frozen=True)
class Overlap:
    """Where a new community overlaps one already loaded.

    Attributes
    ----------
    other : str
        The code of the loaded community.
    area_m2 : float
        The area they share, slivers left out.
    lon, lat : float
        A WGS84 point inside the shared area (its largest piece).
    """

    other: str
    area_m2: float
    lon: float
    lat: float

    def __str__(self) -> str:
        return f"overlaps {self.other} by {self.area_m2:,.1f} m² near {_where(self)}"

    def as_problem(self, code: str) -> Problem:
        """This overlap as a layer :class:`~gis.validate.Problem` of community ``code``."""
        return Problem(_LAYER, "overlap", str(self), code, self.area_m2)


@dataclass(frozen=True)
class Gap:
    """Uncovered space enclosed by, or narrow between, a new community and neighbours.

    Attributes
    ----------
    neighbours : tuple of str
        Codes of the loaded communities that border the gap, in code order.
    area_m2 : float
        The gap's area (all of it, also where it runs on past the new community).
    lon, lat : float
        A WGS84 point inside the gap, next to the new community.
    """

    neighbours: tuple[str, ...]
    area_m2: float
    lon: float
    lat: float

    def __str__(self) -> str:
        return (
            f"leaves a gap of {self.area_m2:,.1f} m² next to {', '.join(self.neighbours)} "
            f"near {_where(self)}"
        )

    def as_problem(self, code: str) -> Problem:
        """This gap as a layer :class:`~gis.validate.Problem` of community ``code``."""
        return Problem(_LAYER, "gap", str(self), code, self.area_m2)


class CommunityOverlap(ValueError):
    """A new community overlaps communities already loaded; the message says by how much where.

    Attributes
    ----------
    code : str
        The new community's code.
    overlaps : tuple of Overlap
        Every overlap found, in the other communities' code order.
    """

    def __init__(self, code: str, overlaps: Sequence[Overlap]) -> None:
        self.code = code
        self.overlaps = tuple(overlaps)
        super().__init__(f"community {code} " + "; ".join(str(o) for o in self.overlaps))


def overlaps(
    new: Outline,
    loaded: Mapping[str, Outline],
    *,
    min_area_m2: float = MIN_AREA_M2,
    min_width_m: float = MIN_WIDTH_M,
    metric_crs: str | None = None,
) -> list[Overlap]:
    """Every loaded community the new one overlaps, and by how much where.

    Parameters
    ----------
    new : Polygon or MultiPolygon
        The new community's outline, in WGS84.
    loaded : mapping of code to Polygon or MultiPolygon
        The communities already loaded, in WGS84.  Only those whose bounding
        boxes meet the new one's are measured.
    min_area_m2, min_width_m : float
        Pieces of a shared area smaller or thinner than these are slivers and
        left out (see the module's notes).
    metric_crs : str, optional
        Where areas are measured; by default the zone of the new community.

    Returns
    -------
    list of Overlap
        In code order; empty when the new community overlaps nothing.
    """
    crs = metric_crs or metric_crs_of(new)
    mine = _metric(new, crs)
    found = []
    for code in _boxes_meeting(new, loaded):
        shared = shapely.intersection(mine, _metric(loaded[code], crs))
        pieces = _pieces(shared, min_area_m2, min_width_m)
        if len(pieces):
            areas = shapely.area(pieces)
            where = _lonlat(shapely.point_on_surface(pieces[np.argmax(areas)]), crs)
            found.append(Overlap(code, float(areas.sum()), *where))
    return found


def gaps(
    new: Outline,
    loaded_same_street: Mapping[str, Outline],
    *,
    max_gap_m: float = MAX_GAP_M,
    min_area_m2: float = MIN_AREA_M2,
    min_width_m: float = MIN_WIDTH_M,
    metric_crs: str | None = None,
) -> list[Gap]:
    """The gaps a new community leaves between itself and its street's communities.

    A gap is a piece of space that no community covers, that borders the new
    community and at least one neighbour, and that is

    - narrow: where outlines face each other across less than ``max_gap_m``
      (a road left out between two communities, a strip between edges that
      should have been shared), or
    - enclosed: surrounded by the new community and its neighbours, whatever
      its size (a block that no community took), where openings narrower than
      ``max_gap_m`` (a road out, or a hairline crack between edges meant to be
      shared) do not count as openings.

    Open space is not a gap: neighbours far apart with open land between them,
    a bay in the street's outline, the corner where two communities meet at
    the street's edge.

    How: the union of the outlines is offset outward by ``max_gap_m / 2`` and
    back with mitred corners (a closing).  Where outlines face each other
    across less than ``max_gap_m`` the outward offsets merge and the way back
    leaves the space between them filled; everywhere else the edges move out
    and back to where they were, so corners come back as they were.  (A
    closing with round corners would instead fill a rounded wedge of about
    ``0.2 * (max_gap_m / 2) ** 2`` m² in every inward corner of the union,
    including each corner where two communities meet at the street's edge.)
    The holes of the closed union are filled too (enclosed space), the union
    itself taken away, and what is left split into pieces; slivers are
    dropped (see the module's notes), and so are pieces that do not border
    both the new community and a neighbour.  A street of 30 communities of
    200 vertices takes about 50 ms; the time grows with the street's size.

    Parameters
    ----------
    new : Polygon or MultiPolygon
        The new community's outline, in WGS84.
    loaded_same_street : mapping of code to Polygon or MultiPolygon
        The street's communities already loaded (not the new one), in WGS84.
        A community of another street that fills a hole is not seen, so pass
        it here too if the street's outline has enclaves.
    max_gap_m : float
        The widest space between neighbours that counts as a gap.
    min_area_m2, min_width_m : float
        Slivers smaller or thinner than these are not gaps.
    metric_crs : str, optional
        Where areas are measured; by default the zone of the new community.

    Returns
    -------
    list of Gap
        Largest first; empty when there is no gap.  These are warnings.
    """
    codes = sorted(loaded_same_street)
    if not codes:
        return []
    crs = metric_crs or metric_crs_of(new)
    mine = _metric(new, crs)
    theirs = [_metric(loaded_same_street[code], crs) for code in codes]
    covered = shapely.union_all([mine, *theirs])
    space = shapely.difference(_filled(_closing(covered, max_gap_m / 2)), covered)
    found = []
    for piece in _pieces(space, min_area_m2, min_width_m):
        near = tuple(c for c, g in zip(codes, theirs, strict=True) if _touches(piece, g))
        if near and _touches(piece, mine):
            found.append(_gap(piece, near, mine, max_gap_m, crs))
    return sorted(found, key=lambda gap: -gap.area_m2)


def nearest(
    point_lon: float,
    point_lat: float,
    communities: Mapping[str, Outline],
    *,
    metric_crs: str | None = None,
) -> tuple[str, float]:
    """The community nearest a point, and the distance to it in metres.

    For a report outside every community, which is refused with the nearest
    community and how far it is.  A point inside a community is 0 m from it.

    How: an :class:`shapely.STRtree` over the WGS84 outlines gives the
    nearest outline in degrees, and the exact metric distance to it, ``d``.
    Degrees are not metres (a degree of longitude is shorter than one of
    latitude), so that outline need not be the nearest in metres; but the
    nearest in metres lies within ``d`` of the point, so its box meets the
    WGS84 box around the point that surely covers ``d``
    (:func:`gis.distance.degree_margin`).  The outlines in that box (a few)
    are measured exactly (:func:`gis.distance.distance_to_m`) and the nearest
    wins.  Building the tree over 300 outlines of 200 vertices and measuring
    a few of them takes about half a millisecond.

    Parameters
    ----------
    point_lon, point_lat : float
        The point, WGS84 degrees.
    communities : mapping of code to Polygon or MultiPolygon
        In WGS84.
    metric_crs : str, optional
        Where distances are measured; by default the zone of the point.

    Returns
    -------
    code, metres : str, float
        On a tie, the smallest code.

    Raises
    ------
    ValueError
        When ``communities`` holds no outline.
    CoordinateError
        For a non-finite or out-of-range point, or (``MetricZoneError``) a
        point outside China's zones when no ``metric_crs`` is given.
    """
    lon, lat = (float(v) for v in check_lonlat(point_lon, point_lat))
    codes = sorted(communities)
    outlines = np.array([communities[code] for code in codes], dtype=object)
    tree = shapely.STRtree(outlines)
    first = tree.query_nearest(shapely.Point(lon, lat))
    if not len(first):
        raise ValueError("no community outline to measure the distance to")
    crs = metric_crs or metric_crs_for(lon)
    reach = distance_to_m(lon, lat, outlines[first.min()], metric_crs=crs)
    dlon, dlat = degree_margin(lat, float(reach))
    near = np.sort(tree.query(shapely.box(lon - dlon, lat - dlat, lon + dlon, lat + dlat)))
    metres = np.array([distance_to_m(lon, lat, outlines[i], metric_crs=crs) for i in near])
    best = int(np.argmin(metres))
    return codes[near[best]], float(metres[best])


def check_new_community(
    new_code: str,
    new_polygon: Outline,
    loaded: Mapping[str, Outline],
    *,
    street: str | None = None,
    max_gap_m: float = MAX_GAP_M,
    min_area_m2: float = MIN_AREA_M2,
    min_width_m: float = MIN_WIDTH_M,
    metric_crs: str | None = None,
) -> list[Gap]:
    """Refuse a new community that overlaps a loaded one; return the gaps it leaves.

    Parameters
    ----------
    new_code : str
        The new community's 12-digit code.  A loaded outline under the same
        code is its previous outline (a reload) and is left out.
    new_polygon : Polygon or MultiPolygon
        Its outline, in WGS84.
    loaded : mapping of code to Polygon or MultiPolygon
        Every community loaded so far, in WGS84.
    street : str, optional
        The code prefix of the communities checked for gaps: by default the
        street, the first :data:`STREET_DIGITS` digits of ``new_code``.
    max_gap_m, min_area_m2, min_width_m, metric_crs
        As for :func:`overlaps` and :func:`gaps`.

    Returns
    -------
    list of Gap
        Warnings, as :func:`gaps` returns them.

    Raises
    ------
    CommunityOverlap
        Naming every overlapped community, the area shared and a point in it.
    """
    others = {code: outline for code, outline in loaded.items() if code != new_code}
    crs = metric_crs or metric_crs_of(new_polygon)
    found = overlaps(
        new_polygon, others, min_area_m2=min_area_m2, min_width_m=min_width_m, metric_crs=crs
    )
    if found:
        raise CommunityOverlap(new_code, found)
    prefix = new_code[:STREET_DIGITS] if street is None else street
    neighbours = {code: o for code, o in others.items() if code.startswith(prefix)}
    return gaps(
        new_polygon,
        neighbours,
        max_gap_m=max_gap_m,
        min_area_m2=min_area_m2,
        min_width_m=min_width_m,
        metric_crs=crs,
    )


def _metric(outline: Outline, crs: str) -> shapely.Geometry:
    """A WGS84 outline in metres, repaired if invalid so that it can be measured.

    Repairing can leave lines and points beside the polygons (a spike, a
    collapsed ring); only the polygons are kept, since only they have area.
    """
    parts = shapely.get_parts(shapely.make_valid(to_metric_geometry(outline, metric_crs=crs)))
    return shapely.union_all(parts[np.isin(shapely.get_type_id(parts), _POLYGONAL)])


def _lonlat(point: shapely.Point, crs: str) -> tuple[float, float]:
    """A metric point back in WGS84 degrees."""
    lon, lat = from_metric(point.x, point.y, metric_crs=crs)
    return float(lon), float(lat)


def _where(found: Overlap | Gap) -> str:
    return f"({found.lon:.6f}, {found.lat:.6f})"


def _boxes_meeting(new: Outline, outlines: Mapping[str, Outline]) -> list[str]:
    """Codes, in order, of the outlines whose bounding boxes meet the new one's."""
    codes = sorted(outlines)
    if not codes:
        return []
    west, south, east, north = shapely.bounds(new)
    boxes = shapely.bounds(np.array([outlines[code] for code in codes], dtype=object))
    meet = (boxes[:, 0] <= east) & (boxes[:, 2] >= west)
    meet &= (boxes[:, 1] <= north) & (boxes[:, 3] >= south)
    return [code for code, ok in zip(codes, meet, strict=True) if ok]


def _pieces(
    geometry: shapely.Geometry, min_area_m2: float, min_width_m: float
) -> npt.NDArray[np.object_]:
    """The pieces of a metric geometry that are not slivers (see the module's notes).

    The opening also drops any lines and points, which have no area.
    """
    half = min_width_m / 2
    shrunk = shapely.buffer(geometry, -half, join_style="mitre")
    parts = shapely.get_parts(shapely.buffer(shrunk, half, join_style="mitre"))
    area = shapely.area(parts)
    return parts[(area > 0) & (area >= min_area_m2)]


def _closing(geometry: shapely.Geometry, distance: float) -> shapely.Geometry:
    """Offset out by ``distance`` and back, mitred: fills space narrower than twice it."""
    grown = shapely.buffer(geometry, distance, join_style="mitre")
    return shapely.buffer(grown, -distance, join_style="mitre")


def _filled(geometry: shapely.Geometry) -> shapely.Geometry:
    """A (multi)polygon with its holes filled: its parts' outer rings as polygons."""
    return shapely.union_all(
        shapely.polygons(shapely.get_exterior_ring(shapely.get_parts(geometry)))
    )


def _touches(piece: shapely.Geometry, outline: shapely.Geometry) -> bool:
    return bool(shapely.dwithin(piece, outline, _TOUCH_M))


def _gap(
    piece: shapely.Geometry,
    neighbours: tuple[str, ...],
    mine: shapely.Geometry,
    max_gap_m: float,
    crs: str,
) -> Gap:
    """A gap from its metric piece, located where it borders the new community."""
    beside = shapely.intersection(piece, shapely.buffer(mine, max_gap_m))
    where = shapely.point_on_surface(beside if not beside.is_empty else piece)
    return Gap(neighbours, float(piece.area), *_lonlat(where, crs))
