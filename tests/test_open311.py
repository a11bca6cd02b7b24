"""Open311 GeoReport v2 under /open311/v2/, on SQLite and on PostGIS.

Every endpoint in JSON and in XML (the XML parsed); a form-encoded report is a
case of /api/v1/issues, once, also when the same form is sent again; contacts
never come back; the filters, the 90-day window and the 1000 cap; the errors
list; and the Python GeoReport client against a running server.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from gis.crs import from_wgs84
from store.db import make_engine
from store.models import Issue
from tests.helpers import (
    GAOTANG_CODE,
    GAOTANG_NAME,
    HOSPITAL,
    MORNING,
    SHIMAO,
    auth,
    neighbour_community,
)

BASE = "/open311/v2"
FORM = {
    "service_code": "stairwell_clutter",
    "lat": str(SHIMAO[1]),
    "long": str(SHIMAO[0]),
    "description": "楼道里堆满了装修垃圾和旧家具",
    "attribute[floor]": "5",
    "first_name": "阿姨",
    "last_name": "王",
    "phone": "13800138000",
    "email": "wang@example.cn",
    "device_id": "device-42",
}
SECRETS = ("13800138000", "王阿姨", "wang@example.cn", "device-42", "phone", "email")


@pytest.fixture()
def o311(api: TestClient) -> TestClient:
    """The API at a fixed time of day."""
    api.app.state.clock = lambda: MORNING  # type: ignore[attr-defined]
    return api


def post(api: TestClient, fmt: str = "json", headers: dict[str, str] | None = None, **form: Any):  # type: ignore[no-untyped-def]
    """Send :data:`FORM` with ``form``'s changes (None leaves a field out)."""
    data = {k: v for k, v in {**FORM, **form}.items() if v is not None}
    return api.post(f"{BASE}/requests.{fmt}", data=data, headers=headers or {})


NO_FLOOR = {"attribute[floor]": None}  # for services that do not ask it


def xml(response: Any) -> ET.Element:
    assert response.headers["content-type"].startswith("application/xml"), response.text
    return ET.fromstring(response.content)


def native_cases(api: TestClient) -> list[dict[str, Any]]:
    body = api.get("/api/v1/issues", params={"limit": 1000}).json()
    return [f["properties"] for f in body["features"]]


# --- discovery and services --------------------------------------------------------------


