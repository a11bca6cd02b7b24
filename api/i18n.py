"""Which language a page is served in: ``?lang=``, else Accept-Language, else the default.

The words are in the catalogue (``layers.i18n``); this module only negotiates.
"""

from __future__ import annotations

from babel.core import negotiate_locale

from layers.i18n import DEFAULT_LANG, LANGS


def accepted_languages(accept_language: str) -> list[str]:
    """The language ranges of an Accept-Language header, most wanted first.

    Ranges with ``q=0`` (not wanted) or a malformed ``q`` are left out; equal
    ``q`` values keep the header's order.
    """
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, *params = (p.strip() for p in part.split(";"))
        if not tag:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = -1.0
        if 0.0 < quality <= 1.0:
            ranked.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


def pick_lang(
    requested: str | None, accept_language: str | None, default: str = DEFAULT_LANG
) -> str:
    """The page language: ``?lang=`` first, then the browser's preference, then default.

    ``en;q=0.2, zh-CN;q=0.9`` → zh; ``fr, en;q=0.5`` → en; ``*`` (any) → default.
    """
    if requested in LANGS:
        return requested
    if accept_language:
        wanted = [default if tag == "*" else tag for tag in accepted_languages(accept_language)]
        found = negotiate_locale(wanted, LANGS, sep="-")
        if found and found.lower() in LANGS:
            return found.lower()
    return default
