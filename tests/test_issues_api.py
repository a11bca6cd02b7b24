"""Reporting and handling cases through the API, on SQLite and on PostGIS."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cases.deadlines import utcnow
from cases.lifecycle import TRANSITIONS, Status
from gis.crs import from_wgs84, to_metric
from store.db import make_engine
from store.models import Issue, IssueEvent
from tests.helpers import GOOD_REPORT as GOOD
from tests.helpers import HOSPITAL, SHIMAO, auth


def report(api: TestClient, **changes: Any) -> Any:
    return api.post("/api/v1/issues", json={**GOOD, **changes})


def count_rows(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    with Session(engine) as session:
        cases = session.scalar(select(func.count()).select_from(Issue)) or 0
        events = session.scalar(select(func.count()).select_from(IssueEvent)) or 0
    engine.dispose()
    return cases, events


def test_report_is_joined_to_grid_and_district(api: TestClient) -> None:
    response = report(api)
    assert response.status_code == 201, response.text
    case = response.json()
    assert case["status"] == "reported"
    assert case["grid"] == {
        "code": "330206002016016",
        "name": "凌霄社区第十六网格",
        "name_en": "Lingxiao community grid 16",
    }
    assert case["district"] == {
        "code": "BD02",
        "name": "凌霄东商圈",
        "name_en": "East business district (Fubang, Phoenix)",
    }
    assert case["location"] == {"lon": SHIMAO[0], "lat": SHIMAO[1]}
    assert case["deadline"].endswith("Z") and case["possible_duplicates"] == []
    assert response.headers["location"] == f"/api/v1/issues/{case['id']}"
    west = report(api, lon=121.8270, lat=29.8975, category="merchant").json()
    assert west["district"]["code"] == "BD01" and west["district"]["name"] == "凌霄西商圈"
    hospital = report(api, lon=HOSPITAL[0], lat=HOSPITAL[1], category="elder_care").json()
    assert hospital["grid"]["code"] == "330206002016020" and hospital["district"] is None


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_report_in_gcj02_or_bd09_lands_on_the_wgs84_truth(api: TestClient, crs: str) -> None:
    lon, lat = from_wgs84(*HOSPITAL, crs)
    response = report(api, lon=float(lon), lat=float(lat), crs=crs, category="elder_care")
    assert response.status_code == 201, response.text
    case = response.json()
    assert case["grid"]["code"] == "330206002016020"
    x0, y0 = to_metric(*HOSPITAL)
    x1, y1 = to_metric(case["location"]["lon"], case["location"]["lat"])
    assert abs(float(x1 - x0)) < 0.01 and abs(float(y1 - y0)) < 0.01
    # the same numbers read as WGS84 would be ~500 m away, outside the grid
    assert abs(float(lon) - HOSPITAL[0]) > 0.003


def test_staff_see_input_coordinates_and_contact_public_never(
    api: TestClient, tokens: dict[str, str]
) -> None:
    reporter = {"name": "王阿姨", "phone": "13800138000"}
    lon, lat = from_wgs84(*SHIMAO, "gcj02")
    created = report(api, lon=float(lon), lat=float(lat), crs="gcj02", reporter=reporter)
    case_id = created.json()["id"]
    public_texts = [
        created.text,
        api.get(f"/api/v1/issues/{case_id}").text,
        api.get("/api/v1/issues").text,
        api.get(f"/api/v1/issues/{case_id}/history").text,
        api.get("/api/v1/stats").text,
    ]
    for text in public_texts:
        assert "王阿姨" not in text and "13800138000" not in text
        assert "reporter" not in json.loads(text).__repr__()
    staff = api.get(f"/api/v1/issues/{case_id}", headers=auth(tokens["grid_worker"])).json()
    assert staff["reporter"] == reporter
    assert staff["input"] == {"crs": "gcj02", "lon": float(lon), "lat": float(lat)}


def test_idempotent_retry_returns_the_first_case(api: TestClient, loaded_url: str) -> None:
    headers = {"Idempotency-Key": "phone-7f3a-0001"}
    first = api.post("/api/v1/issues", json=GOOD, headers=headers)
    again = api.post("/api/v1/issues", json=GOOD, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert count_rows(loaded_url) == (1, 1)
    other = api.post("/api/v1/issues", json={**GOOD, "description": "别的事"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert count_rows(loaded_url) == (1, 1)


def test_near_duplicates_are_offered(api: TestClient) -> None:
    first = report(api).json()
    x, y = to_metric(*SHIMAO)
    from gis.crs import from_metric

    lon30, lat30 = from_metric(x - 30, y)
    lon80, lat80 = from_metric(x - 75, y)
    near = report(api, lon=float(lon30), lat=float(lat30)).json()
    assert [d["id"] for d in near["possible_duplicates"]] == [first["id"]]
    assert near["possible_duplicates"][0]["distance_m"] == pytest.approx(30, abs=0.5)
    far = report(api, lon=float(lon80), lat=float(lat80)).json()
    assert [d["id"] for d in far["possible_duplicates"]] == [
        near["id"]
    ]  # 45 m from it, 75 m from the first
    other_kind = report(api, lon=float(lon30), lat=float(lat30), category="waste_sorting").json()
    assert other_kind["possible_duplicates"] == []


def test_closed_cases_are_not_offered_as_duplicates(
    api: TestClient, tokens: dict[str, str]
) -> None:
    first = report(api).json()
    move(api, tokens, first["id"], "rejected", note="不属实")
    assert report(api).json()["possible_duplicates"] == []


def move(
    api: TestClient,
    tokens: dict[str, str],
    case_id: int,
    to: str,
    role: str = "admin",
    **fields: Any,
) -> Any:
    return api.post(
        f"/api/v1/issues/{case_id}/transitions",
        json={"to": to, **fields},
        headers=auth(tokens[role]),
    )


FIELDS = {"note": "处理说明", "squad": "SQ2", "department": "U01", "response": "已处理"}
PATH_TO = {
    "reported": [],
    "filed": ["filed"],
    "rejected": ["rejected"],
    "duplicate": ["duplicate"],
    "dispatched": ["filed", "dispatched"],
    "escalated": ["filed", "escalated"],
    "in_progress": ["filed", "dispatched", "in_progress"],
    "resolved": ["filed", "dispatched", "in_progress", "resolved"],
    "closed": ["filed", "dispatched", "in_progress", "resolved", "closed"],
}


def case_in(api: TestClient, tokens: dict[str, str], status: str, anchor: int) -> int:
    case_id = report(api, description=f"到达 {status}").json()["id"]
    for step in PATH_TO[status]:
        extra = {"duplicate_of": anchor} if step == "duplicate" else {}
        response = move(api, tokens, case_id, step, **extra, **FIELDS)
        assert response.status_code == 200, response.text
    return int(case_id)


def test_every_legal_and_illegal_transition(
    api: TestClient, tokens: dict[str, str], loaded_url: str
) -> None:
    anchor = report(api).json()["id"]
    legal = {(t.source.value, t.target.value) for t in TRANSITIONS}
    for source in Status:
        stuck = case_in(api, tokens, source.value, anchor)
        for target in Status:
            if (source, target) == (Status.ESCALATED, Status.ESCALATED):
                # legal, but only up a level: the sample community has no street or
                # district departments (tests/test_communities.py climbs them)
                fresh = case_in(api, tokens, source.value, anchor)
                response = move(api, tokens, fresh, target.value, **FIELDS)
                assert response.status_code == 422, response.text
                assert response.json()["error"]["code"] == "not_a_higher_level"
                continue
            if (source.value, target.value) in legal:
                fresh = case_in(api, tokens, source.value, anchor)
                response = move(api, tokens, fresh, target.value, duplicate_of=anchor, **FIELDS)
                assert response.status_code == 200, (source, target, response.text)
                assert response.json()["status"] == target.value
                events = api.get(f"/api/v1/issues/{fresh}/history").json()["events"]
                assert events[-1]["from"] == source.value and events[-1]["to"] == target.value
                continue
            before = api.get(f"/api/v1/issues/{stuck}", headers=auth(tokens["admin"])).json()
            history = api.get(f"/api/v1/issues/{stuck}/history").json()["events"]
            response = move(api, tokens, stuck, target.value, duplicate_of=anchor, **FIELDS)
            assert response.status_code == 409, (source, target, response.text)
            assert response.json()["error"]["code"] == "illegal_transition"
            after = api.get(f"/api/v1/issues/{stuck}", headers=auth(tokens["admin"])).json()
            assert after == before
            assert api.get(f"/api/v1/issues/{stuck}/history").json()["events"] == history


def test_rework_and_escalation_are_recorded(api: TestClient, tokens: dict[str, str]) -> None:
    case_id = case_in(api, tokens, "resolved", 0)
    rework = move(api, tokens, case_id, "in_progress", note="核查未通过，楼道仍有杂物")
    assert rework.status_code == 200 and rework.json()["rework_count"] == 1
    escalated = move(api, tokens, case_id, "escalated", department="U01", deadline="3d")
    body = escalated.json()
    assert body["escalated_to"] == {
        "id": "U01",
        "name": "物管中心",
        "name_en": "Property management centre",
    }
    assert body["department_deadline"] == body["deadline"]
    answered = move(api, tokens, case_id, "resolved", response="物管中心已清理完毕")
    assert answered.json()["department_response"] == "物管中心已清理完毕"
    history = api.get(f"/api/v1/issues/{case_id}/history", headers=auth(tokens["manager"])).json()[
        "events"
    ]
    assert [e["to"] for e in history][-3:] == ["in_progress", "escalated", "resolved"]
    assert history[-1]["note"] == "物管中心已清理完毕" and history[-1]["actor"] == "test admin"
    public = api.get(f"/api/v1/issues/{case_id}/history").json()["events"]
    assert "actor" not in public[-1] and "note" not in public[-1]


def test_transition_needs_staff_role_and_fields(api: TestClient, tokens: dict[str, str]) -> None:
    case_id = report(api).json()["id"]
    url = f"/api/v1/issues/{case_id}/transitions"
    assert api.post(url, json={"to": "filed"}).status_code == 401
    bad = api.post(url, json={"to": "filed"}, headers=auth("not-a-token"))
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "bad_token"
    assert move(api, tokens, case_id, "filed", role="planner").status_code == 403
    assert move(api, tokens, case_id, "filed", role="grid_worker").status_code == 200
    assert (
        move(api, tokens, case_id, "escalated", role="grid_worker", department="U01").status_code
        == 403
    )
    missing = move(api, tokens, case_id, "dispatched", role="dispatcher")
    assert missing.status_code == 422 and "needs squad" in missing.json()["error"]["message"]
    unknown = move(api, tokens, case_id, "dispatched", role="dispatcher", squad="SQ99")
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_squad"
    assert move(api, tokens, case_id, "escalated", department="U99").status_code == 422
    assert (
        move(api, tokens, case_id, "escalated", department="U01", deadline="soon").status_code
        == 422
    )
    assert move(api, tokens, case_id, "flying").json()["error"]["code"] == "unknown_status"
    assert move(api, tokens, 999_999, "filed").status_code == 404
    current = api.get(f"/api/v1/issues/{case_id}").json()
    assert current["status"] == "filed"


@pytest.mark.dated
def test_overdue_cases_are_flagged_and_filtered(
    api: TestClient, tokens: dict[str, str], loaded_url: str
) -> None:
    late = report(api).json()["id"]
    fresh = report(api, lon=121.8300, lat=29.8960, category="waste_sorting").json()["id"]
    closed = case_in(api, tokens, "closed", 0)
    engine = make_engine(loaded_url)
    with Session(engine) as session, session.begin():
        past = utcnow() - timedelta(hours=1)
        session.execute(update(Issue).where(Issue.id.in_([late, closed])).values(due_at=past))
    engine.dispose()
    assert api.get(f"/api/v1/issues/{late}").json()["overdue"] is True
    assert api.get(f"/api/v1/issues/{fresh}").json()["overdue"] is False
    assert api.get(f"/api/v1/issues/{closed}").json()["overdue"] is False
    listed = api.get("/api/v1/issues", params={"overdue": "true"}).json()
    assert [f["id"] for f in listed["features"]] == [late]
    assert listed["features"][0]["properties"]["overdue"] is True


@pytest.mark.dated
def test_filing_sets_the_category_time_limit(api: TestClient, tokens: dict[str, str]) -> None:
    emergency = report(api, category="emergency", description="电动车在楼道充电冒烟").json()
    filed = move(api, tokens, emergency["id"], "filed").json()
    from datetime import datetime

    start = datetime.fromisoformat(filed["filed_at"].rstrip("Z"))
    due = datetime.fromisoformat(filed["handle_deadline"].rstrip("Z"))
    assert due - start == timedelta(hours=24)
    stairwell = move(api, tokens, report(api).json()["id"], "filed").json()
    start = datetime.fromisoformat(stairwell["filed_at"].rstrip("Z"))
    assert datetime.fromisoformat(stairwell["deadline"].rstrip("Z")) - start == timedelta(days=3)


def test_list_filters_and_paging(api: TestClient, tokens: dict[str, str]) -> None:
    ids = [report(api, description=f"第{i}件").json()["id"] for i in range(5)]
    market = report(api, lon=121.8270, lat=29.8975, category="merchant").json()["id"]
    move(api, tokens, ids[0], "filed")
    page = api.get("/api/v1/issues", params={"limit": 2, "offset": 1}).json()
    assert page["total"] == 6 and [f["id"] for f in page["features"]] == ids[1:3]
    assert page["features"][0]["geometry"]["type"] == "Point"
    by_status = api.get("/api/v1/issues", params={"status": "filed"}).json()
    assert [f["id"] for f in by_status["features"]] == [ids[0]]
    assert api.get("/api/v1/issues", params={"category": "merchant"}).json()["total"] == 1
    assert api.get("/api/v1/issues", params={"district": "BD01"}).json()["total"] == 1
    assert api.get("/api/v1/issues", params={"grid": "330206002016016"}).json()["total"] == 5
    box = api.get("/api/v1/issues", params={"bbox": "121.826,29.897,121.828,29.898"}).json()
    assert [f["id"] for f in box["features"]] == [market]
    since = page["now"]
    move(api, tokens, ids[3], "filed")
    changed = api.get("/api/v1/issues", params={"since": since}).json()
    assert ids[3] in [f["id"] for f in changed["features"]]
    assert api.get("/api/v1/issues", params={"status": "lost"}).status_code == 400
    assert api.get("/api/v1/issues", params={"since": "yesterday"}).status_code == 400


def test_categories_endpoint(api: TestClient) -> None:
    cats = {c["code"]: c for c in api.get("/api/v1/categories").json()["categories"]}
    assert cats["stairwell_clutter"]["name_zh"] == "楼道堆物"
    assert cats["stairwell_clutter"]["time_limit"] == "3d"
    assert "SQ2" in cats["stairwell_clutter"]["squads"]
    assert cats["emergency"]["name_en"] == "Emergency"
    assert len(cats) == 16


BAD_INPUTS = [
    ({"lon": 200.0}, 422, "coordinate_out_of_range", "longitude 200.0"),
    ({"lat": -95.0}, 422, "coordinate_out_of_range", "latitude -95.0"),
    ({"lon": "east"}, 422, "invalid_request", "lon"),
    ({"lon": None}, 422, "invalid_request", "lon"),
    ({"lon": 121.90, "lat": 29.90}, 422, "outside_community", "m outside 凌霄社区"),
    ({"category": "ufo"}, 422, "unknown_category", "stairwell_clutter"),
    ({"description": "   "}, 422, "empty_description", "describe"),
    ({"description": "x" * 2001}, 422, "description_too_long", "2001 characters"),
    ({"crs": "mars"}, 422, "invalid_request", "crs"),
    ({"channel": "patrol"}, 403, "staff_channel", "for staff"),
    ({"reporter": {"phone": "call me"}}, 422, "invalid_request", "reporter.phone"),
    ({"surprise": 1}, 422, "invalid_request", "surprise"),
]


@pytest.mark.parametrize(("change", "status", "code", "fragment"), BAD_INPUTS)
def test_bad_input_is_a_clear_error_and_writes_nothing(
    api: TestClient,
    loaded_url: str,
    change: dict[str, Any],
    status: int,
    code: str,
    fragment: str,
) -> None:
    response = api.post("/api/v1/issues", json={**GOOD, **change})
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and fragment in error["message"]
    assert count_rows(loaded_url) == (0, 0)


def test_outside_point_says_how_far(api: TestClient) -> None:
    from gis.crs import from_metric

    x, y = to_metric(121.8462, 29.8960)  # on the east edge
    lon, lat = from_metric(x + 1000, y)
    error = report(api, lon=float(lon), lat=float(lat)).json()["error"]
    assert error["distance_m"] == pytest.approx(1000, abs=20)


def test_oversized_wrong_type_and_broken_bodies(api: TestClient, loaded_url: str) -> None:
    huge = json.dumps({**GOOD, "description": "堆" * (10 << 20)})
    response = api.post(
        "/api/v1/issues", content=huge, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    form = api.post("/api/v1/issues", data={"lon": "121.8"})
    assert form.status_code == 415 and "application/json" in form.json()["error"]["message"]
    broken = api.post(
        "/api/v1/issues", content=b"{lon: 1", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "bad_json"
    assert count_rows(loaded_url) == (0, 0)


def test_reports_are_rate_limited_per_client(loaded_url: str, tmp_path: Any) -> None:
    from api.app import create_app
    from service.settings import Settings

    app = create_app(
        Settings(database_url=loaded_url, var_dir=tmp_path, report_rate=3, report_period_s=3600)
    )
    with TestClient(app) as client:
        codes = [client.post("/api/v1/issues", json=GOOD).status_code for _ in range(5)]
        last = client.post("/api/v1/issues", json=GOOD)
    app.state.engine.dispose()
    assert codes == [201, 201, 201, 429, 429]
    assert last.json()["error"]["code"] == "rate_limited" and "retry-after" in last.headers


def test_staff_may_report_on_patrol(api: TestClient, tokens: dict[str, str]) -> None:
    response = api.post(
        "/api/v1/issues", json={**GOOD, "channel": "patrol"}, headers=auth(tokens["grid_worker"])
    )
    assert response.status_code == 201 and response.json()["channel"] == "patrol"
    history = api.get(
        f"/api/v1/issues/{response.json()['id']}/history", headers=auth(tokens["grid_worker"])
    ).json()["events"]
    assert history[0]["actor"] == "test grid_worker"


@pytest.mark.dated
def test_stats_endpoint_groups_and_names(api: TestClient, tokens: dict[str, str]) -> None:
    closed = case_in(api, tokens, "closed", 0)
    report(api, lon=HOSPITAL[0], lat=HOSPITAL[1], category="elder_care")
    by_grid = api.get("/api/v1/stats", params={"group_by": "grid"}).json()
    rows = {r["key"]: r for r in by_grid["rows"]}
    shimao = rows["330206002016016"]
    assert shimao["name"] == "凌霄社区第十六网格"
    assert (shimao["reported"], shimao["filed"], shimao["closed"]) == (1, 1, 1)
    assert shimao["due"] == 1 and shimao["closure_rate"] == 1.0
    assert shimao["on_time_rate"] == 1.0 and shimao["rework_rate"] == 0.0
    hospital = rows["330206002016020"]
    assert hospital["reported"] == 1 and hospital["closure_rate"] is None
    by_squad = {
        r["key"]: r for r in api.get("/api/v1/stats", params={"group_by": "squad"}).json()["rows"]
    }
    assert by_squad["SQ2"]["name"] == "安居卫士先锋队" and by_squad["SQ2"]["closed"] == 1
    months = api.get("/api/v1/stats", params={"group_by": "month"}).json()["rows"]
    assert sum(r["reported"] for r in months) == 2
    cats = {
        r["key"]: r
        for r in api.get("/api/v1/stats", params={"group_by": "category"}).json()["rows"]
    }
    assert cats["stairwell_clutter"]["name"] == "楼道堆物"
    assert api.get("/api/v1/stats", params={"group_by": "colour"}).status_code == 422
    bad = api.get("/api/v1/stats", params={"from": "2026-12-01", "to": "2026-11-01"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_period"
    empty = api.get("/api/v1/stats", params={"from": "2020-01-01", "to": "2020-02-01"}).json()
    assert empty["rows"] == [] and closed


def test_parallel_retries_with_one_key_make_one_case(live_server: str, loaded_url: str) -> None:
    import threading
    import urllib.request

    barrier = threading.Barrier(6)
    answers: list[tuple[int, int]] = []

    def post() -> None:
        request = urllib.request.Request(
            f"{live_server}/api/v1/issues",
            data=json.dumps(GOOD).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Idempotency-Key": "weak-signal-42"},
        )
        barrier.wait()
        with urllib.request.urlopen(request, timeout=30) as response:
            answers.append((response.status, json.load(response)["id"]))

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 6
    assert {status for status, _ in answers} == {201}
    assert len({case for _, case in answers}) == 1
    assert count_rows(loaded_url) == (1, 1)


def test_a_report_lists_the_five_nearest_possible_duplicates_and_counts_all(
    api: TestClient,
) -> None:
    for k in range(7):  # seven earlier reports, each a little further east
        body = {**GOOD, "lon": GOOD["lon"] + 0.00003 * (k + 1)}
        assert api.post("/api/v1/issues", json=body).status_code == 201
    case = api.post("/api/v1/issues", json=GOOD).json()
    shown = case["possible_duplicates"]
    assert case["possible_duplicates_total"] == 7 and len(shown) == 5
    distances = [d["distance_m"] for d in shown]
    assert distances == sorted(distances) and distances[0] < 5


def test_the_first_429_asks_to_wait_at_least_a_second(
    settings: Any, loaded_url: str, tmp_path: Any
) -> None:
    from api.app import create_app
    from service.settings import Settings

    app = create_app(
        Settings(database_url=loaded_url, var_dir=tmp_path, report_rate=1, report_period_s=1)
    )
    with TestClient(app) as client:
        assert client.post("/api/v1/issues", json=GOOD).status_code == 201
        refused = client.post("/api/v1/issues", json=GOOD)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    app.state.engine.dispose()


def test_errors_keep_their_shape_a_405_says_what_is_allowed(api: TestClient) -> None:
    answer = api.delete("/api/v1/issues")
    assert answer.status_code == 405 and "GET" in answer.headers["Allow"]
    assert answer.json()["error"]["code"] == "method_not_allowed"


def test_a_fault_of_ours_is_a_json_500_with_a_request_id(
    settings: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from api.app import create_app
    from service import issues

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(issues, "count_cells", broken)
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/issues/cells")
    app.state.engine.dispose()
    assert answer.status_code == 500
    error = answer.json()["error"]
    assert error["code"] == "internal_error" and len(error["request_id"]) == 12
    assert error["request_id"] in caplog.text
