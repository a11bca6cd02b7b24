"""Case endpoints: report, list, read, move through the lifecycle, photos.

Each route parses the request, calls one use case in ``service.issues`` and
answers; the rules live there.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Header, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, ValidationError

from api.auth import ActorDep, StaffDep
from api.deps import IssueId, NowDep, PhotoId, ReadSessionDep, SessionDep, SettingsDep, SnapshotDep
from api.errors import ApiError, responses
from api.geojson import GeoJSONResponse
from service import issues as use
from service.clients import client_address
from service.geojson import parse_bbox
from service.models import (
    Cells,
    HistoryPublic,
    HistoryStaff,
    IssueCollectionPublic,
    IssueCollectionStaff,
    IssuePublic,
    IssueStaff,
    Located,
    Photo,
    ReportedPublic,
    ReportedStaff,
)
from service.schemas import MAX_ID, IssueIn, TransitionIn, parse_instant
from service.scope import asked_area
from store.issues import IssueFilter

router = APIRouter(prefix="/api/v1", tags=["issues"])


def client_of(request: Request) -> str:
    """The client's address, as the rate limit counts it: the peer, or the client that
    trusted proxies name in X-Forwarded-For (the rule is ``service.clients``)."""
    return client_address(
        request.client.host if request.client else None,
        ",".join(request.headers.getlist("x-forwarded-for")),
        request.app.state.settings.trusted_networks,
    )


def json_schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON Schema with its ``$defs`` written in place.

    For a request body the route reads itself: placed inside the OpenAPI
    document, a ``#/$defs/...`` reference would point at the document's root,
    which has none.
    """
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(value) for value in node]
        return node

    inlined: dict[str, Any] = inline(schema)
    return inlined


# The body is read by ``json_body``, not declared as a parameter: a body that is not
# JSON must answer 415/400 with our codes, and the rate limit must run before the body
# is validated. So the request body is described here by hand.
@router.post(
    "/issues",
    status_code=201,
    responses=responses(400, 403, 413, 415, 422, 429, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": json_schema_of(IssueIn)}},
        }
    },
)
def report_issue(
    request: Request,
    response: Response,
    session: SessionDep,
    snapshot: SnapshotDep,
    settings: SettingsDep,
    actor: ActorDep,
    now: NowDep,
    body: Annotated[Any, Depends(json_body)],
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> ReportedStaff | ReportedPublic:
    """Report a problem; answers the new case (public fields unless staff report it),
    or the first answer to a retried key."""
    use.admit_report(actor, client_of(request), request.app.state.report_limit)
    try:
        data = IssueIn.model_validate(body)
    except ValidationError as exc:
        raise _invalid(exc) from exc
    done = use.report_case(
        session, snapshot, settings, data, actor, now, idempotency_key=idempotency_key
    )
    response.headers["Location"] = f"/api/v1/issues/{done.answer.id}"
    if done.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return done.answer


async def json_body(request: Request) -> Any:
    """The request's JSON body, or a 415/400 that says what is wrong with it."""
    kind = request.headers.get("content-type", "")
    if kind.split(";")[0].strip().lower() != "application/json":
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send the report as application/json, not {kind or 'a body without a content type'}",
        )
    try:
        body = json.loads(await request.body(), parse_int=_bounded_int)
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, "bad_json", f"the body is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise ApiError(400, "bad_json", "the body is nested far too deeply") from exc
    if _depth(body) > MAX_JSON_DEPTH:
        raise ApiError(
            400, "bad_json", f"the body is nested more than {MAX_JSON_DEPTH} levels deep"
        )
    return body


MAX_JSON_DEPTH = 16
MAX_INT_DIGITS = 20


def _bounded_int(text: str) -> int:
    """A JSON integer, refused when longer than any number the service takes."""
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"the number {text[:12]}… has {len(text)} digits")
    return int(text)


def _depth(node: Any, level: int = 0) -> int:
    """How deeply ``node`` nests, counting no further than just past the limit."""
    if level > MAX_JSON_DEPTH or not isinstance(node, dict | list):
        return level
    children = node.values() if isinstance(node, dict) else node
    return max((_depth(child, level + 1) for child in children), default=level + 1)


