"""The phone page for reporting a problem: a full-screen map, a pin, a short form.

Kept light for weak connections: Leaflet and gridgov's own script and styles,
none of the desktop map's plugins.
"""

from __future__ import annotations

from html import escape
from typing import Any

import folium
from branca.element import Element, Figure

from layers.page import page_html
from layers.page_script import PageScript
from layers.text import CATEGORY_GLYPHS, REPORT_LABELS

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
    t = REPORT_LABELS[lang]
    fmap = folium.Map(
        location=[centre[1], centre[0]], zoom_start=16, tiles=None, control_scale=True
    )
    fmap.default_js = [("leaflet", LEAFLET_JS)]
    fmap.default_css = [("leaflet_css", LEAFLET_CSS)]
    folium.TileLayer("OpenStreetMap", name="OpenStreetMap").add_to(fmap)
    form = (
        '<form id="gg-report" onsubmit="return false">'
        f'<button type="button" class="gg-locate gg-big">{escape(t["locate"])}</button>'
        f'<p class="gg-where">{escape(t["tap"])}</p>'
        '<div class="gg-categories"></div>'
        f'<textarea class="gg-desc" maxlength="2000" placeholder="{escape(t["describe"])}">'
        "</textarea>"
        f'<label class="gg-big">{escape(t["photo"])}'
        '<input class="gg-photo" type="file" accept="image/*" capture="environment"></label>'
        f"<details><summary>{escape(t['contact'])}</summary>"
        f'<p class="gg-note">{escape(t["privacy"])}</p>'
        f'<input class="gg-name" maxlength="40" placeholder="{escape(t["name"])}">'
        f'<input class="gg-phone" maxlength="20" inputmode="tel" '
        f'placeholder="{escape(t["phone"])}"></details>'
        f'<p class="gg-staff-mode" hidden>{escape(t["staff_mode"])} '
        f'<label><input type="checkbox" class="gg-dispatch-now" checked> '
        f"{escape(t['dispatch_now'])}</label></p>"
        f'<button type="button" class="gg-send gg-big" disabled>{escape(t["send"])}</button>'
        '<p class="gg-pending" role="status"></p></form>'
        '<section id="gg-result" role="status" hidden></section>'
        "<style>"
        "html,body{margin:0}.folium-map{position:fixed !important;top:0;left:0;right:0;"
        "height:45vh !important;z-index:1}body{padding-top:45vh}"
        "#gg-report,#gg-result{font:16px sans-serif;padding:8px}"
        ".gg-big{display:block;width:100%;min-height:48px;margin:6px 0;font-size:17px}"
        ".gg-categories{display:grid;grid-template-columns:repeat(4,1fr);gap:6px}"
        ".gg-cat{min-height:56px;font-size:13px;border:1px solid #bbb;border-radius:8px;"
        "background:#fff}.gg-cat .gg-glyph{display:block;font-size:20px}"
        ".gg-chosen{background:#1f77b4;color:#fff}.gg-desc{width:100%;min-height:64px;"
        "box-sizing:border-box;font-size:16px}.gg-ok{color:#238b45}.gg-bad{color:#cb181d}"
        ".gg-name,.gg-phone{display:block;width:100%;min-height:44px;margin:4px 0;"
        "font-size:16px;box-sizing:border-box}.gg-note{font-size:13px;color:#555}"
        "</style>"
    )
    root = fmap.get_root()
    assert isinstance(root, Figure)
    root.html.add_child(Element(form))
    root.header.add_child(Element(f"<title>{escape(t['title'])}</title>"))
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
