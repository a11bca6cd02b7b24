"""The JavaScript and CSS that map pages (and the API's documentation) need, served by
gridgov itself.

Folium writes links to public CDNs; deployments on government intranets have
no internet.  Every script and stylesheet a page uses is therefore installed
from the npm registry at install time (``gridgov assets install``, run by
``make``) into a local folder, and :func:`localise` rewrites each CDN link to
the local copy.  A page that still links anything outside raises, so a new
plugin cannot slip in a dependency on the internet.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

# npm packages, pinned to what folium's templates were written against
PACKAGES = {
    "leaflet": "1.9.3",
    "jquery": "3.7.1",
    "bootstrap": "5.2.2",
    "@fortawesome/fontawesome-free": "6.2.0",
    "leaflet.awesome-markers": "2.0.5",
    "leaflet.markercluster": "1.1.0",
    "leaflet.fullscreen": "3.0.0",
    "leaflet.locatecontrol": "0.66.2",
    "leaflet-realtime": "2.2.0",
    "leaflet-search": "2.9.7",
    "leaflet.heat": "0.2.0",
    "chart.js": "4.4.7",
    # the API's documentation pages (/docs and /redoc), which FastAPI would load from a CDN
    "swagger-ui-dist": "5.35.0",
    "redoc": "2.5.4",
}
# files pages link directly (not through a CDN address folium writes)
SWAGGER_JS = "swagger-ui-dist/swagger-ui-bundle.js"
SWAGGER_CSS = "swagger-ui-dist/swagger-ui.css"
SWAGGER_ICON = "swagger-ui-dist/favicon-32x32.png"
REDOC_JS = "redoc/bundles/redoc.standalone.js"
DIRECT = ("chart.js/dist/chart.umd.js", SWAGGER_JS, SWAGGER_CSS, SWAGGER_ICON, REDOC_JS)

# CDN address (as folium writes it) → file in an npm package, or None to drop a
# stylesheet the pages do not use
CDN: dict[str, str | None] = {
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet/dist/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet/dist/leaflet.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": "bootstrap/dist/js/bootstrap.bundle.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": "bootstrap/dist/css/bootstrap.min.css",
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": "@fortawesome/fontawesome-free/css/all.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/"
    "leaflet.awesome-markers.js": "leaflet.awesome-markers/dist/leaflet.awesome-markers.js",
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/"
    "leaflet.awesome-markers.css": "leaflet.awesome-markers/dist/leaflet.awesome-markers.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/"
    "leaflet.markercluster.js": "leaflet.markercluster/dist/leaflet.markercluster.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css": "leaflet.markercluster/dist/MarkerCluster.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/"
    "MarkerCluster.Default.css": "leaflet.markercluster/dist/MarkerCluster.Default.css",
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js": "leaflet.fullscreen/Control.FullScreen.js",
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css": "leaflet.fullscreen/Control.FullScreen.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-locatecontrol/0.66.2/"
    "L.Control.Locate.min.js": "leaflet.locatecontrol/dist/L.Control.Locate.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-locatecontrol/0.66.2/"
    "L.Control.Locate.min.css": "leaflet.locatecontrol/dist/L.Control.Locate.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-realtime/2.2.0/leaflet-realtime.js": "leaflet-realtime/dist/leaflet-realtime.js",
    "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.js": "leaflet-search/dist/leaflet-search.min.js",
    "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.css": "leaflet-search/dist/leaflet-search.min.css",
    "https://cdn.jsdelivr.net/gh/python-visualization/folium@main/folium/templates/"
    "leaflet_heat.min.js": "leaflet.heat/dist/leaflet-heat.js",
    # glyph icons and icon rotation: unused by gridgov's pages
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": None,
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/"
    "leaflet.awesome.rotate.min.css": None,
}
LINK = re.compile(
    r"""<(script|link)\b[^>]*?(?:src|href)=["'](https?://[^"']+)["'][^>]*>"""
    r"""(?:\s*</script>)?""",
    re.IGNORECASE,
)


class AssetError(RuntimeError):
    """An asset is missing, or a page links one from outside."""


def needed_files() -> list[str]:
    """Every file the pages load, relative to the npm ``node_modules`` folder."""
    return sorted({f for f in CDN.values() if f} | set(DIRECT))


def install(folder: Path, npm: str = "npm") -> Path:
    """Install the packages from the npm registry into ``folder``; returns node_modules.

    Nothing is fetched at run time: pages use only what this put on disk.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if shutil.which(npm) is None:
        raise AssetError(
            "npm is not installed: install Node.js (Debian: apt-get install npm) "
            "to fetch the map pages' scripts"
        )
    manifest = {"name": "gridgov-vendor", "private": True, "dependencies": PACKAGES}
    (folder / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--omit=dev", "--prefix", str(folder)],
        check=True,
        # swagger-ui-dist depends on Scarf, whose install script (where npm runs such
        # scripts) reports the installation to its vendor; this turns that off
        env={**os.environ, "SCARF_ANALYTICS": "false"},
    )
    modules = folder / "node_modules"
    check(modules)
    return modules


