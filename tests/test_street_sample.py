"""The synthetic street (data/street.py): communities that tile a street, each loadable.

The generator runs as a script, the way ``make street-sample`` runs it, into a
temporary folder: twice for 12 communities (the second run for determinism)
and once for a district of 300.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gis.boundaries import BOUNDARY_LAYERS, validate_boundaries
from gis.crs import METRIC
from gis.io import read_layer_file
from gis.validate import validate_layer
from store.load import MEMBER_KINDS, find_layers
from tests.helpers import DATA

STREET = DATA / "street.py"
LINGXIAO = "330206002016"
STAND_INS = {"330206002017": "高塘社区", "330206002019": "向阳社区"}
DUTY = re.compile(r"\d\d:\d\d-\d\d:\d\d")


def generate(out: Path, *args: str) -> Path:
    subprocess.run([sys.executable, str(STREET), "--out", str(out), *args], check=True)
    return out


@pytest.fixture(scope="module")
def street(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("street") / "out", "--communities", "12")


@pytest.fixture(scope="module")
def about(street: Path) -> dict:
    return dict(json.loads((street / "street.json").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def outlines(about: dict, street: Path) -> gpd.GeoDataFrame:
    """Every community's boundary, one row each, in street.json's order."""
    frames = [
        read_layer_file(street / c["folder"] / "boundaries" / "community.geojson")
        for c in about["communities"]
    ]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)


def catalogue() -> set[str]:
    with (DATA / "categories.csv").open(encoding="utf-8") as fh:
        return {row["code"] for row in csv.DictReader(fh)}


def files(root: Path) -> dict[Path, bytes]:
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_street_lists_its_communities_with_codes_under_it(
    about: dict, outlines: gpd.GeoDataFrame, street: Path
) -> None:
    assert (about["code"], about["name"], about["illustrative"]) == ("330206002", "新碶街道", True)
    listed = about["communities"]
    codes = [c["code"] for c in listed]
    assert len(codes) == 12 and len(set(codes)) == 12
    assert all(re.fullmatch(r"330206002\d{3}", c) for c in codes)
    roles = {c["code"]: c["role"] for c in listed}
    assert roles[LINGXIAO] == "sample"
    assert {c: roles[c] for c in STAND_INS} == dict.fromkeys(STAND_INS, "stand-in")
    invented = [c for c in listed if c["role"] == "invented"]
    assert len(invented) == 9
    assert all(c["code"][9] == "9" and c["name"].startswith("示意") for c in invented)
    # each folder's community layer says what street.json says
    assert outlines["code"].tolist() == codes
    assert outlines["name"].tolist() == [c["name"] for c in listed]
    assert outlines["name_en"].tolist() == [c["name_en"] for c in listed]
    for code, name in STAND_INS.items():
        row = outlines[outlines["code"] == code].iloc[0]
        assert row["name"] == name and row["illustrative"] and "示意" in row["note"]
    assert "synthetic" in (street / "README.md").read_text(encoding="utf-8").lower()


def test_street_teams(about: dict, street: Path) -> None:
    teams = about["teams"]
    assert len(teams) >= 3 and len({t["id"] for t in teams}) == len(teams)
    assert any(t["name"] == "新碶街道综合执法队" for t in teams)
    outline = read_layer_file(street / "street.geojson").geometry.iloc[0]
    for team in teams:
        assert set(team["categories"]) <= catalogue()
        assert team["capacity"] > 0 and DUTY.fullmatch(team["duty_hours"])
        assert outline.contains(shapely.Point(team["lon"], team["lat"]))


def test_catalogue_is_the_samples(street: Path) -> None:
    for name in ("categories.csv", "workdays.csv"):
        assert (street / name).read_bytes() == (DATA / name).read_bytes(), name


def test_lingxiao_is_the_sample_file_for_file(street: Path) -> None:
    written = files(street / LINGXIAO)
    sample = files(DATA)
    assert Path("boundaries/community.geojson") in written
    for rel, body in written.items():
        assert body == sample[rel], f"{rel} differs from data/"
    layers = {p for p in sample if p.suffix == ".geojson" or p.name == "members.csv"}
    assert layers == set(written)


def test_grids_tile_their_community_with_codes_under_it(
    about: dict, outlines: gpd.GeoDataFrame, street: Path
) -> None:
    seen: list[str] = []
    for c in about["communities"]:
        folder = street / c["folder"] / "boundaries"
        grids = read_layer_file(folder / "grids.geojson")
        community = read_layer_file(folder / "community.geojson")
        # 15-digit codes, the community's own first; no grid outside it, no gap, no overlap
        report = validate_boundaries(grids, community)
        assert report.ok, (c["code"], [str(p) for p in report.problems])
        assert grids["code"].str.fullmatch(c["code"] + r"\d{3}").all()
        seen += grids["code"].tolist()
    assert len(seen) == len(set(seen))


def test_communities_tile_the_street(outlines: gpd.GeoDataFrame, street: Path) -> None:
    polys = outlines.to_crs(METRIC).geometry.values
    assert shapely.is_valid(polys).all()
    left, right = shapely.STRtree(polys).query(polys, predicate="intersects")
    pair = left < right
    left, right = left[pair], right[pair]
    overlap = shapely.area(shapely.intersection(polys[left], polys[right]))
    assert overlap.max() < 0.01  # m²: neighbours share edges, they don't overlap
    # neighbours touch along edges, and every community is reached through them
    shared = shapely.length(
        shapely.intersection(shapely.boundary(polys[left]), shapely.boundary(polys[right]))
    )
    touching = shared > 1.0
    n = len(polys)
    graph = coo_matrix((np.ones(touching.sum()), (left[touching], right[touching])), shape=(n, n))
    assert connected_components(graph, directed=False)[0] == 1
    # no gap between them: their union is the street's outline, without holes
    union = shapely.union_all(polys)
    assert union.geom_type == "Polygon" and not union.interiors
    outline = read_layer_file(street / "street.geojson").to_crs(METRIC).geometry.iloc[0]
    assert shapely.area(shapely.symmetric_difference(union, outline)) < 0.01
    assert abs(shapely.area(polys).sum() - union.area) < 0.01
    assert 10e6 < union.area < 30e6  # a street of 12 communities, not a city


def test_neighbours_share_their_edges_vertex_for_vertex(outlines: gpd.GeoDataFrame) -> None:
    """A vertex on a neighbour's edge is also one of its vertices: Lingxiao gains none.

    A vertex lying on a neighbour's straight edge without being one of its
    vertices is a gap or an overlap once the edge is measured in metres.
    """
    polys = outlines.geometry.values
    vertices = [{tuple(p) for p in shapely.get_coordinates(g)} for g in polys]
    for i, a in enumerate(polys):
        for j, b in enumerate(polys):
            if i == j or not a.touches(b):
                continue
            on_b = shapely.distance(shapely.points(list(vertices[i])), b.boundary) < 1e-10
            extra = {v for v, hit in zip(vertices[i], on_b, strict=True) if hit} - vertices[j]
            assert not extra, (outlines["code"].iloc[i], outlines["code"].iloc[j], extra)


@pytest.mark.parametrize("code", ["330206002017", "330206002901"])
def test_a_folder_passes_the_loaders_checks(street: Path, code: str) -> None:
    """What ``gridgov load`` checks before writing (store.load.load_folder), without a database."""
    folder = street / code
    found = find_layers(folder)
    assert set(found) == {
        "community",
        "grids",
        "districts",
        "merchants",
        "squads",
        "units",
        "service_points",
        "parking",
        "compounds",
        "buildings",
        "streets",
    }
    frames = {name: read_layer_file(path) for name, path in found.items()}
    report = validate_boundaries(frames["grids"], frames["community"], frames["districts"])
    assert report.ok, [str(p) for p in report.problems]
    for name, frame in frames.items():
        if name not in BOUNDARY_LAYERS:
            assert not validate_layer(name, frame), name
    members = pd.read_csv(folder / "members.csv", dtype=str, keep_default_na=False)
    assert members["id"].is_unique and members["kind"].isin(MEMBER_KINDS).all()
    assert members["grid"].isin(set(frames["grids"]["code"])).all()
    assert members["squad"].isin(set(frames["squads"]["id"])).all()
    # its squads between them handle every category of the catalogue
    handled = {c for cats in frames["squads"]["categories"] for c in cats.split(",")}
    assert handled == catalogue()
    inside = frames["community"].geometry.iloc[0].buffer(1e-6)
    for name in ("merchants", "squads", "service_points", "parking", "compounds", "buildings"):
        assert frames[name].within(inside).all(), name


def test_folders_are_small(about: dict, street: Path) -> None:
    for c in about["communities"]:
        size = sum(len(b) for b in files(street / c["folder"]).values())
        assert size < 1_000_000, (c["code"], size)


def test_same_bytes_every_run(street: Path, tmp_path: Path) -> None:
    again = files(generate(tmp_path / "again", "--communities", "12"))
    first = files(street)
    assert again.keys() == first.keys()
    assert [rel for rel in first if first[rel] != again[rel]] == []


def test_refuses_to_write_over_a_folder(street: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(STREET), "--out", str(street)], capture_output=True, text=True
    )
    assert run.returncode == 2 and "not empty" in run.stderr


def features(path: Path) -> list[dict]:
    """A GeoJSON file's features, read plainly (quicker than a data frame, 600 times over)."""
    return list(json.loads(path.read_text(encoding="utf-8"))["features"])


