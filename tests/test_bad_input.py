"""Bad input gets a clear 4xx and changes nothing: ids past what the database holds,
bodies nested or numbered beyond reason, control characters, NULs in the query."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import GOOD_REPORT, auth

HUGE_IDS = ["10000000000000000001", "2147483648", "0", "-1"]


def error_code(response: Any) -> str:
    code: str = response.json()["error"]["code"]
    return code


@pytest.mark.parametrize("big", HUGE_IDS)
def test_ids_beyond_the_database_are_refused_not_crashed(
    api: TestClient, tokens: dict[str, str], big: str
) -> None:
    staff = auth(tokens["manager"])
    for path in (
        f"/api/v1/issues/{big}",
        f"/api/v1/issues/{big}/history",
        f"/issues/{big}",
        f"/report/{big}",
        f"/api/v1/issues/1/photos/{big}",
    ):
        answer = api.get(path, headers=staff)
        assert answer.status_code == 422, (path, answer.status_code, answer.text)
    moves = [
        api.post(f"/api/v1/issues/{big}/transitions", json={"to": "filed"}, headers=staff),
        api.post(f"/api/v1/issues/{big}/dispatch", json={}, headers=staff),
        api.get("/api/v1/dispatch/candidates", params={"issue_id": big}, headers=staff),
        api.post("/api/v1/dispatch/batch", json={"issue_ids": [int(big)]}, headers=staff),
    ]
    if int(big) > 0:  # an offset may be 0; past the largest id it is refused too
        moves.append(api.get("/api/v1/issues", params={"offset": big}))
    for answer in moves:
        assert answer.status_code in (404, 422), (answer.request.url, answer.text)
    case = api.post("/api/v1/issues", json=GOOD_REPORT).json()
    dup = api.post(
        f"/api/v1/issues/{case['id']}/transitions",
        json={"to": "duplicate", "duplicate_of": int(big)},
        headers=staff,
    )
    assert dup.status_code == 422
    assert api.get(f"/api/v1/issues/{case['id']}").json()["status"] == "reported"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested"),
        ('{"a":' * 20_000 + "1" + "}" * 20_000, "nested"),
        ('{"lon": ' + "9" * 5000 + ', "lat": 29.89}', "digits"),
        ('{"a": ' + "[" * 20 + "1" + "]" * 20 + "}", "levels"),
    ],
    ids=["brackets", "objects", "long-number", "deep-but-small"],
)
def test_bodies_beyond_reason_are_a_400(api: TestClient, body: str, why: str) -> None:
    answer = api.post("/api/v1/issues", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert error_code(answer) == "bad_json" and why in answer.json()["error"]["message"]
    assert api.get("/api/v1/issues").json()["total"] == 0


@pytest.mark.parametrize("bad", ["\u0000", "\u0007", "\u001b[31m", "\ud800x", "\x7f"])
def test_text_with_control_characters_or_lone_surrogates_is_refused(
    api: TestClient, tokens: dict[str, str], bad: str
) -> None:
    # JSON escapes the characters (\u0007, \ud800), as a client's encoder would
    raw = json.dumps({**GOOD_REPORT, "description": "车" + bad})
    answer = api.post("/api/v1/issues", content=raw, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert "description" in answer.json()["error"]["message"]
    case = api.post("/api/v1/issues", json=GOOD_REPORT).json()
    note = api.post(
        f"/api/v1/issues/{case['id']}/transitions",
        content=json.dumps({"to": "filed", "note": "ok" + bad}),
        headers={**auth(tokens["manager"]), "Content-Type": "application/json"},
    )
    assert note.status_code == 422 and "note" in note.json()["error"]["message"]
    assert api.get("/api/v1/issues").json()["total"] == 1
    tab_and_newline = api.post(
        "/api/v1/issues", json={**GOOD_REPORT, "description": "一楼\t二楼\n三楼"}
    )
    assert tab_and_newline.status_code == 201


@pytest.mark.parametrize("param", ["category", "grid", "district", "status", "bbox"])
def test_a_nul_in_the_query_is_a_400(api: TestClient, param: str) -> None:
    answer = api.get(f"/api/v1/issues?{param}=%00")
    assert answer.status_code == 400 and error_code(answer) == "nul_in_query"
    assert api.get("/api/v1/issues?category=x%00y").status_code == 400


def test_every_answer_carries_the_security_headers(api: TestClient) -> None:
    for path in ("/", "/report", "/api/v1/issues", "/api/v1/issues/424242", "/healthz"):
        headers = api.get(path).headers
        assert headers["x-content-type-options"] == "nosniff", path
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert headers["referrer-policy"] == "same-origin", path


def test_the_database_var_folder_and_photos_are_the_owners_alone(tmp_path: Any) -> None:
    import io
    import stat

    from PIL import Image

    from api.app import create_app
    from service.settings import Settings
    from store.load import load_folder
    from tests.helpers import DATA

    db = tmp_path / "new" / "gridgov.sqlite3"
    settings = Settings(database_url=f"sqlite:///{db}", var_dir=tmp_path / "var", report_rate=99)
    app = create_app(settings)
    assert load_folder(app.state.engine, DATA).ok
    with TestClient(app) as client:
        case = client.post("/api/v1/issues", json=GOOD_REPORT).json()
        picture = io.BytesIO()
        Image.new("RGB", (64, 48), "red").save(picture, format="JPEG")
        sent = client.post(
            f"/api/v1/issues/{case['id']}/photos",
            files={"file": ("p.jpg", picture.getvalue(), "image/jpeg")},
            headers={"X-Photo-Token": case["photo_token"]},
        )
        assert sent.status_code == 201
    app.state.engine.dispose()

    def mode(path: Any) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    assert mode(db.parent) == 0o700 and mode(db) == 0o600
    assert mode(tmp_path / "var") == 0o700 and mode(tmp_path / "var" / "secret.key") == 0o600
    photos = [p for p in (tmp_path / "var" / "photos").rglob("*")]
    assert photos and all(mode(p) == (0o700 if p.is_dir() else 0o600) for p in photos)
