"""The map without tiles: ``GET /api/v1/basemap``, simplified, public and cached."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape

from gis.basemap import simplified, vertex_count
from tests.helpers import BOUNDARIES, DATA, GAOTANG_CODE, GOOD_REPORT, LINGXIAO_CODE

LANGS = ("zh", "en")

STORED = {
    "community": BOUNDARIES / "community.geojson",
    "grids": BOUNDARIES / "grids.geojson",
    "streets": DATA / "streets.geojson",
    "buildings": DATA / "buildings.geojson",
}
# the only properties a basemap feature may carry: nothing about people or staff
PUBLIC = {"layer", "code", "name", "name_en", "kind", "label"}


def by_layer(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    layers: dict[str, list[dict[str, Any]]] = {}
    for feature in body["features"]:
        layers.setdefault(feature["properties"]["layer"], []).append(feature)
    return layers


def coordinates(features: list[dict[str, Any]]) -> int:
    return sum(int(shapely.get_num_coordinates(shape(f["geometry"]))) for f in features)


def decimals(value: float) -> int:
    text = repr(value)
    return len(text.split(".")[1]) if "." in text else 0


def test_the_basemap_is_simplified_public_geojson(api: TestClient) -> None:
    answer = api.get("/api/v1/basemap", params={"area": LINGXIAO_CODE})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/geo+json")
    body = answer.json()
    assert body["type"] == "FeatureCollection"
    layers = by_layer(body)
    assert set(layers) == set(STORED)
    stored = {name: gpd.read_file(path) for name, path in STORED.items()}
    for name, frame in stored.items():
        assert len(layers[name]) == len(frame), name  # nothing simplified away
    # fewer vertices than stored, overall and in the outline and grids
    assert coordinates(body["features"]) < sum(vertex_count(f) for f in stored.values())
    for name in ("community", "grids"):
        assert coordinates(layers[name]) < vertex_count(stored[name]), name
    # every grid still a valid polygon, within a couple of metres of the stored one
    grids = gpd.GeoDataFrame.from_features(layers["grids"], crs="EPSG:4326")
    assert grids.is_valid.all() and (grids.geom_type == "Polygon").all()
    assert sorted(grids["code"]) == sorted(stored["grids"]["code"])
    truth = stored["grids"].set_index("code").loc[grids["code"]].to_crs("EPSG:4550")
    drawn = grids.to_crs("EPSG:4550")
    assert (
        max(a.hausdorff_distance(b) for a, b in zip(drawn.geometry, truth.geometry, strict=True))
        < 2.0
    )
    # each grid has a point for its number, inside it
    for feature in layers["grids"]:
        assert shape(feature["geometry"]).contains(shapely.Point(feature["properties"]["label"]))
    # coordinates rounded to six decimals
    ring = layers["buildings"][0]["geometry"]["coordinates"][0]
    assert all(decimals(v) <= 6 for point in ring for v in point)
    # public fields only: no households, staff or workers
    for feature in body["features"]:
        assert set(feature["properties"]) <= PUBLIC
    assert "GH01" not in answer.text and "households" not in answer.text


def test_the_basemap_is_cached_by_its_etag(api: TestClient) -> None:
    first = api.get("/api/v1/basemap", params={"area": LINGXIAO_CODE})
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert (
        "max-age" in first.headers["cache-control"] and "public" in first.headers["cache-control"]
    )
    again = api.get(
        "/api/v1/basemap", params={"area": LINGXIAO_CODE}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304 and not again.content and again.headers["etag"] == etag
    weak = api.get(
        "/api/v1/basemap", params={"area": LINGXIAO_CODE}, headers={"If-None-Match": f"W/{etag}"}
    )
    assert weak.status_code == 304
    stale = api.get(
        "/api/v1/basemap", params={"area": LINGXIAO_CODE}, headers={"If-None-Match": '"old"'}
    )
    assert stale.status_code == 200 and stale.content == first.content
    # a grid's code is its community's map; no area is every community's (one here)
    grid = api.get("/api/v1/basemap", params={"area": LINGXIAO_CODE + "016"})
    assert grid.headers["etag"] == etag
    assert api.get("/api/v1/basemap").content == first.content


def test_a_new_layer_changes_the_etag(api: TestClient, sample_dir: Path, settings: Any) -> None:
    from store.db import make_engine
    from store.load import load_folder

    before = api.get("/api/v1/basemap").headers["etag"]
    path = sample_dir / "streets.geojson"
    streets = json.loads(path.read_text(encoding="utf-8"))
    streets["features"] = streets["features"][:-1]  # a street closed
    path.write_text(json.dumps(streets, ensure_ascii=False), encoding="utf-8")
    engine = make_engine(settings.database_url)
    assert load_folder(engine, sample_dir).ok
    engine.dispose()
    after = api.get("/api/v1/basemap", headers={"If-None-Match": before})
    assert after.status_code == 200 and after.headers["etag"] != before
    assert len(by_layer(after.json())["streets"]) == len(streets["features"])


def test_bad_and_unknown_areas(api: TestClient) -> None:
    assert api.get("/api/v1/basemap", params={"area": "nonsense"}).status_code == 422
    missing = api.get("/api/v1/basemap", params={"area": "330206002099"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "area_not_loaded"


def test_each_community_has_its_own_basemap(street: str, tmp_path: Path) -> None:
    from api.app import create_app
    from service.settings import Settings

    app = create_app(Settings(database_url=street, var_dir=tmp_path / "var"))
    with TestClient(app) as client:
        for code in (LINGXIAO_CODE, GAOTANG_CODE):
            body = client.get("/api/v1/basemap", params={"area": code}).json()
            grids = by_layer(body)["grids"]
            assert grids and all(g["properties"]["code"].startswith(code) for g in grids)
            (outline,) = by_layer(body)["community"]
            assert outline["properties"]["code"] == code
        both = by_layer(client.get("/api/v1/basemap").json())
        assert len(both["community"]) == 2
    app.state.engine.dispose()


def test_simplifying_keeps_every_feature_valid() -> None:
    grids = gpd.read_file(STORED["grids"])
    thin = simplified(grids, tolerance_m=50.0)  # far coarser than served
    assert len(thin) == len(grids) and thin.is_valid.all()
    assert vertex_count(thin) < vertex_count(grids)


def test_the_follow_page_pictures_the_case_without_script_or_tiles(api: TestClient) -> None:
    case_id = api.post("/api/v1/issues", json=GOOD_REPORT).json()["id"]
    pages = {lang: api.get(f"/report/{case_id}", params={"lang": lang}).text for lang in LANGS}
    for html in pages.values():
        (svg,) = re.findall(r"<svg\b.*?</svg>", html, flags=re.S)
        assert svg.count("<path ") > 10 and svg.count("<circle ") == 1
        assert 'stroke="#c2410c"' in svg  # the case's own grid picked out
        assert "<script" not in svg and " on" not in svg.replace(" only", "")
        assert len(svg) < 40_000  # a small picture: cut to the grid and simplified
        assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert "案件位置" in pages["zh"] and "Where the case is" not in pages["zh"]
    assert "Where the case is" in pages["en"] and "案件位置" not in pages["en"]
