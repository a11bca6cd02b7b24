"""The Lingxiao sample dataset keeps its promises."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gis.boundaries import validate_boundaries
from gis.crs import METRIC
from gis.io import read_layer_file
from gis.join import join_areas
from tests.helpers import BOUNDARIES, DATA, HOSPITAL


@pytest.fixture(scope="module")
def grids() -> gpd.GeoDataFrame:
    return read_layer_file(BOUNDARIES / "grids.geojson")


@pytest.fixture(scope="module")
def community() -> gpd.GeoDataFrame:
    return read_layer_file(BOUNDARIES / "community.geojson")


@pytest.fixture(scope="module")
def districts() -> gpd.GeoDataFrame:
    return read_layer_file(BOUNDARIES / "districts.geojson")


def layer(name: str) -> gpd.GeoDataFrame:
    return read_layer_file(DATA / f"{name}.geojson")


def test_generator_reproduces_committed_files(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(DATA / "generate.py"), str(tmp_path)], check=True)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert written, "generator wrote nothing"
    for rel in written:
        assert (tmp_path / rel).read_bytes() == (DATA / rel).read_bytes(), f"{rel} differs"


def test_community_size_and_population(community: gpd.GeoDataFrame) -> None:
    assert len(community) == 1
    row = community.iloc[0]
    assert row["code"] == "330206002016"
    area_km2 = community.to_crs(METRIC).area.iloc[0] / 1e6
    assert 1.5 <= area_km2 <= 2.5
    assert row["residents"] >= 20_000
    hospital = shapely.Point(HOSPITAL)
    assert community.geometry.iloc[0].contains(hospital)


def test_grids_tile_the_community(
    grids: gpd.GeoDataFrame, community: gpd.GeoDataFrame, districts: gpd.GeoDataFrame
) -> None:
    report = validate_boundaries(grids, community, districts)
    assert report.ok, [str(p) for p in report.problems]
    assert 15 <= len(grids) <= 30


def test_grid_codes_run_west_to_east_then_north_to_south(grids: gpd.GeoDataFrame) -> None:
    codes = grids["code"].tolist()
    assert codes == [f"330206002016{i:03d}" for i in range(1, len(grids) + 1)]
    # a row is the grids whose northern edges lie within ~30 m of each other
    north = grids.bounds["maxy"].to_numpy()
    ranked = np.sort(north)[::-1]
    row_starts = ranked[np.r_[True, -np.diff(ranked) > 3e-4]]
    row = np.searchsorted(-row_starts, -north, side="right")
    west = grids.bounds["minx"].to_numpy()
    order = np.lexsort((west, row))
    assert order.tolist() == list(range(len(grids)))


def test_grid_attributes(grids: gpd.GeoDataFrame) -> None:
    assert grids["name"].str.fullmatch(r"凌霄社区第[一二三四五六七八九十]+网格").all()
    assert grids["name"].iloc[11] == "凌霄社区第十二网格"
    general = grids[grids["kind"] == "general"]
    dedicated = grids[grids["kind"] == "dedicated"]
    assert general["households"].between(300, 500).all()
    assert set(grids["kind"]) == {"general", "dedicated"}
    for landmark in ("北仑区人民医院", "北仑银泰城", "凤凰城堡"):
        assert dedicated["dedicated_to"].str.contains(landmark).any()
    hospital_grid = grids[grids.contains(shapely.Point(HOSPITAL))]
    assert hospital_grid["kind"].tolist() == ["dedicated"]
    for role in ("grid_head", "full_time_worker", "part_time_worker", "instructor"):
        assert grids[role].str.fullmatch(r"[A-Z]{2}\d{2}").all()
    assert (grids["others_n"] >= 1).all()


def test_districts_sit_on_the_commercial_clusters(districts: gpd.GeoDataFrame) -> None:
    assert len(districts) == 2
    west, east = districts.sort_values("code").geometry
    assert west.contains(shapely.Point(121.827211, 29.897781))  # Yintai City
    assert east.contains(shapely.Point(121.839669, 29.896415))  # Fubang Plaza
    assert east.contains(shapely.Point(121.844558, 29.897071))  # Phoenix cluster


def test_merchants_mostly_in_districts(
    grids: gpd.GeoDataFrame, districts: gpd.GeoDataFrame
) -> None:
    merchants = layer("merchants")
    assert len(merchants) >= 110
    joined = join_areas(merchants, grids, districts)
    assert joined["in_community"].all()
    assert joined["district_code"].notna().mean() > 0.7
    assert merchants["caring_partner"].sum() > 100
    partners = merchants[merchants["caring_partner"]]
    assert partners["free_service"].notna().all()
    assert {"food", "retail", "training", "beauty", "pharmacy", "repairs"} <= set(
        merchants["category"]
    )
    assert merchants["name"].is_unique


def test_squads() -> None:
    squads = layer("squads")
    assert len(squads) == 8
    for named in ("文明播客", "安居卫士", "环保使者", "分类达人", "应急先锋"):
        row = squads[squads["name"].str.startswith(named)]
        assert len(row) == 1 and not row["illustrative"].iloc[0]
    assert squads["illustrative"].sum() == 3
    with (DATA / "categories.csv").open(encoding="utf-8") as fh:
        codes = {row["code"] for row in csv.DictReader(fh)}
    handled = {c for cats in squads["categories"] for c in cats.split(",")}
    assert handled <= codes
    assert (squads["capacity"] > 0).all()


def test_party_members_are_pseudonymous() -> None:
    with (DATA / "members.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    kinds = [r["kind"] for r in rows]
    assert kinds.count("registered") == 207
    assert kinds.count("in_service") == 863
    assert set(rows[0]) == {"id", "kind", "grid", "squad", "post"}
    assert all(r["id"].startswith("PM") for r in rows)


def test_compounds_buildings_and_service_points(grids: gpd.GeoDataFrame) -> None:
    compounds = layer("compounds")
    names = set(compounds["name"])
    assert {"世茂世界湾一期", "黄山豪庭"} <= names
    buildings = layer("buildings")
    within = buildings.sjoin(compounds[["id", "geometry"]], predicate="within")
    assert len(within) == len(buildings)
    per_compound = buildings.groupby("compound")["households"].sum()
    assert (per_compound == compounds.set_index("id")["households"]).all()
    points = layer("service_points")
    assert {"红领驿站", "北仑区人民医院"} <= set(points["name"])
    assert points["name"].str.contains("物管中心").any()
    units = layer("units")
    for unit in ("物管中心", "城管执法中队", "市场监管所", "交警中队", "区人民医院", "供电所"):
        assert unit in set(units["name"])


def test_parking_around_huangshan_haoting() -> None:
    compounds = layer("compounds").to_crs(METRIC)
    haoting = compounds[compounds["name"] == "黄山豪庭"].geometry.iloc[0]
    parking = layer("parking").to_crs(METRIC)
    assert (parking.distance(haoting) < 800).all()
    assert set(parking["status"]) == {"open", "planned"}
    assert parking["smart"].any() and (~parking["smart"]).any()
    assert (parking["capacity"] > 0).all()


def test_walking_network_is_connected_and_named(community: gpd.GeoDataFrame) -> None:
    streets = layer("streets")
    ends = shapely.get_coordinates(
        np.concatenate([shapely.get_point(streets.geometry.values, i) for i in (0, -1)])
    )
    n = len(streets)
    _, node = np.unique(ends, axis=0, return_inverse=True)
    node = node.ravel()
    graph = coo_matrix((np.ones(n), (node[:n], node[n:])), shape=(node.max() + 1,) * 2)
    assert connected_components(graph, directed=False)[0] == 1
    assert {"明州路", "黄山路", "岷山路", "庐山东路"} <= set(streets["name"].dropna())
    outline = community.geometry.iloc[0].buffer(0.0001)
    assert streets.within(outline).all()
