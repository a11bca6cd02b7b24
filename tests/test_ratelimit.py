"""The limit on public reports: who the client is (behind trusted proxies or not), the
moving window in memory and in Redis shared by several app instances, and the answers
(429 with Retry-After, 503 when Redis is away).

No test here waits for a window to pass: Retry-After is checked against its bounds.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from service.clients import MAX_HOPS, client_address, parse_address, parse_networks
from service.errors import TooMany
from service.ratelimit import RateLimit, key_prefix, shown_url
from service.settings import Settings
from tests.helpers import GOOD_REPORT as GOOD
from tests.helpers import auth

# the rule does not depend on the database: these run on SQLite only
sqlite_only = pytest.mark.parametrize("loaded_url", ["sqlite"], indirect=True)

PROXIES = parse_networks("10.0.0.0/8, 2001:db8:ffff::/48")
PEER = "10.0.0.1"  # a trusted proxy
STRANGER = "198.51.100.7"  # not one
PERIOD_S = 3600


# --- the pure rule --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("peer", "header", "client"),
    [
        (STRANGER, None, STRANGER),
        (STRANGER, "203.0.113.9", STRANGER),  # an untrusted peer names nobody
        (PEER, None, PEER),
        (PEER, "203.0.113.9", "203.0.113.9"),
        (PEER, "203.0.113.9:5060", "203.0.113.9"),
        # the client's own claim on the left proves nothing
        (PEER, "192.0.2.66, 203.0.113.9", "203.0.113.9"),
        (PEER, "unknown, 203.0.113.9", "203.0.113.9"),
        # several proxies: the right-most address that is not one of them
        (PEER, "192.0.2.66, 203.0.113.9, 10.0.0.3, 10.20.0.2", "203.0.113.9"),
        # every hop a proxy: the request started inside; the furthest one is the client
        (PEER, "10.0.0.5, 10.0.0.3", "10.0.0.5"),
        # IPv6, written any way a proxy writes it; one address, one spelling
        (PEER, "2001:DB8:0:0::BEEF", "2001:db8::beef"),
        (PEER, "[2001:db8::beef]:443, [2001:db8:ffff::2]", "2001:db8::beef"),
        ("2001:db8:ffff::1", "203.0.113.9", "203.0.113.9"),
        ("::ffff:10.0.0.1", "203.0.113.9", "203.0.113.9"),  # a dual-stack socket's peer
        ("::ffff:198.51.100.7", None, STRANGER),
        # what the server cannot place
        (None, "203.0.113.9", "?"),
        ("testclient", "203.0.113.9", "testclient"),
    ],
)
def test_the_client_is_the_peer_unless_a_trusted_proxy_names_it(
    peer: str | None, header: str | None, client: str
) -> None:
    assert client_address(peer, header, PROXIES) == client


@pytest.mark.parametrize(
    "header",
    [
        "",
        " ",
        ",,,",
        "unknown",
        "1.2.3",
        "203.0.113.9:http",
        "203.0.113.9, unknown",  # the nearest proxy's entry is not an address
        "203.0.113.9, ",
        "[2001:db8::1",
        "[2001:db8::1]x",
        "2001:db8::zz",
        "\x00\xff",
        "9" * 10_000,
        "203.0.113.9" + ", x" * 5_000,
    ],
)
def test_an_unreadable_header_counts_against_the_peer(header: str) -> None:
    assert client_address(PEER, header, PROXIES) == PEER


def test_a_chain_longer_than_any_real_one_is_walked_no_further() -> None:
    header = "203.0.113.9, " + ", ".join(f"10.0.{n // 250}.{n % 250 + 1}" for n in range(500))
    client = client_address(PEER, header, PROXIES)
    assert ipaddress.ip_address(client) in PROXIES[0]  # the furthest hop read, not the client
    assert client == "10.0.1.219" and MAX_HOPS == 32  # the 32nd from the right


def test_addresses_are_read_as_proxies_write_them() -> None:
    assert parse_address("[::1]") == ipaddress.ip_address("::1")
    assert parse_address(" 192.0.2.1 ") == ipaddress.ip_address("192.0.2.1")
    assert parse_address("[]") is None and parse_address("") is None
    assert parse_address("192.0.2.1:") is None


def test_trusted_proxies_are_addresses_or_networks() -> None:
    assert parse_networks("") == () and parse_networks(" , ") == ()
    networks = parse_networks("10.0.0.1, 172.16.0.0/12 , fd00::/8, 10.1.2.3/24")
    assert [str(n) for n in networks] == [
        "10.0.0.1/32",
        "172.16.0.0/12",
        "fd00::/8",
        "10.1.2.0/24",
    ]
    for bad in ("10.0.0.0/33", "proxy.internal", "10.0.0.1 10.0.0.2"):
        with pytest.raises(ValueError, match=repr(bad).replace(".", r"\.")):
            parse_networks(f"10.0.0.1,{bad}")


def test_settings_refuse_bad_proxies_and_redis_urls_at_start() -> None:
    with pytest.raises(ValidationError, match="trusted proxy 'nope'"):
        Settings(trusted_proxies="nope")
    with pytest.raises(ValidationError, match="scheme 'http' is not one of redis"):
        Settings(redis_url="http://127.0.0.1:6379")
    assert Settings(redis_url="").redis_url is None
    assert Settings(trusted_proxies="10.0.0.0/8").trusted_networks == PROXIES[:1]
    with pytest.raises(ValidationError, match="report_period_s"):
        Settings(report_period_s=0.5)


def test_each_deployment_has_its_own_keys_unless_told() -> None:
    a, b = Settings(database_url="sqlite:///a.db"), Settings(database_url="sqlite:///b.db")
    assert key_prefix(a) == key_prefix(Settings(database_url="sqlite:///a.db"))
    assert key_prefix(a) != key_prefix(b) and key_prefix(a).startswith("gridgov:")
    assert key_prefix(Settings(rate_limit_prefix="city-north")) == "city-north"


def test_a_redis_password_is_never_shown() -> None:
    assert shown_url("redis://:hunter2@cache:6379/0") == "redis://:***@cache:6379/0"
    assert shown_url("redis://app:hunter2@cache/1") == "redis://app:***@cache/1"
    assert shown_url("redis://cache:6379/0") == "redis://cache:6379/0"


# --- over HTTP, counted in memory -----------------------------------------------------------


def _app(loaded_url: str, tmp_path: Path, **settings: Any) -> FastAPI:
    from api.app import create_app

    return create_app(
        Settings(
            database_url=loaded_url,
            var_dir=tmp_path / "var",
            report_rate=3,
            report_period_s=PERIOD_S,
            **settings,
        )
    )


@pytest.fixture()
def proxied(loaded_url: str, tmp_path: Path) -> Iterator[FastAPI]:
    """An app behind the trusted proxies ``PROXIES``, counting in memory."""
    app = _app(loaded_url, tmp_path, trusted_proxies="10.0.0.0/8, 2001:db8:ffff::/48")
    yield app
    app.state.report_limit.close()
    app.state.engine.dispose()


def _refused_properly(answer: Any) -> int:
    """The 429 answer's Retry-After, once its shape is checked."""
    assert answer.status_code == 429, answer.text
    retry = answer.headers["Retry-After"]
    assert retry.isdigit() and 1 <= int(retry) <= PERIOD_S
    error = answer.json()["error"]
    assert error["code"] == "rate_limited" and f"try again in {retry} s" in error["message"]
    return int(retry)


