"""Service settings, read from ``GRIDGOV_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from store.db import database_url

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """What the service needs to know about its deployment."""

    database_url: str = field(default_factory=database_url)
    sample_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("GRIDGOV_SAMPLE_DIR", REPO_ROOT / "data"))
    )
    default_lang: str = field(default_factory=lambda: os.environ.get("GRIDGOV_LANG", "zh"))
