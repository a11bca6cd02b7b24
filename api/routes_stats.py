"""Indicators and exports: each route calls one use case."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse

from api.auth import StaffDep
from api.deps import LangDep, NowDep, ReadSessionDep, SnapshotDep, StatsCacheDep
from api.errors import responses
from api.routes_issues import AREA, FilterDep
from layers.area_map import area_figures
from service import exports, pages, stats
from service.exports import MEDIA
from service.models import Stats
from service.stats import GroupBy

router = APIRouter(prefix="/api/v1", tags=["indicators"])


@router.get("/stats", responses=responses(400, 422, 503))
def indicators(
    session: ReadSessionDep,
    snapshot: SnapshotDep,
    now: NowDep,
    cache: StatsCacheDep,
    group_by: Annotated[GroupBy, Query(description="What each row counts the cases of")] = "grid",
    start: Annotated[str | None, Query(alias="from", description="Reported from (date)")] = None,
    end: Annotated[str | None, Query(alias="to", description="Reported before (date)")] = None,
    area: Annotated[str | None, Query(description=AREA)] = None,
) -> Stats:
    """Indicators per grid, squad, category, month, community or street for cases
    reported in [from, to), in one area or the whole deployment (the same answer for a
    few seconds, unless a case is written)."""
    return stats.recent_stats(cache, session, snapshot, group_by, start, end, now, area)


@router.get("/overview", responses=responses(404, 422, 503))
def overview_figures(
    session: ReadSessionDep,
    now: NowDep,
    lang: LangDep,
    area: Annotated[str | None, Query(description=AREA)] = None,
) -> dict[str, Any]:
    """The figures of the managers' overview of an area's communities (``/?area=``), for
    its page to colour and label them: by community code, open and overdue cases now
    and the closure rate of the last 90 days, with their label lines in the page's
    language (``?lang=``) and colours; and the legends."""
    return area_figures(pages.area_figures(session, now, area).communities, lang)


@router.get(
    "/exports/issues.{fmt}",
    response_class=Response,
    responses={
        200: {
            "description": "The file, as an attachment: csv, geojson, gpkg or xlsx",
            "content": {
                media.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
                for media in MEDIA.values()
            },
        },
        **responses(400, 401, 403, 404, 422, 503),
    },
)
def export_issues(
    fmt: str,
    session: ReadSessionDep,
    snapshot: SnapshotDep,
    filters: FilterDep,
    actor: StaffDep,
) -> Response:
    """All cases of the caller's area matching the filters, as CSV, GeoJSON, GeoPackage
    or Excel (staff). Exports carry no reporter contact details.

    The file is streamed as it is read (the session, a dependency with ``yield``,
    stays open until the answer is sent).
    """
    done = exports.export_issues(session, snapshot, filters, fmt, actor)
    headers = {"Content-Disposition": f'attachment; filename="{done.filename}"'}
    return StreamingResponse(done.content, media_type=done.media_type, headers=headers)
