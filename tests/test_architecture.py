"""The shape of the code that no linter checks: routes stay thin."""

from __future__ import annotations

import ast

import pytest

from tests.helpers import ROOT

ROUTE_MODULES = sorted(
    [*(ROOT / "api").glob("routes_*.py"), ROOT / "api" / "pages.py"], key=lambda p: p.name
)
MAX_ROUTE_LINES = 30
# a module's own decorators that declare routes through the router (routes_ogc's GET+HEAD)
ROUTE_DECORATORS = {"_read"}


def _routes(path):  # type: ignore[no-untyped-def]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for deco in node.decorator_list:
                call = deco.func if isinstance(deco, ast.Call) else deco
                if (
                    isinstance(call, ast.Attribute)
                    and isinstance(call.value, ast.Name)
                    and call.value.id == "router"
                ) or (isinstance(call, ast.Name) and call.id in ROUTE_DECORATORS):
                    yield node
                    break


@pytest.mark.parametrize("path", ROUTE_MODULES, ids=lambda p: p.name)
def test_every_route_is_a_short_call_into_the_service(path) -> None:  # type: ignore[no-untyped-def]
    routes = list(_routes(path))
    assert routes, f"{path.name} declares no routes?"
    long = {
        r.name: r.end_lineno - r.lineno + 1
        for r in routes
        if r.end_lineno is not None and r.end_lineno - r.lineno + 1 >= MAX_ROUTE_LINES
    }
    assert not long, f"routes of {MAX_ROUTE_LINES} lines or more in {path.name}: {long}"