def test_discovery_in_both_formats(o311: TestClient) -> None:
    body = o311.get(f"{BASE}/discovery.json").json()
    assert body["changeset"].endswith("Z")
    endpoint = body["endpoints"][0]
    assert endpoint["url"].endswith("/open311/v2") and endpoint["type"] == "production"
    assert "GeoReport_v2" in endpoint["specification"]
    root = xml(o311.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    formats = [f.text for f in root.findall("endpoints/endpoint/formats/format")]
    assert formats == endpoint["formats"]


def test_services_are_the_catalogue_in_chinese_or_english(o311: TestClient) -> None:
    services = o311.get(f"{BASE}/services.json").json()
    catalogue = o311.get("/api/v1/categories").json()["categories"]
    assert [s["service_code"] for s in services] == [c["code"] for c in catalogue]
    clutter = next(s for s in services if s["service_code"] == "stairwell_clutter")
    assert clutter["service_name"] == "楼道堆物" and clutter["metadata"] is True
    assert clutter["group"] == "社区事务" and clutter["type"] == "realtime"
    assert not next(s for s in services if s["service_code"] == "greenery")["metadata"]
    english = o311.get(f"{BASE}/services.json", params={"lang": "en"}).json()
    assert next(s for s in english if s["service_code"] == "greenery")["service_name"] == (
        "Parks and greenery"
    )
    accepted = o311.get(f"{BASE}/services.json", headers={"Accept-Language": "en-GB"}).json()
    assert accepted == english
    root = xml(o311.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    assert [s.findtext("service_code") for s in root.findall("service")] == [
        s["service_code"] for s in services
    ]
    assert root.find("service/metadata") is not None
    assert {s.findtext("metadata") for s in root.findall("service")} == {"true", "false"}


def test_service_definition_in_both_formats(o311: TestClient) -> None:
    body = o311.get(f"{BASE}/services/stairwell_clutter.json").json()
    assert body["service_code"] == "stairwell_clutter"
    floor = next(a for a in body["attributes"] if a["code"] == "floor")
    assert floor["datatype"] == "number" and floor["required"] is True
    elder = o311.get(f"{BASE}/services/elder_care.xml")
    root = xml(elder)
    assert root.tag == "service_definition"
    keys = [v.findtext("key") for v in root.findall("attributes/attribute/values/value")]
    assert keys == ["yes", "no"]
    for code in ("greenery", "no_such_thing"):
        missing = o311.get(f"{BASE}/services/{code}.json")
        assert missing.status_code == 404
        assert missing.json()[0]["code"] == 404 and code in missing.json()[0]["description"]


def test_a_communitys_own_catalogue(o311: TestClient, loaded_url: str, tmp_path: Path) -> None:
    """Gaotang (the sample moved east) clears stairwells within a day under its own name
    and does not take parking reports; Open311 follows the one catalogue."""
    from store.load import load_folder

    folder = neighbour_community(tmp_path / "gaotang", GAOTANG_CODE, GAOTANG_NAME, 0.05, "GT-")
    (folder / "category_overrides.csv").write_text(
        "code,time_limit,unit,name_zh,name_en,offered\n"
        "stairwell_clutter,24h,,楼道堆物清理,,\n"
        "parking,,,,,false\n",
        encoding="utf-8",
    )
    engine = make_engine(loaded_url)
    assert load_folder(engine, folder).ok
    engine.dispose()

    def offered(**params: str) -> dict[str, str]:
        body = o311.get(f"{BASE}/services.json", params=params).json()
        return {s["service_code"]: s["service_name"] for s in body}

    assert offered()["stairwell_clutter"] == "楼道堆物" and "parking" in offered()
    there = offered(jurisdiction_id=GAOTANG_CODE)
    assert there["stairwell_clutter"] == "楼道堆物清理" and "parking" not in there
    assert "parking" in offered(jurisdiction_id="330206002016")  # Lingxiao's catalogue
    east = {"long": str(SHIMAO[0] + 0.05), "lat": str(SHIMAO[1])}
    taken = post(o311, **east)
    assert taken.status_code == 201, taken.text
    assert "24小时" in taken.json()[0]["service_notice"]
    case_id = taken.json()[0]["service_request_id"]
    [read] = o311.get(f"{BASE}/requests/{case_id}.json").json()
    assert read["service_name"] == "楼道堆物清理" and "24小时" in read["service_notice"]
    refused = post(o311, service_code="parking", description="乱停车", **east, **NO_FLOOR)
    assert refused.status_code == 400 and "parking" in refused.json()[0]["description"]


# --- reporting -------------------------------------------------------------------------------


def test_a_form_report_is_one_native_case_also_when_retried(o311: TestClient) -> None:
    first = post(o311)
    assert first.status_code == 201, first.text
    [answer] = first.json()
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    assert "3天" in answer["service_notice"]  # stairwell clutter: 3 days
    again = post(o311)
    assert again.status_code == 201 and again.json()[0] == answer
    assert again.headers["idempotent-replayed"] == "true"
    cases = native_cases(o311)
    assert [c["id"] for c in cases] == [int(answer["service_request_id"])]
    case = cases[0]
    assert case["grid"]["code"] == "330206002016016" and case["category"]["code"] == (
        "stairwell_clutter"
    )
    assert case["description"] == "楼道里堆满了装修垃圾和旧家具\n楼层：5"
    # an hour later the same form is still a retry; two hours later it is a new report
    o311.app.state.clock = lambda: MORNING + timedelta(minutes=70)  # type: ignore[attr-defined]
    assert post(o311).json()[0] == answer
    o311.app.state.clock = lambda: MORNING + timedelta(hours=2, minutes=1)  # type: ignore[attr-defined]
    later = post(o311)
    assert later.status_code == 201 and later.json()[0] != answer
    assert len(native_cases(o311)) == 2


def test_the_idempotency_key_header_is_the_native_rule(o311: TestClient) -> None:
    headers = {"Idempotency-Key": "fms-report-0001"}
    first = post(o311, headers=headers)
    again = post(o311, "xml", headers=headers)
    assert first.status_code == again.status_code == 201
    assert (
        xml(again).findtext("request/service_request_id") == (first.json()[0]["service_request_id"])
    )
    other = post(o311, headers=headers, description="别的事")
    assert other.status_code == 400
    assert "Idempotency-Key" in other.json()[0]["description"]
    assert len(native_cases(o311)) == 1


def test_the_staff_see_the_contacts_and_nobody_else(
    o311: TestClient, tokens: dict[str, str]
) -> None:
    case_id = post(o311).json()[0]["service_request_id"]
    staff = o311.get(f"/api/v1/issues/{case_id}", headers=auth(tokens["manager"])).json()
    assert staff["reporter"] == {"name": "王阿姨", "phone": "13800138000"}
    assert staff["channel"] == "web"
    for path in (f"requests/{case_id}", "requests"):
        for fmt in ("json", "xml"):
            answer = o311.get(f"{BASE}/{path}.{fmt}")
            assert answer.status_code == 200, answer.text
            assert case_id in answer.text
            for secret in SECRETS:
                assert secret not in answer.text, (path, fmt, secret)


def test_staff_channels_need_an_api_key(o311: TestClient, tokens: dict[str, str]) -> None:
    refused = post(o311, channel="patrol")
    assert refused.status_code == 403 and "patrol" in refused.json()[0]["description"]
    bad_key = post(o311, api_key="not-a-token")
    assert bad_key.status_code == 403, bad_key.text
    taken = post(o311, channel="patrol", api_key=tokens["grid_worker"])
    assert taken.status_code == 201, taken.text
    case_id = taken.json()[0]["service_request_id"]
    staff = o311.get(f"/api/v1/issues/{case_id}", headers=auth(tokens["manager"])).json()
    assert staff["channel"] == "patrol"


def test_gcj02_lands_in_the_grid_of_the_wgs84_point(o311: TestClient) -> None:
    lon, lat = from_wgs84(*HOSPITAL, "gcj02")
    shifted = post(
        o311, service_code="elder_care", long=str(float(lon)), lat=str(float(lat)), crs="gcj02",
        **NO_FLOOR,
    )  # fmt: skip
    plain = post(
        o311, service_code="elder_care", long=str(HOSPITAL[0]), lat=str(HOSPITAL[1]),
        description="独居老人需要上门看看", **{**NO_FLOOR, "attribute[lives_alone]": "yes"},
    )  # fmt: skip
    assert shifted.status_code == plain.status_code == 201, shifted.text
    ids = [r.json()[0]["service_request_id"] for r in (shifted, plain)]
    read = o311.get(f"{BASE}/requests.json", params={"service_request_id": ",".join(ids)})
    grids = {r["address_id"] for r in read.json()}
    assert grids == {"330206002016020"}
    second = next(r for r in read.json() if r["service_request_id"] == ids[1])
    assert second["description"] == "独居老人需要上门看看\n是否独居：是"
    first = next(r for r in read.json() if r["service_request_id"] == ids[0])
    assert abs(first["long"] - HOSPITAL[0]) < 1e-4 and abs(first["lat"] - HOSPITAL[1]) < 1e-4


def test_an_address_string_names_a_building_or_a_compound(o311: TestClient) -> None:
    form = {k: v for k, v in FORM.items() if k not in ("lat", "long")}
    building = o311.post(
        f"{BASE}/requests.json", data={**form, "address_string": "凌霄花园 2号楼 三单元"}
    )
    assert building.status_code == 201, building.text
    compound = o311.post(f"{BASE}/requests.json", data={**form, "address_string": "九峰苑"})
    assert compound.status_code == 201, compound.text
    by_id = o311.post(f"{BASE}/requests.json", data={**form, "address_id": "C01-B03"})
    assert by_id.status_code == 201, by_id.text
    cases = {c["id"]: c for c in native_cases(o311)}
    grid = {
        name: cases[int(r.json()[0]["service_request_id"])]["grid"]["code"]
        for name, r in (("building", building), ("compound", compound), ("id", by_id))
    }
    assert grid == {
        "building": "330206002016003",
        "compound": "330206002016022",
        "id": "330206002016001",
    }
    unknown = o311.post(f"{BASE}/requests.xml", data={**form, "address_string": "火星小区"})
    assert unknown.status_code == 400
    root = xml(unknown)
    assert root.tag == "errors" and root.findtext("error/code") == "400"
    assert "火星小区" in (root.findtext("error/description") or "")
    nowhere = o311.post(f"{BASE}/requests.json", data=form)
    assert nowhere.status_code == 400 and "address_string" in nowhere.json()[0]["description"]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"service_code": "no_such"}, "no_such"),
        ({"service_code": ""}, "service_code"),
        ({"lat": "north"}, "north"),
        ({"long": "nan"}, "nan"),
        ({"lat": "95"}, "95"),
        ({"lat": "29.0", "long": "121.0"}, "outside"),
        ({"attribute[floor]": "roof"}, "roof"),
        ({"attribute[floor]": ""}, "floor"),
        ({"attribute[colour]": "red"}, "colour"),
        ({"description": " "}, "describe"),
        ({"phone": "call me"}, "phone 'call me'"),
        ({"media_url": "javascript:alert(1)"}, "javascript"),
        ({"jurisdiction_id": "330206002015"}, "330206002015"),
        ({"jurisdiction_id": "bogus"}, "bogus"),
        ({"crs": "mars"}, "'mars'"),
    ],
)
def test_bad_reports_are_400s_that_name_the_value(
    o311: TestClient, change: dict[str, str], named: str
) -> None:
    response = post(o311, **change)
    assert response.status_code == 400, response.text
    [error] = response.json()
    assert error["code"] == 400 and named in error["description"], error
    assert native_cases(o311) == []


