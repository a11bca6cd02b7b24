"""The planner's parking map: coverage layers, a figures panel and a radius chart.

Built with Folium from data frames; no database and no HTTP here.  The
coverage layers are empty Folium feature groups that ``static/gridgov-parking.js``
fills from a coverage answer (the dict of ``api.parking_view.answer_view``):
the live page asks the API for one whenever a control changes, and an exported
report carries one inside the page.  One drawing path serves both.
"""

from __future__ import annotations

from html import escape
from typing import Any

import folium
import geopandas as gpd
from branca.element import Element, Figure
from folium import plugins

from gis.crs import metric_crs_of
from layers.basemaps import add_basemaps
from layers.page_script import PageScript
from layers.text import LABELS, PARKING_LABELS

FIGURES = (
    "households_covered_share",
    "smart_covered_share",
    "spaces_per_demand",
    "households_covered",
    "uncovered_buildings",
    "median_nearest_m",
)
RADII = (100, 800, 50)
PANEL_CSS = (
    "#gg-parking{position:absolute;right:10px;top:10px;z-index:1000;background:#fff;"
    "padding:8px 12px;border-radius:4px;box-shadow:0 1px 5px rgba(0,0,0,.4);"
    "font:13px sans-serif;width:360px;max-height:calc(100% - 40px);overflow:auto}"
    "#gg-parking h1{font-size:16px;margin:0 0 6px}"
    "#gg-parking label{display:block;margin:4px 0}"
    "#gg-parking table{border-collapse:collapse;width:100%;margin:6px 0}"
    "#gg-parking td,#gg-parking th{padding:2px 4px;text-align:right;font-size:12px}"
    "#gg-parking td:first-child,#gg-parking th:first-child{text-align:left}"
    "#gg-parking .gg-chart{position:relative;height:180px}"
    "#gg-parking .gg-message{color:#b00}#gg-parking .gg-hint{color:#555;margin:2px 0}"
    "#gg-parking .gg-add-capacity{width:60px}#gg-parking .gg-restore{margin:2px}"
    "#gg-parking .gg-up{color:#1a7f37}#gg-parking .gg-down{color:#b00}"
)


def parking_map(
    context: dict[str, gpd.GeoDataFrame],
    lang: str = "zh",
    api: str = "/api/v1",
    answer: dict[str, Any] | None = None,
    script_url: str = "/static/gridgov-parking.js",
    chart_url: str = "/vendor/chart.js/dist/chart.umd.js",
    tianditu_key: str = "",
    *,
    metric_crs: str | None = None,
) -> folium.Map:
    """The planner's map around the parking facilities.

    Parameters
    ----------
    context : dict of GeoDataFrame
        WGS84 layers drawn as they are: ``parking`` (to centre the map and
        name the place), and where present ``community``, ``streets`` and
        ``compounds``.
    answer : dict, optional
        A coverage answer to draw at once.  Without one the page is live: its
        controls ask ``api`` with the planner's token.
    metric_crs : str, optional
        The CRS to find the compound nearest the facilities in (to name the
        place); by default the zone of the facilities' centre
        (:func:`gis.crs.metric_crs_of`).
    """
    t = PARKING_LABELS[lang]
    parking = context["parking"]
    x0, y0, x1, y1 = parking.total_bounds
    fmap = folium.Map(
        location=[(y0 + y1) / 2, (x0 + x1) / 2], zoom_start=16, tiles=None, control_scale=True
    )
    add_basemaps(fmap, LABELS[lang], tianditu_key, amap=False)
    _outline(context.get("community"), t["layer_community"], "#08306b", 3).add_to(fmap)
    _outline(context.get("compounds"), t["layer_compounds"], "#737373", 1, tooltip=True).add_to(
        fmap
    )
    if context.get("streets") is not None and len(context["streets"]):
        folium.GeoJson(
            context["streets"][["geometry"]],
            name=t["layer_streets"],
            show=False,
            style_function=lambda _: {"color": "#969696", "weight": 1},
        ).add_to(fmap)
    groups = {
        key: folium.FeatureGroup(name=t[f"layer_{key}"]).add_to(fmap)
        for key in ("areas", "uncovered", "covered", "facilities", "sites")
    }
    plugins.Fullscreen().add_to(fmap)
    folium.LayerControl(collapsed=True, position="topleft").add_to(fmap)
    root = fmap.get_root()
    assert isinstance(root, Figure)
    place = _place(context.get("compounds"), parking, metric_crs)
    heading = t["title"] + (" · " + t["around"].format(name=place) if place else "")
    root.header.add_child(Element(f"<title>{escape(heading)}</title><style>{PANEL_CSS}</style>"))
    root.html.add_child(Element(_panel(heading, t, live=answer is None)))
    options = {
        "api": api,
        "groups": {k: g.get_name() for k, g in groups.items()},
        "labels": t,
        "figures": FIGURES,
        "answer": answer,
    }
    PageScript(
        "gridgovParking",
        [("chart_js", chart_url), ("gridgov_parking", script_url)],
        options,
    ).add_to(fmap)
    return fmap


