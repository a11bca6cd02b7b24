"""HTML pages: the grid managers' map (at /), served with local assets only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.deps import NowDep, SessionDep
from api.i18n import pick_lang
from cases.lifecycle import OPEN
from layers.assets import localise
from layers.manager_map import manager_map
from store.layers import read_layer
from store.models import Issue
from store.squads import squad_loads

router = APIRouter(tags=["pages"])
MAP_LAYERS = ("community", "grids", "districts", "merchants", "squads", "service_points", "parking")


def grid_counts(session: Session, now: object) -> tuple[dict[str, int], dict[str, int]]:
    """Open and overdue cases per grid."""
    open_states = [s.value for s in OPEN]
    rows = session.execute(
        select(Issue.grid_code, func.count())
        .where(Issue.status.in_(open_states))
        .group_by(Issue.grid_code)
    ).all()
    late = session.execute(
        select(Issue.grid_code, func.count())
        .where(Issue.status.in_(open_states), Issue.due_at < now)
        .group_by(Issue.grid_code)
    ).all()
    return {g: int(n) for g, n in rows}, {g: int(n) for g, n in late}


def map_html(
    session: Session, now: object, lang: str, live: bool = True, tianditu_key: str = ""
) -> str:
    """The managers' map page, before its asset links are localised."""
    layers = {name: read_layer(session, name) for name in MAP_LAYERS}
    opened, late = grid_counts(session, now)
    grids = layers["grids"]
    grids["open_cases"] = [opened.get(c, 0) for c in grids["code"]]
    grids["overdue_cases"] = [late.get(c, 0) for c in grids["code"]]
    loads = squad_loads(session)
    if len(layers["squads"]):
        layers["squads"]["load"] = [loads.get(s, 0) for s in layers["squads"]["id"]]
    fmap = manager_map(layers, lang=lang, live=live, tianditu_key=tianditu_key)
    html = fmap.get_root().render()
    return html.replace("<html>", f'<html lang="{lang}">', 1)


@router.get("/", response_class=HTMLResponse)
def map_page(
    request: Request,
    session: SessionDep,
    now: NowDep,
    lang: str | None = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> HTMLResponse:
    """The grid managers' live map, Chinese by default (``?lang=en`` for English)."""
    chosen = pick_lang(lang, accept_language, request.app.state.settings.default_lang)
    if not read_layer(session, "grids").shape[0]:
        return HTMLResponse(
            "<!doctype html><p>No community data loaded yet. Run 'gridgov load DIR'.</p>",
            status_code=503,
        )
    settings = request.app.state.settings
    return HTMLResponse(
        localise(map_html(session, now, chosen, tianditu_key=settings.tianditu_key))
    )
