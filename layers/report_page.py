"""The phone page for reporting a problem: a full-screen map, a pin, a short form.

Kept light for weak connections: Leaflet and gridgov's own script and styles,
none of the desktop map's plugins.
"""

from __future__ import annotations

import re
from typing import Any

import folium
from branca.element import Element, Figure

from layers.basemaps import add_map_controls, add_own_basemap, osm_layer
from layers.i18n import labels
from layers.page import page_html
from layers.page_script import PageScript
from layers.templating import render
from layers.text import category_glyphs

LEAFLET_JS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"
LEAFLET_CSS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"
# Folium's page forbids zooming (maximum-scale=1, user-scalable=no): a resident who
# needs larger text must be able to pinch, so the report page lets them
VIEWPORT = re.compile(r'<meta name="viewport"[^>]*>')
ZOOMABLE = '<meta name="viewport" content="width=device-width, initial-scale=1">'


def report_page(
    centre: tuple[float, float],
    lang: str = "zh",
    start: dict[str, Any] | None = None,
    categories: list[dict[str, Any]] | None = None,
    api: str = "/api/v1",
    community: str | None = None,
    script_url: str = "/static/gridgov-report.js",
    file_limit: tuple[int, str] = (2, "wd"),
) -> str:
    """The report page's HTML, centred on ``centre`` (lon, lat), optionally with a pin to place.

    ``file_limit`` is the time the community has to file a new case, as a number and a
    unit (``h``, ``d``, ``wd``: hours, days, working days); the confirmation names it.
    ``categories`` are ``community``'s (or the shared ones when it is None); the page
    asks for those of the community its pin lands in whenever that is another one.
    """
    t = labels(lang, "report")
    count, unit = file_limit
    within = t[f"limit_{unit}"].format(n=count)
    fmap = folium.Map(location=[centre[1], centre[0]], zoom_start=16, tiles=None)
    fmap.default_js = [("leaflet", LEAFLET_JS)]
    fmap.default_css = [("leaflet_css", LEAFLET_CSS)]
    words = labels(lang, "map")
    osm_layer(words).add_to(fmap)
    add_map_controls(fmap, words)
    # the community drawn without tiles; with several loaded, the one the pin lands in
    add_own_basemap(fmap, [community] if community else [], labels=True, api=api)
    root = fmap.get_root()
    assert isinstance(root, Figure)
    root.html.add_child(Element(render("report.html", lang)))
    root.header.add_child(Element(render("head.html", lang, title=t["title"])))
    options = {
        "api": api,
        "lang": lang,
        "start": start,
        "categories": categories,
        "community": community,
        "glyphs": category_glyphs(lang),
        "labels": t,
        "next_file": t["next_file"].format(limit=within),
    }
    PageScript("gridgovReport", [("gridgov_report", script_url)], options).add_to(fmap)
    return VIEWPORT.sub(ZOOMABLE, page_html(fmap, lang), count=1)
