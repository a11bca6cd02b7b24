"""Request-scoped dependencies: the database session and the settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Path, Request
from sqlalchemy.orm import Session, sessionmaker

from api.i18n import pick_lang
from api.kept_page import KeptPage
from api.limits import NONCE_KEY
from service.basemap import BasemapCache
from service.community import CommunitySnapshot, SnapshotCache
from service.errors import Unavailable
from service.models import Stats
from service.page_cache import PageCache
from service.schemas import MAX_ID
from service.settings import Settings
from service.stats_cache import TtlCache
from store.db import DatabaseBusy


def get_session(request: Request) -> Iterator[Session]:
    """A session for one request; a write that found the database locked is a 503."""
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions() as session:
        try:
            yield session
        except DatabaseBusy as exc:
            raise Unavailable("database_busy", str(exc), retry_after_s=1) from exc


def get_read_session(
    request: Request, primary: Annotated[Session, Depends(get_session)]
) -> Iterator[Session]:
    """A read-only session on the read replica, for routes that only read many rows
    (lists, indicators, the map page, exports, OGC API, Open311 queries); the
    request's primary session when no replica is configured.

    The replica may lag the primary by a moment: a route that writes, or reads back
    what the caller just wrote, takes ``SessionDep`` instead.  The primary session
    opens no connection unless it is used.
    """
    replica: sessionmaker[Session] | None = request.app.state.read_sessions
    if replica is None:
        yield primary
        return
    with replica() as session:
        yield session


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_now(request: Request) -> datetime:
    """The app's clock (naive UTC): the real time, or a fixed one that a test sets."""
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


def page_lang(
    request: Request,
    lang: str | None = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> str:
    """A page's language: ``?lang=``, else Accept-Language (by q-value), else the default."""
    return pick_lang(lang, accept_language, request.app.state.settings.default_lang)


def get_snapshot(
    request: Request, session: Annotated[Session, Depends(get_session)]
) -> CommunitySnapshot:
    """The loaded community, as of the latest layers (503 while none is loaded)."""
    cache: SnapshotCache = request.app.state.areas
    return cache.require(session)


def get_basemaps(request: Request) -> BasemapCache:
    """The built tileless maps, kept until the layers change."""
    cache: BasemapCache = request.app.state.basemaps
    return cache


def get_stats_cache(request: Request) -> TtlCache[Stats]:
    """The /stats answers of the last few seconds (``service.stats_cache``)."""
    cache: TtlCache[Stats] = request.app.state.stats
    return cache


def get_page_cache(request: Request) -> PageCache[KeptPage]:
    """The rendered map pages, kept until the layers change (``service.page_cache``)."""
    cache: PageCache[KeptPage] = request.app.state.pages
    return cache


def csp_nonce(request: Request) -> str:
    """This answer's Content-Security-Policy nonce (made by ``api.limits.SecurityHeaders``):
    a page's scripts run only if they carry it."""
    nonce: str = getattr(request.state, NONCE_KEY)
    return nonce


SessionDep = Annotated[Session, Depends(get_session)]
ReadSessionDep = Annotated[Session, Depends(get_read_session)]
IssueId = Annotated[int, Path(ge=1, le=MAX_ID, description="A case's id")]
PhotoId = Annotated[int, Path(ge=1, le=MAX_ID, description="A photo's id")]
SnapshotDep = Annotated[CommunitySnapshot, Depends(get_snapshot)]
BasemapDep = Annotated[BasemapCache, Depends(get_basemaps)]
StatsCacheDep = Annotated[TtlCache[Stats], Depends(get_stats_cache)]
PageCacheDep = Annotated[PageCache[KeptPage], Depends(get_page_cache)]
LangDep = Annotated[str, Depends(page_lang)]
NowDep = Annotated[datetime, Depends(get_now)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
NonceDep = Annotated[str, Depends(csp_nonce)]
