"""The HTTP API over the loaded sample, on SQLite and on PostGIS."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from service.catalogue import PUBLIC_LAYERS
from service.settings import Settings
from store.db import make_engine
from store.load import load_folder
from tests.helpers import DATA


@pytest.fixture()
def client(database_url: str) -> Iterator[TestClient]:
    engine = make_engine(database_url)
    assert load_folder(engine, DATA).ok
    engine.dispose()
    app = create_app(Settings(database_url=database_url))
    with TestClient(app) as c:
        yield c
    app.state.engine.dispose()


def test_health(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["database"] in ("sqlite", "postgresql")
    assert body["layers"]["grids"] == 22


def test_grids_as_geojson(client: TestClient) -> None:
    response = client.get("/api/v1/grids")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection" and body["total"] == 22
    first = body["features"][0]
    assert first["geometry"]["type"] == "Polygon"
    assert first["properties"]["code"] == "330206002016001"
    assert first["properties"]["name"] == "凌霄社区第一网格"


@pytest.mark.parametrize("layer", PUBLIC_LAYERS)
def test_every_public_layer_is_served(client: TestClient, layer: str) -> None:
    body = client.get(f"/api/v1/{layer}").json()
    assert body["total"] == len(body["features"]) > 0


def test_bbox_filter(client: TestClient) -> None:
    box = "121.8300,29.8930,121.8360,29.8960"
    body = client.get("/api/v1/merchants", params={"bbox": box}).json()
    assert 0 < body["total"] < 120
    for feature in body["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert 121.83 <= lon <= 121.836 and 29.893 <= lat <= 29.896


@pytest.mark.parametrize(
    ("bbox", "fragment"),
    [
        ("121.8,29.8,abc", "must be four numbers"),
        ("121.9,29.8,121.8,29.9", "exceeds"),
        ("121.8,95,121.9,96", "out of range"),
        ("nan,1,2,3", "four numbers"),
    ],
)
def test_bad_bbox_is_a_clear_400(client: TestClient, bbox: str, fragment: str) -> None:
    response = client.get("/api/v1/grids", params={"bbox": bbox})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_bbox" and fragment in error["message"]


def test_unknown_path_is_json_404(client: TestClient) -> None:
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_public_answers_hold_no_member_data(client: TestClient) -> None:
    texts = [client.get(f"/api/v1/{layer}").text for layer in PUBLIC_LAYERS]
    texts += [
        client.get("/about").text,
        client.get("/").text,
        client.get("/healthz").text,
        client.get("/openapi.json").text,
    ]
    for text in texts:
        # no member's id or attribute, and no layer or field holding members
        assert "PM0001" not in text and "in_service" not in text
        assert not re.search(r'"members"\s*:', text) and "members.csv" not in text


def test_landing_page_chinese_by_default_english_on_request(client: TestClient) -> None:
    zh = client.get("/about")
    assert '<html lang="zh">' in zh.text and "网格治理地图服务" in zh.text and "凌霄社区" in zh.text
    en = client.get("/about?lang=en")
    assert '<html lang="en">' in en.text and "Grid governance map service" in en.text
    browser = client.get("/about", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in browser.text


def test_landing_page_escapes_layer_text(database_url: str, sample_dir: Path) -> None:
    path = sample_dir / "boundaries" / "community.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["features"][0]["properties"]["name"] = "<script>alert(1)</script>"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    engine = make_engine(database_url)
    assert load_folder(engine, sample_dir).ok
    engine.dispose()
    app = create_app(Settings(database_url=database_url))
    with TestClient(app) as c:
        page = c.get("/about").text
    app.state.engine.dispose()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
