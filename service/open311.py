"""Open311 GeoReport v2: the use cases behind ``/open311/v2/``.

GeoReport is another way in to the same cases: a report goes through
:func:`service.issues.report_case`, the use case of ``POST /api/v1/issues``
(the grid join, idempotency, the duplicate search, privacy), after the same
rate limit (:func:`service.issues.admit_report`); the services are the
categories of the one catalogue (:func:`service.catalogue.catalogue`); the
lists are the public view of the cases.  What this module adds is only what
GeoReport says differently:

- **Idempotency.** A client that sends an ``Idempotency-Key`` header gets the
  native API's rule under that key.  Without one, the key is derived from the
  form itself (every field, the api_key included, hashed) and the clock hour:
  the same form sent again in the same or the next hour answers the first
  case instead of making a second.
- **Where.** ``lat``/``long`` (WGS84, or ``crs=gcj02|bd09``), else
  ``address_id`` (a building's or a compound's id in the layers), else
  ``address_string`` naming a building or a compound of the layers
  (``银港花苑3幢``, ``银港花苑3号楼``, ``银港花苑``); the place's inside point is
  the case's location.  Anything else is a 400 that says what was not found.
- **Attributes.** A few categories ask more (:data:`ATTRIBUTES`): stairwell
  clutter its floor and building, elder care whether the person lives alone.
  The answers are kept with the description, as one line of text under it,
  so that every channel and view shows them.
- **Contacts.** ``first_name``/``last_name`` and ``phone`` become the case's
  reporter, seen by staff only; ``email``, ``device_id`` and ``account_id``
  are not kept (gridgov has no place for them, and keeps no contact it does
  not need).  No GET answer carries any of them.
- **Staff.** ``api_key`` is a staff token: with it, the staff channels
  (``channel=patrol|phone``) are open and no rate limit applies.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from cases.areas import Level, contains, level_of
from cases.deadlines import BadLimit, parse_limit
from cases.lifecycle import OPEN_STATUSES, TERMINAL, Status
from service.catalogue import catalogue
from service.community import CommunitySnapshot
from service.errors import Invalid, Malformed, NotFound
from service.issues import admit_report, report_case
from service.models import Catalogue
from service.open311_out import (
    Discovery,
    Service,
    ServiceDefinition,
    ServiceRequest,
    Submitted,
    TokenAnswer,
)
from service.place import wgs84_point
from service.ratelimit import RateLimit
from service.schemas import MAX_ID, IssueIn, parse_instant
from service.scope import asked_area
from service.settings import Settings
from service.staff import actor_for_token
from service.views import iso
from store.catalogue import Entry, catalogues_for, categories_for
from store.issues import IssueFilter, idempotency_key_used, page_issues
from store.layers import NamedPlace, named_places
from store.models import Issue

CHANGESET = "2026-11-30T00:00:00Z"  # when this endpoint's answers last changed shape
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
WINDOW = timedelta(days=90)  # the specification's default and widest date range
CAP = 1000  # the most requests one answer lists
RETRY_HOUR = 3600  # seconds: a form's derived key holds in its clock hour and the next
PLACE_LAYERS = ("buildings", "compounds")  # what an address may name, most precise first

GROUPS = {
    "zh": {"event": "事件", "component": "部件", "community": "社区事务"},
    "en": {"event": "Events", "component": "Public components", "community": "Community affairs"},
}
UNITS = {
    "zh": {"h": "{n}小时", "d": "{n}天", "wd": "{n}个工作日"},
    "en": {"h": "{n} hours", "d": "{n} days", "wd": "{n} working days"},
}
NOTICE = {
    "zh": "网格员将在{limit}内处置，可凭编号查询进度。",
    "en": "A grid worker handles it within {limit}; follow it by its id.",
}


# --- attributes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """An extra question a category asks: ``attribute[code]`` in a report."""

    code: str
    datatype: str  # string, number or singlevaluelist
    required: bool
    zh: str
    en: str
    values: tuple[tuple[str, str, str], ...] = ()  # (key, Chinese name, English name)
    low: int = -5  # a number's range
    high: int = 99


YES_NO = (("yes", "是", "yes"), ("no", "否", "no"))

# The few categories whose handling needs more than a point and a description.
ATTRIBUTES: dict[str, tuple[Question, ...]] = {
    "stairwell_clutter": (
        Question("floor", "number", True, "楼层", "Floor", low=-5, high=99),
        Question("building", "string", False, "楼栋（如 3幢）", "Building (e.g. block 3)"),
    ),
    "elder_care": (
        Question("lives_alone", "singlevaluelist", False, "是否独居", "Lives alone", YES_NO),
    ),
}


def _question_view(q: Question, order: int, lang: str) -> dict[str, Any]:
    kinds = {
        "number": {
            "zh": f"整数，{q.low} 至 {q.high}",
            "en": f"a whole number, {q.low} to {q.high}",
        },
        "string": {"zh": "文字，至多 40 字", "en": "text, up to 40 characters"},
        "singlevaluelist": {"zh": "从列表中选一项", "en": "one of the values"},
    }
    return {
        "variable": True,
        "code": q.code,
        "datatype": q.datatype,
        "required": q.required,
        "datatype_description": kinds[q.datatype][lang],
        "order": order,
        "description": q.zh if lang == "zh" else q.en,
        "values": [{"key": key, "name": zh if lang == "zh" else en} for key, zh, en in q.values],
    }


def _answers(code: str, given: dict[str, str]) -> str:
    """The attribute answers checked against ``code``'s questions, as one line of text."""
    questions = {q.code: q for q in ATTRIBUTES.get(code, ())}
    for name in given:
        if name not in questions:
            asked = ", ".join(questions) or "none"
            raise Invalid(
                "unknown_attribute",
                f"attribute[{name}] is not asked by service {code!r} (it asks: {asked})",
            )
    parts = []
    for q in questions.values():
        value = given.get(q.code, "").strip()
        if not value:
            if q.required:
                raise Invalid(
                    "missing_attribute", f"service {code!r} needs attribute[{q.code}] ({q.en})"
                )
            continue
        parts.append(f"{q.zh}：{_checked(code, q, value)}")
    return "；".join(parts)


