"""Staff accounts: only a deployment admin manages them, through the API or the command."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from api.cli import app
from tests.helpers import auth

runner = CliRunner()
LINGXIAO = "330206002016"


def _street_admin(api: Any, admin: dict[str, str]) -> dict[str, str]:
    made = api.post(
        "/api/v1/users", json={"name": "街道管理员", "role": "admin", "area": "330206002"},
        headers=admin,
    )  # fmt: skip
    assert made.status_code == 201, made.text
    return auth(made.json()["token"])


def test_a_deployment_admin_adds_lists_and_revokes_accounts(
    api: Any, tokens: dict[str, str]
) -> None:
    admin = auth(tokens["admin"])
    made = api.post(
        "/api/v1/users",
        json={"name": "凌霄社区书记", "role": "manager", "area": LINGXIAO},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    account = made.json()
    assert account["role"] == "manager" and account["area"] == LINGXIAO and account["active"]
    assert account["created_at"].endswith("Z")
    token = account["token"]
    me = api.get("/api/v1/me", headers=auth(token))
    assert me.json() == {"name": "凌霄社区书记", "role": "manager", "area": LINGXIAO}
    listed = api.get("/api/v1/users", headers=admin)
    assert listed.status_code == 200
    names = {a["name"]: a for a in listed.json()["accounts"]}
    assert names["凌霄社区书记"]["id"] == account["id"]
    # the token is shown once only: never in the list, nor its hash
    assert token not in listed.text and "token" not in names["凌霄社区书记"]
    assert all(set(a) == set(names["凌霄社区书记"]) for a in listed.json()["accounts"])
    revoked = api.post(f"/api/v1/users/{account['id']}/revoke", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    gone = api.get("/api/v1/me", headers=auth(token))
    assert gone.status_code == 401 and gone.json()["error"]["code"] == "bad_token"
    again = api.get("/api/v1/users", headers=admin).json()["accounts"]
    assert [a["active"] for a in again if a["id"] == account["id"]] == [False]


def test_only_a_deployment_admin_manages_users(api: Any, tokens: dict[str, str]) -> None:
    admin = auth(tokens["admin"])
    street_admin = _street_admin(api, admin)
    body = {"name": "x", "role": "dispatcher"}
    for who, status, code in (
        (street_admin, 403, "admin_of_an_area"),
        (auth(tokens["manager"]), 403, "forbidden"),
        (auth(tokens["dispatcher"]), 403, "forbidden"),
        ({}, 401, "token_required"),
    ):
        for answer in (
            api.get("/api/v1/users", headers=who),
            api.post("/api/v1/users", json=body, headers=who),
            api.post("/api/v1/users/1/revoke", headers=who),
        ):
            assert answer.status_code == status, (who, answer.text)
            assert answer.json()["error"]["code"] == code
    assert "330206002" in api.get("/api/v1/users", headers=street_admin).json()["error"]["message"]
    # nothing was made or revoked by the refused calls
    accounts = api.get("/api/v1/users", headers=admin).json()["accounts"]
    assert all(a["active"] for a in accounts) and "x" not in {a["name"] for a in accounts}


def test_bad_accounts_are_refused_with_the_value_named(api: Any, tokens: dict[str, str]) -> None:
    admin = auth(tokens["admin"])
    before = len(api.get("/api/v1/users", headers=admin).json()["accounts"])
    for body, code, named in (
        ({"name": "a", "role": "manager", "area": "33020600201"}, "bad_area", "33020600201"),
        ({"name": "a", "role": "manager", "area": "330206002016001"}, None, None),
        ({"name": "a", "role": "manager", "member_id": "NOBODY"}, "unknown_member", "NOBODY"),
        ({"name": "a", "role": "mayor"}, None, None),
        ({"name": "", "role": "manager"}, None, None),
        ({"name": "a", "role": "manager", "token": "mine"}, None, None),
    ):
        answer = api.post("/api/v1/users", json=body, headers=admin)
        assert answer.status_code == 422, (body, answer.text)
        if code:
            assert answer.json()["error"]["code"] == code
            assert named in answer.json()["error"]["message"]
    after = api.get("/api/v1/users", headers=admin).json()["accounts"]
    assert len(after) == before
    missing = api.post("/api/v1/users/999999/revoke", headers=admin)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "user_not_found"
    mine = next(a for a in after if a["name"] == "test admin")
    own = api.post(f"/api/v1/users/{mine['id']}/revoke", headers=admin)
    assert own.status_code == 409 and own.json()["error"]["code"] == "own_account"
    assert api.get("/api/v1/users", headers=admin).status_code == 200
    huge = api.post(f"/api/v1/users/{2**40}/revoke", headers=admin)
    assert huge.status_code == 422


def test_the_command_lists_and_revokes_as_the_operator(loaded_url: str) -> None:
    added = runner.invoke(
        app, ["users", "add", "--role", "planner", "--name", "规划师", "--database-url", loaded_url]
    )
    assert added.exit_code == 0, added.output
    user_id = added.output.split()[1]
    listed = runner.invoke(app, ["users", "list", "--database-url", loaded_url])
    assert listed.exit_code == 0
    row = next(line for line in listed.output.splitlines() if line.startswith(user_id + "\t"))
    assert row.split("\t") == [user_id, "planner", "whole deployment", "active", "规划师"]
    revoked = runner.invoke(app, ["users", "revoke", user_id, "--database-url", loaded_url])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    listed = runner.invoke(app, ["users", "list", "--database-url", loaded_url])
    assert f"{user_id}\tplanner\twhole deployment\trevoked\t规划师" in listed.output
    missing = runner.invoke(app, ["users", "revoke", "999999", "--database-url", loaded_url])
    assert missing.exit_code == 2 and "999999" in missing.output
