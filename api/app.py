"""The FastAPI application: health, landing page and layer endpoints."""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session, sessionmaker

from api import errors
from api.geojson import GeoJSONResponse, feature_collection, parse_bbox
from api.i18n import pick_lang, t
from api.settings import Settings
from store.db import create_schema, make_engine, session_factory
from store.layers import layer_counts, read_layer

# Layers anyone may read.  None of them holds personal data; Party members are a
# separate table that no public endpoint reads.
PUBLIC_LAYERS = (
    "community",
    "grids",
    "districts",
    "merchants",
    "squads",
    "units",
    "service_points",
    "parking",
    "compounds",
    "buildings",
    "streets",
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for ``settings`` (from the environment by default)."""
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    create_schema(engine)
    app = FastAPI(
        title="gridgov",
        version="0.1.0",
        description="Grid-governance map service / 网格治理地图服务",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    errors.install(app)
    _routes(app)
    return app


def get_session(request: Request) -> Any:
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
BBoxQuery = Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat (WGS84)")]


def _routes(app: FastAPI) -> None:
    @app.get("/healthz")
    def healthz(session: SessionDep) -> dict[str, Any]:
        return {
            "status": "ok",
            "database": session.get_bind().dialect.name,
            "layers": layer_counts(session),
        }

    @app.get("/", response_class=HTMLResponse)
    def index(
        request: Request,
        session: SessionDep,
        lang: str | None = None,
        accept_language: Annotated[str | None, Header()] = None,
    ) -> str:
        lang = pick_lang(lang, accept_language, request.app.state.settings.default_lang)
        counts = layer_counts(session)
        community = read_layer(session, "community")
        name = escape(str(community["name"].iloc[0])) if len(community) else t("empty", lang)
        items = "".join(
            f'<li><a href="/api/v1/{layer}">{escape(t(layer, lang))}</a> ({counts[layer]})</li>'
            for layer in ("grids", "districts", "merchants", "squads", "service_points", "parking")
            if layer in counts
        )
        other = "en" if lang == "zh" else "zh"
        return (
            f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>gridgov · {escape(t('title', lang))}</title></head><body>"
            f"<h1>{escape(t('title', lang))}</h1><p>{escape(t('community', lang))}: {name}</p>"
            f"<h2>{escape(t('layers', lang))}</h2><ul>{items}</ul>"
            f'<p><a href="/healthz">{escape(t("health", lang))}</a> · '
            f'<a href="/?lang={other}">{escape(t("other_lang", lang))}</a></p></body></html>'
        )

    for layer in PUBLIC_LAYERS:
        _layer_route(app, layer)


def _layer_route(app: FastAPI, layer: str) -> None:
    def endpoint(session: SessionDep, bbox: BBoxQuery = None) -> GeoJSONResponse:
        frame = read_layer(session, layer, parse_bbox(bbox))
        return GeoJSONResponse(feature_collection(frame, total=len(frame)))

    app.add_api_route(
        f"/api/v1/{layer}",
        endpoint,
        methods=["GET"],
        name=f"list_{layer}",
        summary=f"The {layer.replace('_', ' ')} layer as GeoJSON",
        response_class=GeoJSONResponse,
    )
