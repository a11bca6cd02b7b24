"""Dispatch: who can take a case, the nearest by walking, batches, and races."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlalchemy.orm import Session

from cases.dispatch import (
    CATEGORY,
    FULL,
    OFF_DUTY,
    BadDutyHours,
    SquadState,
    assign,
    assign_greedily,
    exclusion,
    on_duty,
)
from gis.crs import METRIC, from_metric, to_metric
from gis.index import AreaIndex
from gis.network import WalkingNetwork
from service.community import CommunitySnapshot, SquadInfo
from service.ranking import rank
from service.settings import Settings
from store.db import make_engine
from store.models import Issue
from tests.helpers import GOOD_REPORT, HOSPITAL, MORNING, SHIMAO, auth, serving

LATE = datetime(2026, 11, 26, 15, 30)  # 23:30 in Ningbo
SQUAD = SquadState("S", "队", frozenset({"parking"}), "08:00-20:00", 2, 0)


# --- rules, without a database ---------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "clock", "expected"),
    [
        ("08:00-20:00", "08:00", True),
        ("08:00-20:00", "19:59", True),
        ("08:00-20:00", "20:00", False),
        ("08:00-20:00", "07:59", False),
        ("00:00-24:00", "03:00", True),
        ("20:00-08:00", "23:00", True),
        ("20:00-08:00", "07:00", True),
        ("20:00-08:00", "12:00", False),
    ],
)
def test_duty_hours(hours: str, clock: str, expected: bool) -> None:
    h, m = map(int, clock.split(":"))
    assert on_duty(hours, datetime(2026, 11, 26, h, m)) is expected


def test_bad_duty_hours_are_named() -> None:
    with pytest.raises(BadDutyHours, match="'daytime'"):
        on_duty("daytime", MORNING)


def test_exclusion_reasons() -> None:
    noon = datetime(2026, 11, 26, 12, 0)
    assert exclusion(SQUAD, "parking", noon) is None
    assert exclusion(SQUAD, "emergency", noon) == CATEGORY
    assert exclusion(SQUAD, "parking", datetime(2026, 11, 26, 22, 0)) == OFF_DUTY
    full = SquadState("S", "队", frozenset({"parking"}), "08:00-20:00", 2, 2)
    assert exclusion(full, "parking", noon) == FULL


def test_batch_solver_beats_one_by_one_and_keeps_capacity() -> None:
    # case 0 is slightly nearer to A, but case 1 can only go to A cheaply
    cost = np.array([[10.0, 12.0], [11.0, 100.0]])
    free = np.array([1, 1])
    allowed = np.ones((2, 2), dtype=bool)
    greedy = assign_greedily(cost, free, allowed)
    best = assign(cost, free, allowed)
    assert greedy.squad_of.tolist() == [0, 1] and greedy.total_m == 110
    assert best.squad_of.tolist() == [1, 0] and best.total_m == 23
    tight = assign(np.ones((3, 1)), np.array([2]), np.ones((3, 1), dtype=bool))
    assert sorted(tight.squad_of.tolist()) == [-1, 0, 0]


def test_batch_solver_respects_what_a_squad_may_take() -> None:
    cost = np.array([[1.0, 50.0], [2.0, 60.0]])
    allowed = np.array([[True, True], [False, True]])
    best = assign(cost, np.array([5, 5]), allowed)
    assert best.squad_of.tolist() == [0, 1]
    none = assign(cost, np.array([5, 5]), np.zeros((2, 2), dtype=bool))
    assert none.squad_of.tolist() == [-1, -1] and none.total_m == 0


# --- ranking over a hand-made river ----------------------------------------------------


def river_areas(network: WalkingNetwork | None) -> tuple[CommunitySnapshot, tuple[float, float]]:
    """Two squads: one across a river (near as the crow flies), one on the case's bank."""
    x0, y0 = (float(v) for v in to_metric(*HOSPITAL))
    lines = [
        shapely.LineString([(x0, y0), (x0 + 1000, y0)]),
        shapely.LineString([(x0, y0 + 100), (x0 + 1000, y0 + 100)]),
        shapely.LineString([(x0 + 1000, y0), (x0 + 1000, y0 + 100)]),
    ]
    net = WalkingNetwork(lines) if network is None else network

    def squad(sid: str, x: float, y: float) -> SquadInfo:
        lon, lat = from_metric(x, y)
        return SquadInfo(
            sid, sid, frozenset({"parking"}), "00:00-24:00", 5, float(lon), float(lat), x, y
        )

    squads = (squad("ACROSS", x0 + 100, y0 + 90), squad("BANK", x0 + 500, y0 + 5))
    grid = shapely.box(0, 0, 1, 1)
    areas = CommunitySnapshot(
        grids=AreaIndex([grid], ["G"]),
        districts=None,
        grid_names={},
        district_names={},
        outline=grid,
        community_name="",
        squad_names={},
        unit_names={},
        squads=squads,
        network=net,
        metric_crs=METRIC,
    )
    case = from_metric(x0 + 100, y0 + 10)
    return areas, (float(case[0]), float(case[1]))


