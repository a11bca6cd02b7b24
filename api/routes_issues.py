"""Case endpoints: report, list, read, move through the lifecycle, photos."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Header, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.areas import Areas
from api.auth import optional_actor, photo_token, require
from api.deps import SessionDep, SettingsDep, get_now
from api.errors import ApiError
from api.geojson import parse_bbox
from api.limits import human_size
from api.schemas import STAFF_CHANNELS, IssueIn, TransitionIn
from api.views import event_view, iso, issue_feature, issue_view, photo_view
from cases.deadlines import BadLimit, parse_limit
from cases.lifecycle import IllegalTransition, MissingField, NotAllowed, Status
from gis.crs import CoordinateError, check_lonlat, to_wgs84
from store.db import atomic
from store.issues import (
    Actor,
    ConcurrentChange,
    IdempotencyMismatch,
    IssueFilter,
    IssueNotFound,
    NewIssue,
    cell_counts,
    create_issue,
    find_duplicates,
    get_issue,
    history,
    list_issues,
    transition,
)
from store.models import Category, Issue, IssuePhoto
from store.photos import BadPhoto, TooManyPhotos, photos_of, save_photo

router = APIRouter(prefix="/api/v1", tags=["issues"])
ActorDep = Annotated[Actor, Depends(optional_actor)]
StaffDep = Annotated[Actor, Depends(require())]


def community(request: Request, session: Session) -> Areas:
    areas: Areas | None = request.app.state.areas.get(session)
    if areas is None:
        raise ApiError(
            503,
            "no_community",
            "no community boundaries are loaded yet; run 'gridgov load DIR' first",
        )
    return areas


def categories(session: Session) -> dict[str, Category]:
    return {c.code: c for c in session.scalars(select(Category))}


def not_found(exc: IssueNotFound) -> ApiError:
    return ApiError(404, "issue_not_found", str(exc))


@router.post(
    "/issues",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": IssueIn.model_json_schema()}},
        }
    },
)
def report_issue(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: ActorDep,
    body: Annotated[Any, Depends(json_body)],
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> JSONResponse:
    """Report a problem; answers the new case, or the first answer to a retried key.

    A plain function, so that FastAPI runs its blocking database work in a worker
    thread rather than on the event loop.
    """
    if actor.role is None:
        request.app.state.report_limit.check(request.client.host if request.client else "?")
    try:
        data = IssueIn.model_validate(body)
    except ValidationError as exc:
        raise _invalid(exc) from exc
    if data.channel in STAFF_CHANNELS and actor.role is None:
        raise ApiError(
            403,
            "staff_channel",
            f"channel {data.channel!r} is for staff; residents report through 'mobile' or 'web'",
        )
    try:
        check_lonlat(data.lon, data.lat)
    except CoordinateError as exc:
        raise ApiError(422, "coordinate_out_of_range", str(exc)) from exc
    lon_a, lat_a = to_wgs84(data.lon, data.lat, data.crs)
    lon, lat = float(lon_a), float(lat_a)
    known = categories(session)
    if data.category not in known:
        raise ApiError(
            422,
            "unknown_category",
            f"category {data.category!r} is not in the "
            f"catalogue; use one of: {', '.join(sorted(known))}",
        )
    description = data.description.strip()
    if not description:
        raise ApiError(422, "empty_description", "describe the problem in a few words")
    if len(description) > settings.max_description:
        raise ApiError(
            422,
            "description_too_long",
            f"the description has {len(description)} "
            f"characters; keep it under {settings.max_description}",
        )
    areas = community(request, session)
    grid, district = areas.locate(lon, lat)
    if grid is None:
        far = areas.outside_by_m(lon, lat)
        raise ApiError(
            422,
            "outside_community",
            f"the point ({lon:.6f}, {lat:.6f}) is "
            f"{far:,.0f} m outside {areas.community_name or 'the community'}; check "
            "the location, or the crs (gcj02 for Amap/WeChat, bd09 for Baidu)",
            distance_m=round(far, 1),
        )
    new = NewIssue(
        lon=lon,
        lat=lat,
        input_crs=data.crs,
        input_lon=data.lon,
        input_lat=data.lat,
        category=data.category,
        description=description,
        channel=data.channel,
        grid_code=grid,
        district_code=district,
        reporter_name=data.reporter.name if data.reporter else None,
        reporter_phone=data.reporter.phone if data.reporter else None,
    )
    digest = hashlib.sha256(json.dumps(data.model_dump(), sort_keys=True).encode()).hexdigest()
    now = get_now(request)

    def write() -> tuple[Issue, bool]:
        with atomic(session):
            return create_issue(
                session, new, now, settings.file_limit, actor, idempotency_key, digest
            )

    try:
        try:
            issue, replayed = write()
        except IntegrityError:
            # the same key raced in from a parallel request: answer what that one wrote
            issue, replayed = write()
    except IdempotencyMismatch as exc:
        raise ApiError(422, "idempotency_key_reused", str(exc)) from exc
    window = now - timedelta(hours=settings.duplicate_window_h)
    near = find_duplicates(
        session,
        issue.category,
        issue.lon,
        issue.lat,
        settings.duplicate_radius_m,
        window,
        exclude=issue.id,
    )
    view = issue_view(issue, areas, known, now, staff=actor.role is not None)
    view["possible_duplicates"] = [
        {
            "id": other.id,
            "distance_m": round(d, 1),
            "status": other.status,
            "reported_at": iso(other.reported_at),
            "description": other.description,
        }
        for other, d in near
        if other.reported_at <= issue.reported_at
    ]
    view["photo_token"] = photo_token(settings.secret, issue.id)
    headers = {"Location": f"/api/v1/issues/{issue.id}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(view, status_code=201, headers=headers)


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
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, "bad_json", f"the body is not valid JSON: {exc}") from exc


def _invalid(exc: ValidationError) -> ApiError:
    details = [
        {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
    ]
    message = "; ".join(f"{d['field']}: {d['message']}" for d in details)
    return ApiError(422, "invalid_request", message, details=details)


def _csv(values: str | None) -> list[str]:
    return [v.strip() for v in values.split(",") if v.strip()] if values else []


def _moment(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApiError(
            400,
            "bad_datetime",
            f"{name} {text!r} is not an ISO 8601 date or time, e.g. 2026-11-26T08:00:00Z",
        ) from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def issue_filter(
    request: Request,
    status: Annotated[str | None, Query(description="Comma-separated statuses")] = None,
    category: Annotated[str | None, Query(description="Comma-separated category codes")] = None,
    grid: Annotated[str | None, Query(description="Comma-separated grid codes")] = None,
    district: Annotated[str | None, Query(description="Comma-separated district codes")] = None,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat")] = None,
    since: Annotated[str | None, Query(description="Changed at or after (ISO 8601)")] = None,
    until: Annotated[str | None, Query(description="Changed before (ISO 8601)")] = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> IssueFilter:
    """The list filters shared by the case list and the exports."""
    statuses = _csv(status)
    unknown = [s for s in statuses if s not in Status.__members__.values()]
    if unknown:
        raise ApiError(
            400,
            "unknown_status",
            f"status {unknown[0]!r} is not one of: {', '.join(s.value for s in Status)}",
        )
    return IssueFilter(
        status=statuses,
        category=_csv(category),
        grid=_csv(grid),
        district=_csv(district),
        bbox=parse_bbox(bbox),
        since=_moment(since, "since"),
        until=_moment(until, "until"),
        overdue=overdue,
        now=get_now(request),
        limit=limit,
        offset=offset,
    )


FilterDep = Annotated[IssueFilter, Depends(issue_filter)]


@router.get("/issues")
def list_cases(
    request: Request, session: SessionDep, actor: ActorDep, filters: FilterDep
) -> JSONResponse:
    """Cases as a GeoJSON FeatureCollection, one page at a time, with the total count."""
    areas = community(request, session)
    rows, total = list_issues(session, filters)
    known = categories(session)
    features = [
        issue_feature(issue_view(i, areas, known, filters.now, actor.role is not None))
        for i in rows
    ]
    return JSONResponse(
        {
            "type": "FeatureCollection",
            "features": features,
            "total": total,
            "limit": filters.limit,
            "offset": filters.offset,
            "now": iso(filters.now),
        },
        media_type="application/geo+json",
    )


@router.get("/locate")
def locate(
    request: Request,
    session: SessionDep,
    lon: float,
    lat: float,
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84",
) -> dict[str, Any]:
    """Which grid and business district a point falls in, or how far outside it lies.

    For the report page, which shows the grid as the pin moves.
    """
    try:
        check_lonlat(lon, lat)
    except CoordinateError as exc:
        raise ApiError(422, "coordinate_out_of_range", str(exc)) from exc
    wlon, wlat = (float(v) for v in to_wgs84(lon, lat, crs))
    areas = community(request, session)
    grid, district = areas.locate(wlon, wlat)
    return {
        "location": {"lon": wlon, "lat": wlat},
        "inside": grid is not None,
        "grid": {"code": grid, "name": areas.grid_names.get(grid)} if grid else None,
        "district": (
            {"code": district, "name": areas.district_names.get(district)} if district else None
        ),
        "outside_m": None if grid else round(areas.outside_by_m(wlon, wlat), 1),
        "community": areas.community_name,
    }


@router.get("/issues/cells")
def case_cells(
    request: Request,
    session: SessionDep,
    filters: FilterDep,
    cell_deg: Annotated[float, Query(gt=0.00001, le=10.0)] = 0.001,
) -> dict[str, Any]:
    """Cases counted per lattice square, for maps zoomed out over many cases."""
    community(request, session)
    cells = cell_counts(session, filters, cell_deg)
    return {
        "cell_deg": cell_deg,
        "total": sum(c.count for c in cells),
        "now": iso(filters.now),
        "cells": [
            {"lon": c.lon, "lat": c.lat, "count": c.count, "overdue": c.overdue} for c in cells
        ],
    }


@router.get("/issues/{issue_id}")
def read_case(
    issue_id: int, request: Request, session: SessionDep, actor: ActorDep
) -> dict[str, Any]:
    """One case; staff also see contact details, deadlines and photos."""
    try:
        issue = get_issue(session, issue_id)
    except IssueNotFound as exc:
        raise not_found(exc) from exc
    staff = actor.role is not None
    return issue_view(
        issue,
        community(request, session),
        categories(session),
        get_now(request),
        staff,
        photos_of(session, issue_id) if staff else None,
    )


@router.get("/issues/{issue_id}/history")
def case_history(issue_id: int, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    """Every status change of a case; staff also see who made it and the note."""
    try:
        events = history(session, issue_id)
    except IssueNotFound as exc:
        raise not_found(exc) from exc
    return {"issue_id": issue_id, "events": [event_view(e, actor.role is not None) for e in events]}


@router.post("/issues/{issue_id}/transitions")
def move_case(
    issue_id: int, body: TransitionIn, request: Request, session: SessionDep, actor: StaffDep
) -> dict[str, Any]:
    """Move a case through its lifecycle; an illegal move answers 409 and changes nothing."""
    try:
        target = Status(body.to)
    except ValueError as exc:
        raise ApiError(
            422,
            "unknown_status",
            f"status {body.to!r} is not one of: {', '.join(s.value for s in Status)}",
        ) from exc
    areas = community(request, session)
    _check_references(session, areas, issue_id, body)
    try:
        with atomic(session):
            issue = transition(
                session,
                issue_id,
                target,
                actor,
                get_now(request),
                body.model_dump(exclude={"to"}, exclude_none=False)
                | {
                    "duplicate_of": (
                        str(body.duplicate_of) if body.duplicate_of is not None else None
                    )
                },
            )
    except IssueNotFound as exc:
        raise not_found(exc) from exc
    except IllegalTransition as exc:
        raise ApiError(409, "illegal_transition", str(exc)) from exc
    except NotAllowed as exc:
        raise ApiError(403, "forbidden", str(exc)) from exc
    except MissingField as exc:
        raise ApiError(422, "missing_field", str(exc)) from exc
    except ConcurrentChange as exc:
        raise ApiError(409, "concurrent_change", str(exc)) from exc
    return issue_view(issue, areas, categories(session), get_now(request), staff=True)


def _check_references(session: Session, areas: Areas, issue_id: int, body: TransitionIn) -> None:
    if body.squad is not None and body.squad not in areas.squad_names:
        raise ApiError(
            422,
            "unknown_squad",
            f"squad {body.squad!r} is not one of: {', '.join(sorted(areas.squad_names))}",
        )
    if body.department is not None and body.department not in areas.unit_names:
        raise ApiError(
            422,
            "unknown_department",
            f"department {body.department!r} is not a "
            f"co-building unit; use one of: {', '.join(sorted(areas.unit_names))}",
        )
    if body.deadline is not None:
        try:
            parse_limit(body.deadline)
        except BadLimit as exc:
            raise ApiError(422, "bad_deadline", str(exc)) from exc
    if body.duplicate_of is not None and (
        body.duplicate_of == issue_id or session.get(Issue, body.duplicate_of) is None
    ):
        raise ApiError(
            422,
            "unknown_duplicate",
            f"duplicate_of {body.duplicate_of} is not another existing case",
        )


@router.post("/issues/{issue_id}/photos", status_code=201)
def add_photo(
    issue_id: int,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: ActorDep,
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP")],
    x_photo_token: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Attach a photo: the reporter (with the case's photo token) or staff."""
    try:
        issue = get_issue(session, issue_id)
    except IssueNotFound as exc:
        raise not_found(exc) from exc
    if actor.role is None:
        request.app.state.report_limit.check(request.client.host if request.client else "?")
        if not x_photo_token or not hmac.compare_digest(
            x_photo_token, photo_token(settings.secret, issue.id)
        ):
            raise ApiError(
                403,
                "photo_token_required",
                "send the X-Photo-Token returned when the case was reported, or a staff token",
            )
    data = file.file.read(settings.max_photo_bytes + 1)
    if len(data) > settings.max_photo_bytes:
        raise ApiError(
            413,
            "payload_too_large",
            f"the photo is larger than {human_size(settings.max_photo_bytes)}; downscale it first",
        )
    saved: list[Path] = []
    try:
        with atomic(session):
            photo = save_photo(
                session, issue_id, data, settings.photo_dir, get_now(request), settings.max_photos
            )
            saved = [settings.photo_dir / photo.path, settings.photo_dir / photo.thumb_path]
    except BadPhoto as exc:
        raise ApiError(415, "unsupported_image", str(exc)) from exc
    except TooManyPhotos as exc:
        raise ApiError(409, "too_many_photos", str(exc)) from exc
    except Exception:
        for path in saved:
            path.unlink(missing_ok=True)
        raise
    return photo_view(photo)


@router.get("/issues/{issue_id}/photos/{photo_id}")
def get_photo(
    issue_id: int,
    photo_id: int,
    session: SessionDep,
    settings: SettingsDep,
    _: StaffDep,
    thumbnail: bool = False,
) -> FileResponse:
    """A case photo or its thumbnail (staff only)."""
    photo = session.get(IssuePhoto, photo_id)
    if photo is None or photo.issue_id != issue_id:
        raise ApiError(404, "photo_not_found", f"case {issue_id} has no photo {photo_id}")
    if thumbnail:
        return FileResponse(settings.photo_dir / photo.thumb_path, media_type="image/jpeg")
    return FileResponse(settings.photo_dir / photo.path, media_type=photo.content_type)
