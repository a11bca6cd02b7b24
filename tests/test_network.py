"""Walking distances: network ranking, snapping, fallbacks, and an independent check."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from pyproj import Geod

from gis import coverage
from gis.crs import METRIC, WGS84, MetricZoneError, to_metric
from gis.distance import distance_to_m, pairwise_m
from gis.network import (
    NETWORK,
    STRAIGHT,
    STRAIGHT_LINE,
    EmptyNetworkError,
    WalkingNetwork,
    walking_matrix,
)
from tests.helpers import ROOT

# A river runs east-west between two streets; the only bridge is at the east end.
SOUTH = shapely.LineString([(0, 0), (1000, 0)])
NORTH = shapely.LineString([(0, 100), (1000, 100)])
BRIDGE = shapely.LineString([(1000, 0), (1000, 100)])
CASE = (100.0, 10.0)
ACROSS = (100.0, 90.0)  # 80 m away as the crow flies, across the water
SAME_BANK = (500.0, 5.0)  # 400 m away, on the case's side


@pytest.fixture()
def river() -> WalkingNetwork:
    return WalkingNetwork([SOUTH, NORTH, BRIDGE])


def test_walking_nearest_is_not_the_straight_line_nearest(river: WalkingNetwork) -> None:
    d = river.matrix([CASE[0]], [CASE[1]], [ACROSS[0], SAME_BANK[0]], [ACROSS[1], SAME_BANK[1]])
    across, same = d.metres[0]
    assert same == pytest.approx(10 + 400 + 5)
    assert across == pytest.approx(10 + 900 + 100 + 900 + 10)
    assert (d.kind == NETWORK).all()
    straight = np.hypot(
        CASE[0] - np.array([ACROSS[0], SAME_BANK[0]]), CASE[1] - np.array([ACROSS[1], SAME_BANK[1]])
    )
    assert straight.argmin() == 0 and d.metres[0].argmin() == 1


def test_points_snap_to_edges_not_only_nodes(river: WalkingNetwork) -> None:
    snapped = river.snap([300.0], [7.0])
    assert snapped.offset[0] == pytest.approx(7)
    assert snapped.to_u[0] + snapped.to_v[0] == pytest.approx(1000)
    assert min(snapped.to_u[0], snapped.to_v[0]) == pytest.approx(300)
    # two points on the same edge walk along it directly
    d = river.matrix([300.0], [0.0], [350.0], [0.0])
    assert d.metres[0, 0] == pytest.approx(50)


def test_far_points_and_missing_network_fall_back_to_straight_lines(
    river: WalkingNetwork,
) -> None:
    d = river.matrix([CASE[0]], [CASE[1]], [500.0, 500.0], [-400.0, 5.0])
    assert d.kind[0].tolist() == [STRAIGHT_LINE, NETWORK]
    assert d.metres[0, 0] == pytest.approx(np.hypot(400, 410))
    none = walking_matrix(None, [0.0], [0.0], [3.0], [4.0])
    assert none.metres[0, 0] == 5 and none.kind[0, 0] == STRAIGHT_LINE
    island = WalkingNetwork([SOUTH, shapely.LineString([(0, 500), (100, 500)])])
    cut = island.matrix([50.0], [0.0], [50.0], [500.0])  # no path between the two
    assert cut.kind[0, 0] == STRAIGHT_LINE and cut.metres[0, 0] == pytest.approx(500)


def test_crossing_lines_are_noded(river: WalkingNetwork) -> None:
    cross = WalkingNetwork(
        [shapely.LineString([(0, 0), (100, 100)]), shapely.LineString([(0, 100), (100, 0)])]
    )
    d = cross.matrix([0.0], [0.0], [0.0], [100.0])
    assert d.metres[0, 0] == pytest.approx(2 * np.hypot(50, 50))
    assert cross.n_nodes == 5 and cross.n_edges == 4


def test_many_to_many_agrees_with_networkx_on_a_random_grid() -> None:
    rng = np.random.default_rng(5)
    n = 12
    xs = np.arange(n) * 100.0 + rng.uniform(-20, 20, n)
    lines = []
    graph = nx.Graph()
    for i in range(n):
        for j in range(n):
            here = (xs[i], j * 100.0)
            for di, dj in ((1, 0), (0, 1)):
                if i + di < n and j + dj < n and rng.random() < 0.8:
                    there = (xs[i + di], (j + dj) * 100.0)
                    lines.append(shapely.LineString([here, there]))
                    graph.add_edge(here, there, weight=float(np.hypot(*np.subtract(here, there))))
    net = WalkingNetwork(lines)
    nodes = list(graph.nodes)
    picks = [nodes[k] for k in rng.choice(len(nodes), 15, replace=False)]
    px, py = np.array(picks).T
    d = net.matrix(px, py, px, py)
    for a, origin in enumerate(picks):
        lengths = nx.single_source_dijkstra_path_length(graph, origin)
        for b, target in enumerate(picks):
            if target in lengths:
                assert d.metres[a, b] == pytest.approx(lengths[target], abs=1e-6)
                assert d.kind[a, b] == NETWORK
    assert np.allclose(d.metres, d.metres.T)


def test_sample_walking_network_is_connected_and_walkable() -> None:
    import geopandas as gpd

    streets = gpd.read_file(ROOT / "data" / "streets.geojson")
    net = WalkingNetwork.from_frame(streets)
    lon = np.array([121.8232, 121.8455, 121.8386])
    lat = np.array([29.8990, 29.8935, 29.8890])
    x, y = to_metric(lon, lat)
    d = net.matrix(x, y, x, y)
    assert (d.kind == NETWORK).all()
    straight = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    assert (d.metres >= straight - 1e-6).all()
    assert (d.metres <= 2.0 * straight + 300).all()


def test_network_from_an_openstreetmap_extract() -> None:
    net = WalkingNetwork.from_osm_xml(ROOT / "tests" / "fixtures" / "tiny.osm")
    x, y = to_metric([121.8300, 121.8300], [29.8900, 29.8920])
    d = net.matrix(x[:1], y[:1], x[1:], y[1:])
    # around three sides of the square: 2 × ~193 m east-west plus ~222 m north-south
    assert d.kind[0, 0] == NETWORK
    assert 580 < d.metres[0, 0] < 640


def test_empty_input_is_refused() -> None:
    with pytest.raises(EmptyNetworkError):
        WalkingNetwork([])
    with pytest.raises(EmptyNetworkError):
        WalkingNetwork([shapely.LineString([(1, 1), (1, 1)])])


def test_an_osm_extract_loads_as_the_streets_layer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from sqlalchemy.orm import Session

    from store.db import create_schema, make_engine
    from store.layers import read_layer
    from store.load import load_folder

    shutil.copy(ROOT / "tests" / "fixtures" / "tiny.osm", tmp_path / "streets.osm")
    engine = make_engine(f"sqlite:///{tmp_path / 'osm.sqlite3'}")
    create_schema(engine)
    result = load_folder(engine, tmp_path)
    assert result.ok and result.loaded["streets"] == 3
    with Session(engine) as session:
        streets = read_layer(session, "streets")
    assert "测试路" in set(streets["name"].dropna())
    assert set(streets["kind"]) == {"footway", "residential"}
    engine.dispose()


def test_a_search_limit_leaves_far_places_unreached_but_islands_still_fall_back(
    river: WalkingNetwork,
) -> None:
    d = river.matrix(
        [CASE[0]], [CASE[1]], [SAME_BANK[0], ACROSS[0]], [SAME_BANK[1], ACROSS[1]], limit_m=500
    )
    assert d.metres[0, 0] == pytest.approx(415) and d.kind[0, 0] == NETWORK
    assert np.isinf(d.metres[0, 1])  # 1,920 m on foot: beyond the limit, not 80 m straight
    island = WalkingNetwork([SOUTH, shapely.LineString([(0, 500), (100, 500)])])
    cut = island.matrix([50.0], [0.0], [50.0], [500.0], limit_m=600)
    assert cut.kind[0, 0] == STRAIGHT_LINE and cut.metres[0, 0] == pytest.approx(500)


# A synthetic community near Beijing (116.4E): two streets meeting at a corner.
GEOD = Geod(ellps="GRS80")  # the CGCS2000 ellipsoid, to well under a millimetre
CORNER = (116.400, 39.910)
EAST_END = (116.412, 39.910)  # ~1.02 km east along a parallel
NORTH_END = (116.400, 39.919)  # ~1.0 km north along the meridian


@pytest.fixture()
def beijing_streets() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["east", "north"]},
        geometry=[shapely.LineString([CORNER, EAST_END]), shapely.LineString([CORNER, NORTH_END])],
        crs=WGS84,
    )


def _geodesic_m(*points: tuple[float, float]) -> float:
    lon, lat = zip(*points, strict=True)
    return float(GEOD.line_length(lon, lat))


def test_a_community_near_beijing_walks_in_its_own_zone(beijing_streets) -> None:
    net = WalkingNetwork.from_frame(beijing_streets)
    assert net.metric_crs == "EPSG:4548"
    a, b = (116.410, 39.910), (116.400, 39.917)  # on the east street, on the north street
    x, y = to_metric([a[0], b[0]], [a[1], b[1]], metric_crs=net.metric_crs)
    walked = net.matrix(x[:1], y[:1], x[1:], y[1:])
    assert walked.kind[0, 0] == NETWORK
    truth = _geodesic_m(a, CORNER, b)  # along the streets, round the corner
    assert 1_600 < truth < 1_700
    assert walked.metres[0, 0] == pytest.approx(truth, rel=1e-3)
    # measured on Lingxiao's zone, 6.6 degrees away, the same walk is 0.4 % too long
    far = WalkingNetwork.from_frame(beijing_streets, metric_crs=METRIC)
    assert far.metric_crs == METRIC
    fx, fy = to_metric([a[0], b[0]], [a[1], b[1]], metric_crs=METRIC)
    off = far.matrix(fx[:1], fy[:1], fx[1:], fy[1:]).metres[0, 0]
    assert off / truth - 1 > 2e-3


def test_distances_near_beijing_match_the_geodesic() -> None:
    lons, lats = np.array([116.41, 116.40, 116.43]), np.array([39.91, 39.93, 39.95])
    got = pairwise_m(*CORNER, lons, lats)
    truth = GEOD.inv(np.full(3, CORNER[0]), np.full(3, CORNER[1]), lons, lats)[2]
    np.testing.assert_allclose(got, truth, rtol=1e-3)
    outline = shapely.box(116.395, 39.905, 116.405, 39.915)
    to_edge = distance_to_m(116.417, 39.910, outline)  # 12 m short of 1 km east of the edge
    assert float(to_edge) == pytest.approx(_geodesic_m((116.405, 39.910), (116.417, 39.910)), 1e-3)
    assert distance_to_m(116.4, 39.91, outline)[()] == 0.0


def test_coverage_near_beijing_is_measured_in_its_zone(beijing_streets) -> None:
    net = WalkingNetwork.from_frame(beijing_streets)
    homes = coverage.demand_points(
        gpd.GeoDataFrame(
            {"id": ["H1"], "households": [10]},
            geometry=[shapely.Point(116.400, 39.917)],
            crs=WGS84,
        )
    )
    lots = coverage.supply_points(
        gpd.GeoDataFrame(
            {"id": ["P1"], "capacity": [5]}, geometry=[shapely.Point(116.410, 39.910)], crs=WGS84
        )
    )
    truth = _geodesic_m((116.410, 39.910), CORNER, (116.400, 39.917))
    walked = coverage.reach(net, lots, homes, limit_m=2_000)
    assert walked.metres[0, 0] == pytest.approx(truth, rel=1e-3)
    # without a network the facilities and homes pick the zone themselves
    straight = coverage.reach(None, lots, homes, coverage.STRAIGHT_LINE, limit_m=2_000)
    line = GEOD.inv(116.410, 39.910, 116.400, 39.917)[2]
    assert straight.metres[0, 0] == pytest.approx(line, rel=1e-3)
    assert coverage.analysis_crs(None, lots, homes) == "EPSG:4548"
    assert coverage.analysis_crs(net) == "EPSG:4548"
    with pytest.raises(coverage.CoverageInputError, match="network is in EPSG:4548, not EPSG:4550"):
        coverage.reach(net, lots, homes, metric_crs=METRIC)
    areas = coverage.service_areas(net, lots, (150,))
    assert areas.crs == WGS84 and areas.geometry.iloc[0].contains(shapely.Point(116.410, 39.910))


def test_lingxiao_networks_stay_on_4550_and_foreign_streets_are_named() -> None:
    streets = gpd.read_file(ROOT / "data" / "streets.geojson")
    assert WalkingNetwork.from_frame(streets).metric_crs == METRIC
    assert WalkingNetwork.from_osm_xml(ROOT / "tests" / "fixtures" / "tiny.osm").metric_crs == (
        METRIC
    )
    assert WalkingNetwork([SOUTH]).metric_crs is None
    paris = gpd.GeoDataFrame(
        geometry=[shapely.LineString([(2.35, 48.85), (2.36, 48.85)])], crs=WGS84
    )
    with pytest.raises(MetricZoneError, match=r"longitude 2\.35\d* is outside"):
        WalkingNetwork.from_frame(paris)
    assert WalkingNetwork.from_frame(paris, metric_crs="EPSG:2154").n_edges == 1


def test_one_name_for_straight_lines() -> None:
    assert STRAIGHT is STRAIGHT_LINE == coverage.STRAIGHT_LINE == "straight_line"