def test_a_district_of_300_communities(tmp_path: Path) -> None:
    out = generate(tmp_path / "district", "--communities", "300", "--street-count", "10")
    district = json.loads((out / "district.json").read_text(encoding="utf-8"))
    assert district["code"] == "330206"
    streets = district["streets"]
    assert len(streets) == 10 and sum(s["communities"] for s in streets) == 300
    street_codes = [s["code"] for s in streets]
    assert len(set(street_codes)) == 10
    assert all(re.fullmatch(r"330206\d{3}", c) for c in street_codes)
    assert streets[0]["code"] == "330206002" and streets[0]["name"] == "新碶街道"
    grid_codes: list[str] = []
    polys = []
    for s in streets:
        about = json.loads((out / s["folder"] / "street.json").read_text(encoding="utf-8"))
        assert about["code"] == s["code"] and len(about["communities"]) == s["communities"]
        for c in about["communities"]:
            assert re.fullmatch(s["code"] + r"\d{3}", c["code"])
            folder = out / s["folder"] / c["folder"]
            (community,) = features(folder / "boundaries" / "community.geojson")
            grids = [
                g["properties"]["code"] for g in features(folder / "boundaries" / "grids.geojson")
            ]
            assert community["properties"]["code"] == c["code"]
            assert grids and all(re.fullmatch(c["code"] + r"\d{3}", g) for g in grids)
            assert features(folder / "squads.geojson")
            grid_codes += grids
            polys.append(shapely.geometry.shape(community["geometry"]))
    assert (out / "330206002" / LINGXIAO / "members.csv").exists()
    assert len(grid_codes) == len(set(grid_codes))
    # the communities tile the district: one piece, and no overlap (the areas add up)
    m2_per_deg2 = 96_500 * 110_900  # near Xinqi
    union = shapely.union_all(polys)
    assert union.geom_type == "Polygon"
    assert abs(shapely.area(polys).sum() - union.area) * m2_per_deg2 < 1.0
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    assert size < 10_000_000