def _checked(code: str, q: Question, value: str) -> str:
    if q.datatype == "number":
        try:
            number = int(value)
        except ValueError:
            number = q.high + 1
        if not q.low <= number <= q.high:
            raise Invalid(
                "bad_attribute",
                f"attribute[{q.code}] {value[:20]!r} of service {code!r} is not a whole "
                f"number from {q.low} to {q.high}",
            )
        return str(number)
    if q.datatype == "singlevaluelist":
        names = {key: zh for key, zh, _ in q.values}
        if value not in names:
            raise Invalid(
                "bad_attribute",
                f"attribute[{q.code}] {value[:20]!r} of service {code!r} is not one of: "
                f"{', '.join(names)}",
            )
        return names[value]
    if len(value) > 40:
        raise Invalid("bad_attribute", f"attribute[{q.code}] is longer than 40 characters")
    return value


# --- reading: discovery, services --------------------------------------------------------


def check_format(fmt: str) -> str:
    """``fmt`` when it is ``json`` or ``xml``; else NotFound (there is no such resource)."""
    if fmt not in ("json", "xml"):
        raise NotFound("unknown_format", f"format {fmt[:20]!r} is not served; use .json or .xml")
    return fmt


def _jurisdiction(code: str | None) -> str:
    """The area a ``jurisdiction_id`` names (a community, street or district code)."""
    try:
        return asked_area(code)
    except Invalid as exc:
        raise Invalid("bad_jurisdiction", f"jurisdiction_id: {exc.message}") from exc


