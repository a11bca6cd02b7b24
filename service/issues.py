"""Case use cases: report, list, locate, count, read, history, move, photos.

Every channel (the JSON API, the pages, the CLI, later Open311) reports, reads
and moves cases through these functions, so each rule is applied once: the
grid join, idempotency, the duplicate search, the rate limit and privacy.
They take a session and typed inputs and return views; they raise
:mod:`service.errors`, never HTTP errors.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cases.areas import Level, contains, level_of, parent_of
from cases.deadlines import BadLimit, parse_limit
from cases.lifecycle import IllegalTransition, MissingField, NotAllowed, Status
from service import images
from service.capacity import check_capacity
from service.catalogue import check_offered
from service.community import CommunitySnapshot
from service.errors import (
    Conflict,
    Forbidden,
    Invalid,
    Malformed,
    NotFound,
    TooLarge,
    Unsupported,
)
from service.gate import Gate
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
from service.place import wgs84_point
from service.ratelimit import RateLimit
from service.schemas import STAFF_CHANNELS, IssueIn, TransitionIn
from service.scope import case_in_scope, in_scope, list_area
from service.settings import Settings
from service.sizes import human_size
from service.tokens import photo_token
from service.views import event_view, iso, issue_feature, issue_view, photo_view
from store.catalogue import catalogues_for, categories_for, shared_catalogue
from store.db import atomic, release
from store.issues import (
    Actor,
    ConcurrentChange,
    IdempotencyMismatch,
    IssueFilter,
    IssueNotFound,
    NewIssue,
    cell_counts,
    count_matching,
    create_issue,
    find_duplicates,
    get_issue,
    history,
    issue_exists,
    issue_query,
    page_issues,
    transition,
)
from store.models import Issue
from store.photos import (
    TooManyPhotos,
    count_photos,
    photo_of,
    photos_of,
    record_photo,
    write_photo_files,
)
from store.squads import squad_loads


@dataclass(frozen=True)
class Reported:
    """A report's answer: the case as its reporter may see it, and whether it was a retry."""

    answer: ReportedStaff | ReportedPublic
    replayed: bool


def case_not_found(exc: IssueNotFound) -> NotFound:
    return NotFound("issue_not_found", str(exc))


def load_case(session: Session, issue_id: int) -> Issue:
    """Case ``issue_id``, or ``NotFound`` naming it."""
    try:
        return get_issue(session, issue_id)
    except IssueNotFound as exc:
        raise case_not_found(exc) from exc


def unknown_status(value: str) -> Invalid:
    return Invalid(
        "unknown_status", f"status {value!r} is not one of: {', '.join(s.value for s in Status)}"
    )


def admit_report(actor: Actor, client: str, limiter: RateLimit) -> None:
    """Spend one of ``client``'s public reports (staff are not limited), or ``TooMany``.

    Called before the report is even read, so that a flood of bad bodies is
    limited too.
    """
    if actor.role is None:
        limiter.check(client)


