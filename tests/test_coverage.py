"""Parking coverage and siting on a hand-made river town with answers worked out by hand.

Two streets run east-west 100 m apart with a river between them; the only
bridge is at the east end (x = 1000).  Coordinates are metres from a point in
Beilun; the frames are made in WGS84 as a planner's layers would be.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis import coverage as cv
from gis.crs import METRIC, WGS84, from_metric, to_metric
from gis.network import WalkingNetwork
from gis.siting import maximal_cover, minimal_cover, network_sites

X0, Y0 = (float(v) for v in to_metric(121.83, 29.89))
STREETS = [
    [(0, 0), (1000, 0)],
    [(0, 100), (1000, 100)],
    [(1000, 0), (1000, 100)],
]
# id, x, y, households; walking metres to F1 (100, 0) and F2 (900, 100) in comments
HOMES = [
    ("B1", 100, 20, 10),  # F1: 20
    ("B2", 100, 80, 30),  # F1: 80 straight, 1,920 on foot; F2: 820
    ("B3", 700, 120, 20),  # F2: 220
    ("B4", 500, -20, 40),  # F1: 420; F2: 720
]


def _frame(rows: list[dict[str, object]], xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    x, y = np.array(xy, dtype=float).T
    lon, lat = from_metric(x + X0, y + Y0)
    return gpd.GeoDataFrame(rows, geometry=shapely.points(lon, lat), crs=WGS84)


def _metric(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    return geoms.to_crs(METRIC).translate(-X0, -Y0)


@pytest.fixture()
def town() -> WalkingNetwork:
    return WalkingNetwork(
        [shapely.LineString([(x + X0, y + Y0) for x, y in line]) for line in STREETS]
    )


@pytest.fixture()
def homes() -> gpd.GeoDataFrame:
    return cv.demand_points(
        _frame(
            [{"id": i, "households": h} for i, _, _, h in HOMES], [(x, y) for _, x, y, _ in HOMES]
        )
    )


@pytest.fixture()
def parking() -> gpd.GeoDataFrame:
    return _frame(
        [
            {"id": "F1", "name": "south lot", "capacity": 10, "smart": False, "status": "open"},
            {"id": "F2", "name": "north lot", "capacity": 20, "smart": True, "status": "open"},
            {"id": "F3", "name": "planned", "capacity": 50, "smart": True, "status": "planned"},
        ],
        [(100, 0), (900, 100), (500, 0)],
    )


def _cover(
    town: WalkingNetwork,
    homes: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    radius: float = 300,
    mode: str = cv.WALK,
) -> cv.Coverage:
    found = cv.reach(town, facilities, homes, mode, limit_m=2000)
    return cv.coverage(homes, facilities, found, radius)


def test_walking_coverage_shares_and_nearest_distances(
    town: WalkingNetwork, homes: gpd.GeoDataFrame, parking: gpd.GeoDataFrame
) -> None:
    result = _cover(town, homes, cv.scenario(parking))
    b = result.buildings.set_index("id")
    assert b["nearest"].to_dict() == {"B1": "F1", "B2": "F2", "B3": "F2", "B4": "F1"}
    assert b["nearest_m"].to_numpy() == pytest.approx([20, 820, 220, 420])
    assert b["covered"].tolist() == [True, False, True, False]
    f = result.figures
    assert f["households"] == 100
    assert f["households_covered_share"] == pytest.approx(0.30)
    assert f["smart_covered_share"] == pytest.approx(0.20)  # B3, by the smart F2
    # F1's 10 spaces and F2's 20 reach the 30 cars of B1 and B3
    assert f["spaces_per_demand"] == pytest.approx(1.0)
    assert f["uncovered_buildings"] == 2
    served = result.facilities.set_index("id")["households_served"].to_dict()
    assert served == {"F1": 10, "F2": 20}
    assert b["spaces_per_car"].to_numpy() == pytest.approx([1.0, 0.0, 1.0, 0.0])


def test_a_home_across_the_river_is_in_the_straight_radius_but_not_the_walking_one(
    town: WalkingNetwork, homes: gpd.GeoDataFrame, parking: gpd.GeoDataFrame
) -> None:
    facilities = cv.scenario(parking)
    straight = _cover(town, homes, facilities, mode=cv.STRAIGHT_LINE).buildings.set_index("id")
    walked = _cover(town, homes, facilities).buildings.set_index("id")
    assert straight.loc["B2", "covered"] and straight.loc["B2", "nearest_m"] == pytest.approx(80)
    assert not walked.loc["B2", "covered"]
    figures = _cover(town, homes, facilities, mode=cv.STRAIGHT_LINE).figures
    assert figures["households_covered_share"] == pytest.approx(0.60)  # B1, B2, B3


def test_cars_per_household_scales_demand_not_coverage(
    town: WalkingNetwork, homes: gpd.GeoDataFrame, parking: gpd.GeoDataFrame
) -> None:
    raw = _frame(
        [{"id": i, "households": h} for i, _, _, h in HOMES], [(x, y) for _, x, y, _ in HOMES]
    )
    two = cv.demand_points(raw, cars_per_household=2.0)
    result = _cover(town, two, cv.scenario(parking))
    assert result.figures["cars"] == 200
    assert result.figures["households_covered_share"] == pytest.approx(0.30)
    assert result.figures["spaces_per_demand"] == pytest.approx(0.5)
    raw["cars_per_household"] = [0.5, None, None, None]  # B1's own rate wins
    assert cv.demand_points(raw)["cars"].tolist() == [5, 30, 20, 40]


def test_what_if_adds_the_planned_lot_and_removes_one(
    town: WalkingNetwork, homes: gpd.GeoDataFrame, parking: gpd.GeoDataFrame
) -> None:
    before = _cover(town, homes, cv.scenario(parking)).figures
    planned = _cover(town, homes, cv.scenario(parking, include_planned=True)).figures
    assert planned["households_covered_share"] == pytest.approx(0.70)  # F3 reaches B4 at 20 m
    assert planned["smart_covered_share"] == pytest.approx(0.60)
    assert planned["spaces"] == before["spaces"] + 50
    without = _cover(town, homes, cv.scenario(parking, remove=["F1"])).figures
    assert without["households_covered_share"] == pytest.approx(0.20)
    added = _frame([{"id": "N1", "capacity": 5}], [(100, 100)])
    more = _cover(town, homes, cv.scenario(parking, add=added)).figures
    assert more["households_covered_share"] == pytest.approx(0.60)  # B2 at 20 m


def test_coverage_against_radius(
    town: WalkingNetwork, homes: gpd.GeoDataFrame, parking: gpd.GeoDataFrame
) -> None:
    facilities = cv.scenario(parking)
    found = cv.reach(town, facilities, homes, limit_m=2000)
    curve = cv.coverage_curve(homes, facilities, found, [100, 300, 500, 1000])
    assert curve["households_covered_share"].tolist() == pytest.approx([0.1, 0.3, 0.7, 1.0])
    assert curve["smart_covered_share"].tolist() == pytest.approx(
        [0.0, 0.2, 0.2, 0.9]
    )  # F2 reaches B4, B2 by 820 m
    # every space counts once a facility reaches a car; the cars covered grow
    assert curve["spaces_per_demand"].tolist() == pytest.approx([1.0, 1.0, 30 / 70, 0.3])
    at = cv.coverage(homes, facilities, found, 500).figures
    assert at["households_covered_share"] == curve["households_covered_share"][2]


def test_distances_stop_at_the_search_limit(
    town: WalkingNetwork, homes: gpd.GeoDataFrame, parking: gpd.GeoDataFrame
) -> None:
    facilities = cv.scenario(parking)
    found = cv.reach(town, facilities, homes, limit_m=500)
    assert np.isinf(found.metres[:, 1]).all()  # B2 is 820 m from F2
    b = cv.coverage(homes, facilities, found, 300).buildings.set_index("id")
    assert pd.isna(b.loc["B2", "nearest"]) and np.isnan(b.loc["B2", "nearest_m"])
    with pytest.raises(cv.CoverageInputError, match="beyond the 500 m"):
        cv.coverage(homes, facilities, found, 600)


def test_service_areas_follow_the_streets(town: WalkingNetwork, parking: gpd.GeoDataFrame) -> None:
    facilities = cv.scenario(parking)
    areas = cv.service_areas(town, facilities, (150, 500), frontage_m=40)
    assert areas["distance_m"].tolist() == [500, 500, 150, 150]
    geoms = _metric(areas.geometry).to_numpy()
    south150 = geoms[2]
    # F1 at x = 100 reaches x = 0..250 of the south street, widened 40 m each side
    assert shapely.area(south150) == pytest.approx(250 * 80 + np.pi * 40**2, rel=5e-3)
    assert not shapely.intersects(south150, shapely.Point(100, 80))  # across the river
    north150 = geoms[3]
    # F2 at (900, 100) walks 100 m to the bridge and 50 m down it
    assert shapely.contains(north150, shapely.Point(1000, 50))
    assert not shapely.contains(north150, shapely.Point(1000, -5))
    straight = cv.service_areas(town, facilities, (150,), mode=cv.STRAIGHT_LINE)
    assert shapely.area(_metric(straight.geometry).iloc[0]) == pytest.approx(
        np.pi * 150**2, rel=1e-2
    )


def test_maximal_cover_picks_the_site_a_person_would(
    town: WalkingNetwork, homes: gpd.GeoDataFrame, parking: gpd.GeoDataFrame
) -> None:
    existing = cv.scenario(parking)
    # C1 reaches B4 (40 households), C2 reaches B2 (30), C3 only B3, already covered
    candidates = _frame(
        [{"id": "C1"}, {"id": "C2"}, {"id": "C3"}], [(500, 0), (100, 100), (700, 100)]
    )
    one = maximal_cover(town, homes, existing, candidates, 300, p=1)
    assert one.chosen["id"].tolist() == ["C1"]
    assert one.covered_before == pytest.approx(0.30) and one.covered_after == pytest.approx(0.70)
    assert one.chosen["new_households"].tolist() == [40]
    two = maximal_cover(town, homes, existing, candidates, 300, p=2)
    assert two.chosen["id"].tolist() == ["C1", "C2"] and two.covered_after == pytest.approx(1.0)
    with pytest.raises(cv.CoverageInputError, match="cannot choose 4 sites from 3"):
        maximal_cover(town, homes, existing, candidates, 300, p=4)


def test_minimal_cover_is_the_smallest_set_and_reports_the_unreachable(
    town: WalkingNetwork, homes: gpd.GeoDataFrame, parking: gpd.GeoDataFrame
) -> None:
    existing = cv.scenario(parking)
    candidates = _frame(
        [{"id": "C1"}, {"id": "C2"}, {"id": "C3"}, {"id": "C4"}],
        [(500, 0), (100, 100), (700, 100), (520, 0)],
    )
    far = _frame([{"id": "B5", "households": 5}], [(500, 700)])  # no street, no site near
    demand = cv.demand_points(
        gpd.GeoDataFrame(
            np.concatenate([homes.drop(columns="cars").to_numpy(), far.to_numpy()]),
            columns=["id", "households", "geometry"],
            geometry="geometry",
            crs=WGS84,
        )
    )
    result = minimal_cover(town, demand, existing, candidates, 300)
    chosen = set(result.chosen["id"])
    assert len(chosen) == 2 and "C2" in chosen and chosen & {"C1", "C4"}
    assert result.unreachable_households == 5
    assert result.covered_after == pytest.approx(100 / 105)


def test_candidate_sites_are_spread_along_the_streets(town: WalkingNetwork) -> None:
    sites = network_sites(town, spacing_m=100, metric_crs=METRIC)
    assert len(sites) == 10 + 10 + 1  # two 1,000 m streets and the 100 m bridge
    xy = _metric(sites.geometry)
    assert min(xy.x) == pytest.approx(50) and max(xy.x) == pytest.approx(1000)
    with pytest.raises(cv.CoverageInputError, match="spacing"):
        network_sites(town, spacing_m=0, metric_crs=METRIC)


def test_candidate_sites_need_to_know_the_network_crs(town: WalkingNetwork) -> None:
    # bare lines do not say their zone: the caller or the area must
    with pytest.raises(cv.CoverageInputError, match="pass metric_crs"):
        network_sites(town)
    west, south = from_metric(X0 - 10, Y0 - 10)
    east, north = from_metric(X0 + 510, Y0 + 110)
    area = shapely.box(float(west), float(south), float(east), float(north))
    inside = network_sites(town, area=area)
    assert len(inside) == 5 + 5 and _metric(inside.geometry).x.max() < 510
    known = WalkingNetwork(town.segments, metric_crs=METRIC)
    assert len(network_sites(known)) == len(network_sites(town, metric_crs=METRIC))
    with pytest.raises(cv.CoverageInputError, match="network is in EPSG:4550, not EPSG:4549"):
        network_sites(known, metric_crs="EPSG:4549")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": "closed"}, "status 'closed'; use one of open, planned"),
        ({"capacity": -3}, "capacity -3"),
        ({"capacity": "many"}, "capacity 'many'"),
        ({"occupancy": 99}, "99 spaces taken of 10"),
    ],
)
def test_bad_facilities_are_named(
    parking: gpd.GeoDataFrame, change: dict[str, object], message: str
) -> None:
    bad = parking.copy()
    for column, value in change.items():
        bad[column] = bad[column].astype(object) if column in bad else None
        bad.loc[0, column] = value
    with pytest.raises(cv.CoverageInputError, match=message):
        cv.supply_points(bad)


def test_bad_what_ifs_and_modes_are_named(
    town: WalkingNetwork, homes: gpd.GeoDataFrame, parking: gpd.GeoDataFrame
) -> None:
    with pytest.raises(cv.CoverageInputError, match="no parking facility 'P99' to remove"):
        cv.scenario(parking, remove=["P99"])
    clash = _frame([{"id": "F1", "capacity": 5}], [(0, 0)])
    with pytest.raises(cv.CoverageInputError, match="reuses the id 'F1'"):
        cv.scenario(parking, add=clash)
    with pytest.raises(cv.CoverageInputError, match="mode 'drive'"):
        cv.reach(town, parking, homes, "drive")
    with pytest.raises(cv.CoverageInputError, match="households"):
        cv.demand_points(homes.drop(columns="households"))
    with pytest.raises(cv.CoverageInputError, match="cars per household"):
        cv.demand_points(homes, cars_per_household=-1)


def test_occupancy_gives_free_spaces(
    town: WalkingNetwork, homes: gpd.GeoDataFrame, parking: gpd.GeoDataFrame
) -> None:
    live = parking.copy()
    live["occupancy"] = [4, 20, 0]
    figures = _cover(town, homes, cv.scenario(live)).figures
    assert figures["free_spaces_per_demand"] == pytest.approx(6 / 30)
    assert "free_spaces_per_demand" not in _cover(town, homes, cv.scenario(parking)).figures
