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
from layers.page_script import PageScript
from layers.text import CATEGORY_GLYPHS, LABELS, STATUS_COLOURS, STATUS_NAMES

CENTRE_ZOOM = 16
OPEN_COLOURS = ("#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704")
OVERDUE_COLOURS = ("#fff5f0", "#fcbba1", "#fb6a4a", "#cb181d", "#67000d")


def _escaped(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Every text attribute HTML-escaped, so that tooltips and popups show it as text."""
    out = frame.copy()
    for column in out.columns:
        if column != out.geometry.name and (
            out[column].dtype == object or pd.api.types.is_string_dtype(out[column])
        ):
            out[column] = [escape(v) if isinstance(v, str) else v for v in out[column]]
    return out


def _bucket(value: int, top: int, colours: tuple[str, ...]) -> str:
    if value <= 0 or top <= 0:
        return colours[0]
    step = max(1, -(-top // (len(colours) - 1)))
    return colours[min(len(colours) - 1, 1 + (value - 1) // step)]


def _grid_layer(
    grids: gpd.GeoDataFrame,
    column: str,
    colours: tuple[str, ...],
    name: str,
    show: bool,
    labels: dict[str, str],
) -> folium.GeoJson:
    top = int(grids[column].max()) if len(grids) else 0

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        value = int(feature["properties"].get(column) or 0)
        return {
            "fillColor": _bucket(value, top, colours),
            "color": "#555555",
            "weight": 1,
            "fillOpacity": 0.55,
        }

    fields = ["code", "name", "households", "grid_head", "open_cases", "overdue_cases"]
    aliases = [labels[f] for f in fields]
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
) -> folium.Map:
    """The map a grid manager keeps open: choropleth grids and the layers around them.

    Parameters
    ----------
    layers : dict of GeoDataFrame
        WGS84 layers by name: ``community``, ``grids`` (with ``open_cases`` and
        ``overdue_cases`` columns), ``districts``, ``merchants``, ``squads`` (with
        ``load``), ``service_points``, ``parking``.  Missing ones are left out.
    lang : "zh" or "en"
    api : where the case layer finds the API
    live : whether to add the live case layer (a static export has none)
    """
    labels = LABELS[lang]
    grids = _escaped(layers["grids"])
    x0, y0, x1, y1 = grids.total_bounds
    fmap = folium.Map(
        location=[(y0 + y1) / 2, (x0 + x1) / 2],
        zoom_start=CENTRE_ZOOM,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,
    )
    add_basemaps(fmap, labels, tianditu_key, amap=True)
    _grid_layer(grids, "open_cases", OPEN_COLOURS, labels["layer_open"], True, labels).add_to(fmap)
    _grid_layer(
        grids, "overdue_cases", OVERDUE_COLOURS, labels["layer_overdue"], False, labels
    ).add_to(fmap)
    if "community" in layers and len(layers["community"]):
        folium.GeoJson(
            _escaped(layers["community"])[["name", "geometry"]],
            name=labels["layer_community"],
            style_function=lambda _: {"fill": False, "color": "#08306b", "weight": 4},
        ).add_to(fmap)
    if "districts" in layers and len(layers["districts"]):
        folium.GeoJson(
            _escaped(layers["districts"])[["code", "name", "geometry"]],
            name=labels["layer_districts"],
            style_function=lambda _: {
                "fill": False,
                "color": "#6a3d9a",
                "weight": 3,
                "dashArray": "8 6",
            },
            tooltip=folium.GeoJsonTooltip(["name"], aliases=[labels["name"]]),
        ).add_to(fmap)
    _grid_labels(grids, labels).add_to(fmap)
    _merchants(layers.get("merchants"), labels).add_to(fmap)
    _points(
        layers.get("squads"),
        labels["layer_squads"],
        "users",
        "blue",
        lambda r: f"{r['name']} · {labels['load']} {r.get('load', 0)}/{r['capacity']}",
    ).add_to(fmap)
    _points(
        layers.get("service_points"),
        labels["layer_service"],
        "flag",
        "green",
        lambda r: str(r["name"]),
    ).add_to(fmap)
    _points(
        layers.get("parking"),
        labels["layer_parking"],
        "car",
        "cadetblue",
        lambda r: f"{r['name']} · {r['capacity']}",
    ).add_to(fmap)
    plugins.Fullscreen(title=labels["fullscreen"], title_cancel=labels["fullscreen_off"]).add_to(
        fmap
    )
    plugins.LocateControl(strings={"title": labels["locate"]}).add_to(fmap)
    _search(fmap, grids, layers.get("merchants"), labels)
    PageScript("gridgovFollowBasemaps", [("gridgov_gcj", gcj_url)]).add_to(fmap)
    if live:
        _StatsPanel(api, labels, [("chart_js", chart_url), ("gridgov_stats", stats_url)]).add_to(
            fmap
        )
        _CaseLayer(
            api, lang, labels, [("leaflet_heat", heat_url), ("gridgov_cases", script_url)]
        ).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    root = fmap.get_root()
    assert isinstance(root, Figure)
    root.html.add_child(_legend(labels))
    root.header.add_child(
        Element(
            f'<meta name="gridgov-lang" content="{lang}"><title>{escape(labels["title"])}</title>'
        )
    )
    return fmap


def _grid_labels(grids: gpd.GeoDataFrame, labels: dict[str, str]) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=labels["layer_labels"], show=True)
    for point, code, name in zip(
        grids.geometry.representative_point(), grids["code"], grids["name"], strict=True
    ):
        folium.Marker(
            [point.y, point.x],
            icon=folium.DivIcon(
                html=f'<div class="gg-grid-label" title="{name}">{code[-3:]}</div>',
                icon_size=(30, 14),
                icon_anchor=(15, 7),
            ),
        ).add_to(group)
    return group


def _merchants(merchants: gpd.GeoDataFrame | None, labels: dict[str, str]) -> folium.Element:
    cluster = plugins.MarkerCluster(name=labels["layer_merchants"], show=True)
    if merchants is None or not len(merchants):
        return cluster
    shown = _escaped(merchants)
    for _, row in shown.iterrows():
        partner = bool(row.get("caring_partner"))
        service = row.get("free_service") or ""
        html = f"<b>{row['name']}</b><br>{labels['category']}: {row['category']}" + (
            f"<br>{labels['partner']}: {service}" if partner else ""
        )
        folium.Marker(
            [row.geometry.y, row.geometry.x],
            tooltip=str(row["name"]),
            popup=folium.Popup(html, max_width=260),
            icon=folium.Icon(
                color="red" if partner else "gray", icon="heart" if partner else "shop", prefix="fa"
            ),
        ).add_to(cluster)
    return cluster


def _points(
    frame: gpd.GeoDataFrame | None, name: str, icon: str, colour: str, label: Any
) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=name, show=True)
    if frame is None or not len(frame):
        return group
    for _, row in _escaped(frame).iterrows():
        folium.Marker(
            [row.geometry.y, row.geometry.x],
            tooltip=label(row),
            icon=folium.Icon(color=colour, icon=icon, prefix="fa"),
        ).add_to(group)
    return group


def _search(
    fmap: folium.Map,
    grids: gpd.GeoDataFrame,
    merchants: gpd.GeoDataFrame | None,
    labels: dict[str, str],
) -> None:
    """A search box over grid codes and names and merchant names."""
    found = [f"{code} {name}" for code, name in zip(grids["code"], grids["name"], strict=True)]
    where = list(grids.geometry.representative_point())
    if merchants is not None and len(merchants):
        shown = _escaped(merchants)
        found += [str(n) for n in shown["name"]]
        where += list(shown.geometry)
    index = gpd.GeoDataFrame({"label": found}, geometry=where, crs="EPSG:4326")
    layer = folium.GeoJson(
        index,
        name=labels["search"],
        control=False,
        marker=folium.CircleMarker(radius=1, opacity=0, fill_opacity=0),
    )
    layer.add_to(fmap)
    plugins.Search(
        layer=layer,
        search_label="label",
        placeholder=labels["search"],
        collapsed=False,
        position="topleft",
        search_zoom=18,
    ).add_to(fmap)


def _legend(labels: dict[str, str]) -> Element:
    items = "".join(
        f'<li><span style="background:{colour}"></span>{escape(STATUS_NAMES[labels["lang"]][s])}'
        f"</li>"
        for s, colour in STATUS_COLOURS.items()
    )
    return Element(
        '<div class="gg-legend leaflet-control" style="position:absolute;bottom:56px;left:10px;'
        'z-index:1000;background:white;padding:6px 10px;border-radius:4px;font-size:12px">'
        f"<b>{escape(labels['legend'])}</b><ul style='list-style:none;margin:0;padding:0'>"
        f"{items}</ul></div><style>.gg-legend span{{display:inline-block;width:10px;"
        "height:10px;border-radius:5px;margin-right:4px}.gg-grid-label{font:bold 11px sans-serif;"
        "color:#333;text-shadow:0 0 3px #fff}</style>"
    )


class _StatsPanel(JSCSSMixin, MacroElement):
    """A fold-away panel of charts drawn from /api/v1/stats."""

    _template = Template("""
        {% macro header(this, kwargs) %}
        <style>
          #gg-stats {position:absolute; right:10px; bottom:30px; z-index:1000;
                     background:white; padding:6px 10px; border-radius:4px;
                     box-shadow:0 1px 5px rgba(0,0,0,.4); font:12px sans-serif;
                     max-width:350px}
          #gg-stats .gg-chart {position:relative; height:120px; width:330px}
        </style>
        {% endmacro %}
        {% macro html(this, kwargs) %}
        <details id="gg-stats" open>
          <summary>{{ this.title }}</summary>
          <div class="gg-chart"><canvas></canvas></div>
          <div class="gg-chart"><canvas></canvas></div>
          <div class="gg-chart"><canvas></canvas></div>
        </details>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        gridgovStats(document.getElementById("gg-stats"), {{ this.options }});
        {% endmacro %}
    """)

    def __init__(self, api: str, labels: dict[str, str], scripts: list[tuple[str, str]]) -> None:
        super().__init__()
        import json

        self._name = "StatsPanel"
        self.default_js = scripts
        self.title = escape(labels["stats"])
        self.options = json.dumps(
            {
                "api": api,
                "labels": {
                    "reported": labels["n_reported"],
                    "open": labels["open_cases"],
                    **{k: labels[k] for k in ("closed", "overdue", "closure_rate", "on_time_rate")},
                },
            },
            ensure_ascii=False,
        )


class _CaseLayer(JSCSSMixin, MacroElement):
    """Starts the live case layer once the map exists (its scripts load after Leaflet)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
          var state = gridgovCases({{ this._parent.get_name() }}, {{ this.options }});
          var overlays = {};
          overlays[{{ this.cases_name }}] = state.cluster;
          if (state.heat) { overlays[{{ this.heat_name }}] = state.heat; }
          state.cluster.addTo({{ this._parent.get_name() }});
          L.control.layers(null, overlays, {collapsed: false, position: "topright"})
            .addTo({{ this._parent.get_name() }});
        }());
        {% endmacro %}
    """)

    def __init__(
        self, api: str, lang: str, labels: dict[str, str], scripts: list[tuple[str, str]]
    ) -> None:
        super().__init__()
        import json

        self.default_js = scripts
        self._name = "CaseLayer"
        self.options = json.dumps(
            {
                "api": api,
                "refreshMs": 10000,
                "labels": {
                    **{
                        k: labels[k]
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
                        )
                    },
                    "lang": lang,
                    "statuses": STATUS_NAMES[lang],
                    "glyphs": CATEGORY_GLYPHS,
                    "colours": STATUS_COLOURS,
                },
            },
            ensure_ascii=False,
        )
        self.cases_name = json.dumps(labels["layer_cases"], ensure_ascii=False)
        self.heat_name = json.dumps(labels["layer_heat"], ensure_ascii=False)
