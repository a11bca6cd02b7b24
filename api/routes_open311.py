"""Open311 GeoReport v2 under ``/open311/v2/``, in JSON and XML by the path's suffix.

Each route parses the request and calls one use case of ``service.open311``,
which reports through the same use case as ``POST /api/v1/issues``; errors
are the specification's ``errors`` list (``api.errors`` renders them for every
path under ``/open311/``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from api.deps import LangDep, ReadSessionDep, SessionDep, SettingsDep, SnapshotDep, get_now
from api.errors import STATUS_TEXT, ApiError
from api.routes_issues import client_of
from cases.lifecycle import Status
from layers.i18n import gettext_for
from service import open311 as use
from service.open311_out import (
    MEDIA,
    Discovery,
    Open311Error,
    Service,
    ServiceDefinition,
    ServiceRequest,
    Submitted,
    TokenAnswer,
    to_xml,
)

router = APIRouter(prefix="/open311/v2", tags=["open311"])
NowDep = Annotated[datetime, Depends(get_now)]
XML = {"application/xml": {"schema": {"type": "string", "description": "The same, as XML"}}}


def fmt_of(
    fmt: Annotated[
        str,
        Path(description="The answer's format", json_schema_extra={"enum": ["json", "xml"]}),
    ],
) -> str:
    """The path's format suffix, checked before anything is done (404 for another)."""
    return use.check_format(fmt)


FmtDep = Annotated[str, Depends(fmt_of)]
JURISDICTION = "A community, street or district code (one deployment serves them all)"
JurisdictionQ = Annotated[str | None, Query(max_length=20, description=JURISDICTION)]


def answer_words(lang: LangDep) -> use.Words:
    """The answer's language (``lang=``, else Accept-Language, else Chinese) and the names
    of the statuses in it."""
    words = gettext_for(lang)
    return use.Words(lang, {s.value: words.gettext(f"status.{s.value}") for s in Status})


WordsDep = Annotated[use.Words, Depends(answer_words)]


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error answers a route may give: GeoReport's errors list, as JSON or XML."""
    return {
        s: {"model": list[Open311Error], "description": STATUS_TEXT.get(s, "error"), "content": XML}
        for s in statuses
    }