def test_ranking_follows_the_streets_not_the_crow() -> None:
    areas, (lon, lat) = river_areas(None)
    ranking = rank(areas, "parking", lon, lat, MORNING, {}, [], Settings())
    order = [c["squad_id"] for c in ranking.candidates]
    assert order == ["BANK", "ACROSS"]
    bank, across = ranking.candidates
    assert bank["distance_m"] == pytest.approx(415, abs=0.5)
    assert across["distance_m"] == pytest.approx(1920, abs=0.5)
    assert bank["distance_kind"] == "network"
    assert bank["eta_min"] == pytest.approx(415 / 1.2 / 60, abs=0.05)


def test_ranking_falls_back_to_straight_lines_without_a_network() -> None:
    areas, (lon, lat) = river_areas(None)
    bare = CommunitySnapshot(**{**areas.__dict__, "network": None})
    ranking = rank(bare, "parking", lon, lat, MORNING, {}, [], Settings())
    assert [c["squad_id"] for c in ranking.candidates] == ["ACROSS", "BANK"]
    assert {c["distance_kind"] for c in ranking.candidates} == {"straight_line"}
    assert ranking.candidates[0]["distance_m"] == pytest.approx(80, abs=0.5)


# --- the API, on both backends ------------------------------------------------------


@pytest.fixture()
def desk(api: TestClient, tokens: dict[str, str]) -> TestClient:
    """The API at 10:00 local time, when every sample squad is on duty."""
    api.app.state.clock = lambda: MORNING  # type: ignore[attr-defined]
    return api


def report(api: TestClient, **changes: Any) -> int:
    response = api.post("/api/v1/issues", json={**GOOD_REPORT, **changes})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_candidates_rank_capable_squads_and_explain_the_rest(
    desk: TestClient, tokens: dict[str, str]
) -> None:
    case = report(desk)
    body = desk.get(
        "/api/v1/dispatch/candidates", params={"issue_id": case}, headers=auth(tokens["dispatcher"])
    ).json()
    assert [c["squad_id"] for c in body["candidates"]] == ["SQ8", "SQ2"] or [
        c["squad_id"] for c in body["candidates"]
    ] == ["SQ2", "SQ8"]
    first, second = body["candidates"]
    assert first["distance_m"] <= second["distance_m"]
    assert first["distance_kind"] == "network" and first["position_source"] == "base"
    assert first["eta_min"] == pytest.approx(first["distance_m"] / 1.2 / 60, abs=0.05)
    assert set(first) >= {
        "squad_id",
        "squad_name",
        "position",
        "distance_m",
        "distance_kind",
        "eta_min",
        "load",
        "capacity",
    }
    excluded = {e["squad_id"]: e["reason"] for e in body["excluded"]}
    assert excluded == {
        s: "category_not_handled" for s in ("SQ1", "SQ3", "SQ4", "SQ5", "SQ6", "SQ7")
    }
    by_point = desk.get(
        "/api/v1/dispatch/candidates",
        headers=auth(tokens["manager"]),
        params={"lon": SHIMAO[0], "lat": SHIMAO[1], "category": "stairwell_clutter"},
    ).json()
    assert by_point["candidates"] == body["candidates"]


def test_candidates_need_a_dispatcher(desk: TestClient, tokens: dict[str, str]) -> None:
    case = report(desk)
    url = "/api/v1/dispatch/candidates"
    assert desk.get(url, params={"issue_id": case}).status_code == 401
    assert (
        desk.get(url, params={"issue_id": case}, headers=auth(tokens["grid_worker"])).status_code
        == 403
    )
    assert desk.get(url, params={"lon": 121.83}, headers=auth(tokens["admin"])).status_code == 422


