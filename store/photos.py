"""Case photos: checked by content, cleaned of metadata, stored on disk.

The database keeps a row per photo with the paths of the image and its
thumbnail relative to the photo folder, where the files are.  Re-encoding drops
EXIF data and comments, which on phone photos include the GPS position and the
device.
"""

from __future__ import annotations

import io
import uuid
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.db import private_dir
from store.models import IssuePhoto

FORMATS = {
    "JPEG": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
}
MAGIC = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"))
MAX_PIXELS = 40_000_000
THUMBNAIL = (320, 320)


class BadPhoto(ValueError):
    """The upload is not a JPEG, PNG or WebP image that can be read."""


class TooManyPhotos(ValueError):
    """The case already has as many photos as allowed."""


def sniff(data: bytes) -> str:
    """The image format named by the file's first bytes, whatever it claims to be."""
    for magic, name in MAGIC:
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    raise BadPhoto("the file is not a JPEG, PNG or WebP image (checked by its content)")


def save_photo(
    session: Session, issue_id: int, data: bytes, folder: Path, now: datetime, max_photos: int
) -> IssuePhoto:
    """Check, clean and store one photo of a case; returns its row (not yet committed)."""
    count = session.scalar(
        select(func.count()).select_from(IssuePhoto).where(IssuePhoto.issue_id == issue_id)
    )
    if (count or 0) >= max_photos:
        raise TooManyPhotos(f"case {issue_id} already has {count} photos, the most allowed")
    kind = sniff(data)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format != kind:
                raise BadPhoto(f"the file starts like {kind} but reads as {probe.format}")
            if probe.width * probe.height > MAX_PIXELS:
                raise BadPhoto(
                    f"the image is {probe.width}×{probe.height} pixels; the most "
                    f"allowed is {MAX_PIXELS // 1_000_000} megapixels"
                )
            image = ImageOps.exif_transpose(probe)
            image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise BadPhoto(f"the {kind} image cannot be read ({exc})") from exc
    content_type, suffix = FORMATS[kind]
    private_dir(folder / str(issue_id))
    name = f"{issue_id}/{uuid.uuid4().hex}"
    rel, rel_thumb = f"{name}{suffix}", f"{name}_thumb.jpg"
    path, thumb = folder / rel, folder / rel_thumb
    icc = image.info.get("icc_profile")
    image.info = {}  # comments, EXIF, XMP: nothing the phone wrote goes along
    clean = image.convert("RGB") if kind == "JPEG" and image.mode not in ("RGB", "L") else image
    options = {"quality": 90} if kind != "PNG" else {}
    clean.save(path, format=kind, **options, **({"icc_profile": icc} if icc else {}))
    small = image.convert("RGB")
    small.thumbnail(THUMBNAIL)
    small.save(thumb, format="JPEG", quality=80)
    for written in (path, thumb):
        written.chmod(0o600)
    photo = IssuePhoto(
        issue_id=issue_id,
        path=rel,
        thumb_path=rel_thumb,
        content_type=content_type,
        size=path.stat().st_size,
        width=image.width,
        height=image.height,
        created_at=now,
    )
    session.add(photo)
    try:
        session.flush()
    except Exception:
        path.unlink(missing_ok=True)
        thumb.unlink(missing_ok=True)
        raise
    return photo


def photo_of(session: Session, issue_id: int, photo_id: int) -> IssuePhoto | None:
    """Photo ``photo_id`` of case ``issue_id``, or None."""
    photo = session.get(IssuePhoto, photo_id)
    return photo if photo is not None and photo.issue_id == issue_id else None


def photos_of(session: Session, issue_id: int) -> list[IssuePhoto]:
    return list(
        session.scalars(
            select(IssuePhoto).where(IssuePhoto.issue_id == issue_id).order_by(IssuePhoto.id)
        )
    )
