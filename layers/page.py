"""A Folium map rendered as a whole page that says which language it speaks."""

from __future__ import annotations

import folium


def page_html(fmap: folium.Map, lang: str) -> str:
    """The page's HTML, its ``<html>`` element carrying ``lang`` (screen readers, fonts)."""
    return fmap.get_root().render().replace("<html>", f'<html lang="{lang}">', 1)