def test_a_report_in_its_jurisdiction_is_taken(o311: TestClient) -> None:
    for code in ("330206002016", "330206002"):
        response = post(o311, jurisdiction_id=code, description=f"在 {code}")
        assert response.status_code == 201, response.text


def test_a_body_that_is_not_a_form_is_a_400(o311: TestClient) -> None:
    response = o311.post(f"{BASE}/requests.xml", json=FORM)
    assert response.status_code == 400
    assert "form" in (xml(response).findtext("error/description") or "")


def test_the_report_rate_limit_applies(o311: TestClient) -> None:
    from service.ratelimit import report_limit
    from service.settings import Settings

    o311.app.state.report_limit = report_limit(Settings(report_rate=2))  # type: ignore[attr-defined]
    codes = [post(o311, description=f"第{i}次").status_code for i in range(3)]
    assert codes == [201, 201, 429]
    limited = post(o311, "xml", description="again")
    assert limited.status_code == 429 and limited.headers["retry-after"]
    assert xml(limited).findtext("error/code") == "429"


# --- reading -------------------------------------------------------------------------------


def _age(url: str, case_id: str, days: float) -> None:
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        moment = MORNING - timedelta(days=days)
        session.execute(
            update(Issue)
            .where(Issue.id == int(case_id))
            .values(reported_at=moment, updated_at=moment)
        )
    engine.dispose()


