"""OGC API – Features under /ogc/: Part 1 (core, GeoJSON, HTML, OpenAPI 3.0), Part 2 (CRS).

Run on both backends over the Lingxiao sample with the 300 demo cases (written at a
fixed ``MORNING``, so that no assertion depends on today's date).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Transformer
from sqlalchemy.orm import Session

from service.catalogue import PUBLIC_LAYERS
from store.db import make_engine
from tests.helpers import GOOD_REPORT, MORNING, auth

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
CONTACT = {"name": "王小明", "phone": "13800138000"}


@pytest.fixture()
def demo(loaded_url: str) -> str:
    """The loaded sample with the 300 demo cases."""
    from store.demo import load_demo_cases

    engine = make_engine(loaded_url)
    with Session(engine) as session, session.begin():
        assert load_demo_cases(session, MORNING) == 300
    engine.dispose()
    return loaded_url


@pytest.fixture()
def ogc(demo: str, settings: Any) -> Iterator[TestClient]:
    """A client of the app over the sample and its demo cases, the clock at MORNING."""
    from api.app import create_app

    app = create_app(settings)
    app.state.clock = lambda: MORNING
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def _get(client: TestClient, path: str, status: int = 200, **kw: Any) -> Any:
    answer = client.get(path, **kw)
    assert answer.status_code == status, (path, answer.text[:500])
    return answer


def _link(body: dict[str, Any], rel: str) -> dict[str, Any] | None:
    return next((item for item in body["links"] if item["rel"] == rel), None)


def _read_all(client: TestClient, path: str, **kw: Any) -> list[dict[str, Any]]:
    """Every feature reached from ``path`` through its ``next`` links."""
    features: list[dict[str, Any]] = []
    url: str | None = path
    while url:
        body = _get(client, url, **kw).json()
        features += body["features"]
        following = _link(body, "next")
        url = following["href"] if following else None
    return features


# --- Part 1: core -----------------------------------------------------------------------------


def test_the_landing_page_links_what_clients_need(ogc: TestClient) -> None:
    for path in ("/ogc", "/ogc/"):
        body = _get(ogc, path).json()
        rels = {item["rel"]: item for item in body["links"]}
        assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= set(
            rels
        )
        assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
        assert rels["data"]["href"].startswith("http://testserver/ogc/collections")
    classes = _get(ogc, "/ogc/conformance").json()["conformsTo"]
    core = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
    for name in ("core", "geojson", "html", "oas30"):
        assert core + name in classes


def test_the_service_description_is_valid_openapi_3_0(ogc: TestClient) -> None:
    from openapi_spec_validator import validate

    answer = _get(ogc, "/ogc/api?f=json")
    assert answer.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
    doc = answer.json()
    assert doc["openapi"].startswith("3.0")
    validate(doc)
    items = doc["paths"]["/collections/cases/items"]["get"]
    named = {p.get("name") or p["$ref"].rsplit("/", 1)[1] for p in items["parameters"]}
    assert {"limit", "bbox", "datetime", "crs", "status", "grid_code"} <= named


def test_one_collection_per_public_layer_and_the_cases_with_their_extents(
    ogc: TestClient,
) -> None:
    body = _get(ogc, "/ogc/collections").json()
    found = {c["id"]: c for c in body["collections"]}
    assert list(found) == [*PUBLIC_LAYERS, "cases"]
    for cid, c in found.items():
        assert c["title"] and c["description"], cid
        (box,) = c["extent"]["spatial"]["bbox"]
        assert 121.8 < box[0] <= box[2] < 121.9 and 29.8 < box[1] <= box[3] < 29.95, cid
        assert c["storageCrs"] == CRS84 and CRS84 in c["crs"] and EPSG + "4550" in c["crs"]
        layer = _get(ogc, f"/api/v1/{cid}").json() if cid != "cases" else None
        if layer is not None:
            assert c["count"] == layer["total"], cid
        assert _get(ogc, f"/ogc/collections/{cid}").json()["id"] == cid
    first, last = found["cases"]["extent"]["temporal"]["interval"][0]
    assert first < last <= MORNING.isoformat() + "Z"
    assert found["cases"]["count"] == 300
    assert "temporal" not in found["grids"]["extent"]


def test_items_page_by_limit_with_counts_links_and_geojson(ogc: TestClient) -> None:
    answer = _get(ogc, "/ogc/collections/buildings/items")
    assert answer.headers["content-type"] == "application/geo+json"
    assert answer.headers["content-crs"] == f"<{CRS84}>"
    body = answer.json()
    assert body["type"] == "FeatureCollection"
    assert body["numberReturned"] == len(body["features"]) == 10  # the default limit
    assert body["numberMatched"] == 260
    assert body["timeStamp"] == MORNING.isoformat() + "Z"
    assert _link(body, "prev") is None
    following = _link(body, "next")
    assert following is not None and following["type"] == "application/geo+json"
    # the same paging and format links in the HTTP Link header (RFC 8288)
    header = answer.headers["link"]
    assert f'<{following["href"]}>; rel="next"; type="application/geo+json"' in header
    assert 'rel="self"' in header and 'rel="alternate"; type="text/html"' in header
    second = _get(ogc, following["href"]).json()
    assert _link(second, "prev") is not None
    assert not {f["id"] for f in body["features"]} & {f["id"] for f in second["features"]}
    many = _get(ogc, "/ogc/collections/buildings/items?limit=10000").json()
    assert many["numberReturned"] == 260 and _link(many, "next") is None
    one = _get(ogc, "/ogc/collections/buildings/items?limit=1&offset=259").json()
    assert one["numberReturned"] == 1 and _link(one, "next") is None


def test_reading_every_case_through_next_links_returns_each_exactly_once(
    ogc: TestClient,
) -> None:
    for limit in (7, 100):
        features = _read_all(ogc, f"/ogc/collections/cases/items?limit={limit}")
        ids = [f["id"] for f in features]
        assert len(ids) == 300 and len(set(ids)) == 300 and ids == sorted(ids), limit


def test_every_property_is_flat_and_every_collection_reads(ogc: TestClient) -> None:
    for cid in [*PUBLIC_LAYERS, "cases"]:
        body = _get(ogc, f"/ogc/collections/{cid}/items?limit=10000").json()
        assert body["features"], cid
        keys = None
        for feature in body["features"]:
            props = feature["properties"]
            assert not [k for k, v in props.items() if isinstance(v, dict | list)], cid
            keys = keys or set(props)
            assert set(props) == keys, cid  # the same columns on every feature
            one = _get(ogc, f"/ogc/collections/{cid}/items/{feature['id']}").json()
            assert one["properties"] == props and one["geometry"] == feature["geometry"]
            break
    case = _get(ogc, "/ogc/collections/cases/items?limit=1").json()["features"][0]["properties"]
    for pair in ("grid", "category", "status", "squad", "district"):
        assert any(k.startswith(pair + "_") and k.endswith("_name") for k in case), pair
    assert (
        "grid_head"
        not in _get(ogc, "/ogc/collections/grids/items").json()["features"][0]["properties"]
    )


def test_anonymous_readers_never_see_contacts_and_staff_do(
    ogc: TestClient, tokens: dict[str, str]
) -> None:
    made = ogc.post("/api/v1/issues", json={**GOOD_REPORT, "reporter": CONTACT})
    assert made.status_code == 201, made.text
    case = made.json()["id"]
    anonymous = [
        _get(ogc, f"/ogc/collections/cases/items/{case}").text,
        _get(ogc, f"/ogc/collections/cases/items/{case}?f=html").text,
        _get(ogc, "/ogc/collections/cases/items?limit=10000").text,
        _get(ogc, "/ogc/collections/cases/items?limit=10000&f=html").text,
    ]
    for text in anonymous:
        assert CONTACT["phone"] not in text and CONTACT["name"] not in text
        assert "reporter_phone" not in text
    staff = _get(ogc, f"/ogc/collections/cases/items/{case}", headers=auth(tokens["manager"]))
    assert staff.json()["properties"]["reporter_phone"] == CONTACT["phone"]
    page = _get(ogc, "/ogc/collections/cases/items?limit=10000", headers=auth(tokens["manager"]))
    assert CONTACT["phone"] in page.text
    assert _get(ogc, "/ogc/collections/cases", headers={"Authorization": "Bearer nope"}, status=401)


def test_bbox_datetime_and_property_filters(ogc: TestClient) -> None:
    every = _read_all(ogc, "/ogc/collections/cases/items?limit=10000")
    box = (121.83, 29.89, 121.84, 29.895)
    inside = {
        f["id"]
        for f in every
        if box[0] <= f["geometry"]["coordinates"][0] <= box[2]
        and box[1] <= f["geometry"]["coordinates"][1] <= box[3]
    }
    got = _read_all(ogc, "/ogc/collections/cases/items?limit=50&bbox=" + ",".join(map(str, box)))
    assert {f["id"] for f in got} == inside and inside
    reported = sorted(f["properties"]["reported_at"] for f in every)
    middle = reported[150]
    later = _read_all(ogc, f"/ogc/collections/cases/items?limit=1000&datetime={middle}/..")
    assert {f["properties"]["reported_at"] for f in later} == {r for r in reported if r >= middle}
    earlier = _get(ogc, f"/ogc/collections/cases/items?limit=1000&datetime=../{middle}").json()
    assert earlier["numberMatched"] == sum(r <= middle for r in reported)
    assert _get(ogc, f"/ogc/collections/cases/items?datetime={middle}").json()[
        "numberMatched"
    ] == reported.count(middle)
    day = middle[:10]
    on_day = _get(ogc, f"/ogc/collections/cases/items?datetime={day}").json()
    assert on_day["numberMatched"] == sum(r.startswith(day) for r in reported)
    both = _get(ogc, f"/ogc/collections/cases/items?datetime={reported[0]}/{reported[9]}").json()
    assert both["numberMatched"] == 10
    filed = _get(ogc, "/ogc/collections/cases/items?limit=1000&status=closed").json()
    assert filed["numberMatched"] == sum(f["properties"]["status"] == "closed" for f in every)
    assert all(f["properties"]["status"] == "closed" for f in filed["features"])
    garages = _get(ogc, "/ogc/collections/parking/items?kind=garage").json()
    assert garages["numberMatched"] >= 1
    assert all(f["properties"]["kind"] == "garage" for f in garages["features"])
    partners = _get(ogc, "/ogc/collections/merchants/items?caring_partner=true&limit=1000").json()
    assert all(f["properties"]["caring_partner"] is True for f in partners["features"])
    big = _get(ogc, "/ogc/collections/parking/items?capacity=420").json()
    assert [f["properties"]["capacity"] for f in big["features"]] == [420]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("colour=red", "colour"),
        ("limit=0", "limit"),
        ("limit=ten", "ten"),
        ("offset=-1", "offset"),
        ("bbox=1,2,3", "bbox"),
        ("bbox=121.9,29.8,121.8,29.9", "bbox"),
        ("datetime=yesterday", "yesterday"),
        ("datetime=2026-11-02/2026-11-01", "2026-11-02"),
        # no date can hold year 0 (year 1, an hour east of UTC), nor a day past 9999
        ("datetime=0001-01-01T00:00:00%2B01:00", "0001-01-01"),
        ("datetime=9999-12-31/..", "9999-12-31"),
        ("crs=EPSG:3857", "EPSG:3857"),
        ("bbox-crs=urn:nothing&bbox=1,2,3,4", "urn:nothing"),
        ("f=xml", "xml"),
        ("status=closed&status=filed", "status"),
        ("duplicate_of=abc", "abc"),
    ],
)
def test_bad_input_is_a_400_naming_it(ogc: TestClient, query: str, named: str) -> None:
    answer = _get(ogc, f"/ogc/collections/cases/items?{query}", status=400)
    body = answer.json()
    assert body["code"] and named in body["description"], body


def test_what_does_not_exist_is_a_404(ogc: TestClient) -> None:
    for path in (
        "/ogc/collections/members",
        "/ogc/collections/members/items",
        "/ogc/collections/cases/items/999999",
        "/ogc/collections/cases/items/abc",
        "/ogc/collections/grids/items/nope",
    ):
        assert _get(ogc, path, status=404).json()["code"].startswith("no_")
    assert _get(ogc, "/ogc/collections?foo=1", status=400).json()["code"] == "unknown_parameter"


def test_every_resource_answers_head_as_it_answers_get(ogc: TestClient) -> None:
    # Part 1 /req/core/http asks for HTTP/1.1, whose servers support GET and HEAD
    # (RFC 9110 s. 9.1); Part 3's abstract test get-queryables-uris asks HEAD first
    for path in (
        "/ogc",
        "/ogc/",
        "/ogc/conformance",
        "/ogc/api",
        "/ogc/collections",
        "/ogc/collections/cases",
        "/ogc/collections/cases/queryables",
        "/ogc/collections/cases/items?limit=2",
        "/ogc/collections/grids/items/330206002016001",
    ):
        got, head = _get(ogc, path), ogc.head(path)
        assert head.status_code == 200, path
        assert head.headers["content-type"] == got.headers["content-type"], path
        assert head.headers.get("link") == got.headers.get("link"), path
    assert ogc.head("/ogc/collections/members/items").status_code == 404


# --- Part 1: HTML -----------------------------------------------------------------------------


def test_every_resource_is_a_page_in_one_language(ogc: TestClient) -> None:
    paths = [
        "/ogc/",
        "/ogc/conformance",
        "/ogc/api",
        "/ogc/collections",
        "/ogc/collections/cases",
        "/ogc/collections/cases/queryables",
        "/ogc/collections/cases/items",
        "/ogc/collections/grids/items/330206002016001",
    ]
    for path in paths:
        zh = _get(ogc, path, params={"f": "html"})
        assert zh.headers["content-type"].startswith("text/html"), path
        assert '<html lang="zh">' in zh.text and "首页" in zh.text, path
        assert "<script" not in zh.text and "http" not in LINKS_OUT(zh.text), path
        en = _get(ogc, path, params={"f": "html", "lang": "en"})
        assert '<html lang="en">' in en.text and "Home" in en.text, path
        # data (in cells and headings) stay as written; the switch names Chinese in Chinese
        words = re.sub(
            r"<td>.*?</td>|<small>.*?</small>|<h1>.*?</h1>|>中文<", "", en.text, flags=re.S
        )
        assert not CHINESE.search(words), (path, CHINESE.findall(words)[:5])
        browser = _get(ogc, path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert browser.headers["content-type"].startswith("text/html"), path
        assert (
            not _get(ogc, path, headers={"Accept": "*/*"})
            .headers["content-type"]
            .startswith("text/html")
        ), path
    english = _get(ogc, "/ogc/collections?f=html&lang=en").text
    assert "Collections" in english and "Grids" in english


def LINKS_OUT(html: str) -> str:  # noqa: N802
    """What a page loads (scripts, styles, images): empty when nothing comes from outside."""
    return " ".join(re.findall(r"<(?:script|link|img)\b[^>]*>", html))


# --- Part 2: CRS ------------------------------------------------------------------------------


def test_coordinates_in_the_metric_crs_are_pyproj_s_to_the_millimetre(ogc: TestClient) -> None:
    plain = _get(ogc, "/ogc/collections/cases/items?limit=50").json()["features"]
    answer = _get(ogc, f"/ogc/collections/cases/items?limit=50&crs={EPSG}4550")
    assert answer.headers["content-crs"] == f"<{EPSG}4550>"
    metric = answer.json()["features"]
    # EPSG:4550 is northing first, as its authority defines it
    to_metric = Transformer.from_crs("OGC:CRS84", "EPSG:4550")
    for wgs, out in zip(plain, metric, strict=True):
        assert wgs["id"] == out["id"]
        north, east = to_metric.transform(*wgs["geometry"]["coordinates"])
        x, y = out["geometry"]["coordinates"]
        assert abs(x - north) < 0.001 and abs(y - east) < 0.001
        assert 3.2e6 < x < 3.4e6 and 3.5e5 < y < 4.5e5
    grid = _get(ogc, f"/ogc/collections/grids/items/330206002016001?crs={EPSG}4550").json()
    ring = grid["geometry"]["coordinates"][0]
    original = _get(ogc, "/ogc/collections/grids/items/330206002016001").json()
    for (n, e), (lon, lat) in zip(ring, original["geometry"]["coordinates"][0], strict=True):
        north, east = to_metric.transform(lon, lat)
        assert abs(n - north) < 0.001 and abs(e - east) < 0.001


def test_geographic_crs_are_latitude_first_and_bbox_crs_reads_each(ogc: TestClient) -> None:
    lon, lat = _get(ogc, "/ogc/collections/cases/items/1").json()["geometry"]["coordinates"]
    for code in ("4326", "4490"):
        one = _get(ogc, f"/ogc/collections/cases/items/1?crs={EPSG}{code}")
        assert one.headers["content-crs"] == f"<{EPSG}{code}>"
        assert one.json()["geometry"]["coordinates"] == pytest.approx([lat, lon], abs=1e-6)
    box = (121.83, 29.89, 121.84, 29.895)
    base = "/ogc/collections/cases/items?limit=1000&bbox="
    expected = {f["id"] for f in _get(ogc, base + ",".join(map(str, box))).json()["features"]}
    latlon = f"{box[1]},{box[0]},{box[3]},{box[2]}"
    got = _get(ogc, f"{base}{latlon}&bbox-crs={EPSG}4326").json()["features"]
    assert {f["id"] for f in got} == expected and expected
    to_metric = Transformer.from_crs("OGC:CRS84", "EPSG:4550")
    n0, e0 = to_metric.transform(box[0], box[1])
    n1, e1 = to_metric.transform(box[2], box[3])
    metric = f"{min(n0, n1)},{min(e0, e1)},{max(n0, n1)},{max(e0, e1)}"
    near = _get(ogc, f"{base}{metric}&bbox-crs={EPSG}4550").json()["features"]
    # a metric box is not a lon/lat box: its edges are not meridians; most cases agree
    assert len({f["id"] for f in near} ^ expected) <= 3
    outline = shapely.box(min(n0, n1), min(e0, e1), max(n0, n1), max(e0, e1))
    for feature in _get(ogc, f"{base}{metric}&bbox-crs={EPSG}4550&crs={EPSG}4550").json()[
        "features"
    ]:
        assert outline.buffer(1e-6).contains(shapely.Point(feature["geometry"]["coordinates"]))


def test_links_keep_the_query_and_the_crs(ogc: TestClient) -> None:
    body = _get(ogc, f"/ogc/collections/cases/items?limit=5&crs={EPSG}4490&status=closed").json()
    following = _link(body, "next")
    assert following is not None
    query = parse_qs(urlsplit(following["href"]).query)
    assert query["crs"] == [f"{EPSG}4490"] and query["status"] == ["closed"]
    assert query["offset"] == ["5"] and query["limit"] == ["5"]


# --- Part 3: filtering ------------------------------------------------------------------------

# a polygon over the middle of Lingxiao (lon/lat)
AREA = [(121.828, 29.889), (121.842, 29.889), (121.842, 29.897), (121.828, 29.897)]
AREA_WKT = "POLYGON((" + ", ".join(f"{x} {y}" for x, y in [*AREA, AREA[0]]) + "))"
ACCEPTANCE = f"status = 'filed' AND S_INTERSECTS(geometry, {AREA_WKT})"


def _ids(client: TestClient, cid: str, **params: str) -> set[Any]:
    body = _get(client, f"/ogc/collections/{cid}/items", params={"limit": "10000", **params})
    return {f["id"] for f in body.json()["features"]}


def _expected_cases(client: TestClient, test: Any) -> set[int]:
    every = _get(client, "/ogc/collections/cases/items?limit=10000").json()["features"]
    return {
        f["id"] for f in every if test(f["properties"], shapely.Point(f["geometry"]["coordinates"]))
    }


def test_the_same_filter_gives_the_same_ids_on_sqlite_and_postgis(
    sqlite_templates: Any, postgis_copies: Any, tmp_path: Any
) -> None:
    import shutil

    from sqlalchemy.engine import make_url

    from api.app import create_app
    from service.settings import Settings
    from store.demo import load_demo_cases
    from tests.conftest import PG_ADMIN_URL

    target = tmp_path / "both.sqlite3"
    shutil.copyfile(sqlite_templates["loaded"], target)
    name = postgis_copies.take("loaded")
    urls = {
        "sqlite": f"sqlite:///{target}",
        "postgis": make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False),
    }
    found: dict[str, set[Any]] = {}
    area = shapely.Polygon(AREA)
    try:
        for backend, url in urls.items():
            engine = make_engine(url)
            with Session(engine) as session, session.begin():
                load_demo_cases(session, MORNING)
            engine.dispose()
            app = create_app(Settings(database_url=url, var_dir=tmp_path / backend))
            with TestClient(app) as client:
                found[backend] = _ids(client, "cases", filter=ACCEPTANCE)
                expected = _expected_cases(
                    client, lambda p, g: p["status"] == "filed" and area.intersects(g)
                )
                assert found[backend] == expected, backend
            app.state.engine.dispose()
    finally:
        postgis_copies.give_back(name)
    assert found["sqlite"] == found["postgis"] and found["sqlite"]


def test_cql2_text_and_json_filter_alike(ogc: TestClient) -> None:
    import json

    area = shapely.Polygon(AREA)
    text = _ids(ogc, "cases", filter=f"S_INTERSECTS(geometry, {AREA_WKT}) OR status = 'filed'")
    as_json = {
        "op": "or",
        "args": [
            {
                "op": "s_intersects",
                "args": [{"property": "geometry"}, shapely.geometry.mapping(area)],
            },
            {"op": "=", "args": [{"property": "status"}, "filed"]},
        ],
    }
    by_json = _ids(ogc, "cases", **{"filter": json.dumps(as_json), "filter-lang": "cql2-json"})
    expected = _expected_cases(ogc, lambda p, g: area.intersects(g) or p["status"] == "filed")
    assert text == by_json == expected and expected
    box = {
        "op": "s_intersects",
        "args": [{"property": "geometry"}, {"bbox": [121.83, 29.89, 121.84, 29.895]}],
    }
    in_box = _ids(ogc, "cases", **{"filter": json.dumps(box), "filter-lang": "cql2-json"})
    assert in_box == _ids(ogc, "cases", bbox="121.83,29.89,121.84,29.895") and in_box
    assert in_box == _ids(
        ogc, "cases", filter="S_INTERSECTS(geometry, BBOX(121.83, 29.89, 121.84, 29.895))"
    )
    assert in_box == _ids(ogc, "cases", filter="BBOX(geometry, 121.83, 29.89, 121.84, 29.895)")


@pytest.mark.parametrize(
    ("cid", "cql", "test"),
    [
        (
            "cases",
            "NOT status IN ('closed', 'filed')",
            lambda p: p["status"] not in ("closed", "filed"),
        ),
        ("cases", "squad_id IS NULL", lambda p: p["squad_id"] is None),
        ("cases", "id BETWEEN 10 AND 19", lambda p: 10 <= p["id"] <= 19),
        (
            "cases",
            "reported_at >= TIMESTAMP('2026-11-01T00:00:00Z') AND category_code <> 'greenery'",
            lambda p: (
                p["reported_at"] >= "2026-11-01T00:00:00Z" and p["category_code"] != "greenery"
            ),
        ),
        ("merchants", "name LIKE '%店'", lambda p: p["name"].endswith("店")),
        ("merchants", "caring_partner = false", lambda p: p["caring_partner"] is False),
        (
            "buildings",
            "floors > 6 AND households <= 40",
            lambda p: p["floors"] > 6 and p["households"] <= 40,
        ),
        (
            "streets",
            "kind = 'path' OR name LIKE '%路'",
            lambda p: p["kind"] == "path" or p["name"].endswith("路"),
        ),
    ],
)
def test_filters_select_what_python_selects(ogc: TestClient, cid: str, cql: str, test: Any) -> None:
    every = _get(ogc, f"/ogc/collections/{cid}/items?limit=10000").json()["features"]
    expected = {f["id"] for f in every if test(f["properties"])}
    assert _ids(ogc, cid, filter=cql) == expected and expected


def test_like_is_case_sensitive_on_both_backends(ogc: TestClient) -> None:
    names = {
        f["properties"]["name_en"]
        for f in _get(ogc, "/ogc/collections/squads/items").json()["features"]
    }
    assert any(n.startswith("C") for n in names)
    upper = _ids(ogc, "squads", filter="name_en LIKE 'C%'")
    lower = _ids(ogc, "squads", filter="name_en LIKE 'c%'")
    assert upper and not lower


def test_filter_crs_reads_latitude_first_and_metric_polygons(ogc: TestClient) -> None:
    area = shapely.Polygon(AREA)
    plain = _ids(ogc, "cases", filter=f"S_WITHIN(geometry, {AREA_WKT})")
    latlon = "POLYGON((" + ", ".join(f"{y} {x}" for x, y in [*AREA, AREA[0]]) + "))"
    assert (
        _ids(
            ogc, "cases", **{"filter": f"S_WITHIN(geometry, {latlon})", "filter-crs": f"{EPSG}4326"}
        )
        == plain
    )
    to_metric = Transformer.from_crs("OGC:CRS84", "EPSG:4550")
    dense = shapely.segmentize(area, 0.0005)
    metric = shapely.Polygon([to_metric.transform(x, y) for x, y in dense.exterior.coords])
    near = _ids(
        ogc, "cases", **{"filter": f"S_WITHIN(geometry, {metric.wkt})", "filter-crs": f"{EPSG}4550"}
    )
    assert len(near ^ plain) <= 2 and plain
    assert plain == _expected_cases(ogc, lambda p, g: area.contains(g))


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"filter": "colour = 'red'"}, "colour"),
        ({"filter": "status = "}, "status = "),
        ({"filter": "status = 5"}, "status"),
        ({"filter": "grid_code LIKE 5"}, "LIKE"),
        ({"filter": "T_BEFORE(reported_at, TIMESTAMP('2026-01-01T00:00:00Z'))"}, "T_BEFORE"),
        ({"filter": "S_INTERSECTS(status, POINT(1 2))"}, "geometry"),
        ({"filter": "{", "filter-lang": "cql2-json"}, "{"),
        ({"filter": "status = 'x'", "filter-lang": "ecql"}, "ecql"),
        ({"filter": "status = 'x'", "filter-crs": "EPSG:3857"}, "EPSG:3857"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(
    ogc: TestClient, params: dict[str, str], named: str
) -> None:
    body = _get(ogc, "/ogc/collections/cases/items", status=400, params=params).json()
    assert body["code"].startswith("bad_filter") and named in body["description"], body


def test_conformance_and_queryables_declare_filtering(ogc: TestClient) -> None:
    classes = _get(ogc, "/ogc/conformance").json()["conformsTo"]
    for uri in (
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    ):
        assert uri in classes
    answer = _get(ogc, "/ogc/collections/cases/queryables")
    assert answer.headers["content-type"] == "application/schema+json"
    schema = answer.json()
    assert schema["properties"]["status"] == {"title": "status", "type": "string"}
    assert schema["properties"]["geometry"]["format"] == "geometry-point"
    assert "reporter_phone" not in schema["properties"]
    grids = _get(ogc, "/ogc/collections/grids/queryables").json()["properties"]
    assert grids["households"]["type"] == "integer" and "grid_head" not in grids


QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"


@pytest.mark.parametrize("cid", ["cases", "buildings"])
def test_the_items_link_their_queryables_in_body_and_link_header(ogc: TestClient, cid: str) -> None:
    # Part 3 /req/queryables/queryables-link A: any filterable resource (here
    # /collections/{id}/items) links its Queryables; the abstract test
    # /conf/queryables/get-queryables-uris reads that link from the Link header
    answer = _get(ogc, f"/ogc/collections/{cid}/items", headers={"Accept": "application/json"})
    link = _link(answer.json(), QUERYABLES_REL)
    assert link is not None and link["type"] == "application/schema+json"
    href = link["href"]
    assert urlsplit(href).path == f"/ogc/collections/{cid}/queryables"
    header = answer.headers["link"]
    assert f'<{href}>; rel="{QUERYABLES_REL}"; type="application/schema+json"' in header
    # the abstract test /conf/queryables/get-queryables compares $id with that href,
    # and /req/queryables/get-queryables-response B has $id without query parameters
    schema = _get(ogc, href, headers={"Accept": "application/schema+json"}).json()
    assert schema["$id"] == href
    english = _get(ogc, f"/ogc/collections/{cid}/queryables?lang=en&f=json").json()
    assert english["$id"] == href


def test_a_layer_s_bbox_is_exact_for_lines_and_polygons(ogc: TestClient) -> None:
    box = shapely.box(121.83, 29.89, 121.84, 29.895)
    for cid in ("buildings", "streets", "grids"):
        every = _get(ogc, f"/ogc/collections/{cid}/items?limit=10000").json()["features"]
        expected = {f["id"] for f in every if shapely.geometry.shape(f["geometry"]).intersects(box)}
        assert _ids(ogc, cid, bbox="121.83,29.89,121.84,29.895") == expected and expected, cid


SHAPELY_TESTS = {
    "S_INTERSECTS": "intersects",
    "S_DISJOINT": "disjoint",
    "S_CONTAINS": "contains",
    "S_WITHIN": "within",
    "S_TOUCHES": "touches",
    "S_CROSSES": "crosses",
    "S_OVERLAPS": "overlaps",
    "S_EQUALS": "equals",
}


def test_every_spatial_function_is_shapely_s_on_every_geometry_kind(ogc: TestClient) -> None:
    grids = _get(ogc, "/ogc/collections/grids/items?limit=10000").json()["features"]
    first = shapely.geometry.shape(grids[0]["geometry"])
    literals = [
        shapely.Polygon(AREA),
        shapely.LineString([(121.825, 29.890), (121.845, 29.898)]),
        first.representative_point(),
        first,  # equal to one grid, touching its neighbours
        shapely.MultiPoint([(121.83, 29.892), (121.84, 29.894)]),
    ]
    for geom in literals:
        for function, method in SHAPELY_TESTS.items():
            expected = {
                f["id"]
                for f in grids
                if getattr(shapely.geometry.shape(f["geometry"]), method)(geom)
            }
            got = _ids(ogc, "grids", filter=f"{function}(geometry, {geom.wkt})")
            assert got == expected, (function, geom.geom_type)
