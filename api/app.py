"""The FastAPI application: wires settings, the store and the routers together."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api import (
    errors,
    openapi,
    pages,
    routes_dispatch,
    routes_issues,
    routes_layers,
    routes_ogc,
    routes_open311,
    routes_parking,
    routes_staff,
    routes_stats,
    routes_users,
)
from api.deps import LangDep, SessionDep
from api.kept_page import KeptPage
from api.limits import BodyLimit, NoNulQuery, SecurityHeaders
from cases.deadlines import utcnow
from layers.basemaps import tile_hosts
from layers.i18n import LANGS, name_in
from layers.templating import render
from service.basemap import BasemapCache
from service.community import SnapshotCache
from service.gate import Gate
from service.page_cache import PageCache
from service.ratelimit import report_limit
from service.settings import Settings
from service.startup import configure
from service.stats_cache import TtlCache
from store.db import create_schema, make_engine, session_factory
from store.layers import layer_counts, read_layer

STATIC = Path(__file__).resolve().parent.parent / "layers" / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for ``settings`` (from the environment by default)."""
    settings = settings or Settings()
    configure(settings)
    engine = make_engine(settings.database_url, settings.db_pool_size)
    create_schema(engine)
    app = FastAPI(
        title="gridgov",
        version="0.1.0",
        description="Grid-governance map service / 网格治理地图服务",
        docs_url=None,  # served by api/pages.py from gridgov's own copies, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    # the read replica's engine and its read-only sessions (api.deps.get_read_session),
    # or None: read from the primary. The replica's schema is the primary's, replayed.
    read_url, pool = settings.database_read_url, settings.db_pool_size
    read_engine = make_engine(read_url, pool, read_only=True) if read_url else None
    app.state.read_engine = read_engine
    app.state.read_sessions = session_factory(read_engine) if read_engine else None
    app.state.areas = SnapshotCache()
    app.state.basemaps = BasemapCache()
    app.state.stats = TtlCache()  # /stats answers, for a few seconds
    # the map pages, per version of the layers (api.kept_page)
    app.state.pages = PageCache[KeptPage](settings.page_cache)
    app.state.clock = utcnow
    app.state.report_limit = report_limit(settings)
    app.state.photo_gate = Gate(settings.photo_workers, settings.photo_queue, settings.photo_wait_s)
    errors.install(app)
    openapi.install(app)
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    app.add_middleware(NoNulQuery)
    app.add_middleware(
        BodyLimit,
        limit_for=lambda path: (
            settings.max_photo_bytes + 64 * 1024
            if path.endswith("/photos")
            else settings.max_body_bytes
        ),
    )
    # added last, so outermost: the answers of the middleware above carry the headers too
    app.add_middleware(SecurityHeaders, img_hosts=tile_hosts(bool(settings.tianditu_key)))
    app.include_router(routes_layers.router)
    app.include_router(routes_issues.router)
    app.include_router(routes_stats.router)
    app.include_router(routes_dispatch.router)
    app.include_router(routes_parking.router)
    app.include_router(routes_staff.router)
    app.include_router(routes_ogc.router)
    app.include_router(routes_users.router)
    app.include_router(routes_open311.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    vendor = settings.vendor_dir / "node_modules"
    vendor.mkdir(parents=True, exist_ok=True)
    app.mount("/vendor", StaticFiles(directory=vendor), name="vendor")
    _pages(app)
    return app


def _pages(app: FastAPI) -> None:
    @app.get("/healthz")
    def healthz(session: SessionDep) -> dict[str, Any]:
        return {
            "status": "ok",
            "database": session.get_bind().dialect.name,
            "layers": layer_counts(session),
        }

    @app.get("/about", response_class=HTMLResponse)
    def index(session: SessionDep, lang: LangDep) -> str:
        counts = layer_counts(session)
        community = read_layer(session, "community")
        shown = ("grids", "districts", "merchants", "squads", "service_points", "parking")
        return render(
            "about.html",
            lang,
            community=name_in(community.iloc[0], lang) if len(community) else "",
            layers=[(layer, counts[layer]) for layer in shown if layer in counts],
            other_lang=next(other for other in LANGS if other != lang),
        )