def test_requests_in_both_formats_with_the_fields_of_the_spec(
    o311: TestClient, tokens: dict[str, str]
) -> None:
    case_id = post(o311).json()[0]["service_request_id"]
    o311.post(
        f"/api/v1/issues/{case_id}/transitions",
        json={"to": "filed"},
        headers=auth(tokens["dispatcher"]),
    )
    [one] = o311.get(f"{BASE}/requests/{case_id}.json").json()
    assert one["service_request_id"] == case_id and one["status"] == "open"
    assert one["status_notes"] == "已立案" and one["service_name"] == "楼道堆物"
    assert one["requested_datetime"] == "2026-11-26T02:00:00Z"
    assert one["expected_datetime"].endswith("Z") and one["agency_responsible"] == "凌霄社区"
    assert one["address"] == "凌霄社区第十六网格" and one["lat"] == SHIMAO[1]
    english = o311.get(f"{BASE}/requests/{case_id}.json", params={"lang": "en"}).json()[0]
    assert english["status_notes"] == "filed" and english["service_name"] == "Stairwell clutter"
    root = xml(o311.get(f"{BASE}/requests/{case_id}.xml"))
    assert root.tag == "service_requests"
    [request] = root.findall("request")
    assert {child.tag for child in request} == set(one)
    assert request.findtext("status_notes") == "已立案"
    assert request.findtext("zipcode") == "" and request.findtext("long") == str(SHIMAO[0])
    listed = xml(o311.get(f"{BASE}/requests.xml"))
    assert [r.findtext("service_request_id") for r in listed.findall("request")] == [case_id]


