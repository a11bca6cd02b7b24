"""Walking distances: network ranking, snapping, fallbacks, and an independent check."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely

from gis.crs import to_metric
from gis.network import NETWORK, STRAIGHT, EmptyNetworkError, WalkingNetwork, walking_matrix
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
    assert d.kind[0].tolist() == [STRAIGHT, NETWORK]
    assert d.metres[0, 0] == pytest.approx(np.hypot(400, 410))
    none = walking_matrix(None, [0.0], [0.0], [3.0], [4.0])
    assert none.metres[0, 0] == 5 and none.kind[0, 0] == STRAIGHT
    island = WalkingNetwork([SOUTH, shapely.LineString([(0, 500), (100, 500)])])
    cut = island.matrix([50.0], [0.0], [50.0], [500.0])  # no path between the two
    assert cut.kind[0, 0] == STRAIGHT and cut.metres[0, 0] == pytest.approx(500)


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
    assert cut.kind[0, 0] == STRAIGHT and cut.metres[0, 0] == pytest.approx(500)
