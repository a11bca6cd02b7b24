"""Every operation of the OpenAPI document, fuzzed by schemathesis against the ASGI app.

For each operation, schemathesis generates requests from the document (valid
and invalid ones), anonymously and with a manager's token, on each backend.
An answer fails the test when it is a 5xx, or when its status, media type or
body is not what the document promises.  No server is started: the requests
go straight to the app.

Examples are drawn with a fixed seed (``derandomize``), so a run is the same on
any day and on any machine; ``GRIDGOV_FUZZ_EXAMPLES`` raises the number per
operation for a longer hunt (the default keeps the suite fast).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import checks as st_checks

from tests.helpers import MORNING, auth

EXAMPLES = int(os.environ.get("GRIDGOV_FUZZ_EXAMPLES", "12"))
# operations that take most of a second per call (a whole map page, a siting
# optimisation) and have few inputs to vary: fewer examples keep the suite fast
HEAVY = {
    "GET /": 3,
    "GET /planning/parking": 3,
    "GET /api/v1/parking/coverage": 5,
    "POST /api/v1/parking/sites": 4,
}
# schemathesis gives each call 10 s by default, then raises a read timeout; on a busy
# CI machine one siting optimisation took longer, and its replay (on a quieter moment)
# did not, which Hypothesis reports as a flaky failure.  This test judges answers, not
# speed (the benchmarks do that), so a call may take as long as it needs.
CALL_TIMEOUT_S = 600
# what the answers must satisfy: no 5xx, and the documented statuses, media types
# and bodies
CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
]


@pytest.fixture()
def schema(api: TestClient) -> Any:
    """The app's OpenAPI document loaded by schemathesis, at a fixed time of day."""
    api.app.state.clock = lambda: MORNING  # type: ignore[attr-defined]
    return schemathesis.openapi.from_asgi("/openapi.json", api.app)


def _operations(schema: Any) -> list[Any]:
    out = []
    for result in schema.get_all_operations():
        out.append(result.ok())
    return out


@pytest.mark.parametrize("who", ["anonymous", "manager"])
def test_every_operation_answers_without_a_5xx_and_as_documented(
    schema: Any, tokens: dict[str, str], who: str
) -> None:
    headers = auth(tokens[who]) if who != "anonymous" else {}
    operations = _operations(schema)
    assert len(operations) >= 35, [op.label for op in operations]  # every route, not a few
    failures: list[str] = []
    for operation in operations:
        failure = _fuzz(operation, headers)
        if failure:
            failures.append(f"{operation.label}: {failure}")
    assert not failures, "\n\n".join(failures)


def _fuzz(operation: Any, headers: dict[str, str]) -> str | None:
    """Run the examples of one operation; the first failure, described, or None."""

    @hypothesis_settings(
        max_examples=HEAVY.get(operation.label, EXAMPLES),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS, timeout=CALL_TIMEOUT_S)

    try:
        run()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # failing checks (a group), in schemathesis's own words
        inner = getattr(exc, "exceptions", ())  # a group's members say what failed
        detail = "; ".join(f"{type(e).__name__}: {e}" for e in inner)
        return f"{type(exc).__name__}: {exc} {detail}"[:3000]
    return None


def test_the_fuzzer_catches_a_5xx(api: TestClient) -> None:
    """The checks used above do fail on a server error (the test can fail)."""

    @api.app.get("/api/v1/broken")
    def broken() -> dict[str, str]:
        raise RuntimeError("boom")

    api.app.openapi_schema = None  # rebuild the document with the new route
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    operation = next(op for op in _operations(schema) if op.path == "/api/v1/broken")
    failure = _fuzz(operation, {})
    # the test client re-raises the app's exception after the JSON 500 is sent
    assert failure is not None and ("boom" in failure or "Server error" in failure), failure

    @api.app.get("/api/v1/quietly-broken")
    def quietly() -> JSONResponse:
        return JSONResponse({"error": {"code": "x", "message": "y"}}, status_code=502)

    api.app.openapi_schema = None
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    operation = next(op for op in _operations(schema) if op.path == "/api/v1/quietly-broken")
    failure = _fuzz(operation, {})
    assert failure is not None and "Server error" in failure, failure
