"""The planner's parking map: coverage layers, a figures panel and a radius chart.

Built with Folium from data frames; no database and no HTTP here.  The
coverage layers are empty Folium feature groups that ``static/gridgov-parking.js``
fills from a coverage answer (the dict of ``service.parking_view.answer_view``):
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
from layers.i18n import labels
from layers.page_script import PageScript
from layers.templating import render

FIGURES = (
    "households_covered_share",
    "smart_covered_share",
    "spaces_per_demand",
    "households_covered",
    "uncovered_buildings",
    "median_nearest_m",
)
RADII = (100, 800, 50)


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
    t = labels(lang, "parking")
    parking = context["parking"]
    x0, y0, x1, y1 = parking.total_bounds
    fmap = folium.Map(location=[(y0 + y1) / 2, (x0 + x1) / 2], zoom_start=16, tiles=None)
    add_basemaps(fmap, labels(lang, "map"), tianditu_key, amap=False)
    _outline(context.get("community"), t["layer_community"], "#08306b", 3).add_to(fmap)
    _outline(context.get("compounds"), t["layer_compounds"], "#737373", 1, tooltip=True).add_to(
        fmap
    )
    _labels(context.get("compounds"), t["layer_labels"]).add_to(fmap)
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
    if len(parking):  # the view fitted to the facilities, clear of the panel on the right
        fmap.fit_bounds([[y0, x0], [y1, x1]], padding_top_left=(30, 30),
                        padding_bottom_right=(390, 30))  # fmt: skip
    plugins.Fullscreen().add_to(fmap)
    folium.LayerControl(collapsed=True, position="topleft").add_to(fmap)
    root = fmap.get_root()
    assert isinstance(root, Figure)
    place = _place(context.get("compounds"), parking, metric_crs)
    heading = t["title"] + (" · " + t["around"].format(name=place) if place else "")
    root.header.add_child(Element(render("parking_head.html", lang, heading=heading)))
    root.html.add_child(
        Element(
            render(
                "parking_panel.html",
                lang,
                heading=heading,
                live=answer is None,
                figures=FIGURES,
                radii=RADII,
            )
        )
    )
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


def _labels(frame: gpd.GeoDataFrame | None, name: str) -> folium.FeatureGroup:
    """Each compound's name on the map, as text, at a point inside it."""
    group = folium.FeatureGroup(name=name)
    if frame is None or not len(frame) or "name" not in frame:
        return group
    for title, point in zip(frame["name"], frame.representative_point(), strict=True):
        if isinstance(title, str) and title:
            folium.Marker(
                [point.y, point.x],
                icon=folium.DivIcon(html=escape(title), class_name="gg-label", icon_size=None),
                interactive=False,
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
