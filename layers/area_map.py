"""The managers' map of a street, a district or the whole deployment: its communities.

Each community is drawn as a polygon coloured by its open cases, its overdue
cases or its closure rate (a control on the map switches which; open cases
first), and labelled with its name and the three figures.  Clicking a community
opens its own map (``/?area=<code>``).  The page holds the outlines only, so that it
is rendered once per version of the layers (``service.page_cache``); its script
(``static/gridgov-area.js``) asks ``/api/v1/overview`` for the figures, whose
colours, legends and words are worked out here (:func:`area_figures`), so that the
page itself holds no logic worth testing.

Built with Folium from a data frame; no database and no HTTP here.
"""

from __future__ import annotations

from typing import Any

import folium
import geopandas as gpd
import pandas as pd
from branca.element import Element, Figure
from folium import plugins

from layers.basemaps import add_basemaps
from layers.colours import (
    NO_RATE,
    OPEN_COLOURS,
    OVERDUE_COLOURS,
    count_colour,
    count_legend,
    is_rate,
    rate_colour,
    rate_legend,
    rate_text,
)
from layers.i18n import gettext_for, labels, name_in
from layers.page import area_href
from layers.page_script import PageScript
from layers.templating import render

# what the communities may be coloured by, in the order the control offers them
METRICS = ("open_cases", "overdue_cases", "closure_rate")
DEFAULT_METRIC = "open_cases"


def area_title(communities: gpd.GeoDataFrame, area: str, level: str, lang: str) -> str:
    """The overview's title: the street's or district's name where every community of
    it gives the same one in ``lang`` (``street``/``street_en``, ``district``/...), else
    its code; the plain title for the whole deployment."""
    gettext = gettext_for(lang).gettext
    if level not in ("street", "district"):
        return gettext("map.title_plain")
    column = level if lang == "zh" else f"{level}_{lang}"
    names = (
        {str(v).strip() for v in communities[column] if isinstance(v, str)}
        if column in communities.columns
        else set()
    )
    name = names.pop() if len(names) == 1 and "" not in names else ""
    name = name or gettext(f"map.{level}_code").format(code=area)
    return gettext("map.title").format(name=name)


def area_features(
    communities: gpd.GeoDataFrame, lang: str, link_lang: str | None = None
) -> dict[str, Any]:
    """The communities as GeoJSON for the page script: each with its name in ``lang``,
    the address of its map and where its label goes.  No figures: the page asks the
    API for them (:func:`area_figures`), and colours every community grey until then."""
    features = []
    for _, row in communities.iterrows():
        point = row.geometry.representative_point()
        features.append(
            {
                "type": "Feature",
                "geometry": row.geometry.__geo_interface__,
                "properties": {
                    "code": str(row["code"]),
                    "name": name_in(row, lang) or str(row["code"]),
                    "href": area_href(str(row["code"]), link_lang),
                    "figures": [],
                    "label_at": [point.x, point.y],
                    "fill": dict.fromkeys(METRICS, NO_RATE),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def area_figures(figures: pd.DataFrame, lang: str) -> dict[str, Any]:
    """The overview's figures for its page script (``/api/v1/overview``): by community
    code, its counts and closure rate, its label's lines and its colour by each metric;
    and the legend of each metric.

    ``figures`` has a row per community: ``code``, ``open_cases``, ``overdue_cases``,
    ``closure_rate`` (0..1 or None), as ``service.pages.area_figures`` counts them.
    """
    words = labels(lang, "map")
    top_open = int(figures["open_cases"].max()) if len(figures) else 0
    top_late = int(figures["overdue_cases"].max()) if len(figures) else 0
    communities: dict[str, Any] = {}
    for row in figures.to_dict("records"):
        rate = float(row["closure_rate"]) if is_rate(row["closure_rate"]) else None
        opened, late = int(row["open_cases"]), int(row["overdue_cases"])
        communities[str(row["code"])] = {
            "open_cases": opened,
            "overdue_cases": late,
            "closure_rate": rate,
            "figures": [
                words["area_counts"].format(open=opened, overdue=late),
                words["area_rate"].format(rate=rate_text(rate)),
            ],
            "fill": {
                "open_cases": count_colour(opened, top_open, OPEN_COLOURS),
                "overdue_cases": count_colour(late, top_late, OVERDUE_COLOURS),
                "closure_rate": rate_colour(rate),
            },
        }
    return {
        "communities": communities,
        "legends": {
            "open_cases": count_legend(top_open, OPEN_COLOURS),
            "overdue_cases": count_legend(top_late, OVERDUE_COLOURS),
            "closure_rate": rate_legend(words["area_nothing_due"]),
        },
    }


def area_map(
    communities: gpd.GeoDataFrame,
    area: str,
    level: str,
    lang: str = "zh",
    link_lang: str | None = None,
    up: tuple[str, str] | None = None,
    home: bool = False,
    api: str = "/api/v1",
    script_url: str = "/static/gridgov-area.js",
    gcj_url: str = "/static/gridgov-gcj.js",
    home_url: str = "/static/gridgov-home.js",
    tianditu_key: str = "",
) -> folium.Map:
    """The overview of an area's communities.

    Parameters
    ----------
    communities : GeoDataFrame
        One row per community in WGS84: ``code``, ``name`` (``name_en`` where
        known); the figures come from ``api`` (``/overview``).
    area : the street or district code, or "" for the whole deployment
    level : "street", "district" or "deployment"
    lang : "zh" or "en"
    link_lang : the language links name (that the page's address named), if any
    up : the code and level of the area above, for a link back up, if there is one
    home : the page is at the default area: a signed-in user is taken to their own
        area when it lies inside ``area`` (``static/gridgov-home.js``, asking ``api``)
    """
    words = labels(lang, "map")
    x0, y0, x1, y1 = (float(v) for v in communities.total_bounds)
    fmap = folium.Map(
        location=[(y0 + y1) / 2, (x0 + x1) / 2],
        zoom_start=14,
        tiles=None,
        prefer_canvas=False,
        zoom_snap=0.25,  # the area fills the page, not the nearest whole zoom below
    )
    fmap.fit_bounds([[y0, x0], [y1, x1]], padding=(10, 10))
    add_basemaps(fmap, words, tianditu_key, amap=True)
    plugins.Fullscreen(title=words["fullscreen"], title_cancel=words["fullscreen_off"]).add_to(fmap)
    PageScript("gridgovFollowBasemaps", [("gridgov_gcj", gcj_url)]).add_to(fmap)
    title = area_title(communities, area, level, lang)
    PageScript(
        "gridgovArea",
        [("gridgov_area", script_url)],
        {
            "api": api,
            "area": area,
            "lang": lang,
            "metric": DEFAULT_METRIC,
            "metrics": list(METRICS),
            "communities": area_features(communities, lang, link_lang),
            "labels": {
                "title": title,
                "colour_by": words["area_colour_by"],
                "hint": words["area_hint"],
                "open_cases": words["open_cases"],
                "overdue_cases": words["overdue_cases"],
                "closure_rate": words["area_closure_rate"],
                "up": words[f"up_{up[1]}"] if up else "",
            },
            "up": area_href(up[0], link_lang) if up else None,
        },
    ).add_to(fmap)
    if home:
        PageScript("gridgovHome", [("gridgov_home", home_url)], {"api": api, "area": area}).add_to(
            fmap
        )
    folium.LayerControl(collapsed=True).add_to(fmap)
    root = fmap.get_root()
    assert isinstance(root, Figure)
    root.header.add_child(Element(render("head.html", lang, title=title, meta_lang=True)))
    return fmap