def _panel(heading: str, t: dict[str, str], live: bool) -> str:
    """The figures panel; its controls only where the page can ask the API."""
    lo, hi, step = RADII
    rows = "".join(
        f'<tr data-figure="{k}"><td>{escape(t[k])}</td><td class="gg-now"></td>'
        '<td class="gg-proposed"></td><td class="gg-change"></td></tr>'
        for k in FIGURES
    )
    options = "".join(
        f'<option value="{v}">{escape(t[v])}</option>' for v in ("current", "planned")
    )
    modes = "".join(
        f'<option value="{v}">{escape(t[v])}</option>' for v in ("walk", "straight_line")
    )
    controls = (
        f'<label>{escape(t["radius"])} <input class="gg-radius" type="range" min="{lo}" '
        f'max="{hi}" step="{step}" value="300"> <output class="gg-radius-out">300</output> '
        f"{escape(t['metres'])}</label>"
        f'<label>{escape(t["scenario"])} <select class="gg-scenario">{options}</select></label>'
        f'<label>{escape(t["mode"])} <select class="gg-mode">{modes}</select></label>'
        f'<label>{escape(t["cars"])} <input class="gg-cars" type="number" min="0" max="10" '
        'step="0.1" value="1.0"></label>'
        f'<label><input class="gg-add" type="checkbox"> {escape(t["add"])} '
        '<input class="gg-add-capacity" type="number" min="0" max="5000" value="100"> '
        f'{escape(t["capacity"])} <input class="gg-add-smart" type="checkbox" checked> '
        f"{escape(t['smart'])}</label>"
        f'<p class="gg-hint">{escape(t["remove_hint"])}</p><div class="gg-changes"></div>'
        f'<label><button class="gg-suggest">{escape(t["suggest"])}</button> '
        f'<input class="gg-p" type="number" min="1" max="20" value="2"> {escape(t["sites"])}'
        "</label>"
        f'<div class="gg-login"><input class="gg-token" type="password" '
        f'placeholder="{escape(t["token"])}"><button class="gg-signin">{escape(t["login"])}'
        "</button></div>"
        if live
        else '<p class="gg-static"></p>'
    )
    return (
        f'<section id="gg-parking"><h1>{escape(heading)}</h1>{controls}'
        '<p class="gg-message" role="alert"></p>'
        f"<table><thead><tr><th>{escape(t['figure'])}</th><th>{escape(t['now'])}</th>"
        f"<th>{escape(t['proposed'])}</th><th>{escape(t['change'])}</th></tr></thead>"
        f'<tbody>{rows}</tbody></table><p class="gg-suggestion"></p>'
        f'<h2 style="font-size:13px">{escape(t["chart"])}</h2>'
        '<div class="gg-chart"><canvas></canvas></div></section>'
    )


def _outline(
    frame: gpd.GeoDataFrame | None, name: str, colour: str, weight: int, tooltip: bool = False
) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=name)
    if frame is None or not len(frame):
        return group
    columns = ["name", "geometry"] if "name" in frame else ["geometry"]
    folium.GeoJson(
        frame[columns].assign(**({"name": frame["name"].map(escape)} if "name" in frame else {})),
        style_function=lambda _: {"fill": False, "color": colour, "weight": weight},
        tooltip=folium.GeoJsonTooltip(["name"], labels=False)
        if tooltip and "name" in frame
        else None,
    ).add_to(group)
    return group


def _place(
    compounds: gpd.GeoDataFrame | None, parking: gpd.GeoDataFrame, metric_crs: str | None
) -> str:
    """The compound nearest the middle of the parking facilities, to name the place."""
    if compounds is None or not len(compounds) or "name" not in compounds:
        return ""
    crs = metric_crs or metric_crs_of(parking if len(parking) else compounds)
    middle = parking.to_crs(crs).union_all().centroid
    distance = compounds.to_crs(crs).distance(middle)
    return str(compounds["name"].iloc[int(distance.to_numpy().argmin())])