def ok(model: Any, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """The success answer: ``model`` as JSON, or as XML."""
    return {status: {"model": model, "description": "OK", "content": XML}}


def answer(fmt: str, kind: str, data: BaseModel | list[Any], status: int = 200) -> Response:
    """``data`` in the asked format; ``kind`` names the XML root."""
    plain: Any = (
        [item.model_dump(mode="json") for item in data]
        if isinstance(data, list)
        else data.model_dump(mode="json")
    )
    if fmt == "xml":
        return Response(to_xml(kind, plain), status_code=status, media_type=MEDIA["xml"])
    return JSONResponse(plain, status_code=status)


@router.get(
    "/discovery.{fmt}", response_model=Discovery, responses={**ok(Discovery), **errors(404)}
)
def discovery(request: Request, fmt: FmtDep) -> Response:
    """Where the endpoint is, its formats and its changeset."""
    return answer(fmt, "discovery", use.discovery(str(request.base_url)))


@router.get(
    "/services.{fmt}",
    response_model=list[Service],
    responses={**ok(list[Service]), **errors(400, 404, 503)},
)
def services(
    session: ReadSessionDep, fmt: FmtDep, lang: LangDep, jurisdiction_id: JurisdictionQ = None
) -> Response:
    """One service per category of the catalogue; names in Chinese, or English with
    ``lang=en`` or Accept-Language."""
    return answer(fmt, "services", use.services(session, lang, jurisdiction_id))


@router.get(
    "/services/{service_code}.{fmt}",
    response_model=ServiceDefinition,
    responses={**ok(ServiceDefinition), **errors(400, 404, 503)},
)
def service_definition(
    session: ReadSessionDep,
    fmt: FmtDep,
    lang: LangDep,
    service_code: Annotated[str, Path(max_length=40)],
    jurisdiction_id: JurisdictionQ = None,
) -> Response:
    """The extra attributes a service asks (for services whose ``metadata`` is true)."""
    found = use.service_definition(session, service_code, lang, jurisdiction_id)
    return answer(fmt, "service_definition", found)


async def form_fields(request: Request) -> list[tuple[str, str]]:
    """The form's fields as sent (form-encoded or multipart), every value text."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise ApiError(
            400,
            "not_a_form",
            f"send the report form-encoded (application/x-www-form-urlencoded), "
            f"not {kind or 'a body without a content type'}",
        )
    try:
        form = await request.form(max_files=0, max_fields=200)
    except (MultiPartException, ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "bad_form", f"the form cannot be read: {exc}") from exc
    fields: list[tuple[str, str]] = []
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            raise ApiError(400, "bad_form", f"{name} is a file; send a media_url instead")
        fields.append((name, value))
    return fields


REQUEST_FORM = {
    "type": "object",
    "required": ["service_code"],
    "properties": {
        "service_code": {"type": "string", "description": "A service_code of services.json"},
        "lat": {"type": "number", "description": "WGS84 (or crs) latitude"},
        "long": {"type": "number", "description": "WGS84 (or crs) longitude"},
        "crs": {"type": "string", "enum": ["wgs84", "gcj02", "bd09"]},
        "address_string": {"type": "string", "description": "A building or compound's name"},
        "address_id": {"type": "string", "description": "A building or compound's id"},
        "description": {"type": "string"},
        "media_url": {"type": "string"},
        "first_name": {"type": "string"},
        "last_name": {"type": "string"},
        "phone": {"type": "string"},
        "email": {"type": "string", "description": "Accepted, not kept"},
        "device_id": {"type": "string", "description": "Accepted, not kept"},
        "account_id": {"type": "string", "description": "Accepted, not kept"},
        "api_key": {"type": "string", "description": "A staff token (staff channels)"},
        "channel": {"type": "string", "enum": ["mobile", "web", "patrol", "phone"]},
        "jurisdiction_id": {"type": "string"},
    },
    "additionalProperties": {"type": "string", "description": "attribute[code] answers"},
}


@router.post(
    "/requests.{fmt}",
    status_code=201,
    response_model=list[Submitted],
    responses={**ok(list[Submitted], 201), **errors(400, 403, 404, 413, 429, 503)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {"schema": REQUEST_FORM},
            },
        }
    },
)
def submit(
    request: Request,
    session: SessionDep,
    snapshot: SnapshotDep,
    settings: SettingsDep,
    fmt: FmtDep,
    lang: LangDep,
    now: NowDep,
    fields: Annotated[list[tuple[str, str]], Depends(form_fields)],
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> Response:
    """Report a problem (form-encoded); the same form retried answers the first case."""
    done, replayed, case_id = use.submit(
        session, snapshot, settings, fields, header_key=idempotency_key,
        client=client_of(request), limiter=request.app.state.report_limit, now=now, lang=lang,
    )  # fmt: skip
    response = answer(fmt, "requests", done, status=201)
    response.headers["Location"] = f"/open311/v2/requests/{case_id}.{fmt}"
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@router.get(
    "/tokens/{token_id}.{fmt}",
    response_model=list[TokenAnswer],
    responses={**ok(list[TokenAnswer]), **errors(400, 404, 503)},
)
def token(
    session: SessionDep, fmt: FmtDep, token_id: Annotated[str, Path(max_length=20)]
) -> Response:
    """The request a token stands for (reports are taken at once: the token is its id)."""
    return answer(fmt, "requests", use.token(session, token_id))


@router.get(
    "/requests.{fmt}",
    response_model=list[ServiceRequest],
    responses={**ok(list[ServiceRequest]), **errors(400, 404, 503)},
)
def find_requests(
    session: ReadSessionDep,
    snapshot: SnapshotDep,
    fmt: FmtDep,
    words: WordsDep,
    now: NowDep,
    service_request_id: Annotated[
        str | None, Query(max_length=12000, description="Ids, comma-separated; overrides all")
    ] = None,
    service_code: Annotated[str | None, Query(max_length=2000)] = None,
    status: Annotated[str | None, Query(max_length=40, description="open, closed")] = None,
    start_date: Annotated[str | None, Query(max_length=40, description="W3C date-time")] = None,
    end_date: Annotated[str | None, Query(max_length=40, description="W3C date-time")] = None,
    jurisdiction_id: JurisdictionQ = None,
) -> Response:
    """Requests reported in a window (default: the last 90 days), newest first, at most 1000."""
    query = use.RequestQuery(
        service_request_id, service_code, status, start_date, end_date, jurisdiction_id
    )
    return answer(fmt, "requests", use.find_requests(session, snapshot, query, words, now))


@router.get(
    "/requests/{request_id}.{fmt}",
    response_model=list[ServiceRequest],
    responses={**ok(list[ServiceRequest]), **errors(400, 404, 503)},
)
def read_request(
    session: SessionDep,
    snapshot: SnapshotDep,
    fmt: FmtDep,
    words: WordsDep,
    request_id: Annotated[str, Path(max_length=20)],
    jurisdiction_id: JurisdictionQ = None,
) -> Response:
    """One request, as a list of one."""
    return answer(fmt, "requests", use.read_request(session, snapshot, request_id, words))