def report_case(
    session: Session,
    snapshot: CommunitySnapshot,
    settings: Settings,
    data: IssueIn,
    actor: Actor,
    now: datetime,
    *,
    idempotency_key: str | None = None,
) -> Reported:
    """Take a report: check it, join it to its grid, store it once, list near duplicates.

    A retry with the same ``idempotency_key`` answers what the first one wrote.
    The caller has admitted it first (:func:`admit_report`).
    """
    if data.channel in STAFF_CHANNELS and actor.role is None:
        raise Forbidden(
            "staff_channel",
            f"channel {data.channel!r} is for staff; residents report through 'mobile' or 'web'",
        )
    lon, lat = wgs84_point(data.lon, data.lat, data.crs)
    known = shared_catalogue(session)
    if data.category not in known:
        raise Invalid(
            "unknown_category",
            f"category {data.category!r} is not in the "
            f"catalogue; use one of: {', '.join(sorted(known))}",
        )
    description = _description(data.description, settings.max_description)
    grid, district = snapshot.locate(lon, lat)
    if grid is None:
        code, name, far = snapshot.nearest_community(lon, lat)
        raise Invalid(
            "outside_community",
            f"the point ({lon:.6f}, {lat:.6f}) is {far:,.0f} m outside "
            f"{name or 'the community'}, the nearest community this service holds; check "
            "the location, or the crs (gcj02 for Amap/WeChat, bd09 for Baidu)",
            distance_m=round(far, 1),
            nearest_community={"code": code, "name": name},
        )
    community = parent_of(grid)
    known = categories_for(session, community)
    check_offered(session, snapshot, data.category, community, known)  # as the community has it
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

    def write() -> tuple[Any, bool]:
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
        raise Invalid("idempotency_key_reused", str(exc)) from exc
    view = issue_view(issue, snapshot, known, now, staff=actor.role is not None)
    view["possible_duplicates"], view["possible_duplicates_total"] = _possible_duplicates(
        session, settings, issue, now
    )
    view["photo_token"] = photo_token(settings.secret, issue.id)
    answer = (ReportedStaff if actor.role is not None else ReportedPublic).model_validate(view)
    return Reported(answer, replayed)


def _description(text: str, limit: int) -> str:
    description = text.strip()
    if not description:
        raise Invalid("empty_description", "describe the problem in a few words")
    if len(description) > limit:
        raise Invalid(
            "description_too_long",
            f"the description has {len(description)} characters; keep it under {limit}",
        )
    return description


SHOWN_DUPLICATES = 5  # the nearest few; the total says how many more there are


def _possible_duplicates(
    session: Session, settings: Settings, issue: Any, now: datetime
) -> tuple[list[dict[str, Any]], int]:
    """The nearest few open cases that may be the same problem, and how many there are."""
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
    earlier = [(other, d) for other, d in near if other.reported_at <= issue.reported_at]
    shown = [
        {
            "id": other.id,
            "distance_m": round(d, 1),
            "status": other.status,
            "reported_at": iso(other.reported_at),
            "description": other.description,
        }
        for other, d in earlier[:SHOWN_DUPLICATES]
    ]
    return shown, len(earlier)


def check_statuses(statuses: list[str]) -> list[str]:
    """``statuses`` when each is a lifecycle status, else ``unknown_status`` naming the first."""
    for value in statuses:
        if value not in Status.__members__.values():
            raise Malformed("unknown_status", unknown_status(value).message)
    return statuses


def list_cases(
    session: Session,
    snapshot: CommunitySnapshot,
    filters: IssueFilter,
    actor: Actor,
    count_cap: int | None = None,
) -> IssueCollectionStaff | IssueCollectionPublic:
    """One page of cases as a GeoJSON FeatureCollection, with the total, the cursor of
    the next page and the server's now.

    The total is exact up to ``count_cap`` matching cases (all when None) and an
    estimate beyond (:func:`store.issues.count_matching`).  Staff see the cases of their
    area, with private fields; the public sees every case.
    """
    staff = actor.role is not None
    filters = replace(filters, area=list_area(actor))
    rows, after = page_issues(session, filters)
    total = count_matching(session, issue_query(session, filters), count_cap)
    known = catalogues_for(session, {i.community_code for i in rows})
    model = IssueCollectionStaff if staff else IssueCollectionPublic
    return model.model_validate(
        {
            "type": "FeatureCollection",
            "features": [
                issue_feature(issue_view(i, snapshot, known[i.community_code], filters.now, staff))
                for i in rows
            ],
            "total": total.value,
            "total_is_estimate": total.estimate,
            "limit": filters.limit,
            "offset": filters.offset,
            "after": filters.after,
            "next": after,
            "now": iso(filters.now),
        }
    )