def discovery(base_url: str) -> Discovery:
    """Where the GeoReport endpoint is and what it speaks; the contact is the about page."""
    contact = base_url.rstrip("/") + "/about"
    return Discovery.model_validate(
        {
            "changeset": CHANGESET,
            "contact": contact,
            "key_service": "api_key: a staff token from 'gridgov users add' (staff channels "
            "only; residents report without one)",
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": base_url.rstrip("/") + "/open311/v2",
                    "changeset": CHANGESET,
                    "type": "production",
                    "formats": ["application/json", "application/xml"],
                }
            ],
        }
    )


def _catalogue_of(session: Session, jurisdiction_id: str | None) -> Catalogue:
    """The catalogue a jurisdiction offers: a community's (or a grid's community's) with
    its overrides; for a street, a district or none, the shared one."""
    area = _jurisdiction(jurisdiction_id)
    if area and level_of(area) in (Level.COMMUNITY, Level.GRID):
        return catalogue(session, area)
    return catalogue(session)


def services(session: Session, lang: str, jurisdiction_id: str | None = None) -> list[Service]:
    """One service per category of the catalogue (the community's, for a community's
    ``jurisdiction_id``), in ``lang`` (zh or en)."""
    out = []
    for c in _catalogue_of(session, jurisdiction_id).categories:
        name = c.name_zh if lang == "zh" else c.name_en
        out.append(
            Service.model_validate(
                {
                    "service_code": c.code,
                    "service_name": name,
                    "description": f"{name}（{c.name_en}）" if lang == "zh" else name,
                    "metadata": c.code in ATTRIBUTES,
                    "type": "realtime",
                    "keywords": ",".join(dict.fromkeys([c.name_zh, c.name_en, c.class_])),
                    "group": GROUPS[lang].get(c.class_, c.class_),
                }
            )
        )
    return out


def service_definition(
    session: Session, code: str, lang: str, jurisdiction_id: str | None = None
) -> ServiceDefinition:
    """The extra questions of service ``code``; 404 for an unknown service or one that
    asks none (its ``metadata`` is false)."""
    known = {c.code for c in _catalogue_of(session, jurisdiction_id).categories}
    if code not in known:
        raise NotFound("unknown_service", f"service_code {code[:40]!r} is not a service")
    if code not in ATTRIBUTES:
        raise NotFound(
            "no_definition", f"service {code!r} asks no extra attributes (its metadata is false)"
        )
    questions = ATTRIBUTES[code]
    return ServiceDefinition.model_validate(
        {
            "service_code": code,
            "attributes": [_question_view(q, i + 1, lang) for i, q in enumerate(questions)],
        }
    )


# --- reporting ------------------------------------------------------------------------------

FIELDS = frozenset(
    {
        "service_code", "lat", "long", "address_string", "address_id", "description",
        "media_url", "email", "device_id", "account_id", "first_name", "last_name", "phone",
        "api_key", "jurisdiction_id", "crs", "channel",
    }
)  # fmt: skip


def _one_each(fields: Sequence[tuple[str, str]]) -> tuple[dict[str, str], dict[str, str]]:
    """The form's fields and its ``attribute[...]`` answers; a field given twice with two
    values is refused, unknown fields are ignored (clients add their own)."""
    plain: dict[str, str] = {}
    attributes: dict[str, str] = {}
    for name, value in fields:
        if name.startswith("attribute[") and name.endswith("]"):
            into, key = attributes, name[len("attribute[") : -1]
        elif name in FIELDS:
            into, key = plain, name
        else:
            continue
        if key in into and into[key] != value:
            raise Invalid("repeated_field", f"{name} is given twice, with different values")
        into[key] = value
    return plain, attributes


def _number(form: dict[str, str], name: str) -> float:
    text = form[name].strip()
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise Invalid("bad_coordinate", f"{name} {text[:30]!r} is not a number")
    return value


def _normalised(text: str) -> str:
    """An address as the layers spell it: no spaces, 号楼/栋 written 幢."""
    return "".join(text.split()).replace("号楼", "幢").replace("栋", "幢")