def _report(client: TestClient, forwarded_for: str | None = None) -> int:
    headers = {} if forwarded_for is None else {"X-Forwarded-For": forwarded_for}
    answer = client.post("/api/v1/issues", json=GOOD, headers=headers)
    assert answer.status_code < 500, answer.text
    return answer.status_code


@sqlite_only
def test_in_memory_the_fourth_report_of_three_is_refused(proxied: FastAPI) -> None:
    with TestClient(proxied, client=(STRANGER, 4000)) as client:
        assert [_report(client) for _ in range(3)] == [201, 201, 201]
        _refused_properly(client.post("/api/v1/issues", json=GOOD))
        _refused_properly(client.post("/api/v1/issues", json={}))  # refused before read


@sqlite_only
def test_spoofing_x_forwarded_for_does_not_escape_the_limit(proxied: FastAPI) -> None:
    with TestClient(proxied, client=(STRANGER, 4000)) as client:
        codes = [_report(client, f"203.0.113.{n}") for n in range(1, 6)]
    assert codes == [201, 201, 201, 429, 429]


@sqlite_only
def test_behind_a_trusted_proxy_each_client_has_its_own_budget(proxied: FastAPI) -> None:
    with TestClient(proxied, client=(PEER, 4000)) as proxy:
        assert [_report(proxy, "203.0.113.1") for _ in range(4)] == [201, 201, 201, 429]
        # the same client through a second proxy, and with a made-up hop on its left
        assert _report(proxy, "203.0.113.1, 10.0.0.2") == 429
        assert _report(proxy, "192.0.2.66, 203.0.113.1") == 429
        assert _report(proxy, "203.0.113.2") == 201
        assert _report(proxy, "203.0.113.1, 10.0.0.2, 10.0.0.3") == 429
        assert _report(proxy, "203.0.113.3, 10.0.0.2, 10.0.0.3") == 201
        assert _report(proxy, "[2001:db8::3]:51000") == 201
    with TestClient(proxied, client=("2001:db8:ffff::1", 4000)) as proxy6:
        assert _report(proxy6, "203.0.113.1") == 429  # one client, whichever proxy


