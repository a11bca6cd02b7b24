"""The grid managers' map: grids, districts, merchants, squads and live cases.

Built with Folium from data frames; no database and no HTTP here.  Cases are not
embedded: the page's case layer (``static/gridgov-cases.js``) asks the API for
the cases in view and keeps them current.
"""

from __future__ import annotations

from html import escape
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
from branca.element import Element, Figure, MacroElement
from folium import plugins
from folium.elements import JSCSSMixin
from jinja2 import Template

from layers.basemaps import add_basemaps
from layers.colours import OPEN_COLOURS, OVERDUE_COLOURS, count_colour, count_legend
from layers.i18n import gettext_for, labels, name_in, status_names
from layers.page import area_href
from layers.page_script import PageScript
from layers.templating import render, safe_json
from layers.text import PINS, STATUS_COLOURS, category_glyphs

CENTRE_ZOOM = 16
# the grid fills: the count each colours by, its colours, the layer's name, shown at first
GRID_FILLS = (
    ("open_cases", OPEN_COLOURS, "layer_open", True),
    ("overdue_cases", OVERDUE_COLOURS, "layer_overdue", False),
)


def _escaped(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Every text attribute HTML-escaped, so that tooltips and popups show it as text."""
    out = frame.copy()
    for column in out.columns:
        if column != out.geometry.name and (
            out[column].dtype == object or pd.api.types.is_string_dtype(out[column])
        ):
            out[column] = [escape(v) if isinstance(v, str) else v for v in out[column]]
    return out


def _named(frame: gpd.GeoDataFrame, lang: str) -> gpd.GeoDataFrame:
    """``frame`` with each feature's ``name`` in ``lang`` where the data has one
    (``name_en``; :func:`layers.i18n.name_in`), else as it was."""
    column = f"name_{lang}"
    if "name" not in frame.columns or column not in frame.columns:
        return frame
    out = frame.copy()
    out["name"] = [name_in(row, lang) or None for row in out[["name", column]].to_dict("records")]
    return out


def _with_counts(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``grids`` with the count columns the fills colour by: 0 where the frame has none
    (the live page, whose script fills them in from the API before its first poll)."""
    missing = {column: 0 for column, *_ in GRID_FILLS if column not in grids.columns}
    return grids.assign(**missing) if missing else grids


def _grid_layer(
    grids: gpd.GeoDataFrame,
    column: str,
    colours: tuple[str, ...],
    name: str,
    show: bool,
    words: dict[str, str],
) -> folium.GeoJson:
    top = int(grids[column].max()) if len(grids) else 0

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        value = int(feature["properties"].get(column) or 0)
        return {
            "fillColor": count_colour(value, top, colours),
            "color": "#555555",
            "weight": 1,
            "fillOpacity": 0.55,
        }

    # the grid head is a member, known here only by an id (``GH19``): members' personal
    # data never reach a page, and an id tells a reader nothing, so the tooltip leaves it out
    fields = ["code", "name", "households", "open_cases", "overdue_cases"]
    aliases = [words[f] for f in fields]
    return folium.GeoJson(
        grids[[*fields, "geometry"]],
        name=name,
        show=show,
        style_function=style,
        highlight_function=lambda _: {"weight": 3, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
    )


def manager_map(
    layers: dict[str, gpd.GeoDataFrame],
    lang: str = "zh",
    api: str = "/api/v1",
    live: bool = True,
    script_url: str = "/static/gridgov-cases.js",
    heat_url: str = "/vendor/leaflet.heat/dist/leaflet-heat.js",
    gcj_url: str = "/static/gridgov-gcj.js",
    stats_url: str = "/static/gridgov-stats.js",
    chart_url: str = "/vendor/chart.js/dist/chart.umd.js",
    tianditu_key: str = "",
    area: str = "",
    up: tuple[str, str] | None = None,
    focus: tuple[float, float, float, float] | None = None,
    link_lang: str | None = None,
    home: bool = False,
    home_url: str = "/static/gridgov-home.js",
    time_url: str = "/static/gridgov-time.js",
    tz: str | None = None,
    open_statuses: tuple[str, ...] = (),
    dock_url: str = "/static/gridgov-dock.js",
    search_url: str = "/static/gridgov-search.js",
    signin_url: str = "/static/gridgov-signin.js",
) -> folium.Map:
    """The map a grid manager keeps open: choropleth grids and the layers around them.

    Parameters
    ----------
    layers : dict of GeoDataFrame
        WGS84 layers by name: ``community``, ``grids``, ``districts``,
        ``merchants``, ``squads``, ``service_points``, ``parking``, ``compounds``
        (searched, not drawn).  Missing ones are left out.  The grids' counts
        (``open_cases``, ``overdue_cases``) and the squads' ``load`` are drawn where
        the frames have them (a static export); a live page leaves them out, and its
        script asks the API for the counts and redraws the fills and their legend.
    lang : "zh" or "en"
    api : where the case layer finds the API
    live : whether to add the live case layer (a static export has none)
    area : the community's code: the live layers ask only for its cases ("" all)
    up : the code and level of the area above, for a link back up, if there is one
    focus : lon/lat bounds to open the map on (a grid), instead of the whole community
    link_lang : the language the link up names (that the page's address named), if any
    home : the page is at the default area: a signed-in user is taken to their own
        area when it lies inside ``area`` (``static/gridgov-home.js``)
    open_statuses : the statuses of a case not yet finished: the case layer's default
        filter (the live map shows open cases first)

    The panels (filters, layers, statistics, legend) sit in a side dock
    (``templates/manager_dock.html``, ``static/gridgov-dock.js``) beside the map,
    never over it.
    """
    words = labels(lang, "map")
    layers = {key: _named(frame, lang) for key, frame in layers.items()}
    grids = _escaped(_with_counts(layers["grids"]))
    x0, y0, x1, y1 = grids.total_bounds
    fmap = folium.Map(
        location=[(y0 + y1) / 2, (x0 + x1) / 2],
        zoom_start=CENTRE_ZOOM,
        tiles=None,
        prefer_canvas=False,
    )
    if focus is not None:
        fmap.fit_bounds([[focus[1], focus[0]], [focus[3], focus[2]]], max_zoom=18)
    add_basemaps(fmap, words, tianditu_key, amap=True)
    fills = [
        _grid_layer(grids, column, colours, words[name], show, words)
        for column, colours, name, show in GRID_FILLS
    ]
    for fill in fills:
        fill.add_to(fmap)
    if "community" in layers and len(layers["community"]):
        folium.GeoJson(
            _escaped(layers["community"])[["name", "geometry"]],
            name=words["layer_community"],
            style_function=lambda _: {"fill": False, "color": "#08306b", "weight": 4},
        ).add_to(fmap)
    if "districts" in layers and len(layers["districts"]):
        folium.GeoJson(
            _escaped(layers["districts"])[["code", "name", "geometry"]],
            name=words["layer_districts"],
            style_function=lambda _: {
                "fill": False,
                "color": "#6a3d9a",
                "weight": 3,
                "dashArray": "8 6",
            },
            tooltip=folium.GeoJsonTooltip(["name"], aliases=[words["name"]]),
        ).add_to(fmap)
    _grid_labels(layers["grids"], lang).add_to(fmap)
    merchants = _merchants(layers.get("merchants"), lang, words).add_to(fmap)
    squads = _points(
        layers.get("squads"),
        words["layer_squads"],
        "squads",
        lambda r: f"{r['name']} · {words['load']} {r.get('load', '…')}/{r['capacity']}",
        # a live page's script puts each squad's load in from the API (gridgov-cases.js)
        lambda r: {"squadId": str(r["id"]), "squadName": r["name"], "capacity": r["capacity"]},
    ).add_to(fmap)
    _points(
        layers.get("service_points"),
        words["layer_service"],
        "service",
        lambda r: str(r["name"]),
    ).add_to(fmap)
    parking = _points(
        layers.get("parking"),
        words["layer_parking"],
        "parking",
        lambda r: f"{r['name']} · {r['capacity']}",
    ).add_to(fmap)
    plugins.Fullscreen(title=words["fullscreen"], title_cancel=words["fullscreen_off"]).add_to(fmap)
    plugins.LocateControl(strings={"title": words["locate"]}).add_to(fmap)
    _search(fmap, layers, [merchants, squads, parking], words, search_url)
    PageScript("gridgovFollowBasemaps", [("gridgov_gcj", gcj_url)]).add_to(fmap)
    if live:
        if not tz:
            raise ValueError("a live map needs the community's time zone (tz)")
        _StatsPanel(
            api, area, words, [("chart_js", chart_url), ("gridgov_stats", stats_url)], lang
        ).add_to(fmap)
        scripts = [("leaflet_heat", heat_url), ("gridgov_time", time_url)]
        PageScript(
            "gridgovSignin",
            [("gridgov_signin", signin_url)],
            {
                "api": api,
                "labels": {k: words[k] for k in ("signed_in", "token_bad", "token_unchecked")},
                "roles": labels(lang, "role"),
            },
            target='document.getElementById("gg-signin")',
        ).add_to(fmap)
        _CaseLayer(
            api,
            area,
            lang,
            tz,
            words,
            [*scripts, ("gridgov_cases", script_url)],
            open_statuses=[s for s in STATUS_COLOURS if s in open_statuses],
            fills=fills,
            squads=squads,
        ).add_to(fmap)
    if home:
        PageScript("gridgovHome", [("gridgov_home", home_url)], {"api": api, "area": area}).add_to(
            fmap
        )
    folium.LayerControl(collapsed=False).add_to(fmap)
    PageScript("gridgovDock", [("gridgov_dock", dock_url)]).add_to(fmap)
    root = fmap.get_root()
    assert isinstance(root, Figure)
    scales = [
        {
            "column": column,
            "name": words[name],
            "entries": count_legend(int(grids[column].max()) if len(grids) else 0, colours),
        }
        for column, colours, name, _ in GRID_FILLS
    ]
    pin_names = {
        "squads": words["layer_squads"],
        "service": words["layer_service"],
        "parking": words["layer_parking"],
        "partner": words["partner"],
        "merchant": words["legend_merchant"],
    }
    dock = render(
        "manager_dock.html",
        lang,
        live=live,
        colours=STATUS_COLOURS,
        glyphs=category_glyphs(lang),
        pins=PINS,
        pin_names=pin_names,
        scales=scales,
    )
    root.html.add_child(Element(dock))
    if up is not None:
        link = render("map_up.html", lang, href=area_href(up[0], link_lang), level=up[1])
        root.html.add_child(Element(link))
    title = map_title(layers.get("community"), lang)
    root.header.add_child(Element(render("head.html", lang, title=title, meta_lang=True)))
    return fmap


def map_title(community: gpd.GeoDataFrame | None, lang: str) -> str:
    """The map's title, from the community's name in ``lang``: 凌霄社区 → 凌霄网格治理地图.

    The name is ``name_<lang>`` where the layer has one, else ``name``, less the
    word for community at its end (``map.community_word``).
    """
    gettext = gettext_for(lang).gettext
    name = name_in(community.iloc[0], lang) if community is not None and len(community) else ""
    word = gettext("map.community_word")
    if name.casefold().endswith(word.casefold()) and len(name) > len(word):
        name = name[: -len(word)].rstrip()
    return gettext("map.title").format(name=name) if name else gettext("map.title_plain")


def _grid_labels(grids: gpd.GeoDataFrame, lang: str) -> folium.FeatureGroup:
    """Each grid's number (its code's last three digits) at a point inside it."""
    group = folium.FeatureGroup(name=gettext_for(lang).gettext("map.layer_labels"), show=True)
    for point, code, name in zip(
        grids.geometry.representative_point(), grids["code"], grids["name"], strict=True
    ):
        folium.Marker(
            [point.y, point.x],
            icon=folium.DivIcon(
                html=str(render("manager_grid_label.html", lang, code=str(code), name=name)),
                icon_size=(30, 14),
                icon_anchor=(15, 7),
            ),
        ).add_to(group)
    return group


def _merchants(
    merchants: gpd.GeoDataFrame | None, lang: str, words: dict[str, str]
) -> folium.Element:
    cluster = plugins.MarkerCluster(name=words["layer_merchants"], show=True)
    if merchants is None or not len(merchants):
        return cluster
    # a merchant's category by its name in the page's language; a code the catalogue does
    # not name is left out rather than shown as a code
    kinds = labels(lang, "shop")
    for _, row in merchants.iterrows():
        partner = bool(row.get("caring_partner"))
        popup = render(
            "manager_merchant_popup.html",
            lang,
            name=row["name"],
            category=kinds.get(str(row.get("category") or ""), ""),
            partner=partner,
            service=row.get("free_service") or "",
        )
        folium.Marker(
            [row.geometry.y, row.geometry.x],
            tooltip=escape(str(row["name"])),
            popup=folium.Popup(str(popup), max_width=260),
            icon=_pin("partner" if partner else "merchant"),
        ).add_to(cluster)
    return cluster


def _pin(kind: str) -> folium.Icon:
    """The pin of ``kind`` (a key of :data:`layers.text.PINS`), as the legend shows it."""
    icon, colour, _ = PINS[kind]
    return folium.Icon(color=colour, icon=icon, prefix="fa")


def _points(
    frame: gpd.GeoDataFrame | None, name: str, kind: str, label: Any, options: Any = None
) -> folium.FeatureGroup:
    """A layer of pins of ``kind``, each with ``label(row)`` as tooltip and popup, and
    ``options(row)`` (text escaped) among its Leaflet options, for the page's scripts."""
    group = folium.FeatureGroup(name=name, show=True)
    if frame is None or not len(frame):
        return group
    for _, row in _escaped(frame).iterrows():
        text = label(row)
        folium.Marker(
            [row.geometry.y, row.geometry.x],
            tooltip=text,
            popup=folium.Popup(text, max_width=260),
            icon=_pin(kind),
            **(options(row) if options else {}),
        ).add_to(group)
    return group


def _search_index(layers: dict[str, gpd.GeoDataFrame]) -> dict[str, Any]:
    """What the search box finds, as GeoJSON with a ``label`` each: grids (code and
    name) and compounds as polygons; squads, parking and merchants (name and address)
    as points.  Labels are the data's own text: the page shows them as text."""
    labels: list[str] = []
    shapes: list[Any] = []

    def add(frame: gpd.GeoDataFrame | None, label: Any) -> None:
        if frame is None or not len(frame):
            return
        for _, row in frame.iterrows():
            text = " ".join(str(v).strip() for v in label(row) if isinstance(v, str) and v.strip())
            if text and row.geometry is not None:
                labels.append(text)
                shapes.append(row.geometry)

    add(layers.get("grids"), lambda r: (str(r["code"]), r.get("name")))
    add(layers.get("compounds"), lambda r: (r.get("name"),))
    add(layers.get("squads"), lambda r: (r.get("name"),))
    add(layers.get("parking"), lambda r: (r.get("name"),))
    add(layers.get("merchants"), lambda r: (r.get("name"), r.get("address")))
    index = gpd.GeoDataFrame({"label": labels}, geometry=shapes, crs="EPSG:4326")
    return dict(index.__geo_interface__)


def _search(
    fmap: folium.Map,
    layers: dict[str, gpd.GeoDataFrame],
    points: list[folium.Element],
    words: dict[str, str],
    script_url: str,
) -> None:
    """A search box over grids, compounds, squads, parking and merchants
    (``static/gridgov-search.js``); ``points`` are the layers whose markers a point
    found opens."""
    targets = ", ".join(p.get_name() for p in points)
    script = PageScript(
        "gridgovSearch",
        [*plugins.Search.default_js, ("gridgov_search", script_url)],
        {
            "index": _search_index(layers),
            "placeholder": words["search"],
            "notFound": words["search_not_found"],
            "cancel": words["search_cancel"],
        },
        target=f"{{map: {fmap.get_name()}, points: [{targets}]}}",
    )
    script.default_css = list(plugins.Search.default_css)
    script.add_to(fmap)


class _StatsPanel(JSCSSMixin, MacroElement):
    """The charts of the dock's statistics panel, drawn from /api/v1/stats."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        gridgovStats(document.getElementById("gg-stats"), {{ this.options }});
        {% endmacro %}
    """)

    def __init__(
        self,
        api: str,
        area: str,
        words: dict[str, str],
        scripts: list[tuple[str, str]],
        lang: str = "zh",
    ) -> None:
        super().__init__()
        self._name = "StatsPanel"
        self.default_js = scripts
        self.options = safe_json(
            {
                "api": api,
                "area": area,
                "lang": lang,
                "labels": {
                    "reported": words["n_reported"],
                    "open": words["open_cases"],
                    "rates": words["stats_rates"],
                    **{k: words[k] for k in ("closed", "overdue", "closure_rate", "on_time_rate")},
                },
            }
        )


class _CaseLayer(JSCSSMixin, MacroElement):
    """Starts the live case layer once the map exists (its scripts load after Leaflet)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
          var options = {{ this.options }};
          options.gridLayers = [{{ this.grid_layers }}];
          options.squadBases = {{ this.squad_layer }};
          var state = gridgovCases({{ this._parent.get_name() }}, options);
          var overlays = {};
          overlays[{{ this.cases_name }}] = state.layer;
          if (state.heat) { overlays[{{ this.heat_name }}] = state.heat; }
          state.layer.addTo({{ this._parent.get_name() }});
          L.control.layers(null, overlays, {collapsed: false, position: "topright"})
            .addTo({{ this._parent.get_name() }});
        }());
        {% endmacro %}
    """)

    def __init__(
        self,
        api: str,
        area: str,
        lang: str,
        tz: str,
        words: dict[str, str],
        scripts: list[tuple[str, str]],
        open_statuses: list[str],
        fills: list[folium.GeoJson],
        squads: folium.Element | None = None,
    ) -> None:
        super().__init__()
        self.default_js = scripts
        self._name = "CaseLayer"
        # the grid fills, which the page colours again as the counts change
        self.grid_layers = ", ".join(fill.get_name() for fill in fills)
        # the squads' pins, whose tooltips the page gives their load
        self.squad_layer = squads.get_name() if squads is not None else "null"
        self.options = safe_json(
            {
                "api": api,
                "area": area,
                "refreshMs": 10000,
                "openStatuses": open_statuses,
                "gridScales": [
                    {"column": column, "colours": list(colours)}
                    for column, colours, _, _ in GRID_FILLS
                ],
                "labels": {
                    **{
                        k: words[k]
                        for k in (
                            "status",
                            "grid",
                            "squad",
                            "reported",
                            "deadline",
                            "overdue",
                            "none",
                            "open_case",
                            "load",
                            "hours",
                            "days",
                            "shown",
                        )
                    },
                    "lang": lang,
                    "tz": tz,
                    "statuses": status_names(lang),
                    "glyphs": category_glyphs(lang),
                    "colours": STATUS_COLOURS,
                },
            }
        )
        self.cases_name = safe_json(words["layer_cases"])
        self.heat_name = safe_json(words["layer_heat"])
