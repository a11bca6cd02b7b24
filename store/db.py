"""Engines and sessions: SQLite by default, PostgreSQL/PostGIS when configured."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from store.cql import register_sqlite_functions


def make_engine(url: str, pool_size: int = 20, *, read_only: bool = False) -> Engine:
    """An engine for ``url``; SQLite gets its folder created and WAL mode on.

    On PostgreSQL, ``pool_size`` connections are kept (and as many more allowed),
    enough for the web server's worker threads, so that connections are reused
    instead of opened and closed under load; JIT compilation is off and queries are
    planned for their values (:func:`_postgres_settings`).  A ``read_only`` engine (a
    read replica's) opens every transaction read-only, so that a write sent to it by
    mistake fails at once, even when the URL names a primary.
    """
    parsed = make_url(url)
    if read_only and parsed.get_backend_name() != "postgresql":
        raise ReadOnlyUnsupported(
            f"a read-only engine needs PostgreSQL, not {parsed.get_backend_name()!r} "
            f"({parsed.render_as_string()})"
        )
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            private_file(Path(parsed.database))
        engine = create_engine(parsed, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    connect_args = {"options": "-c default_transaction_read_only=on"} if read_only else {}
    engine = create_engine(
        parsed,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args=connect_args,
    )
    event.listen(engine, "connect", _postgres_settings)
    return engine


def _postgres_settings(dbapi_connection: Any, _record: Any) -> None:
    """Each new PostgreSQL connection: no JIT compilation, and plans made for the
    values of each query.

    PostGIS prices ``ST_Intersects`` high, so every box query of the cases passes
    ``jit_above_cost`` and PostgreSQL compiles it first: at 200,000 cases that took
    1.4 s of compiling for the cells' ``GROUP BY`` (748 ms a request with JIT, 261 ms
    without) and tripled the list's exact count (284 ms, 91 ms without).

    psycopg prepares a query run five times, after which PostgreSQL may keep one
    generic plan for any values: for the map's list (a box, the open statuses, the
    first 1,000 by id) that plan scans the whole box and sorts it, about 260 ms a
    request against 37 ms planned for the values (200,000 cases). Planning the
    list's queries costs well under a millisecond.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("SET jit = off")
    cursor.execute("SET plan_cache_mode = force_custom_plan")
    cursor.close()
    dbapi_connection.commit()


class ReadOnlyUnsupported(ValueError):
    """A read-only engine (for a read replica) was asked of a database other than
    PostgreSQL."""


def private_dir(path: Path) -> Path:
    """``path`` made, with any missing parents, as folders only their owner can read (0700).

    The database holds reporters' contacts and token hashes; photos show people's homes.
    """
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):  # only what we create: an existing folder is the owner's
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)  # whatever the umask
    return path


def private_file(path: Path) -> Path:
    """``path`` created empty, readable by its owner only (0600), if it does not exist yet.

    SQLite gives its write-ahead log and shared-memory files the database file's mode.
    """
    private_dir(path.parent)
    if not path.exists():
        with contextlib.suppress(FileExistsError):  # another worker process made it first
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return path


SQLITE_BUSY_MS = 5000  # how long a write waits for another process's write lock


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Each new SQLite connection: wait for locks, check foreign keys, use the WAL; and
    the SQL function that CQL2 filters' spatial predicates call.

    The wait comes first, and the journal mode is switched only when it is not WAL
    yet (once per file): switching needs the write lock, so a worker opening a
    connection while another process writes would otherwise fail at once.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
    register_sqlite_functions(dbapi_connection)  # CQL2's spatial predicates (store.cql)


def create_schema(engine: Engine) -> None:
    """Bring the schema up to date by running the migrations."""
    from store.migrate import upgrade

    upgrade(engine)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


_SQLITE_WRITERS: dict[str, threading.RLock] = {}
_WRITERS_LOCK = threading.Lock()


def _writer_lock(engine: Engine) -> AbstractContextManager[object]:
    """On SQLite, one lock per database file so that this process's writers queue.

    SQLite lets one writer in at a time; without the queue, threads wait in
    SQLite's busy handler, whose sleeps make the slowest requests very slow.
    """
    if engine.dialect.name != "sqlite":
        return nullcontext()
    with _WRITERS_LOCK:
        return _SQLITE_WRITERS.setdefault(str(engine.url), threading.RLock())


def release(session: Session) -> None:
    """End the session's transaction and give its connection back to the pool.

    For slow work between reading and writing (decoding a photo): meanwhile the
    request holds no connection, no snapshot and no lock.  The session can be
    used again afterwards; what it had loaded is expired.
    """
    session.close()


@contextmanager
def atomic(session: Session) -> Iterator[Session]:
    """Commit what the block wrote, or roll all of it back if the block raises.

    Works whether or not the session already began a transaction by reading.
    """
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with _writer_lock(engine):
        try:
            yield session
            session.commit()
        except OperationalError as exc:
            session.rollback()
            if _busy(exc):
                raise DatabaseBusy(
                    "the database stayed locked by another process's write; nothing was "
                    "written, try again"
                ) from exc
            raise
        except BaseException:
            session.rollback()
            raise


class DatabaseBusy(RuntimeError):
    """SQLite's lock was held by another process for longer than the busy timeout.

    Several worker processes on one SQLite file queue on SQLite's own lock; a
    write that waited too long is rolled back whole and may simply be retried.
    """


def _busy(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "database is locked" in text or "database is busy" in text
