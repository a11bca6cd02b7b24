"""Case photos: files in the photo folder, a row per photo in the database.

The database keeps a row per photo with the paths of the image and its
thumbnail relative to the photo folder, where the files are.  The photo arrives
here already cleaned (``service.images``, outside any transaction): its files
are written whole under a temporary name in the case's folder and renamed into
place, readable by their owner only; then a short transaction records the row
(``record_photo``).  If that transaction fails, ``StoredFiles.remove`` takes the
files away again, so no file outlives a photo that was not recorded.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.db import private_dir
from store.issues import IssueNotFound
from store.models import Issue, IssuePhoto


class TooManyPhotos(ValueError):
    """The case already has as many photos as allowed."""


@dataclass(frozen=True)
class StoredFiles:
    """A photo's two files, written whole; paths relative to the photo folder ``folder``."""

    folder: Path
    path: str
    thumb_path: str
    size: int  # of the photo, in bytes

    def remove(self) -> None:
        """Delete both files (when the photo's row could not be recorded)."""
        for rel in (self.path, self.thumb_path):
            (self.folder / rel).unlink(missing_ok=True)


def write_photo_files(
    folder: Path, issue_id: int, data: bytes, suffix: str, thumbnail: bytes
) -> StoredFiles:
    """Write a cleaned photo and its JPEG thumbnail into case ``issue_id``'s folder."""
    private_dir(folder / str(issue_id))
    name = f"{issue_id}/{uuid.uuid4().hex}"
    files = StoredFiles(folder, f"{name}{suffix}", f"{name}_thumb.jpg", len(data))
    try:
        _write_whole(folder / files.path, data)
        _write_whole(folder / files.thumb_path, thumbnail)
    except BaseException:
        files.remove()
        raise
    return files


def _write_whole(path: Path, data: bytes) -> None:
    """``data`` at ``path``, owner-only (0600), appearing only once it is all written."""
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def count_photos(session: Session, issue_id: int) -> int:
    """How many photos case ``issue_id`` has."""
    count = session.scalar(
        select(func.count()).select_from(IssuePhoto).where(IssuePhoto.issue_id == issue_id)
    )
    return int(count or 0)


def record_photo(
    session: Session,
    issue_id: int,
    files: StoredFiles,
    content_type: str,
    size: tuple[int, int],
    now: datetime,
    max_photos: int,
) -> IssuePhoto:
    """The row of a photo whose files are written; flushed, not committed.

    Called inside the write transaction: the case's row is locked first (on
    PostgreSQL; SQLite has one writer anyway), so that two uploads at once
    cannot both take the last free place.

    Raises
    ------
    IssueNotFound
        When the case no longer exists.
    TooManyPhotos
        When the case already has ``max_photos`` photos.
    """
    if session.get(Issue, issue_id, with_for_update=True) is None:
        raise IssueNotFound(f"no case has id {issue_id}")
    count = count_photos(session, issue_id)
    if count >= max_photos:
        raise TooManyPhotos(f"case {issue_id} already has {count} photos, the most allowed")
    photo = IssuePhoto(
        issue_id=issue_id,
        path=files.path,
        thumb_path=files.thumb_path,
        content_type=content_type,
        size=files.size,
        width=size[0],
        height=size[1],
        created_at=now,
    )
    session.add(photo)
    session.flush()
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
