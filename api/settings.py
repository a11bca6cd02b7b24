"""Service settings, read from ``GRIDGOV_*`` environment variables."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from store.db import database_url

REPO_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    return os.environ.get(f"GRIDGOV_{name}", default)


@dataclass(frozen=True)
class Settings:
    """What the service needs to know about its deployment."""

    database_url: str = field(default_factory=database_url)
    sample_dir: Path = field(
        default_factory=lambda: Path(_env("SAMPLE_DIR", str(REPO_ROOT / "data")))
    )
    var_dir: Path = field(default_factory=lambda: Path(_env("VAR_DIR", "var")))
    default_lang: str = field(default_factory=lambda: _env("LANG", "zh"))
    file_limit: str = field(default_factory=lambda: _env("FILE_LIMIT", "2wd"))
    duplicate_radius_m: float = field(
        default_factory=lambda: float(_env("DUPLICATE_RADIUS_M", "50"))
    )
    duplicate_window_h: float = field(
        default_factory=lambda: float(_env("DUPLICATE_WINDOW_H", "168"))
    )
    max_body_bytes: int = field(
        default_factory=lambda: int(_env("MAX_BODY_BYTES", str(256 * 1024)))
    )
    max_photo_bytes: int = field(default_factory=lambda: int(_env("MAX_PHOTO_BYTES", str(8 << 20))))
    max_photos: int = field(default_factory=lambda: int(_env("MAX_PHOTOS", "6")))
    max_description: int = field(default_factory=lambda: int(_env("MAX_DESCRIPTION", "2000")))
    report_rate: int = field(default_factory=lambda: int(_env("REPORT_RATE", "30")))
    report_period_s: float = field(default_factory=lambda: float(_env("REPORT_PERIOD_S", "60")))

    walking_speed_mps: float = field(
        default_factory=lambda: float(_env("WALKING_SPEED_MPS", "1.2"))
    )
    position_fresh_min: float = field(
        default_factory=lambda: float(_env("POSITION_FRESH_MIN", "15"))
    )
    secret_text: str = field(default_factory=lambda: _env("SECRET", ""))
    tianditu_key: str = field(default_factory=lambda: _env("TIANDITU_KEY", ""))
    # where 'gridgov assets install' puts the map pages' scripts and styles (from npm)
    vendor_dir: Path = field(default_factory=lambda: Path(_env("VENDOR_DIR", "var/vendor")))

    def __post_init__(self) -> None:
        for name in ("sample_dir", "var_dir", "vendor_dir"):  # accept plain strings too
            object.__setattr__(self, name, Path(getattr(self, name)))

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
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(32))
        return path.read_text().strip().encode()