def place_of(session: Session, address_string: str, address_id: str) -> NamedPlace:
    """The building or compound an address names: by id, else the longest name the
    address contains; 400 naming the address when none is found."""
    places = named_places(session, PLACE_LAYERS)
    if address_id:
        for place in places:
            if place.key == address_id:
                return place
        raise Invalid(
            "unknown_address_id",
            f"address_id {address_id[:40]!r} is not a building or compound id (e.g. C01-B03)",
        )
    wanted = _normalised(address_string)
    found = [p for p in places if p.name and _normalised(p.name) in wanted]
    if not found:
        raise Invalid(
            "unknown_address",
            f"address_string {address_string[:60]!r} names no building or compound that "
            "gridgov knows; send lat and long",
        )
    return max(found, key=lambda p: (len(p.name), -PLACE_LAYERS.index(p.layer)))


def _reporter_name(form: dict[str, str]) -> str | None:
    first, last = form.get("first_name", "").strip(), form.get("last_name", "").strip()
    if not (first or last):
        return None
    if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
        return last + first  # a Chinese name: family name first, no space
    return " ".join(p for p in (first, last) if p)


def _report(session: Session, form: dict[str, str], attributes: dict[str, str]) -> IssueIn:
    """The native report an Open311 form stands for."""
    code = form.get("service_code", "").strip()
    if not code:
        raise Invalid("missing_service_code", "service_code is required (see services.json)")
    if "lat" in form or "long" in form:
        if not ("lat" in form and "long" in form):
            raise Invalid("missing_coordinate", "send lat and long together")
        lon, lat, crs = _number(form, "long"), _number(form, "lat"), form.get("crs") or "wgs84"
    elif form.get("address_id", "").strip() or form.get("address_string", "").strip():
        place = place_of(
            session, form.get("address_string", ""), form.get("address_id", "").strip()
        )
        lon, lat, crs = place.lon, place.lat, "wgs84"
    else:
        raise Invalid(
            "missing_location",
            "send lat and long, or an address_string naming a building or compound",
        )
    description = form.get("description", "")
    extra = _answers(code, attributes) if code in ATTRIBUTES or attributes else ""
    media = form.get("media_url", "").strip()
    if media and not media.lower().startswith(("http://", "https://")):
        raise Invalid("bad_media_url", f"media_url {media[:40]!r} is not an http(s) address")
    tail = [line for line in (extra, f"图片：{media}" if media else "") if line]
    if tail and description.strip():
        description = "\n".join([description.rstrip(), *tail])
    name, phone = _reporter_name(form), form.get("phone", "").strip() or None
    body: dict[str, Any] = {
        "lon": lon,
        "lat": lat,
        "crs": crs,
        "category": code,
        "description": description,
        "channel": form.get("channel") or "web",
    }
    if name or phone:
        body["reporter"] = {"name": name, "phone": phone}
    try:
        return IssueIn.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        field = {"lon": "long", "reporter.name": "first_name/last_name", "reporter.phone": "phone"}
        given = str(first.get("input", ""))[:40]
        raise Invalid(
            "invalid_request", f"{field.get(where, where)} {given!r}: {first['msg']}"
        ) from exc


