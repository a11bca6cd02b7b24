"""Point-to-grid lookup: edges, corners, outside points, single versus bulk."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis.index import AreaIndex
from gis.io import read_layer_file
from gis.join import NotPointsError, join_areas
from tests.helpers import BOUNDARIES


@pytest.fixture(scope="module")
def grids() -> gpd.GeoDataFrame:
    return read_layer_file(BOUNDARIES / "grids.geojson")


@pytest.fixture(scope="module")
def index(grids: gpd.GeoDataFrame) -> AreaIndex:
    return AreaIndex.from_frame(grids)


def square_tiles() -> AreaIndex:
    """Four unit squares around the origin, coded in an order unlike their positions."""
    tiles = [
        shapely.box(0, 0, 1, 1),
        shapely.box(-1, 0, 0, 1),
        shapely.box(-1, -1, 0, 0),
        shapely.box(0, -1, 1, 0),
    ]
    frame = gpd.GeoDataFrame({"code": ["B", "A", "D", "C"]}, geometry=tiles, crs=4326)
    return AreaIndex.from_frame(frame)


def code_at(index: AreaIndex, x: float, y: float) -> str | None:
    return index.codes_of([index.locate(x, y)])[0]


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        (0.5, 0.5, "B"),
        (-0.5, 0.5, "A"),
        (-0.5, -0.5, "D"),
        (0.5, -0.5, "C"),
        (0.0, 0.5, "A"),  # shared edge A|B: lower code
        (0.5, 0.0, "B"),  # shared edge B|C
        (-0.5, 0.0, "A"),  # shared edge A|D
        (0.0, -0.5, "C"),  # shared edge C|D
        (0.0, 0.0, "A"),  # corner shared by all four
        (1.0, 1.0, "B"),  # outer corner belongs to its only tile
        (1.0, 0.5, "B"),  # outer edge
        (1.0000001, 0.5, None),
        (5.0, 5.0, None),
        (float("nan"), 0.0, None),
    ],
)
def test_edge_rule_on_square_tiles(x: float, y: float, expected: str | None) -> None:
    index = square_tiles()
    assert code_at(index, x, y) == expected
    assert index.codes_of(index.locate_many([x], [y]))[0] == expected


def test_every_point_gets_exactly_one_grid_or_outside(grids, index) -> None:
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = grids.total_bounds
    x = rng.uniform(x0 - 0.002, x1 + 0.002, 50_000)
    y = rng.uniform(y0 - 0.002, y1 + 0.002, 50_000)
    # include every grid vertex: they all lie on edges or corners
    vx, vy = shapely.get_coordinates(grids.geometry.values).T
    x, y = np.r_[x, vx], np.r_[y, vy]
    got = index.codes_of(index.locate_many(x, y))
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=4326)
    hits = pts.sjoin(grids[["code", "geometry"]], how="left", predicate="intersects")
    lowest = hits.groupby(level=0)["code"].min().reindex(range(len(x)))
    expected = np.array([c if isinstance(c, str) else None for c in lowest], dtype=object)
    assert (got == expected).all()
    assert (pd.isna(expected)).sum() > 1000  # some really were outside
    assert all(
        code_at(index, a, b) == c for a, b, c in zip(x[:3000], y[:3000], got[:3000], strict=True)
    )


def test_vertices_on_shared_edges_go_to_the_lower_code(grids, index) -> None:
    first, second = grids.geometry.iloc[0], grids.geometry.iloc[1]
    shared = shapely.get_coordinates(first.intersection(second))
    assert len(shared) >= 2
    assert set(index.codes_of(index.locate_many(*shared.T))) == {"330206002016001"}


def test_index_needs_polygons() -> None:
    with pytest.raises(ValueError, match="at least one polygon"):
        AreaIndex([], [])


def test_join_areas_keeps_outside_points_and_order(grids) -> None:
    districts = read_layer_file(BOUNDARIES / "districts.geojson")
    points = gpd.GeoDataFrame(
        {"name": ["银泰", "医院", "远处"]},
        geometry=gpd.points_from_xy([121.827211, 121.838591, 121.90], [29.897781, 29.890289, 29.9]),
        crs=4326,
        index=[10, 20, 30],
    )
    joined = join_areas(points, grids, districts)
    assert joined.index.tolist() == [10, 20, 30]
    assert joined["grid_code"].tolist() == ["330206002016002", "330206002016020", None]
    assert joined["district_code"].tolist() == ["BD01", None, None]
    assert joined["in_community"].tolist() == [True, True, False]


def test_join_areas_accepts_projected_points(grids) -> None:
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([121.8386], [29.8903]), crs=4326)
    joined = join_areas(pts.to_crs("EPSG:4550"), grids)
    assert joined["grid_code"].tolist() == ["330206002016020"]
    assert joined.crs.to_epsg() == 4550


def test_join_areas_refuses_non_points(grids) -> None:
    with pytest.raises(NotPointsError, match="not a point"):
        join_areas(grids, grids)