def test_filters_window_and_status(
    o311: TestClient, tokens: dict[str, str], loaded_url: str
) -> None:
    ids = [post(o311, description=f"第{i}件").json()[0]["service_request_id"] for i in range(4)]
    greenery = post(o311, service_code="greenery", description="树倒了", **NO_FLOOR)
    ids.append(greenery.json()[0]["service_request_id"])
    _age(loaded_url, ids[0], 100)  # outside the default window
    _age(loaded_url, ids[1], 30)
    desk = auth(tokens["dispatcher"])
    o311.post(f"/api/v1/issues/{ids[2]}/transitions", json={"to": "rejected", "note": "不属实"},
              headers=desk)  # fmt: skip

    def listed(**params: str) -> list[str]:
        response = o311.get(f"{BASE}/requests.json", params=params)
        assert response.status_code == 200, response.text
        return [r["service_request_id"] for r in response.json()]

    assert listed() == [ids[4], ids[3], ids[2], ids[1]]  # newest first, the last 90 days
    assert listed(status="closed") == [ids[2]]
    assert listed(status="open") == [ids[4], ids[3], ids[1]]
    assert listed(status="open,closed") == listed()
    assert listed(service_code="greenery") == [ids[4]]
    assert listed(service_code="greenery,stairwell_clutter") == listed()
    assert listed(jurisdiction_id="330206002016") == listed()
    assert listed(jurisdiction_id="330206002016021") == []  # another grid
    start = (MORNING - timedelta(days=120)).isoformat() + "Z"
    end = (MORNING - timedelta(days=40)).isoformat() + "Z"
    assert listed(start_date=start, end_date=end) == [ids[0]]
    assert listed(start_date=(MORNING - timedelta(days=31)).strftime("%Y-%m-%d")) == [
        ids[4], ids[3], ids[2], ids[1]
    ]  # fmt: skip
    assert listed(end_date=end) == [ids[0]]  # the 90 days before end_date
    # the ids override every other parameter, the old one included
    assert listed(service_request_id=f"{ids[0]},{ids[4]}", status="closed") == [ids[4], ids[0]]
    too_wide = o311.get(
        f"{BASE}/requests.json",
        params={"start_date": start, "end_date": MORNING.isoformat() + "Z"},
    )
    assert too_wide.status_code == 400 and "90 days" in too_wide.json()[0]["description"]


def test_at_most_1000_requests_are_listed(o311: TestClient, loaded_url: str) -> None:
    from sqlalchemy import insert, select

    post(o311)
    engine = make_engine(loaded_url)
    with Session(engine) as session, session.begin():
        row = session.execute(select(Issue.__table__).limit(1)).mappings().one()
        copy = {k: v for k, v in row.items() if k not in ("id", "idempotency_key")}
        session.execute(insert(Issue.__table__), [copy] * 1004)
    engine.dispose()
    body = o311.get(f"{BASE}/requests.json").json()
    assert len(body) == 1000
    ids = [int(r["service_request_id"]) for r in body]
    assert ids == sorted(ids, reverse=True) and max(ids) == 1005


def test_tokens_answer_the_request_id(o311: TestClient) -> None:
    case_id = post(o311).json()[0]["service_request_id"]
    [answer] = o311.get(f"{BASE}/tokens/{case_id}.json").json()
    assert answer == {"service_request_id": case_id, "token": case_id}
    root = xml(o311.get(f"{BASE}/tokens/{case_id}.xml"))
    assert root.findtext("request/token") == case_id
    assert o311.get(f"{BASE}/tokens/99999.json").status_code == 404