def _invalid(exc: ValidationError) -> ApiError:
    details = [
        {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
    ]
    message = "; ".join(f"{d['field']}: {d['message']}" for d in details)
    return ApiError(422, "invalid_request", message, details=details)


def _csv(values: str | None) -> list[str]:
    return [v.strip() for v in values.split(",") if v.strip()] if values else []


AREA = "Only the cases of this area: a district, street, community or grid code"
AFTER = "Only the cases after this id (keyset paging: the previous page's next)"


def issue_filter(
    now: NowDep,
    status: Annotated[str | None, Query(description="Comma-separated statuses")] = None,
    category: Annotated[str | None, Query(description="Comma-separated category codes")] = None,
    grid: Annotated[str | None, Query(description="Comma-separated grid codes")] = None,
    district: Annotated[str | None, Query(description="Comma-separated district codes")] = None,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat")] = None,
    since: Annotated[str | None, Query(description="Changed at or after (ISO 8601)")] = None,
    until: Annotated[str | None, Query(description="Changed before (ISO 8601)")] = None,
    overdue: bool | None = None,
    area: Annotated[str | None, Query(description=AREA)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> IssueFilter:
    """The list filters shared by the case list, the cells and the exports."""
    return IssueFilter(
        within=asked_area(area),
        status=use.check_statuses(_csv(status)),
        category=_csv(category),
        grid=_csv(grid),
        district=_csv(district),
        bbox=parse_bbox(bbox),
        since=parse_instant(since, "since"),
        until=parse_instant(until, "until"),
        overdue=overdue,
        now=now,
        limit=limit,
        offset=offset,
    )


FilterDep = Annotated[IssueFilter, Depends(issue_filter)]


@router.get("/issues", response_class=GeoJSONResponse, responses=responses(400, 422, 503))
def list_cases(
    session: ReadSessionDep,
    snapshot: SnapshotDep,
    settings: SettingsDep,
    actor: ActorDep,
    filters: FilterDep,
    after: Annotated[int | None, Query(ge=0, le=MAX_ID, description=AFTER)] = None,
) -> IssueCollectionStaff | IssueCollectionPublic:
    """Cases as a GeoJSON FeatureCollection, one page at a time (by ``offset`` or from the
    ``after`` cursor), with the total count (estimated beyond a cap) and the next cursor."""
    return use.list_cases(
        session, snapshot, replace(filters, after=after), actor, settings.exact_count_cap
    )


@router.get("/locate", responses=responses(422, 503))
def locate(
    snapshot: SnapshotDep,
    lon: float,
    lat: float,
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84",
) -> Located:
    """Which grid and business district a point falls in, or how far outside it lies.

    For the report page, which shows the grid as the pin moves.
    """
    return use.locate(snapshot, lon, lat, crs)


@router.get("/issues/cells", responses=responses(400, 422, 503))
def case_cells(
    session: ReadSessionDep,
    snapshot: SnapshotDep,
    filters: FilterDep,
    cell_deg: Annotated[float, Query(gt=0.00001, le=10.0)] = 0.001,
) -> Cells:
    """Cases counted per lattice square, for maps zoomed out over many cases."""
    return use.count_cells(session, filters, cell_deg)


@router.get("/issues/{issue_id}", responses=responses(404, 503))
def read_case(
    issue_id: IssueId, session: SessionDep, snapshot: SnapshotDep, actor: ActorDep, now: NowDep
) -> IssueStaff | IssuePublic:
    """One case; staff also see contact details, deadlines and photos."""
    return use.read_case(session, snapshot, issue_id, now, actor)


@router.get("/issues/{issue_id}/history", responses=responses(404))
def case_history(
    issue_id: IssueId, session: SessionDep, actor: ActorDep
) -> HistoryStaff | HistoryPublic:
    """Every status change of a case; staff also see who made it and the note."""
    return use.case_history(session, issue_id, actor)


@router.post("/issues/{issue_id}/transitions", responses=responses(401, 403, 404, 409, 422))
def move_case(
    issue_id: IssueId,
    body: TransitionIn,
    session: SessionDep,
    snapshot: SnapshotDep,
    actor: StaffDep,
    now: NowDep,
) -> IssueStaff:
    """Move a case through its lifecycle; an illegal move answers 409 and changes nothing."""
    return use.move_case(session, snapshot, issue_id, body, actor, now)


@router.post(
    "/issues/{issue_id}/photos",
    status_code=201,
    responses=responses(401, 403, 404, 409, 413, 415, 429, 503),
)
def add_photo(
    issue_id: IssueId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: ActorDep,
    now: NowDep,
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP")],
    x_photo_token: Annotated[str | None, Header()] = None,
) -> Photo:
    """Attach a photo: the reporter (with the case's photo token) or staff.

    Answers 503 with Retry-After when too many photos are being processed."""
    data = file.file.read(settings.max_photo_bytes + 1)
    return use.add_photo(
        session, settings, issue_id, data, actor, now, gate=request.app.state.photo_gate,
        photo_token_given=x_photo_token, client=client_of(request),
        limiter=request.app.state.report_limit,
    )  # fmt: skip


@router.get("/issues/{issue_id}/photos", responses=responses(401, 403, 404))
def list_photos(
    issue_id: IssueId,
    session: SessionDep,
    settings: SettingsDep,
    actor: ActorDep,
    x_photo_token: Annotated[str | None, Header()] = None,
) -> list[Photo]:
    """A case's photos: for staff of its area, or its reporter with the case's photo token."""
    return use.case_photos(session, settings, issue_id, actor, x_photo_token)


IMAGES = ("image/jpeg", "image/png", "image/webp")


@router.get(
    "/issues/{issue_id}/photos/{photo_id}",
    response_class=FileResponse,
    responses={
        200: {
            "description": "The photo as stored, or its thumbnail (always JPEG)",
            "content": {
                kind: {"schema": {"type": "string", "format": "binary"}} for kind in IMAGES
            },
        },
        **responses(401, 403, 404),
    },
)
def get_photo(
    issue_id: IssueId,
    photo_id: PhotoId,
    session: SessionDep,
    settings: SettingsDep,
    actor: ActorDep,
    thumbnail: bool = False,
    x_photo_token: Annotated[str | None, Header()] = None,
) -> FileResponse:
    """A case photo or its thumbnail: for staff of its area, or its reporter with the
    case's photo token."""
    found = use.photo_file(session, settings, issue_id, photo_id, thumbnail, actor, x_photo_token)
    return FileResponse(found.path, media_type=found.media_type)
