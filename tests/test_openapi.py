"""The published contract: /openapi.json describes every answer, and the answers keep to it.

Every 2xx answer of every ``/api/v1`` route has a schema; the public and staff
views of a case are two models, and the public one has no contact fields, so
privacy is in the schema too. Answers on the sample are checked against the
schemas /openapi.json publishes (a small structural check: required keys, no
undeclared keys, JSON types), not only against the pydantic models.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.models import IssuePublic, IssueStaff, ReportedPublic
from tests.helpers import GOOD_REPORT, MORNING, auth

METHODS = ("get", "post", "put", "patch", "delete")
PRIVATE = {"reporter", "phone", "input", "photos", "actor", "note"}


@pytest.fixture()
def spec(api: TestClient) -> dict[str, Any]:
    """The OpenAPI document the app serves."""
    response = api.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """``schema``, or what its ``$ref`` points at within the document."""
    while "$ref" in schema:
        node: Any = spec
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def reachable_properties(spec: dict[str, Any], name: str) -> set[str]:
    """Every property name in the component ``name`` and in the schemas it refers to."""
    seen: set[str] = set()
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref is not None:
                if ref not in seen:
                    seen.add(ref)
                    walk(resolve(spec, node))
                return
            names.update(node.get("properties", {}))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec["components"]["schemas"][name])
    return names


JSON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def problems(spec: dict[str, Any], schema: dict[str, Any], value: Any, at: str = "$") -> list[str]:
    """Where ``value`` breaks ``schema``: required keys, undeclared keys, JSON types, enums.

    An object schema with ``properties`` is taken as closed unless it says
    ``additionalProperties``: every key an answer carries must be documented.
    """
    schema = resolve(spec, schema)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            tries = [problems(spec, option, value, at) for option in schema[key]]
            return [] if any(not t for t in tries) else min(tries, key=len)
    if "const" in schema and value != schema["const"]:
        return [f"{at}: {value!r} is not {schema['const']!r}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{at}: {value!r} is not one of {schema['enum']}"]
    kind = schema.get("type")
    if kind is not None:
        allowed = JSON_TYPES[kind]
        if isinstance(value, bool) and kind in ("integer", "number"):
            return [f"{at}: {value!r} is not {kind}"]
        if not isinstance(value, allowed):
            return [f"{at}: {value!r} is not {kind}"]
    found: list[str] = []
    if isinstance(value, dict):
        declared = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                found.append(f"{at}: {key!r} is missing")
        extra = schema.get("additionalProperties", not declared)
        for key, item in value.items():
            if key in declared:
                found += problems(spec, declared[key], item, f"{at}.{key}")
            elif extra is False:
                found.append(f"{at}: {key!r} is not in the schema")
            elif isinstance(extra, dict):
                found += problems(spec, extra, item, f"{at}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found += problems(spec, schema["items"], item, f"{at}[{i}]")
    return found


def keeps_to_schema(spec: dict[str, Any], path: str, method: str, response: Any) -> None:
    """Assert that ``response`` matches what /openapi.json says ``method path`` answers."""
    answer = spec["paths"][path][method]["responses"][str(response.status_code)]
    media = response.headers["content-type"].split(";")[0]
    schema = answer["content"][media]["schema"]
    found = problems(spec, schema, response.json())
    assert not found, f"{method.upper()} {path}: {found[:5]}"


# --- the document --------------------------------------------------------------------------


def test_every_api_answer_has_a_schema(spec: dict[str, Any]) -> None:
    operations = [
        (path, method, op)
        for path, item in spec["paths"].items()
        if path.startswith("/api/v1/")
        for method, op in item.items()
        if method in METHODS
    ]
    assert len(operations) > 25
    for path, method, op in operations:
        done = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        assert done, f"{method.upper()} {path} declares no 2xx answer"
        for code, answer in done.items():
            content = answer.get("content")
            assert content, f"{method.upper()} {path} {code} has no content"
            for media, body in content.items():
                assert body.get("schema"), f"{method.upper()} {path} {code} {media}: no schema"
        errors = {code for code in op["responses"] if code.startswith("4")}
        # read the catalogue, count the squads' tasks: nothing can be wrong
        if path not in ("/api/v1/categories", "/api/v1/squads/loads"):
            assert errors, f"{method.upper()} {path} declares no error answers"


def test_files_and_geojson_declare_their_media_types(spec: dict[str, Any]) -> None:
    paths = spec["paths"]
    binary = {"type": "string", "format": "binary"}
    exports = paths["/api/v1/exports/issues.{fmt}"]["get"]["responses"]["200"]["content"]
    assert set(exports) == {
        "text/csv",
        "application/geo+json",
        "application/geopackage+sqlite3",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    photo = paths["/api/v1/issues/{issue_id}/photos/{photo_id}"]["get"]["responses"]["200"]
    assert set(photo["content"]) == {"image/jpeg", "image/png", "image/webp"}
    assert all(c["schema"] == binary for c in [*exports.values(), *photo["content"].values()])
    cases = paths["/api/v1/issues"]["get"]["responses"]["200"]["content"]
    assert list(cases) == ["application/geo+json"]
    refs = {
        option["$ref"].rsplit("/", 1)[1]
        for option in cases["application/geo+json"]["schema"]["anyOf"]
    }
    assert refs == {"IssueCollectionPublic", "IssueCollectionStaff"}
    grids = paths["/api/v1/grids"]["get"]["responses"]["200"]["content"]
    assert grids["application/geo+json"]["schema"] == {
        "$ref": "#/components/schemas/LayerCollection"
    }
    collection = spec["components"]["schemas"]["IssueCollectionPublic"]
    assert {"type", "features", "total", "limit", "offset", "now"} <= set(collection["required"])
    feature = resolve(spec, collection["properties"]["features"]["items"])
    assert set(feature["properties"]) == {"type", "id", "geometry", "properties"}
    assert resolve(spec, feature["properties"]["geometry"])["title"] == "Point"


def test_every_reference_resolves(spec: dict[str, Any]) -> None:
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert resolve(spec, {"$ref": ref})


def test_public_case_schema_has_no_contact_fields(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    public = set(schemas["IssuePublic"]["properties"])
    staff = set(schemas["IssueStaff"]["properties"])
    assert not {"reporter", "phone", "input"} & public
    assert {"reporter", "input", "photos", "rework_count", "handle_deadline"} <= staff
    assert public < staff
    assert "phone" in reachable_properties(spec, "IssueStaff")
    for name in (
        "IssuePublic",
        "ReportedPublic",
        "IssueCollectionPublic",
        "HistoryPublic",
    ):
        leaked = PRIVATE & reachable_properties(spec, name)
        assert not leaked, f"{name} carries {leaked}"
    assert issubclass(IssueStaff, IssuePublic)


# --- the models ------------------------------------------------------------------------------


def test_public_model_drops_contact_details_it_is_given(api: TestClient) -> None:
    created = api.post("/api/v1/issues", json=GOOD_REPORT)
    assert created.status_code == 201
    staff_like = {
        **created.json(),
        "reporter": {"name": "王阿姨", "phone": "13800138000"},
        "input": {"crs": "gcj02", "lon": 121.84, "lat": 29.89},
        "photos": [],
    }
    for model in (IssuePublic, ReportedPublic):
        text = model.model_validate(staff_like).model_dump_json()
        for secret in ("reporter", "phone", "13800138000", "王阿姨", "input", "gcj02"):
            assert secret not in text, (model.__name__, secret)


# --- the answers -----------------------------------------------------------------------------


def test_anonymous_answers_keep_to_the_public_schemas(
    api: TestClient, spec: dict[str, Any]
) -> None:
    reporter = {"name": "王阿姨", "phone": "13800138000"}
    created = api.post("/api/v1/issues", json={**GOOD_REPORT, "reporter": reporter})
    assert created.status_code == 201
    keeps_to_schema(spec, "/api/v1/issues", "post", created)
    case_id = created.json()["id"]

    read = api.get(f"/api/v1/issues/{case_id}")
    assert read.status_code == 200
    body = read.json()
    assert IssuePublic.model_validate(body).model_dump(mode="json") == body
    assert set(body) == {f.alias or name for name, f in IssuePublic.model_fields.items()}
    assert "13800138000" not in read.text
    keeps_to_schema(spec, "/api/v1/issues/{issue_id}", "get", read)
    public = resolve(spec, {"$ref": "#/components/schemas/IssuePublic"})
    assert not problems(spec, public, body)
    staff = resolve(spec, {"$ref": "#/components/schemas/IssueStaff"})
    assert problems(spec, staff, body), "a public answer should not pass as a staff one"

    for path, url, params in [
        ("/api/v1/issues", "/api/v1/issues", {}),
        ("/api/v1/issues/{issue_id}/history", f"/api/v1/issues/{case_id}/history", {}),
        (
            "/api/v1/locate",
            "/api/v1/locate",
            {"lon": GOOD_REPORT["lon"], "lat": GOOD_REPORT["lat"]},
        ),
        ("/api/v1/locate", "/api/v1/locate", {"lon": 121.9, "lat": 29.9}),
        ("/api/v1/issues/cells", "/api/v1/issues/cells", {}),
        ("/api/v1/stats", "/api/v1/stats", {"group_by": "category"}),
        ("/api/v1/categories", "/api/v1/categories", {}),
        ("/api/v1/grids", "/api/v1/grids", {}),
        ("/api/v1/streets", "/api/v1/streets", {}),
    ]:
        response = api.get(url, params=params)
        assert response.status_code == 200, (url, response.text)
        keeps_to_schema(spec, path, "get", response)
        assert "13800138000" not in response.text


def test_staff_answers_keep_to_the_staff_schemas(
    api: TestClient, tokens: dict[str, str], spec: dict[str, Any]
) -> None:
    api.app.state.clock = lambda: MORNING  # type: ignore[attr-defined]
    desk = auth(tokens["dispatcher"])
    reporter = {"name": "王阿姨", "phone": "13800138000"}
    created = api.post(
        "/api/v1/issues",
        json={**GOOD_REPORT, "reporter": reporter, "channel": "patrol"},
        headers=desk,
    )
    assert created.status_code == 201
    keeps_to_schema(spec, "/api/v1/issues", "post", created)
    case_id = created.json()["id"]
    read = api.get(f"/api/v1/issues/{case_id}", headers=desk)
    body = read.json()
    assert body["reporter"] == reporter
    assert set(body) == {f.alias or name for name, f in IssueStaff.model_fields.items()}
    keeps_to_schema(spec, "/api/v1/issues/{issue_id}", "get", read)
    public = resolve(spec, {"$ref": "#/components/schemas/IssuePublic"})
    assert any("'reporter' is not in the schema" in p for p in problems(spec, public, body))

    checks = [
        ("/api/v1/issues", "get", api.get("/api/v1/issues", headers=desk)),
        (
            "/api/v1/issues/{issue_id}/history",
            "get",
            api.get(f"/api/v1/issues/{case_id}/history", headers=desk),
        ),
        (
            "/api/v1/dispatch/candidates",
            "get",
            api.get("/api/v1/dispatch/candidates", params={"issue_id": case_id}, headers=desk),
        ),
        (
            "/api/v1/dispatch/batch",
            "post",
            api.post("/api/v1/dispatch/batch", json={"dry_run": True}, headers=desk),
        ),
        (
            "/api/v1/issues/{issue_id}/dispatch",
            "post",
            api.post(f"/api/v1/issues/{case_id}/dispatch", json={}, headers=desk),
        ),
        (
            "/api/v1/issues/{issue_id}/transitions",
            "post",
            api.post(
                f"/api/v1/issues/{case_id}/transitions", json={"to": "in_progress"}, headers=desk
            ),
        ),
        ("/api/v1/squads/positions", "get", api.get("/api/v1/squads/positions", headers=desk)),
    ]
    for path, method, response in checks:
        assert response.status_code == 200, (path, response.text)
        keeps_to_schema(spec, path, method, response)
    features = checks[0][2].json()["features"]
    assert any(f["properties"].get("reporter") == reporter for f in features)


def test_error_answers_are_documented_as_they_are_sent(spec: dict[str, Any]) -> None:
    """Errors of a GeoJSON or file route are JSON; a page's are HTML; a route that reads
    a token documents the 401 for a bad one."""
    grids = spec["paths"]["/api/v1/grids"]["get"]["responses"]
    assert set(grids["400"]["content"]) == {"application/json"}
    assert set(grids["200"]["content"]) == {"application/geo+json"}
    export = spec["paths"]["/api/v1/exports/issues.{fmt}"]["get"]["responses"]
    assert all(set(export[s]["content"]) == {"application/json"} for s in export if s >= "400")
    case_page = spec["paths"]["/issues/{issue_id}"]["get"]["responses"]
    assert set(case_page["404"]["content"]) == {"text/html"}
    for path in ("/api/v1/issues", "/api/v1/issues/{issue_id}"):
        assert "401" in spec["paths"][path]["get"]["responses"], path
    assert "401" not in spec["paths"]["/api/v1/grids"]["get"]["responses"]