def test_off_duty_squads_are_skipped_and_escalation_suggested(
    desk: TestClient, tokens: dict[str, str]
) -> None:
    case = report(desk)
    desk.app.state.clock = lambda: LATE  # type: ignore[attr-defined]
    body = desk.get(
        "/api/v1/dispatch/candidates", params={"issue_id": case}, headers=auth(tokens["dispatcher"])
    ).json()
    assert body["candidates"] == []
    reasons = {e["squad_id"]: e["reason"] for e in body["excluded"]}
    assert reasons["SQ2"] == reasons["SQ8"] == "off_duty"
    assert body["suggestion"]["department"] == {
        "id": "U01",
        "name": "物管中心",
        "name_en": "Property management centre",
    }
    refused = desk.post(f"/api/v1/issues/{case}/dispatch", headers=auth(tokens["dispatcher"]))
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "no_squad_available" and "物管中心" in error["message"]
    # the emergency squad is on duty around the clock
    fire = report(desk, category="emergency", description="楼道冒烟")
    ok = desk.post(f"/api/v1/issues/{fire}/dispatch", headers=auth(tokens["dispatcher"]))
    assert ok.status_code == 200 and ok.json()["assignment"]["squad_id"] == "SQ5"


def _fill_squad(loaded_url: str, squad: str, n: int) -> None:
    """Give ``squad`` ``n`` cases in progress, written straight to the database."""
    engine = make_engine(loaded_url)
    busy = [
        {
            **GOOD_REPORT,
            "input_crs": "wgs84",
            "input_lon": SHIMAO[0],
            "input_lat": SHIMAO[1],
            "geom": shapely.Point(SHIMAO),
            "grid_code": "330206002016016",
            "status": "in_progress",
            "squad_id": squad,
            "reported_at": MORNING,
            "updated_at": MORNING,
            "file_deadline": MORNING,
            "due_at": MORNING,
            "rework_count": 0,
            "version": 1,
            "channel": "web",
        }
        for _ in range(n)
    ]
    with Session(engine) as session, session.begin():
        session.execute(insert(Issue), busy)
    engine.dispose()


def test_full_squads_are_skipped(desk: TestClient, tokens: dict[str, str], loaded_url: str) -> None:
    case = report(desk)
    _fill_squad(loaded_url, "SQ2", 10)
    body = desk.get(
        "/api/v1/dispatch/candidates", params={"issue_id": case}, headers=auth(tokens["dispatcher"])
    ).json()
    assert [c["squad_id"] for c in body["candidates"]] == ["SQ8"]
    full = next(e for e in body["excluded"] if e["squad_id"] == "SQ2")
    assert full["reason"] == "at_capacity" and full["load"] == full["capacity"] == 10
    named = desk.post(
        f"/api/v1/issues/{case}/dispatch", json={"squad": "SQ2"}, headers=auth(tokens["dispatcher"])
    )
    assert named.status_code == 409 and named.json()["error"]["reason"] == "at_capacity"