def locate(snapshot: CommunitySnapshot, lon: float, lat: float, crs: str) -> Located:
    """The grid and business district at a point, or how far outside the community it lies."""
    wlon, wlat = wgs84_point(lon, lat, crs)
    grid, district = snapshot.locate(wlon, wlat)
    return Located.model_validate(
        {
            "location": {"lon": wlon, "lat": wlat},
            "inside": grid is not None,
            "grid": {"code": grid, **snapshot.named("grid", grid)} if grid else None,
            "district": (
                {"code": district, **snapshot.named("district", district)} if district else None
            ),
            "outside_m": None if grid else round(snapshot.outside_by_m(wlon, wlat), 1),
            "community": snapshot.name_at(wlon, wlat),
        }
    )


def count_cells(session: Session, filters: IssueFilter, cell_deg: float) -> Cells:
    """Cases counted per lattice square of ``cell_deg`` degrees, for zoomed-out maps."""
    cells = cell_counts(session, filters, cell_deg)
    return Cells.model_validate(
        {
            "cell_deg": cell_deg,
            "total": sum(c.count for c in cells),
            "now": iso(filters.now),
            "cells": [
                {"lon": c.lon, "lat": c.lat, "count": c.count, "overdue": c.overdue} for c in cells
            ],
        }
    )


def read_case(
    session: Session, snapshot: CommunitySnapshot, issue_id: int, now: datetime, actor: Actor
) -> IssueStaff | IssuePublic:
    """One case; staff of its area also see contact details, deadlines and photos."""
    issue = load_case(session, issue_id)
    staff = in_scope(actor, issue.community_code)
    photos = photos_of(session, issue_id) if staff else None
    known = categories_for(session, issue.community_code)
    view = issue_view(issue, snapshot, known, now, staff, photos)
    return (IssueStaff if staff else IssuePublic).model_validate(view)


def case_history(session: Session, issue_id: int, actor: Actor) -> HistoryStaff | HistoryPublic:
    """Every status change of a case; staff of its area also see who made it and the note."""
    staff = in_scope(actor, load_case(session, issue_id).community_code)
    events = history(session, issue_id)
    answer = {"issue_id": issue_id, "events": [event_view(e, staff) for e in events]}
    return (HistoryStaff if staff else HistoryPublic).model_validate(answer)


def move_case(
    session: Session,
    snapshot: CommunitySnapshot,
    issue_id: int,
    body: TransitionIn,
    actor: Actor,
    now: datetime,
) -> IssueStaff:
    """Move a case through its lifecycle; an illegal move is a Conflict and changes nothing.

    A move to ``dispatched`` respects the squad's capacity unless a dispatcher
    overrides it with a note (:func:`service.capacity.check_capacity`).
    """
    try:
        target = Status(body.to)
    except ValueError as exc:
        raise unknown_status(body.to) from exc
    issue = case_in_scope(session, actor, issue_id)
    community = issue.community_code
    _check_references(session, snapshot, issue_id, body)
    over = _over_capacity(session, snapshot, target, body, actor, community)
    fields = body.model_dump(exclude={"to", "override"}, exclude_none=False) | {
        "duplicate_of": str(body.duplicate_of) if body.duplicate_of is not None else None
    }
    if target == Status.ESCALATED and body.department is not None:
        fields |= _escalation(snapshot, issue, body.department, body.deadline)
    try:
        with atomic(session):
            issue = transition(session, issue_id, target, actor, now, fields, override=over)
    except IssueNotFound as exc:
        raise case_not_found(exc) from exc
    except IllegalTransition as exc:
        raise Conflict("illegal_transition", str(exc)) from exc
    except NotAllowed as exc:
        raise Forbidden("forbidden", str(exc)) from exc
    except MissingField as exc:
        raise Invalid("missing_field", str(exc)) from exc
    except ConcurrentChange as exc:
        raise Conflict("concurrent_change", str(exc)) from exc
    known = categories_for(session, issue.community_code)
    view = issue_view(issue, snapshot, known, now, staff=True)
    return IssueStaff.model_validate(view)


