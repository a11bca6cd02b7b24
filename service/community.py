"""The community's areas and names, cached for joining points at write time.

Rebuilt whenever the stored layers change (another process may load new
boundaries while the service runs).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import geopandas as gpd
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.areas import BadAreaCode, Level, area_at, level_of
from cases.dispatch import parse_categories
from gis.crs import metric_crs_of, to_metric
from gis.distance import distance_to_m
from gis.index import AreaIndex
from gis.neighbours import nearest
from gis.network import Snapped, WalkingNetwork
from service.errors import Unavailable
from store.layers import read_layer
from store.models import LayerFeature, LayersVersion


@dataclass(frozen=True)
class SquadInfo:
    """A squad as the sample layer describes it; its base in WGS84 and metres."""

    id: str
    name: str
    categories: frozenset[str]
    duty_hours: str
    capacity: int
    lon: float
    lat: float
    x: float
    y: float
    # where it is dispatched: the community its base lies in, or the street (9 digits) of
    # a street-level team, a candidate in every community of its street
    community: str | None = None


@dataclass(frozen=True)
class CommunitySnapshot:
    """Grid and district indexes, their names, and the community outline."""

    grids: AreaIndex
    districts: AreaIndex | None
    grid_names: dict[str, str]
    district_names: dict[str, str]
    outline: shapely.Geometry
    community_name: str
    squad_names: dict[str, str]
    unit_names: dict[str, str]
    squads: tuple[SquadInfo, ...]
    network: WalkingNetwork | None
    metric_crs: str  # the community's Gauss-Krüger zone, where metres are measured
    base_snaps: Snapped | None = None  # the squads' bases on the network, in squad order
    # each unit's area (a community's co-building unit; a street's or district's
    # department) and its own time limit, by id
    unit_areas: dict[str, str | None] = field(default_factory=dict)
    unit_limits: dict[str, str | None] = field(default_factory=dict)
    # every loaded community's outline and name, by code (several in a street's deployment)
    outlines: dict[str, shapely.Geometry] = field(default_factory=dict)
    community_names: dict[str, str] = field(default_factory=dict)
    # English names where the layers have them (``name_en``), by kind (``grid``,
    # ``district``, ``squad``, ``unit``) and code or id
    english: dict[tuple[str, str], str] = field(default_factory=dict)

    def named(self, kind: str, key: str) -> dict[str, str | None]:
        """A ``grid``'s, ``district``'s, ``squad``'s or ``unit``'s ``name`` and
        ``name_en`` (None where the data has no English one), for a page to pick the
        one of its language."""
        names = {
            "grid": self.grid_names,
            "district": self.district_names,
            "squad": self.squad_names,
            "unit": self.unit_names,
        }[kind]
        return {"name": names.get(key), "name_en": self.english.get((kind, key))}

    def locate(self, lon: float, lat: float) -> tuple[str | None, str | None]:
        """Grid and district codes at a WGS84 point (None where outside)."""
        grid = self.grids.codes_of([self.grids.locate(lon, lat)])[0]
        district = None
        if self.districts is not None:
            district = self.districts.codes_of([self.districts.locate(lon, lat)])[0]
        return grid, district

    def community_at(self, lon: float, lat: float) -> str | None:
        """The code of the community whose grid holds a WGS84 point (None outside)."""
        return _community_of(self.locate(lon, lat)[0])

    def outside_by_m(self, lon: float, lat: float) -> float:
        """How far a point lies outside the community, in metres."""
        return float(distance_to_m(lon, lat, self.outline)[()])

    def nearest_community(self, lon: float, lat: float) -> tuple[str | None, str, float]:
        """The community nearest a point outside them all: its code, name and metres away."""
        if not self.outlines:
            return None, self.community_name, self.outside_by_m(lon, lat)
        code, metres = nearest(lon, lat, self.outlines, metric_crs=self.metric_crs)
        return code, self.community_names.get(code, code), metres

    def name_at(self, lon: float, lat: float) -> str:
        """The name of the community holding a point, else of the nearest one."""
        code = self.community_at(lon, lat)
        if code is None:
            return self.nearest_community(lon, lat)[1]
        return self.community_names.get(code, self.community_name)


class SnapshotCache:
    """Thread-safe holder of :class:`CommunitySnapshot`, rebuilt when the layers change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._areas: CommunitySnapshot | None = None

    def require(self, session: Session) -> CommunitySnapshot:
        """The snapshot, or ``Unavailable`` while no community is loaded."""
        snapshot = self.get(session)
        if snapshot is None:
            raise Unavailable(
                "no_community",
                "no community boundaries are loaded yet; run 'gridgov load DIR' first",
            )
        return snapshot

    def get(self, session: Session) -> CommunitySnapshot | None:
        stamp = layers_stamp(session)
        with self._lock:
            if stamp != self._stamp:
                self._areas = _build(session)
                self._stamp = stamp
            return self._areas