@pytest.mark.parametrize(
    ("path", "status", "named"),
    [
        ("requests/99999.json", 404, "99999"),
        ("requests/abc.xml", 400, "abc"),
        ("requests.json?status=pending", 400, "pending"),
        ("requests.json?service_code=nope", 400, "nope"),
        ("requests.json?start_date=yesterday", 400, "yesterday"),
        ("requests.json?end_date=0001-01-01T00:00:00%2B01:00", 400, "0001-01-01"),
        ("requests.json?start_date=9999-12-31", 400, "9999-12-31"),
        ("requests.json?service_request_id=1,x", 400, "'x'"),
        ("requests.json?jurisdiction_id=zz", 400, "zz"),
        ("services.yaml", 404, "yaml"),
        ("requests.csv", 404, "csv"),
        ("nothing.json", 404, "Not Found"),
    ],
)
def test_errors_are_the_spec_list_in_the_asked_format(
    o311: TestClient, path: str, status: int, named: str
) -> None:
    response = o311.get(f"{BASE}/{path}")
    assert response.status_code == status, response.text
    if path.split("?")[0].endswith(".xml"):
        root = xml(response)
        assert root.tag == "errors" and root.findtext("error/code") == str(status)
        assert named in (root.findtext("error/description") or "")
    else:
        [error] = response.json()
        assert error["code"] == status and named in error["description"], error


def test_the_middleware_refusals_are_the_spec_list_too(o311: TestClient) -> None:
    nul = o311.get(f"{BASE}/requests.xml?status=%00")
    assert nul.status_code == 400 and "NUL" in (xml(nul).findtext("error/description") or "")
    huge = o311.post(f"{BASE}/requests.json", data={**FORM, "description": "堆" * 400_000})
    assert huge.status_code == 413 and huge.json()[0]["code"] == 413
    wrong = o311.put(f"{BASE}/requests.json")
    assert wrong.status_code == 405 and wrong.json()[0]["code"] == 405


def test_the_openapi_document_describes_both_formats(o311: TestClient) -> None:
    paths = o311.get("/openapi.json").json()["paths"]
    mine = {path: item for path, item in paths.items() if path.startswith(BASE)}
    assert set(mine) == {
        f"{BASE}/discovery.{{fmt}}",
        f"{BASE}/services.{{fmt}}",
        f"{BASE}/services/{{service_code}}.{{fmt}}",
        f"{BASE}/requests.{{fmt}}",
        f"{BASE}/requests/{{request_id}}.{{fmt}}",
        f"{BASE}/tokens/{{token_id}}.{{fmt}}",
    }
    for item in mine.values():
        for operation in item.values():
            for status, answer in operation["responses"].items():
                assert set(answer["content"]) == {"application/json", "application/xml"}, status
    form = mine[f"{BASE}/requests.{{fmt}}"]["post"]["requestBody"]["content"]
    assert set(form) == {"application/x-www-form-urlencoded"}


def test_what_a_resident_typed_stays_text_in_xml(o311: TestClient) -> None:
    typed = '<script>alert(1)</script> & "楼道" </description><x>'
    case_id = post(o311, description=typed).json()[0]["service_request_id"]
    response = o311.get(f"{BASE}/requests/{case_id}.xml")
    assert b"<script>" not in response.content
    assert xml(response).findtext("request/description", "").startswith(typed)


# --- a real client ---------------------------------------------------------------------------


def test_the_georeport_client_lists_services_and_reads_requests(live_server: str) -> None:
    import requests  # georeport's own HTTP client
    from georeport import GeoReport

    root = f"{live_server}/open311/v2"
    created = requests.post(f"{root}/requests.json", data=FORM, timeout=30)
    assert created.status_code == 201, created.text
    case_id = created.json()[0]["service_request_id"]
    for fmt in ("json", "xml"):
        client = GeoReport(root, output_format=fmt)
        services = client.get_service_list()
        assert {s["service_code"] for s in services} >= {"stairwell_clutter", "greenery"}
        definition = client.get_service_definition("stairwell_clutter")
        assert definition["service_code"] == "stairwell_clutter"
        requests = client.get_service_requests(service_code="stairwell_clutter", status="open")
        if isinstance(requests, dict):  # xmltodict gives one request as a dict, not a list
            requests = [requests]
        assert case_id in [r["service_request_id"] for r in requests]
        one = client.get_service_request(case_id)
        assert one["service_request_id"] == case_id and one["service_code"] == "stairwell_clutter"
        assert "13800138000" not in str(one)