def check(modules: Path) -> None:
    """Raise if any file the pages need is missing from ``modules``."""
    missing = [f for f in needed_files() if not (modules / f).is_file()]
    if missing:
        raise AssetError(
            f"map assets missing from {modules}: {', '.join(missing)}; run 'gridgov assets install'"
        )


def localise(html: str, base: str = "/vendor") -> str:
    """Point every CDN link of a page at ``base`` (the served node_modules folder).

    Raises
    ------
    AssetError
        For a link to an outside address that has no local copy.
    """

    def swap(match: re.Match[str]) -> str:
        url = match.group(2)
        if url not in CDN:
            raise AssetError(
                f"the page links {url}, which has no local copy; add it to layers/assets.py"
            )
        local = CDN[url]
        return "" if local is None else match.group(0).replace(url, f"{base}/{local}")

    return LINK.sub(swap, html)


ANY_LINK = re.compile(
    r"""<(script|link)\b[^>]*?(?:src|href)=["']((?:https?://|/)[^"']+)["'][^>]*>"""
    r"""(?:\s*</script>)?""",
    re.IGNORECASE,
)
CSS_URL = re.compile(r"""url\((['"]?)(?!data:|https?:|#)([^'")?#]+)[^'")]*\1\)""")
MEDIA = {
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".gif": "image/gif",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".eot": "font/eot",
}
STATIC = Path(__file__).resolve().parent / "static"


def inline(html: str, modules: Path) -> str:
    """Copy every asset into the page itself, for one self-contained file.

    Stylesheets' images and fonts become data URIs, so the file needs nothing
    beside it.
    """

    def source(url: str) -> Path | None:
        if url.startswith("/vendor/"):
            return modules / url.removeprefix("/vendor/")
        if url.startswith("/static/"):
            return STATIC / url.removeprefix("/static/")
        if url not in CDN:
            raise AssetError(f"the page links {url}, which has no local copy")
        local = CDN[url]
        return None if local is None else modules / local

    def embed(match: re.Match[str]) -> str:
        path = source(match.group(2))
        if path is None:
            return ""
        text = path.read_text(encoding="utf-8")
        if match.group(1).lower() == "script":
            return f"<script>{text}</script>"
        return f"<style>{_with_data_uris(text, path.parent)}</style>"

    return ANY_LINK.sub(embed, html)


def _with_data_uris(css: str, folder: Path) -> str:
    def data(match: re.Match[str]) -> str:
        target = (folder / match.group(2)).resolve()
        if not target.is_file():
            return match.group(0)
        kind = MEDIA.get(target.suffix.lower(), "application/octet-stream")
        payload = base64.b64encode(target.read_bytes()).decode()
        return f'url("data:{kind};base64,{payload}")'

    return CSS_URL.sub(data, css)