def layers_stamp(session: Session) -> tuple[int, int, int]:
    """The stored layers' version: how many times they were written (every load and
    unload moves it on: ``store.layers.layers_changed``), how many features there are
    and the newest one's id (which also move for features written some other way).
    One query."""
    row = session.execute(
        select(
            select(LayersVersion.version).where(LayersVersion.id == 1).scalar_subquery(),
            func.count(LayerFeature.id),
            func.max(LayerFeature.id),
        )
    ).one()
    return int(row[0] or 0), int(row[1]), int(row[2] or 0)


def _build(session: Session) -> CommunitySnapshot | None:
    grids = read_layer(session, "grids")
    if len(grids) == 0:
        return None
    districts = read_layer(session, "districts")
    community = read_layer(session, "community")
    streets = read_layer(session, "streets")
    outline = (
        shapely.union_all(community.geometry.values)
        if len(community)
        else shapely.union_all(grids.geometry.values)
    )
    metric_crs = metric_crs_of(outline)
    grid_index = AreaIndex.from_frame(grids)
    units = read_layer(session, "units", with_area=True)
    squad_frame = read_layer(session, "squads", with_area=True)
    squads = _squads(squad_frame, metric_crs)
    network = WalkingNetwork.from_frame(streets, metric_crs=metric_crs) if len(streets) else None
    return CommunitySnapshot(
        grids=grid_index,
        districts=AreaIndex.from_frame(districts) if len(districts) else None,
        grid_names=dict(zip(grids["code"], grids["name"], strict=True)),
        district_names=(
            dict(zip(districts["code"], districts["name"], strict=True)) if len(districts) else {}
        ),
        outline=outline,
        community_name=str(community["name"].iloc[0]) if len(community) else "",
        squad_names={s.id: s.name for s in squads},
        unit_names=_names(units),
        unit_areas=_column(units, "area_code"),
        unit_limits=_column(units, "time_limit"),
        squads=squads,
        network=network,
        metric_crs=metric_crs,
        outlines=dict(zip(community["code"].astype(str), community.geometry, strict=True))
        if len(community)
        else {},
        community_names=_names_by_code(community),
        english={
            **_english(grids, "code", "grid"),
            **_english(districts, "code", "district"),
            **_english(squad_frame, "id", "squad"),
            **_english(units, "id", "unit"),
        },
        base_snaps=(
            network.snap([q.x for q in squads], [q.y for q in squads])
            if network is not None and squads
            else None
        ),
    )


def _community_of(grid: object) -> str | None:
    """The community of a grid code; None for no grid, or a grid not coded by division
    (a synthetic layer's ``G0001``: its squads are then not tied to a community)."""
    if not isinstance(grid, str):
        return None
    try:
        return area_at(grid, Level.COMMUNITY) if level_of(grid) is Level.GRID else None
    except BadAreaCode:
        return None


def _column(frame: gpd.GeoDataFrame, column: str) -> dict[str, str | None]:
    """``column`` of each feature by id (None where it is blank or absent)."""
    if not len(frame):
        return {}
    values = frame[column] if column in frame else [None] * len(frame)
    return {
        str(i): (str(v) if isinstance(v, str) and v else None)
        for i, v in zip(frame["id"], values, strict=True)
    }


def _english(frame: gpd.GeoDataFrame, key: str, kind: str) -> dict[tuple[str, str], str]:
    """The features' English names (``name_en``, where set) by (``kind``, ``key``)."""
    if not len(frame) or "name_en" not in frame:
        return {}
    return {
        (kind, str(k)): v.strip()
        for k, v in zip(frame[key], frame["name_en"], strict=True)
        if isinstance(v, str) and v.strip()
    }


def _names_by_code(frame: gpd.GeoDataFrame) -> dict[str, str]:
    if not len(frame):
        return {}
    return dict(zip(frame["code"].astype(str), frame["name"].astype(str), strict=True))


def _names(frame: gpd.GeoDataFrame) -> dict[str, str]:
    if not len(frame):
        return {}
    return dict(zip(frame["id"].astype(str), frame["name"].astype(str), strict=True))


def _squads(frame: gpd.GeoDataFrame, metric_crs: str) -> tuple[SquadInfo, ...]:
    """The squads, each with the area it serves: the community (or, for a street's
    team, the street) whose folder loaded it, as stored (``read_layer(with_area=True)``);
    None for layers loaded before any community, whose squads serve everywhere."""
    if not len(frame):
        return ()
    lon, lat = frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()
    homes = [str(a) if isinstance(a, str) and a else None for a in frame["area_code"]]
    x, y = to_metric(lon, lat, metric_crs=metric_crs)
    duty = frame["duty_hours"] if "duty_hours" in frame else ["00:00-24:00"] * len(frame)
    return tuple(
        SquadInfo(
            str(i),
            str(n),
            parse_categories(c),
            str(d),
            int(cap),
            float(a),
            float(b),
            float(mx),
            float(my),
            home,
        )
        for i, n, c, d, cap, a, b, mx, my, home in zip(
            frame["id"],
            frame["name"],
            frame["categories"],
            duty,
            frame["capacity"],
            lon,
            lat,
            x,
            y,
            homes,
            strict=True,
        )
    )