def _over_capacity(
    session: Session,
    snapshot: CommunitySnapshot,
    target: Status,
    body: TransitionIn,
    actor: Actor,
    community: str | None,
) -> bool:
    """Whether a move dispatches over the squad's capacity (allowed); raise if refused.

    A squad takes cases of its own community only.
    """
    if body.override and target != Status.DISPATCHED:
        raise Invalid(
            "override_not_applicable", f"override applies only to dispatched, not {target}"
        )
    if target != Status.DISPATCHED or body.squad is None:
        return False
    squad = next(s for s in snapshot.squads if s.id == body.squad)
    if squad.community is not None and community is not None and squad.community != community:
        raise Invalid(
            "squad_elsewhere",
            f"squad {squad.id} ({squad.name}) works in community {squad.community}, "
            f"not in this case's {community}",
        )
    load = squad_loads(session).get(squad.id, 0)
    return check_capacity(actor, squad.name, load, squad.capacity, body.override, body.note)


def _escalation(
    snapshot: CommunitySnapshot, issue: Issue, department: str, deadline: str | None
) -> dict[str, str | None]:
    """Where an escalation goes: its level, and the department's own time limit.

    A case climbs: the community's co-building units (书记面对面), the street's
    departments, the district's; each only for the communities below it, and a case
    already escalated goes only to a higher level.
    """
    area = snapshot.unit_areas.get(department) or issue.community_code
    community = issue.community_code
    if area is not None and community is not None and not contains(area, community):
        raise Invalid(
            "department_elsewhere",
            f"department {department!r} serves {area}, not this case's community {community}",
        )
    if issue.status == Status.ESCALATED and issue.department is not None:
        current = snapshot.unit_areas.get(issue.department) or community or ""
        if area is None or len(area) >= len(current):
            raise Invalid(
                "not_a_higher_level",
                f"case {issue.id} is with {issue.department} ({_level_name(current)}); "
                f"{department!r} ({_level_name(area)}) is not above it",
            )
    return {
        "level": _level_name(area),
        "deadline": deadline or snapshot.unit_limits.get(department),
    }


def _level_name(area: str | None) -> str:
    """The level an area code names: community, street or district."""
    return level_of(area).value if area else Level.COMMUNITY.value


def _check_references(
    session: Session, snapshot: CommunitySnapshot, issue_id: int, body: TransitionIn
) -> None:
    if body.squad is not None and body.squad not in snapshot.squad_names:
        raise Invalid(
            "unknown_squad",
            f"squad {body.squad!r} is not one of: {', '.join(sorted(snapshot.squad_names))}",
        )
    if body.department is not None and body.department not in snapshot.unit_names:
        raise Invalid(
            "unknown_department",
            f"department {body.department!r} is not a co-building unit or a department; "
            f"use one of: {', '.join(sorted(snapshot.unit_names))}",
        )
    if body.deadline is not None:
        try:
            parse_limit(body.deadline)
        except BadLimit as exc:
            raise Invalid("bad_deadline", str(exc)) from exc
    if body.duplicate_of is not None and (
        body.duplicate_of == issue_id or not issue_exists(session, body.duplicate_of)
    ):
        raise Invalid(
            "unknown_duplicate",
            f"duplicate_of {body.duplicate_of} is not another existing case",
        )


