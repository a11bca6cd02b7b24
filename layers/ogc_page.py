"""The HTML pages of ``/ogc/``: each OGC API resource drawn from its JSON answer.

The pages have no scripts and nothing from outside (a small inline stylesheet):
they read offline, in one language, Chinese by default.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from layers.i18n import LANGS
from layers.templating import render

KINDS = (
    "landing",
    "conformance",
    "api",
    "collections",
    "collection",
    "queryables",
    "items",
    "item",
)


def with_lang(href: str, lang: str) -> str:
    """``href`` with ``lang=`` set to ``lang`` (any other ``lang`` dropped)."""
    parts = urlsplit(href)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("lang", lang)])))


def link(body: dict[str, Any], rel: str, html: bool | None = None) -> str | None:
    """The first link of ``body`` with relation ``rel`` (of the HTML type, or not)."""
    for item in body.get("links", []):
        if item.get("rel") != rel:
            continue
        if html is None or (item.get("type") == "text/html") == html:
            return str(item["href"])
    return None


def columns(features: list[dict[str, Any]]) -> list[str]:
    """The property names of ``features``, in their first appearance order."""
    seen: dict[str, None] = {}
    for feature in features:
        for key in feature.get("properties") or {}:
            seen.setdefault(key, None)
    return list(seen)


def ogc_page(kind: str, body: dict[str, Any], lang: str) -> str:
    """The page of resource ``kind`` (one of :data:`KINDS`) in ``lang``."""
    if kind not in KINDS:
        raise ValueError(f"no OGC page of kind {kind!r}; kinds: {', '.join(KINDS)}")
    other = next(code for code in LANGS if code != lang)
    here = link(body, "self") or ""
    explicit_lang = "lang=" in here
    home = here.split("/ogc", 1)[0] + "/ogc/?f=html"
    return str(
        render(
            "ogc.html",
            lang,
            kind=kind,
            body=body,
            here_json=link(body, "alternate") or "",
            other_lang_href=with_lang(here, other),
            columns=columns(body.get("features", [])) if kind == "items" else [],
            link=link,
            with_lang=with_lang,
            explicit_lang=explicit_lang,
            home=with_lang(home, lang) if explicit_lang else home,
        )
    )