def _hashed(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def retry_key(
    session: Session,
    fields: Sequence[tuple[str, str]],
    header_key: str | None,
    now: datetime,
) -> str:
    """The idempotency key of an Open311 report (see the module's text)."""
    if header_key:
        return "open311:h:" + _hashed(header_key)
    form = "\x1e".join(f"{k}\x1d{v}" for k, v in sorted(fields))
    hour = int(now.replace(tzinfo=UTC).timestamp()) // RETRY_HOUR
    earlier = "open311:f:" + _hashed(form, str(hour - 1))
    if idempotency_key_used(session, earlier):
        return earlier
    return "open311:f:" + _hashed(form, str(hour))


def submit(
    session: Session,
    snapshot: CommunitySnapshot,
    settings: Settings,
    fields: Sequence[tuple[str, str]],
    *,
    header_key: str | None,
    client: str,
    limiter: RateLimit,
    now: datetime,
    lang: str,
) -> tuple[list[Submitted], bool, int]:
    """Take an Open311 report through the native intake; the answer, whether it was a
    retry, and the case's id."""
    form, attributes = _one_each(fields)
    actor = actor_for_token(session, form.get("api_key") or None)
    admit_report(actor, client, limiter)
    data = _report(session, form, attributes)
    if form.get("jurisdiction_id"):
        _point_in(snapshot, data, _jurisdiction(form["jurisdiction_id"]))
    key = retry_key(session, fields, header_key, now)
    done = report_case(session, snapshot, settings, data, actor, now, idempotency_key=key)
    case_id = done.answer.id
    community = snapshot.community_at(*wgs84_point(data.lon, data.lat, data.crs))
    notice = _notice(categories_for(session, community).get(data.category), lang)
    answer = Submitted(
        service_request_id=str(case_id), service_notice=notice or "", account_id=None
    )
    return [answer], done.replayed, case_id


def _point_in(snapshot: CommunitySnapshot, data: IssueIn, area: str) -> None:
    """A report that names its ``jurisdiction_id`` must lie in it."""
    lon, lat = wgs84_point(data.lon, data.lat, data.crs)
    grid, _ = snapshot.locate(lon, lat)
    if area and grid is not None and not contains(area, grid):
        raise Invalid(
            "outside_jurisdiction",
            f"the point ({lon:.6f}, {lat:.6f}) lies in grid {grid}, outside jurisdiction_id {area}",
        )


def _limit_text(limit: str, lang: str) -> str:
    try:
        n, unit = parse_limit(limit)
    except BadLimit:
        return limit
    return UNITS[lang][unit].format(n=n)


def _notice(entry: Entry | None, lang: str) -> str | None:
    """What happens next: the category's time limit, as its community has it."""
    if entry is None:
        return None
    return NOTICE[lang].format(limit=_limit_text(entry.time_limit, lang))


def token(session: Session, token_id: str) -> list[TokenAnswer]:
    """The case a token stands for (a report's token is its case's id)."""
    case_id = _request_id(token_id, "token")
    rows, _ = page_issues(session, IssueFilter(ids=[case_id], limit=1))
    if not rows:
        raise NotFound("unknown_token", f"no report has token {token_id[:20]!r}")
    return [TokenAnswer(service_request_id=token_id, token=token_id)]


# --- reading the requests ------------------------------------------------------------------


@dataclass(frozen=True)
class RequestQuery:
    """``GET requests``' parameters, as sent."""

    service_request_id: str | None = None
    service_code: str | None = None
    status: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    jurisdiction_id: str | None = None


def _csv(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _request_id(text: str, what: str = "service_request_id") -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise Invalid("bad_request_id", f"{what} {text[:20]!r} is not a request id")
    return int(text)


def _w3c(text: str | None, name: str) -> datetime | None:
    """A W3C date or date-time as naive UTC, refused as GeoReport's 400 ``bad_date``."""
    try:
        return parse_instant(text, name)
    except Malformed as exc:
        raise Invalid("bad_date", exc.message) from exc


def _window(query: RequestQuery, now: datetime) -> tuple[datetime, datetime]:
    start, end = _w3c(query.start_date, "start_date"), _w3c(query.end_date, "end_date")
    if start is None and end is None:
        return now - WINDOW, now
    if start is None:
        assert end is not None
        return end - WINDOW, end
    if end is None:
        return start, start + WINDOW
    if end < start:
        raise Invalid(
            "bad_date", f"end_date {query.end_date} is before start_date {query.start_date}"
        )
    if end - start > WINDOW:
        raise Invalid(
            "window_too_wide",
            f"start_date {query.start_date} to end_date {query.end_date} spans more than "
            f"{WINDOW.days} days",
        )
    return start, end


STATUS_GROUPS = {"open": sorted(OPEN_STATUSES), "closed": sorted(TERMINAL)}


def _filter(session: Session, query: RequestQuery, now: datetime) -> IssueFilter:
    if query.service_request_id is not None:  # the ids override every other parameter
        ids = [_request_id(part) for part in _csv(query.service_request_id)]
        if not ids:
            raise Invalid("bad_request_id", "service_request_id names no request")
        if len(ids) > CAP:
            raise Invalid("too_many_ids", f"ask for at most {CAP} service_request_id at once")
        return IssueFilter(ids=ids, now=now, limit=CAP, newest_first=True)
    statuses: list[str] = []
    for group in _csv(query.status):
        if group not in STATUS_GROUPS:
            raise Invalid("bad_status", f"status {group[:20]!r} is not open or closed")
        statuses += STATUS_GROUPS[group]
    codes = _csv(query.service_code)
    known = {c.code for c in catalogue(session).categories}
    for code in codes:
        if code not in known:
            raise Invalid("unknown_service", f"service_code {code[:40]!r} is not a service")
    start, end = _window(query, now)
    return IssueFilter(
        status=statuses,
        category=codes,
        within=_jurisdiction(query.jurisdiction_id),
        reported_from=start,
        reported_to=end,
        now=now,
        limit=CAP,
        newest_first=True,
    )


def find_requests(
    session: Session,
    snapshot: CommunitySnapshot,
    query: RequestQuery,
    words: Words,
    now: datetime,
) -> list[ServiceRequest]:
    """The requests matching ``query``, newest first, at most :data:`CAP`; public fields only."""
    filters = _filter(session, query, now)
    rows, _ = page_issues(session, filters)
    return _views(session, snapshot, rows, words)


def read_request(
    session: Session, snapshot: CommunitySnapshot, request_id: str, words: Words
) -> list[ServiceRequest]:
    """One request, as a list of one (as GeoReport answers it)."""
    case_id = _request_id(request_id)
    rows, _ = page_issues(session, IssueFilter(ids=[case_id], limit=1))
    if not rows:
        raise NotFound("unknown_request", f"no service request has id {request_id!r}")
    return _views(session, snapshot, rows, words)


@dataclass(frozen=True)
class Words:
    """The language of an answer, and the names of gridgov's statuses in it (from the
    pages' catalogue, which the caller reads)."""

    lang: str
    statuses: Mapping[str, str]


def _views(
    session: Session, snapshot: CommunitySnapshot, rows: list[Issue], words: Words
) -> list[ServiceRequest]:
    catalogues = catalogues_for(session, {issue.community_code for issue in rows})
    lang = words.lang
    out = []
    for issue in rows:
        category = catalogues[issue.community_code].get(issue.category)  # as its community has it
        name = (category.name_zh if lang == "zh" else category.name_en) if category else ""
        still_open = Status(issue.status) in OPEN_STATUSES
        out.append(
            ServiceRequest.model_validate(
                {
                    "service_request_id": str(issue.id),
                    "status": "open" if still_open else "closed",
                    "status_notes": words.statuses.get(issue.status, issue.status),
                    "service_name": name or issue.category,
                    "service_code": issue.category,
                    "description": issue.description,
                    "agency_responsible": _agency(snapshot, issue),
                    "service_notice": _notice(category, lang),
                    "requested_datetime": iso(issue.reported_at),
                    "updated_datetime": iso(issue.updated_at),
                    "expected_datetime": iso(issue.due_at) if still_open else None,
                    "address": snapshot.grid_names.get(issue.grid_code),
                    "address_id": issue.grid_code,
                    "zipcode": None,
                    "lat": issue.lat,
                    "long": issue.lon,
                    "media_url": None,
                }
            )
        )
    return out


def _agency(snapshot: CommunitySnapshot, issue: Issue) -> str | None:
    """Who has the case: the department it was escalated to, else the squad, else the
    community."""
    if issue.department:
        return snapshot.unit_names.get(issue.department, issue.department)
    if issue.squad_id:
        return snapshot.squad_names.get(issue.squad_id, issue.squad_id)
    if issue.community_code:
        return snapshot.community_names.get(issue.community_code, snapshot.community_name)
    return snapshot.community_name or None
