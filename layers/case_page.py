"""The page of one case: where it is, what it is, and (for staff) what to do next."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import folium
from branca.element import Element, Figure

from layers.basemaps import add_map_controls, add_own_basemap, osm_layer
from layers.i18n import labels, status_names
from layers.page import page_html
from layers.page_script import PageScript
from layers.sketch import Around, sketch_of
from layers.templating import render
from layers.text import STATUS_COLOURS


def case_page(
    case: dict[str, Any],
    events: list[dict[str, Any]],
    moves: dict[str, list[str]],
    lang: str = "zh",
    api: str = "/api/v1",
    unit: str | None = None,
    script_url: str = "/static/gridgov-case.js",
    time_url: str = "/static/gridgov-time.js",
    *,
    now: str,
    tz: str,
    open_statuses: Sequence[str],
) -> str:
    """The HTML of a case page from the case's public view and public history.

    ``moves`` maps each status to the statuses staff may move a case to; the
    staff part of the page is filled in by the browser with the staff's token.
    Times are written in zone ``tz``, with ages counted from the server's ``now``;
    a duplicate is chosen among the nearby cases in ``open_statuses``.
    """
    t = labels(lang, "case")
    statuses = status_names(lang)
    loc = case["location"]
    fmap = folium.Map(
        location=[loc["lat"], loc["lon"]], zoom_start=18, tiles=None, height="320px", width="100%"
    )
    words = labels(lang, "map")
    osm_layer(words).add_to(fmap)
    add_map_controls(fmap, words)
    grid = (case.get("grid") or {}).get("code")  # its community is drawn without tiles
    add_own_basemap(fmap, [str(grid)] if grid else [""], api=api)
    folium.CircleMarker(
        [loc["lat"], loc["lon"]],
        radius=10,
        fill=True,
        fill_opacity=0.9,
        color=STATUS_COLOURS.get(case["status"], "#333333"),
    ).add_to(fmap)
    root = fmap.get_root()
    assert isinstance(root, Figure)
    root.html.add_child(
        Element(
            render("case.html", lang, case=case, events=events, statuses=statuses, now=now, tz=tz)
        )
    )
    root.header.add_child(Element(render("head.html", lang, title=f"{t['case']} #{case['id']}")))
    options = {
        "api": api,
        "id": case["id"],
        "moves": moves,
        "unit": unit,
        "lang": lang,
        "tz": tz,
        "open": list(open_statuses),
        "labels": {**t, "statuses": statuses},
    }
    PageScript(
        "gridgovCase",
        [("gridgov_time", time_url), ("gridgov_case", script_url)],
        options,
        target='document.getElementById("gg-case")',
    ).add_to(fmap)
    return page_html(fmap, lang)


def follow_page(
    issue_id: int,
    case: dict[str, Any],
    events: list[dict[str, Any]],
    lang: str = "zh",
    *,
    now: str,
    tz: str,
    around: Around | None = None,
    script_url: str = "/static/gridgov-follow.js",
) -> str:
    """The resident's page of a reported case's progress, from its public view and history:
    its status as a coloured badge, what happens next, its category and deadline; with a
    small picture of the case's grid and point when ``around`` gives the layers
    about it. The reporter's own photos are added by ``script_url`` on the phone that
    holds the case's photo token; the page itself never carries them."""
    title = labels(lang, "follow")["sketch"]
    return str(
        render(
            "follow.html",
            lang,
            issue_id=issue_id,
            case=case,
            events=events,
            statuses=status_names(lang),
            colours=STATUS_COLOURS,
            now=now,
            tz=tz,
            sketch=sketch_of(around, title) if around is not None else None,
            script_url=script_url,
        )
    )
