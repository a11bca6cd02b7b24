"""The page of one case: where it is, what it is, and (for staff) what to do next."""

from __future__ import annotations

from html import escape
from typing import Any

import folium
from branca.element import Element, Figure

from layers.page import page_html
from layers.page_script import PageScript
from layers.text import CASE_LABELS, STATUS_COLOURS, STATUS_NAMES


def case_page(
    case: dict[str, Any],
    events: list[dict[str, Any]],
    moves: dict[str, list[str]],
    lang: str = "zh",
    api: str = "/api/v1",
    unit: str | None = None,
    script_url: str = "/static/gridgov-case.js",
) -> str:
    """The HTML of a case page from the case's public view and public history.

    ``moves`` maps each status to the statuses staff may move a case to; the
    staff part of the page is filled in by the browser with the staff's token.
    """
    t = CASE_LABELS[lang]
    loc = case["location"]
    fmap = folium.Map(
        location=[loc["lat"], loc["lon"]], zoom_start=18, tiles=None, height="320px", width="100%"
    )
    folium.TileLayer("OpenStreetMap", name="OpenStreetMap").add_to(fmap)
    folium.CircleMarker(
        [loc["lat"], loc["lon"]],
        radius=10,
        fill=True,
        fill_opacity=0.9,
        color=STATUS_COLOURS.get(case["status"], "#333333"),
    ).add_to(fmap)
    status = STATUS_NAMES[lang].get(case["status"], case["status"])
    category = case["category"]["name_zh" if lang == "zh" else "name_en"]
    rows = [
        (t["status"], status),
        (t["category"], category),
        (t["grid"], f"{case['grid']['code']} {case['grid']['name'] or ''}"),
        (t["squad"], case["squad"]["name"] if case.get("squad") else t["none"]),
        (t["reported"], case["reported_at"]),
        (t["deadline"], case["deadline"] + (f" ({t['overdue']})" if case["overdue"] else "")),
    ]
    table = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in rows)
    history = "".join(
        f"<li>{escape(e['at'] or '')}: {escape(STATUS_NAMES[lang].get(e['to'], e['to']))}</li>"
        for e in events
    )
    body = (
        f'<main class="gg-page" id="gg-case"><h1>{escape(t["case"])} #{case["id"]}</h1>'
        f"<table>{table}</table>"
        f'<p class="gg-description">{escape(case["description"])}</p>'
        f"<h2>{escape(t['history'])}</h2><ol>{history}</ol>"
        f"<section><h2>{escape(t['staff'])}</h2>"
        f'<input class="gg-token" type="password" placeholder="{escape(t["token"])}">'
        f'<button class="gg-login">{escape(t["login"])}</button>'
        f'<textarea class="gg-note" placeholder="{escape(t["note"])}"></textarea>'
        f'<p class="gg-message" role="alert"></p><div class="gg-staff"></div></section>'
        "</main><style>.gg-page{font:14px sans-serif;max-width:760px;margin:0 auto;"
        "padding:8px}.gg-page th{text-align:left;padding-right:12px}.gg-thumb{height:96px;"
        "margin:4px}.gg-note{display:block;width:100%;height:48px;margin:6px 0}"
        ".gg-actions button{margin:4px}.gg-history td{padding:2px 6px;font-size:12px}</style>"
    )
    root = fmap.get_root()
    assert isinstance(root, Figure)
    root.html.add_child(Element(body))
    root.header.add_child(Element(f"<title>{escape(t['case'])} #{case['id']}</title>"))
    options = {
        "api": api,
        "id": case["id"],
        "moves": moves,
        "unit": unit,
        "labels": {
            **{k: t[k] for k in ("reporter", "anonymous", "photo", "to", "duplicate_of")},
            "statuses": STATUS_NAMES[lang],
        },
    }
    PageScript(
        "gridgovCase",
        [("gridgov_case", script_url)],
        options,
        target='document.getElementById("gg-case")',
    ).add_to(fmap)
    return page_html(fmap, lang)
