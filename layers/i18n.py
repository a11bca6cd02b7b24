"""Page text, from one gettext catalogue in Chinese (default) and English.

The catalogue is ``layers/locale/<lang>/LC_MESSAGES/gridgov.po``.  Its message
ids are stable keys, ``<page>.<name>`` (``report.thanks``, ``status.closed``):
the page scripts receive their words as dicts by those names, one English word
can need two Chinese ones (a person's name 姓名, a place's 名称), and a missing
translation shows as a key rather than as the other language.  The ``.po``
files are compiled in memory the first time a language is asked for, so there
is no build step.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
DOMAIN = "gridgov"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def catalogue_path(lang: str) -> Path:
    """The ``.po`` file of ``lang``."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def _catalogue(lang: str) -> Catalog:
    if lang not in LANGS:
        raise ValueError(f"no page text in {lang!r}; languages: {', '.join(LANGS)}")
    with catalogue_path(lang).open("rb") as po:
        return read_po(po, locale=lang, domain=DOMAIN)


@cache
def gettext_for(lang: str) -> Translations:
    """The translator for ``lang`` (``zh`` or ``en``): ``gettext_for("en").gettext("map.title")``.

    Templates get the same one (``layers.templating``).
    """
    mo = BytesIO()
    write_mo(mo, _catalogue(lang))
    mo.seek(0)
    return Translations(mo, domain=DOMAIN)


def message_ids(lang: str) -> list[str]:
    """Every message id of ``lang``'s catalogue, in file order."""
    return [str(m.id) for m in _catalogue(lang) if m.id]


def labels(lang: str, section: str) -> dict[str, str]:
    """The messages ``<section>.<name>`` of ``lang`` by name, e.g. for a page script."""
    gettext = gettext_for(lang).gettext
    prefix = section + "."
    return {
        key.removeprefix(prefix): gettext(key)
        for key in message_ids(lang)
        if key.startswith(prefix)
    }


def status_names(lang: str) -> dict[str, str]:
    """Case statuses (``reported``, ``closed`` ...) by code, in ``lang``."""
    return labels(lang, "status")


def name_in(feature: Mapping[str, Any], lang: str) -> str:
    """A feature's name in ``lang``: its ``name_<lang>`` where set, else its ``name``."""
    for column in (f"name_{lang}", "name"):
        value = feature.get(column)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""
