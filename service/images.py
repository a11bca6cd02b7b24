"""Photo cleaning: an upload's pixels checked, freed of metadata, downscaled and re-encoded.

Pure image work with Pillow: the uploaded bytes in, the bytes to store out; no
database, no files, no web.  It is the costly part of a photo upload (a
40-megapixel PNG takes about a second of CPU and 120 MB to decode), so
``service.issues`` runs it outside any transaction and a bounded number at a
time (``service.gate``).

Memory per decode is bounded before a pixel is decoded: ``Image.open`` reads
only the header, whose width × height is checked against ``max_pixels``
first, and a JPEG larger than the stored size is decoded at a reduced scale
(``Image.draft``: libjpeg's 1/2, 1/4 or 1/8 scaling, so a 50-megapixel photo
costs a quarter of its pixels or less).  PNG and WebP cannot be decoded at a
reduced scale: the pixel limit is their bound.

Re-encoding drops EXIF data, XMP and comments, which on phone photos include
the GPS position and the device; the EXIF orientation is applied first, so the
photo stays upright.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from PIL import Image, ImageOps

FORMATS = {
    "JPEG": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
}
MAGIC = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"))
THUMBNAIL = (320, 320)
# what Pillow raises for a file it cannot read: a broken header, a truncated or
# corrupt stream, a chunk that decompresses too large
_UNREADABLE = (OSError, ValueError, SyntaxError, EOFError, struct.error)


class BadImage(ValueError):
    """The upload is not a JPEG, PNG or WebP image that can be read."""


class TooManyPixels(ValueError):
    """The image is larger in pixels than allowed (a photo needs fewer; a bomb has more)."""


@dataclass(frozen=True)
class CleanPhoto:
    """A photo ready to store: the image re-encoded in its own format, and a JPEG thumbnail."""

    content_type: str
    suffix: str
    data: bytes
    thumbnail: bytes
    width: int
    height: int


def sniff(data: bytes) -> str:
    """The image format named by the file's first bytes, whatever it claims to be."""
    for magic, name in MAGIC:
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    raise BadImage("the file is not a JPEG, PNG or WebP image (checked by its content)")


def fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """``size`` scaled down, keeping its shape, so that neither side exceeds ``longest``."""
    width, height = size
    scale = min(1.0, longest / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    """Refuse an image of more than ``max_pixels`` pixels, naming its size."""
    width, height = size
    if width * height > max_pixels:
        raise TooManyPixels(
            f"the image is {width}×{height} pixels ({width * height / 1e6:.1f} megapixels); "
            f"the most allowed is {max_pixels / 1e6:.1f} megapixels: downscale it first"
        )


def clean_photo(data: bytes, max_pixels: int, max_side: int) -> CleanPhoto:
    """Check, clean and downscale one uploaded photo, reading no more pixels than needed.

    Raises
    ------
    BadImage
        When the content is not a readable JPEG, PNG or WebP image.
    TooManyPixels
        When its header gives more than ``max_pixels`` pixels, before decoding,
        or when Pillow takes it for a decompression bomb.
    """
    kind = sniff(data)
    try:
        image = Image.open(io.BytesIO(data), formats=[kind])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise TooManyPixels(
            f"the image is far too large to decode ({exc}); the most allowed is "
            f"{max_pixels / 1e6:.1f} megapixels"
        ) from exc
    except _UNREADABLE as exc:
        raise BadImage(f"the file starts like a {kind} image but cannot be read as one") from exc
    with image:
        check_pixels(image.size, max_pixels)
        try:
            return _clean(image, kind, max_side)
        except _UNREADABLE as exc:
            raise BadImage(f"the {kind} image cannot be read ({exc})") from exc


def _clean(image: Image.Image, kind: str, max_side: int) -> CleanPhoto:
    """Decode ``image`` (opened, not yet loaded) at the stored size and encode what is kept."""
    target = fit(image.size, max_side)
    if kind == "JPEG" and target != image.size:
        image.draft("RGB", target)  # decode at 1/2, 1/4 or 1/8 scale, still at least target
    image.thumbnail((max_side, max_side))  # loads; in place, so the full decode is let go
    ImageOps.exif_transpose(image, in_place=True)
    icc = image.info.get("icc_profile")
    image.info = {}  # comments, EXIF, XMP: nothing the phone wrote goes along
    clean = image.convert("RGB") if kind == "JPEG" and image.mode not in ("RGB", "L") else image
    options: dict[str, object] = {} if kind == "PNG" else {"quality": 90}
    if icc:
        options["icc_profile"] = icc
    stored = io.BytesIO()
    clean.save(stored, format=kind, **options)
    small = image.convert("RGB")
    small.thumbnail(THUMBNAIL)
    thumb = io.BytesIO()
    small.save(thumb, format="JPEG", quality=80)
    content_type, suffix = FORMATS[kind]
    return CleanPhoto(
        content_type, suffix, stored.getvalue(), thumb.getvalue(), image.width, image.height
    )