def _history(api: TestClient, case: int, token: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = api.get(
        f"/api/v1/issues/{case}/history", headers=auth(token)
    ).json()["events"]
    return events


def test_a_manual_dispatch_over_capacity_needs_an_override_with_a_note(
    desk: TestClient, tokens: dict[str, str], loaded_url: str
) -> None:
    _fill_squad(loaded_url, "SQ2", 10)
    boss, worker = auth(tokens["dispatcher"]), auth(tokens["grid_worker"])

    def filed() -> int:
        case = report(desk)
        moved = desk.post(f"/api/v1/issues/{case}/transitions", json={"to": "filed"}, headers=boss)
        assert moved.status_code == 200, moved.text
        return case

    # the manual transition: refused at capacity, and nothing changes
    case = filed()
    url = f"/api/v1/issues/{case}/transitions"
    plain = desk.post(url, json={"to": "dispatched", "squad": "SQ2"}, headers=boss)
    assert plain.status_code == 409, plain.text
    error = plain.json()["error"]
    assert error["code"] == "squad_at_capacity" and "10" in error["message"]
    assert error["load"] == error["capacity"] == 10
    silent = desk.post(
        url, json={"to": "dispatched", "squad": "SQ2", "override": True}, headers=boss
    )
    assert silent.status_code == 422 and silent.json()["error"]["code"] == "note_required"
    blank = {"to": "dispatched", "squad": "SQ2", "override": True, "note": "   "}
    assert desk.post(url, json=blank, headers=boss).status_code == 422
    field = {"to": "dispatched", "squad": "SQ2", "override": True, "note": "only SQ2 is near"}
    refused = desk.post(url, json=field, headers=worker)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "override_not_allowed"
    assert desk.get(f"/api/v1/issues/{case}", headers=boss).json()["status"] == "filed"
    # a squad with room needs no override, and an override elsewhere is refused
    roomy = desk.post(url, json={"to": "dispatched", "squad": "SQ8"}, headers=worker)
    assert roomy.status_code == 200, roomy.text
    assert _history(desk, case, tokens["dispatcher"])[-1]["override"] is False
    other = filed()
    wrong = {"to": "rejected", "note": "x", "override": True}
    answer = desk.post(f"/api/v1/issues/{other}/transitions", json=wrong, headers=boss)
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "override_not_applicable"
    # with the override and a note: dispatched, and the history says so
    done = desk.post(f"/api/v1/issues/{other}/transitions", json=field, headers=boss)
    assert done.status_code == 200, done.text
    assert done.json()["squad"]["id"] == "SQ2"
    last = _history(desk, other, tokens["dispatcher"])[-1]
    assert last["to"] == "dispatched" and last["override"] is True
    assert last["note"] == "only SQ2 is near"
    public = desk.get(f"/api/v1/issues/{other}/history").json()["events"][-1]
    assert "override" not in public and "note" not in public

    # the dispatch with a named squad: the same rule
    third = report(desk)
    dispatch = f"/api/v1/issues/{third}/dispatch"
    named = desk.post(dispatch, json={"squad": "SQ2", "override": True}, headers=boss)
    assert named.status_code == 422 and named.json()["error"]["code"] == "note_required"
    unnamed = desk.post(dispatch, json={"override": True, "note": "why"}, headers=boss)
    assert unnamed.status_code == 422 and unnamed.json()["error"]["code"] == "squad_required"
    sent = desk.post(
        dispatch, json={"squad": "SQ2", "override": True, "note": "flooded cellar"}, headers=boss
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["assignment"]["squad_id"] == "SQ2"
    assert sent.json()["assignment"]["load"] == 11  # ten, and the case overridden above
    last = _history(desk, third, tokens["dispatcher"])[-1]
    assert last["override"] is True and last["note"] == "flooded cellar"


def _device(loaded_url: str, member: str) -> str:
    """A token for ``member``'s own phone (``gridgov users add --member``)."""
    from store.users import add_user

    engine = make_engine(loaded_url)
    with Session(engine) as session, session.begin():
        _, token = add_user(session, f"phone of {member}", "grid_worker", MORNING, member)
    engine.dispose()
    return token


def _member_of(squad: str, skip: int = 0) -> str:
    import csv

    from tests.helpers import DATA

    with (DATA / "members.csv").open(encoding="utf-8") as fh:
        return [r["id"] for r in csv.DictReader(fh) if r["squad"] == squad][skip]


def test_a_members_live_position_counts_while_fresh(
    desk: TestClient, tokens: dict[str, str], loaded_url: str
) -> None:
    case = report(desk)
    member, stranger = _member_of("SQ8"), _member_of("SQ1")
    phone = auth(_device(loaded_url, member))
    near = {"member_id": member, "lon": SHIMAO[0] + 0.0002, "lat": SHIMAO[1]}
    posted = desk.post("/api/v1/squads/SQ8/position", json=near, headers=phone)
    assert posted.status_code == 200, posted.text
    assert desk.post("/api/v1/squads/SQ8/position", json=near).status_code == 401
    wrong = desk.post(
        "/api/v1/squads/SQ8/position",
        headers=auth(tokens["dispatcher"]),
        json={**near, "member_id": stranger},
    )
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "not_a_member"
    assert desk.post("/api/v1/squads/SQ99/position", json=near, headers=phone).status_code == 404

    def sq8() -> dict[str, Any]:
        body = desk.get(
            "/api/v1/dispatch/candidates",
            params={"issue_id": case},
            headers=auth(tokens["dispatcher"]),
        ).json()
        return next(c for c in body["candidates"] if c["squad_id"] == "SQ8")

    live = sq8()
    assert live["position_source"] == "member" and live["distance_m"] < 60
    assert live["position"] == {"lon": near["lon"], "lat": near["lat"]}
    desk.app.state.clock = lambda: MORNING + timedelta(minutes=16)  # type: ignore[attr-defined]
    assert sq8()["position_source"] == "base"
    desk.app.state.clock = lambda: MORNING  # type: ignore[attr-defined]
    desk.post("/api/v1/squads/SQ8/position", json={**near, "on_duty": False}, headers=phone)
    assert sq8()["position_source"] == "base"


def test_only_a_members_own_device_or_a_dispatcher_posts_positions(
    desk: TestClient, tokens: dict[str, str], loaded_url: str
) -> None:
    member, teammate = _member_of("SQ8"), _member_of("SQ8", 1)
    url = "/api/v1/squads/SQ8/position"
    here = {"member_id": member, "lon": SHIMAO[0], "lat": SHIMAO[1]}
    for role in ("planner", "grid_worker"):
        refused = desk.post(url, json=here, headers=auth(tokens[role]))
        assert refused.status_code == 403, (role, refused.text)
        assert refused.json()["error"]["code"] == "not_your_position"
    teammates_phone = auth(_device(loaded_url, teammate))
    other = desk.post(url, json=here, headers=teammates_phone)
    assert other.status_code == 403 and other.json()["error"]["code"] == "not_your_position"
    mine = desk.post(url, json={**here, "member_id": teammate}, headers=teammates_phone)
    assert mine.status_code == 200, mine.text
    # a member's device names the member's own squad; another squad's path is refused
    elsewhere = desk.post(
        "/api/v1/squads/SQ1/position", json={**here, "member_id": teammate}, headers=teammates_phone
    )
    assert elsewhere.status_code == 403 and elsewhere.json()["error"]["code"] == "not_a_member"
    for role in ("dispatcher", "manager", "admin"):
        assert desk.post(url, json=here, headers=auth(tokens[role])).status_code == 200, role
    squads = desk.get("/api/v1/squads/positions", headers=auth(tokens["dispatcher"])).json()
    assert next(s for s in squads["squads"] if s["squad_id"] == "SQ8")["members_on_duty"] == 2


def test_dispatch_assigns_the_best_and_records_it(desk: TestClient, tokens: dict[str, str]) -> None:
    case = report(desk)
    best = desk.get(
        "/api/v1/dispatch/candidates", params={"issue_id": case}, headers=auth(tokens["dispatcher"])
    ).json()["candidates"][0]
    done = desk.post(f"/api/v1/issues/{case}/dispatch", headers=auth(tokens["dispatcher"]))
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["assignment"]["squad_id"] == best["squad_id"]
    assert body["issue"]["status"] == "dispatched"
    assert body["issue"]["squad"]["id"] == best["squad_id"]
    events = desk.get(f"/api/v1/issues/{case}/history", headers=auth(tokens["dispatcher"])).json()[
        "events"
    ]
    assert [e["to"] for e in events] == ["reported", "filed", "dispatched"]
    assert f"{best['distance_m']:.0f} m" in events[-1]["note"]
    again = desk.post(f"/api/v1/issues/{case}/dispatch", headers=auth(tokens["dispatcher"]))
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_waiting"
    other = report(desk, description="另一处楼道")
    named = desk.post(
        f"/api/v1/issues/{other}/dispatch", json={"squad": "SQ2"}, headers=auth(tokens["manager"])
    )
    assert named.status_code == 200 and named.json()["assignment"]["squad_id"] == "SQ2"
    unable = report(desk, description="第三处")
    refused = desk.post(
        f"/api/v1/issues/{unable}/dispatch",
        json={"squad": "SQ5"},
        headers=auth(tokens["dispatcher"]),
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["reason"] == "category_not_handled"
    assert (
        desk.post(
            f"/api/v1/issues/{unable}/dispatch",
            json={"squad": "SQ42"},
            headers=auth(tokens["dispatcher"]),
        ).status_code
        == 422
    )


def test_batch_dispatch_minimises_walking_within_capacity(
    desk: TestClient, tokens: dict[str, str]
) -> None:
    cases = [
        report(desk, lon=lon, lat=lat, category=cat, description=f"批量 {i}")
        for i, (lon, lat, cat) in enumerate(
            [
                (121.8452, 29.8940, "stairwell_clutter"),
                (121.8240, 29.8980, "advertising"),
                (121.8310, 29.8917, "waste_sorting"),
                (121.8380, 29.8905, "elder_care"),
                (121.8300, 29.8960, "parking"),
                (121.8455, 29.8975, "merchant"),
            ]
        )
    ]
    headers = auth(tokens["dispatcher"])
    for case in cases[:4]:
        assert (
            desk.post(
                f"/api/v1/issues/{case}/transitions", json={"to": "filed"}, headers=headers
            ).status_code
            == 200
        )
    plan = desk.post("/api/v1/dispatch/batch", json={"dry_run": True}, headers=headers).json()
    assert plan["assigned"] == 4 and [a["issue_id"] for a in plan["assignments"]] == cases[:4]
    assert plan["total_m"] <= plan["one_by_one"]["total_m"] + 1e-6
    assert plan["saving_m"] == pytest.approx(
        plan["one_by_one"]["total_m"] - plan["total_m"], abs=0.2
    )
    assert desk.get(f"/api/v1/issues/{cases[0]}").json()["status"] == "filed"
    named = desk.post(
        "/api/v1/dispatch/batch", json={"issue_ids": cases[4:]}, headers=headers
    ).json()
    assert named["assigned"] == 2 and not named["dry_run"]
    for item in named["assignments"]:
        case = desk.get(f"/api/v1/issues/{item['issue_id']}").json()
        assert case["status"] == "dispatched" and case["squad"]["id"] == item["squad_id"]
    done = desk.post("/api/v1/dispatch/batch", json={}, headers=headers).json()
    assert done["assigned"] == 4
    assert (
        desk.post(
            "/api/v1/dispatch/batch", json={"issue_ids": cases[:1]}, headers=headers
        ).status_code
        == 409
    )


def test_two_dispatchers_at_once_one_wins(settings: Settings, tokens: dict[str, str]) -> None:
    from api.app import create_app

    app = create_app(settings)
    app.state.clock = lambda: MORNING
    with serving(app) as base:
        request = urllib.request.Request(
            f"{base}/api/v1/issues",
            data=json.dumps(GOOD_REPORT).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request) as response:
            case = json.load(response)["id"]
        barrier = threading.Barrier(2)
        answers: list[int] = []

        def dispatch(token: str) -> None:
            attempt = urllib.request.Request(
                f"{base}/api/v1/issues/{case}/dispatch", method="POST", headers=auth(token)
            )
            barrier.wait()
            try:
                with urllib.request.urlopen(attempt, timeout=30) as response:
                    answers.append(response.status)
            except urllib.error.HTTPError as error:
                answers.append(error.code)

        threads = [
            threading.Thread(target=dispatch, args=(tokens[r],)) for r in ("dispatcher", "manager")
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with urllib.request.urlopen(f"{base}/api/v1/issues/{case}/history") as response:
            events = json.load(response)["events"]
    app.state.engine.dispose()
    assert sorted(answers) == [200, 409]
    assert [e["to"] for e in events] == ["reported", "filed", "dispatched"]


def test_squads_current_positions_for_staff(desk: TestClient, tokens: dict[str, str]) -> None:
    import csv

    from tests.helpers import DATA

    with (DATA / "members.csv").open(encoding="utf-8") as fh:
        member = next(r["id"] for r in csv.DictReader(fh) if r["squad"] == "SQ3")
    url = "/api/v1/squads/positions"
    assert desk.get(url).status_code == 401
    assert desk.get(url, headers=auth(tokens["grid_worker"])).status_code == 403
    here = {"member_id": member, "lon": 121.8300, "lat": 29.8950}
    desk.post("/api/v1/squads/SQ3/position", json=here, headers=auth(tokens["dispatcher"]))
    body = desk.get(url, headers=auth(tokens["dispatcher"])).json()
    squads = {s["squad_id"]: s for s in body["squads"]}
    assert len(squads) == 8
    assert squads["SQ3"]["position"] == {"lon": 121.83, "lat": 29.895}
    assert squads["SQ3"]["position_source"] == "member" and squads["SQ3"]["members_on_duty"] == 1
    assert squads["SQ1"]["position_source"] == "base"
    desk.app.state.clock = lambda: MORNING + timedelta(minutes=20)  # type: ignore[attr-defined]
    later = desk.get(url, headers=auth(tokens["dispatcher"])).json()
    assert {s["position_source"] for s in later["squads"]} == {"base"}
