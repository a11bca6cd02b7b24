"""Whole pages: a Folium map as a page that says its language, and scripts a CSP lets run."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlencode

import folium

SCRIPT_TAG = re.compile(r"<script(?=[\s>/])", re.IGNORECASE)
NONCE = re.compile(r"[A-Za-z0-9+/_=-]+")
# the nonce a kept page is written with (``service.page_cache``), each answer's own put in
# its place (``api.kept_page``); random per process, so that no text of a page can carry
# it on purpose
NONCE_SLOT = "slot" + secrets.token_hex(12)


def page_html(fmap: folium.Map, lang: str) -> str:
    """The page's HTML, its ``<html>`` element carrying ``lang`` (screen readers, fonts)."""
    return fmap.get_root().render().replace("<html>", f'<html lang="{lang}">', 1)


def with_nonce(html: str, nonce: str) -> str:
    """``html`` with ``nonce="…"`` on every ``<script`` opening tag, inline or not.

    Served pages answer with a Content-Security-Policy that runs only scripts
    carrying the answer's nonce; Folium and FastAPI's documentation pages write
    inline scripts of their own, so the nonce is added to the finished document.
    This blesses every script element in it: it is for documents whose untrusted
    text is escaped (Jinja2 autoescaping, ``tojson``), as all of gridgov's are.

    Raises
    ------
    ValueError
        For a nonce that is not base64 (it could end the attribute it is written in).
    """
    return SCRIPT_TAG.sub(rf'\g<0> nonce="{checked_nonce(nonce)}"', html)


def checked_nonce(nonce: str) -> str:
    """``nonce``, when it is base64 text (it is written into an attribute).

    Raises
    ------
    ValueError
        For a nonce that is not base64 (it could end the attribute it is written in).
    """
    if not NONCE.fullmatch(nonce):
        raise ValueError(f"a nonce is base64 text, not {nonce!r}")
    return nonce


def area_href(code: str, lang: str | None = None) -> str:
    """The address of the managers' map of area ``code``: ``/?area=<code>``, with
    ``&lang=`` when ``lang`` is given (the page's own address named its language, so
    the link keeps it; else the browser's languages choose again)."""
    return "/?" + urlencode({"area": code, **({"lang": lang} if lang else {})})
