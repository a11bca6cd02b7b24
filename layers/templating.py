"""The Jinja2 templates of gridgov's pages and page fragments (``layers/templates``).

Folium draws the maps; these templates write the HTML around and inside them
and the pages served alone.  Autoescaping is on for every ``.html`` template,
so whatever a resident typed stays text; ``{{ value|tojson }}`` writes JSON
that is safe inside a ``<script>`` (``<``, ``>``, ``&`` and ``'`` escaped).
Text comes from the catalogue through ``{{ _("page.name") }}``.

One environment per language, each made once at import with that language's
translator installed (``jinja2.ext.i18n``): a page is rendered in one language
only, and two requests in two languages never share a translator.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from layers.i18n import LANGS, gettext_for, name_in
from layers.timefmt import local_time, when

TEMPLATES = Path(__file__).resolve().parent / "templates"
JSON_OPTIONS = {"ensure_ascii": False, "sort_keys": False}


@pass_context
def _local_time(context: Context, iso: str | None) -> str:
    """``{{ iso|local_time }}``: in the page's language and the ``tz`` it was given."""
    return local_time(iso, context["lang"], context["tz"])


@pass_context
def _when(context: Context, iso: str | None) -> str:
    """``{{ iso|when }}``: local time and how long from the page's ``now``."""
    return when(iso, context["now"], context["lang"], context["tz"])


@pass_context
def _name(context: Context, thing: dict[str, Any] | None) -> str:
    """``{{ case.grid|name }}``: a named thing's name in the page's language
    (``name_en`` on an English page where it has one; :func:`layers.i18n.name_in`)."""
    return name_in(thing or {}, context["lang"])


def _environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["json.dumps_kwargs"] = JSON_OPTIONS
    env.filters["local_time"] = _local_time
    env.filters["when"] = _when
    env.filters["name"] = _name
    # old-style gettext: a translation is plain text, autoescaped like any other value
    env.install_gettext_translations(gettext_for(lang), newstyle=False)  # type: ignore[attr-defined]
    return env


ENVIRONMENTS = {lang: _environment(lang) for lang in LANGS}


def render(template: str, lang: str, **context: Any) -> Markup:
    """``layers/templates/<template>`` rendered in ``lang`` (``lang`` is in its context too)."""
    try:
        env = ENVIRONMENTS[lang]
    except KeyError:
        raise ValueError(f"no page text in {lang!r}; languages: {', '.join(LANGS)}") from None
    return Markup(env.get_template(template).render(lang=lang, **context))


def safe_json(value: Any) -> Markup:
    """``value`` as JSON that cannot close the ``<script>`` element it is written into."""
    return htmlsafe_json_dumps(value, dumps=json.dumps, **JSON_OPTIONS)
