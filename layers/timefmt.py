"""Times on pages: the API's ISO UTC instants written in the community's local time, in
the page's language, with how long ago (or how soon) they are.

Babel writes both, from the CLDR data of each language, so that a Chinese page reads
"2026年12月2日 00:00（3天前）" and an English one "Dec 2, 2026 00:00 (3 days ago)".
The API keeps ISO 8601 in UTC; only pages are local.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, format_timedelta

from layers.i18n import gettext_for

_LOCALES = {"zh": "zh_CN", "en": "en"}


def _instant(iso: str) -> datetime:
    """An ISO 8601 instant (``…Z`` or with an offset; a naive one is UTC)."""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local_time(iso: str | None, lang: str, tz: str) -> str:
    """``iso`` as a date and 24-hour time in zone ``tz``; ``""`` for no time."""
    if not iso:
        return ""
    moment = _instant(iso)
    zone, locale = ZoneInfo(tz), _LOCALES.get(lang, lang)
    day = format_skeleton("yMMMd", moment, tzinfo=zone, locale=locale)
    return f"{day} {format_skeleton('Hm', moment, tzinfo=zone, locale=locale)}"


def relative(iso: str | None, now: str, lang: str) -> str:
    """How long before or after ``now`` the instant ``iso`` is ("3天前", "in 5 hours")."""
    if not iso:
        return ""
    delta = _instant(iso) - _instant(now)
    if abs(delta) < timedelta(minutes=1):
        return gettext_for(lang).gettext("time.now")
    return format_timedelta(
        delta, add_direction=True, threshold=1.5, locale=_LOCALES.get(lang, lang)
    )


def when(iso: str | None, now: str, lang: str, tz: str) -> str:
    """The local time with the relative one beside it, as the page's language writes it."""
    if not iso:
        return ""
    ago = relative(iso, now, lang)
    return (
        f"{local_time(iso, lang, tz)}（{ago}）"
        if lang == "zh"
        else (f"{local_time(iso, lang, tz)} ({ago})")
    )
