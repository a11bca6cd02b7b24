"""Service settings: every ``GRIDGOV_*`` environment variable, read in one place.

pydantic-settings reads and validates them, so that a bad value (``GRIDGOV_REPORT_RATE=lots``)
stops the service at start with a message naming the variable, instead of
surfacing later as a 500.
"""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from service.clients import Network, parse_networks
from store.db import private_dir

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite:///var/gridgov.sqlite3"
REDIS_SCHEMES = ("redis", "rediss", "redis+unix")


def _env(name: str) -> AliasChoices:
    """Read a field from ``GRIDGOV_<NAME>`` and accept its field name as a keyword."""
    return AliasChoices(f"GRIDGOV_{name}")


class Settings(BaseSettings):
    """What the service needs to know about its deployment."""

    model_config = SettingsConfigDict(
        env_prefix="GRIDGOV_", frozen=True, populate_by_name=True, extra="ignore"
    )

    database_url: str = DEFAULT_DATABASE_URL
    # a streaming replica of a PostgreSQL database_url that lists, stats, the map page,
    # exports, OGC API and Open311 queries read from; unset, everything reads the primary
    database_read_url: str | None = Field(None, repr=False)
    # PostgreSQL connections kept per process, so that worker threads reuse them
    db_pool_size: int = Field(20, ge=1)
    sample_dir: Path = REPO_ROOT / "data"
    # what --sample-if-empty serves: Lingxiao alone, or an illustrative street of 12
    # communities around it (written by data/street.py into var/street/ on first use)
    sample: Literal["lingxiao", "street"] = "lingxiao"
    var_dir: Path = Path("var")
    default_lang: Literal["zh", "en"] = Field("zh", validation_alias=_env("LANG"))
    file_limit: str = "2wd"
    duplicate_radius_m: float = Field(50.0, ge=0)
    duplicate_window_h: float = Field(168.0, ge=0)
    max_body_bytes: int = Field(256 * 1024, ge=1024)
    max_photo_bytes: int = Field(8 << 20, ge=1024)
    max_photos: int = Field(6, ge=0)
    # a photo's size in pixels, read from its header before any pixel is decoded: the
    # full-resolution photo of a 50-megapixel phone camera (8192×6144) is the largest taken
    max_photo_pixels: int = Field(8192 * 6144, ge=1)
    # photos are stored downscaled to this longest side (JPEGs are decoded at a reduced
    # scale on the way); thumbnails are 320 px
    photo_max_side: int = Field(2560, ge=320)
    # photo decodes at a time, uploads waiting for one, and how long one waits, beyond
    # which an upload is answered 503 with Retry-After
    photo_workers: int = Field(2, ge=1)
    photo_queue: int = Field(8, ge=0)
    photo_wait_s: float = Field(30.0, ge=0)
    max_description: int = Field(2000, ge=1)
    # a case list's total is counted exactly up to this many cases, estimated beyond
    exact_count_cap: int = Field(10_000, ge=1)
    report_rate: int = Field(30, ge=1)
    # whole seconds: the limits library counts its windows in seconds
    report_period_s: int = Field(60, ge=1)
    # where the rate limit counts, shared by every process: redis://host:port/db; unset,
    # each process counts in its own memory
    redis_url: str | None = Field(None, repr=False)
    # the start of this deployment's keys in Redis; unset, one made from the database URL
    rate_limit_prefix: str = ""
    # proxies whose X-Forwarded-For names the client: comma-separated IPs or CIDR networks
    trusted_proxies: str = ""
    walking_speed_mps: float = Field(1.2, gt=0)
    position_fresh_min: float = Field(15.0, gt=0)
    secret_text: str = Field("", validation_alias=_env("SECRET"), repr=False)
    tianditu_key: str = Field("", repr=False)
    # rendered map pages kept per process (``service.page_cache``); 0 renders every answer
    page_cache: int = Field(64, ge=0)
    # where 'gridgov assets install' puts the map pages' scripts and styles (from npm)
    vendor_dir: Path = Path("var/vendor")
    # an operator's additions to China's working-day calendar (see README)
    workdays_file: Path | None = REPO_ROOT / "data" / "workdays.csv"

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, url: str | None) -> str | None:
        """Refuse a URL the Redis client cannot use, at start (an empty value means unset)."""
        if not url:
            return None
        scheme = url.partition("://")[0]
        if scheme not in REDIS_SCHEMES:
            raise ValueError(
                f"the scheme {scheme!r} is not one of {', '.join(REDIS_SCHEMES)} "
                "(like redis://127.0.0.1:6379/0)"
            )
        return url

    @field_validator("database_read_url")
    @classmethod
    def _read_url_unset(cls, url: str | None) -> str | None:
        """An empty value means unset, as for ``redis_url``."""
        return url or None

    @model_validator(mode="after")
    def _replica_of_postgresql(self) -> Settings:
        """Refuse a read replica at start unless both URLs are PostgreSQL: an embedded
        SQLite file has no replica to read from."""
        if self.database_read_url is None:
            return self
        for name, url in (
            ("GRIDGOV_DATABASE_URL", self.database_url),
            ("GRIDGOV_DATABASE_READ_URL", self.database_read_url),
        ):
            backend = make_url(url).get_backend_name()
            if backend != "postgresql":
                raise ValueError(
                    f"GRIDGOV_DATABASE_READ_URL needs PostgreSQL on both sides, but "
                    f"{name} is {backend!r} ({make_url(url).render_as_string()}); "
                    "a replica of an embedded SQLite file makes no sense: leave "
                    "GRIDGOV_DATABASE_READ_URL unset"
                )
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, text: str) -> str:
        parse_networks(text)  # a ValueError names the bad entry
        return text

    @cached_property
    def trusted_networks(self) -> tuple[Network, ...]:
        """``trusted_proxies`` as networks (a single address is a /32 or /128)."""
        return parse_networks(self.trusted_proxies)

    @property
    def photo_dir(self) -> Path:
        return self.var_dir / "photos"

    @cached_property
    def secret(self) -> bytes:
        """The server secret: ``GRIDGOV_SECRET``, else a random one kept in the var folder.

        Several instances serving one database must share it (set the variable).
        """
        if self.secret_text:
            return self.secret_text.encode()
        path = self.var_dir / "secret.key"
        if not path.exists():
            _create_once(path, secrets.token_urlsafe(32))
        return path.read_text().strip().encode()


def _create_once(path: Path, text: str) -> None:
    """Write ``path`` (0600) holding ``text`` unless it exists, safely across processes.

    Worker processes starting together may all find no key: each writes its own
    to a private temporary file and links it into place.  A link is atomic and
    fails if the name exists, so exactly one key wins, and nobody reads a file
    still being written.
    """
    private_dir(path.parent)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(draft, path)
    except FileExistsError:
        pass  # another process won; its key is the one
    finally:
        draft.unlink(missing_ok=True)
