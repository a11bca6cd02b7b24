"""Basemaps every gridgov map offers: OpenStreetMap, Amap, Tianditu, and a blank one.

Amap tiles are in GCJ-02; the map's overlays follow them (``gridgov-gcj.js``).
Tianditu appears only with a key.  The blank basemap is for sites with no
tile server at all.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import folium
from branca.element import MacroElement
from jinja2 import Template

from layers.templating import safe_json

OSM = "OpenStreetMap"  # folium's name for the standard OpenStreetMap tiles
AMAP = (
    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
    "&x={x}&y={y}&z={z}"
)
AMAP_SUBDOMAINS = "1234"
TIANDITU = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
    "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)
TIANDITU_SUBDOMAINS = "01234567"


def tile_hosts(tianditu: bool = False) -> list[str]:
    """The origins (``https://host``) the basemaps load tiles from, one per subdomain.

    Pages may load images from these and no other outside address (their
    Content-Security-Policy); Tianditu's only when ``tianditu`` (a key is set).
    """
    sources = [(folium.TileLayer(OSM).tiles, ""), (AMAP, AMAP_SUBDOMAINS)]
    if tianditu:
        sources.append((TIANDITU.format(layer="vec", key=""), TIANDITU_SUBDOMAINS))
    hosts: list[str] = []
    for url, subdomains in sources:
        filled = [url.replace("{s}", s) for s in subdomains] if "{s}" in url else [url]
        for one in filled:
            parts = urlsplit(one)
            origin = f"{parts.scheme}://{parts.netloc}"
            if origin not in hosts:
                hosts.append(origin)
    return hosts


def add_basemaps(
    fmap: folium.Map, labels: dict[str, str], tianditu_key: str = "", amap: bool = True
) -> None:
    """Add the basemaps, the scale bar and the credit to ``fmap``; ``labels`` (the
    ``map`` messages of the page's language) name them."""
    add_map_controls(fmap, labels)
    osm_layer(labels).add_to(fmap)
    if amap:
        folium.TileLayer(
            tiles=AMAP,
            attr=labels["amap_attr"],
            name=labels["basemap_amap"],
            subdomains=AMAP_SUBDOMAINS,
            show=False,
            gcj02=True,
        ).add_to(fmap)
    if tianditu_key:  # CGCS2000, within centimetres of WGS84: no shift needed
        for layer, name in (("vec", labels["basemap_tianditu"]), ("cva", None)):
            folium.TileLayer(
                tiles=TIANDITU.format(layer=layer, key=quote(tianditu_key)),
                attr="© 天地图",
                name=name or labels["basemap_tianditu"] + " 注记",
                subdomains=TIANDITU_SUBDOMAINS,
                show=False,
                overlay=name is None,
            ).add_to(fmap)
    folium.TileLayer(tiles="", attr="gridgov", name=labels["basemap_blank"], show=False).add_to(
        fmap
    )


def osm_layer(labels: dict[str, str], show: bool = True) -> folium.TileLayer:
    """OpenStreetMap's tiles, credited in the page's language."""
    return folium.TileLayer(OSM, name=labels["basemap_osm"], attr=labels["osm_attr"], show=show)


class _MapControls(MacroElement):
    """A metric scale bar (no feet) and gridgov's own credit in place of Leaflet's
    flag and link, in the page's language."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        L.control.scale({ metric: true, imperial: false }).addTo({{ this._parent.get_name() }});
        {{ this._parent.get_name() }}.attributionControl.setPrefix({{ this.prefix }});
        {% endmacro %}
    """)

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self._name = "MapControls"
        self.prefix = safe_json(prefix)


def add_map_controls(fmap: folium.Map, labels: dict[str, str]) -> None:
    """The scale bar and credit every gridgov map carries (make the map with
    ``control_scale=False``: Leaflet's own bar shows feet too)."""
    _MapControls(labels["credit"]).add_to(fmap)
