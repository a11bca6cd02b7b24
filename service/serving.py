"""How many worker processes one deployment may be served by, and why not more.

``gridgov serve --workers N`` runs N processes on one port.  Two things a single
process keeps to itself would split between them, so N > 1 is refused unless:

* the database is not SQLite.  SQLite is the embedded, single-process default: its
  writers queue on one file lock and several processes only contend for it (with
  ``--workers 2`` nothing got faster).  PostGIS is the backend for scale.
* ``GRIDGOV_REDIS_URL`` is set.  Without it each process counts the report rate
  limit in its own memory, and a client would get up to N times the limit: the
  limit would no longer mean what the operator set, so it is refused rather than
  warned about.

The server secret needs no rule here: ``Settings.secret`` creates ``secret.key``
atomically, so processes starting together agree on it.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url

from service.errors import Invalid
from service.settings import Settings


class WorkersRefused(Invalid):
    """``--workers N`` with N > 1 on a deployment that one process must serve alone."""


def shown_url(database_url: str) -> str:
    """``database_url`` as it may be printed or logged: its password masked."""
    return make_url(database_url).render_as_string(hide_password=True)


def check_workers(settings: Settings, workers: int) -> None:
    """Refuse ``workers`` > 1 on SQLite or without a shared rate-limit store.

    Raises
    ------
    WorkersRefused
        Naming the database URL (SQLite) or the missing ``GRIDGOV_REDIS_URL``.
    """
    if workers <= 1:
        return
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        raise WorkersRefused(
            "workers_sqlite",
            f"--workers {workers} refused on SQLite ({url.render_as_string()}): SQLite is "
            "the single-process embedded default, whose writers share one file lock; "
            "serve several workers from PostgreSQL with PostGIS (GRIDGOV_DATABASE_URL="
            "postgresql://…), or run one worker",
        )
    if not settings.redis_url:
        raise WorkersRefused(
            "workers_no_redis",
            f"--workers {workers} refused without GRIDGOV_REDIS_URL: each worker would "
            f"keep its own rate limit, so a client would get up to {workers} times the "
            "report limit; set GRIDGOV_REDIS_URL (redis://host:6379/0) to share one, or "
            "run one worker",
        )
