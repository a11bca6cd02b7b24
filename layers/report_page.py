"""The phone page for reporting a problem: a full-screen map, a pin, a short form.

Kept light for weak connections: Leaflet and gridgov's own script and styles,
none of the desktop map's plugins.
"""

from __future__ import annotations

from typing import Any

import folium
from branca.element import Element, Figure

from layers.basemaps import add_map_controls, osm_layer
from layers.i18n import labels
from layers.page import page_html
from layers.page_script import PageScript
from layers.templating import render
from layers.text import CATEGORY_GLYPHS

LEAFLET_JS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"
LEAFLET_CSS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"


def report_page(
    centre: tuple[float, float],
    lang: str = "zh",
    start: dict[str, Any] | None = None,
    categories: list[dict[str, Any]] | None = None,
    api: str = "/api/v1",
    script_url: str = "/static/gridgov-report.js",
) -> str:
    """The report page's HTML, centred on ``centre`` (lon, lat), optionally with a pin to place."""
    t = labels(lang, "report")
    fmap = folium.Map(location=[centre[1], centre[0]], zoom_start=16, tiles=None)
    fmap.default_js = [("leaflet", LEAFLET_JS)]
    fmap.default_css = [("leaflet_css", LEAFLET_CSS)]
    words = labels(lang, "map")
    osm_layer(words).add_to(fmap)
    add_map_controls(fmap, words)
    root = fmap.get_root()
    assert isinstance(root, Figure)
    root.html.add_child(Element(render("report.html", lang)))
    root.header.add_child(Element(render("head.html", lang, title=t["title"])))
    options = {
        "api": api,
        "lang": lang,
        "start": start,
        "categories": categories,
        "glyphs": CATEGORY_GLYPHS,
        "labels": t,
    }
    PageScript("gridgovReport", [("gridgov_report", script_url)], options).add_to(fmap)
    return page_html(fmap, lang)