def add_photo(
    session: Session,
    settings: Settings,
    issue_id: int,
    data: bytes,
    actor: Actor,
    now: datetime,
    *,
    gate: Gate,
    photo_token_given: str | None = None,
    client: str = "?",
    limiter: RateLimit | None = None,
) -> Photo:
    """Attach a photo: the reporter (with the case's photo token) or staff.

    ``data`` may be one byte longer than the limit, so that an oversized photo
    is told apart without reading all of it.  Who may upload, and whether the
    case has room, is checked first, so that no one makes the server decode for
    nothing.  The decode then runs with no database connection held, through
    ``gate`` (a few at a time; when it is full, ``Unavailable`` with a
    ``retry_after_s``); the files are written whole; and only recording the row
    takes the write lock.  If recording fails, the files are removed.
    """
    # the public's uploads count towards the rate limit once the case is found (a missing
    # case is a 404 first), before the token is checked
    admit = (lambda: limiter.check(client)) if limiter is not None else None
    _photos_case(session, settings, actor, issue_id, photo_token_given, admit)
    if len(data) > settings.max_photo_bytes:
        raise TooLarge(
            "payload_too_large",
            f"the photo is larger than {human_size(settings.max_photo_bytes)}; downscale it first",
        )
    if count_photos(session, issue_id) >= settings.max_photos:
        raise _too_many_photos(issue_id, settings.max_photos)
    release(session)
    cleaned = _clean(data, settings, gate)
    files = write_photo_files(
        settings.photo_dir, issue_id, cleaned.data, cleaned.suffix, cleaned.thumbnail
    )
    try:
        with atomic(session):
            size = (cleaned.width, cleaned.height)
            photo = record_photo(
                session, issue_id, files, cleaned.content_type, size, now, settings.max_photos
            )
    except TooManyPhotos as exc:  # another upload took the last place meanwhile
        files.remove()
        raise _too_many_photos(issue_id, settings.max_photos) from exc
    except IssueNotFound as exc:
        files.remove()
        raise case_not_found(exc) from exc
    except BaseException:
        files.remove()
        raise
    return Photo.model_validate(photo_view(photo))


def _clean(data: bytes, settings: Settings, gate: Gate) -> images.CleanPhoto:
    """The photo decoded and cleaned in one of the gate's places; a service error if bad."""
    try:
        return gate.run(
            images.clean_photo, data, settings.max_photo_pixels, settings.photo_max_side
        )
    except images.BadImage as exc:
        raise Unsupported("unsupported_image", str(exc)) from exc
    except images.TooManyPixels as exc:
        raise TooLarge("too_many_pixels", str(exc)) from exc


def _too_many_photos(issue_id: int, limit: int) -> Conflict:
    return Conflict(
        "too_many_photos", f"case {issue_id} already has {limit} photos, the most allowed"
    )


@dataclass(frozen=True)
class PhotoFile:
    """Where a stored photo (or its thumbnail) lies, and its media type."""

    path: Path
    media_type: str


def _photos_case(
    session: Session,
    settings: Settings,
    actor: Actor,
    issue_id: int,
    photo_token_given: str | None,
    admit: Callable[[], None] | None = None,
) -> Issue:
    """Case ``issue_id``, for someone who may see and add its photos: staff of its area, or
    its reporter, who holds the case's photo token. The one rule for both; ``admit`` is
    called for the public once the case is found, before the token is checked.

    Photos may show faces, number plates or a resident's door, so they are never public:
    the token is handed only to the phone that reported the case."""
    if actor.role is not None:
        return case_in_scope(session, actor, issue_id)  # staff act only in their area
    issue = load_case(session, issue_id)
    if admit is not None:
        admit()
    if not photo_token_given or not hmac.compare_digest(
        photo_token_given, photo_token(settings.secret, issue.id)
    ):
        raise Forbidden(
            "photo_token_required",
            "send the X-Photo-Token returned when the case was reported, or a staff token",
        )
    return issue


def case_photos(
    session: Session,
    settings: Settings,
    issue_id: int,
    actor: Actor,
    photo_token_given: str | None = None,
) -> list[Photo]:
    """A case's photos, oldest first: for staff of its area or its reporter."""
    _photos_case(session, settings, actor, issue_id, photo_token_given)
    return [Photo.model_validate(photo_view(p)) for p in photos_of(session, issue_id)]


def photo_file(
    session: Session,
    settings: Settings,
    issue_id: int,
    photo_id: int,
    thumbnail: bool,
    actor: Actor,
    photo_token_given: str | None = None,
) -> PhotoFile:
    """A case photo or its thumbnail: for staff of its area or its reporter."""
    _photos_case(session, settings, actor, issue_id, photo_token_given)
    photo = photo_of(session, issue_id, photo_id)
    if photo is None:
        raise NotFound("photo_not_found", f"case {issue_id} has no photo {photo_id}")
    if thumbnail:
        return PhotoFile(settings.photo_dir / photo.thumb_path, "image/jpeg")
    return PhotoFile(settings.photo_dir / photo.path, photo.content_type)