@sqlite_only
def test_garbage_from_a_trusted_proxy_counts_against_the_proxy(proxied: FastAPI) -> None:
    garbage = ["", "unknown", "1.2.3", "2001:db8::zz", "[::1", "x" * 4000, "203.0.113.1, ?"]
    with TestClient(proxied, client=(PEER, 4000)) as proxy:
        codes = [_report(proxy, value) for value in garbage]
        assert codes == [201, 201, 201, 429, 429, 429, 429]
        assert _report(proxy, "203.0.113.1") == 201  # a real client is not held by them


@sqlite_only
def test_staff_are_not_limited(proxied: FastAPI, tokens: dict[str, str]) -> None:
    with TestClient(proxied, client=(STRANGER, 4000)) as client:
        staff = auth(tokens["grid_worker"])
        codes = [client.post("/api/v1/issues", json=GOOD, headers=staff) for _ in range(5)]
    assert {answer.status_code for answer in codes} == {201}


def test_gridgov_serve_leaves_proxy_headers_to_the_app(
    loaded_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from api.cli import app as cli

    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(options, app=app))
    monkeypatch.setenv("GRIDGOV_DATABASE_URL", loaded_url)
    monkeypatch.setenv("GRIDGOV_VAR_DIR", str(tmp_path / "var"))
    result = CliRunner().invoke(cli, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert served["proxy_headers"] is False and served["port"] == 8123
    assert served["app"] == "api.app:create_app" and served["factory"] is True
    assert served["workers"] == 1


# --- Redis ----------------------------------------------------------------------------------


@pytest.fixture()
def redis_apps(
    loaded_url: str, tmp_path: Path, redis_url: str, redis_prefix: str
) -> Iterator[tuple[FastAPI, FastAPI]]:
    """Two app instances, as two worker processes would be, counting in one Redis."""
    apps = tuple(
        _app(loaded_url, tmp_path / name, redis_url=redis_url, rate_limit_prefix=redis_prefix)
        for name in ("one", "two")
    )
    yield apps[0], apps[1]
    for app in apps:
        app.state.report_limit.close()
        app.state.engine.dispose()


@sqlite_only
def test_two_instances_on_one_redis_share_each_clients_budget(
    redis_apps: tuple[FastAPI, FastAPI],
) -> None:
    one, two = redis_apps
    with (
        TestClient(one, client=(STRANGER, 4000)) as a1,
        TestClient(two, client=(STRANGER, 4001)) as a2,
        TestClient(two, client=("198.51.100.8", 4002)) as b2,
    ):
        assert [_report(a1), _report(a2), _report(a1)] == [201, 201, 201]
        _refused_properly(a2.post("/api/v1/issues", json=GOOD))
        _refused_properly(a1.post("/api/v1/issues", json=GOOD))
        assert _report(b2) == 201  # another client is not affected


def test_redis_counts_right_whatever_this_process_clock_says(
    redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entries are this process's timestamps compared with each other, so a clock
    40 days off Redis's (as under faketime) still counts the same, and Retry-After too."""
    limit = RateLimit(3, PERIOD_S, redis_url, prefix=redis_prefix)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 40 * 86400)
    try:
        for _ in range(3):
            limit.check("192.0.2.1")
        with pytest.raises(TooMany) as refused:
            limit.check("192.0.2.1")
        limit.check("192.0.2.2")
    finally:
        limit.close()
    assert 1 <= int(str(refused.value.extra["retry_after_s"])) <= PERIOD_S


@sqlite_only
def test_unreachable_redis_answers_503_and_staff_still_report(
    loaded_url: str, tmp_path: Path, tokens: dict[str, str]
) -> None:
    # port 1 on loopback: nothing listens there, the connection is refused at once
    app = _app(loaded_url, tmp_path, redis_url="redis://:hunter2@127.0.0.1:1/0")
    try:
        with TestClient(app) as client:
            answer = client.post("/api/v1/issues", json=GOOD)
            staff = client.post("/api/v1/issues", json=GOOD, headers=auth(tokens["manager"]))
    finally:
        app.state.report_limit.close()
        app.state.engine.dispose()
    assert answer.status_code == 503, answer.text
    error = answer.json()["error"]
    assert error["code"] == "rate_limit_unavailable"
    assert "redis://:***@127.0.0.1:1/0" in error["message"] and "hunter2" not in answer.text
    assert staff.status_code == 201
