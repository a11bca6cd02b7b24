"""Case photos through the API, on SQLite and on PostGIS.

Photos are checked by their content, cleaned of EXIF (phone photos carry the GPS
position), turned upright, downscaled, stored as files beside a JPEG thumbnail, and
shown to staff only.  They are decoded a few at a time (more are answered 503),
with no database connection held, and never more pixels than the limit allows.
"""

from __future__ import annotations

import io
import os
import queue
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient
from PIL import ExifTags, Image, ImageFile
from sqlalchemy import select
from sqlalchemy.orm import Session

from store.db import make_engine
from store.models import IssuePhoto
from tests.helpers import GOOD_REPORT as GOOD
from tests.helpers import auth

MEDIA = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
SUFFIX = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}
RED, BLUE = (220, 20, 20), (20, 20, 220)
T = TypeVar("T")


# -- helpers --------------------------------------------------------------------------------


def phone_exif(orientation: int = 1) -> Image.Exif:
    """EXIF like a phone writes: the device, an orientation and the GPS position."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "GridPhone"
    exif[ExifTags.Base.Model] = "GP-9 Pro"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (29.0, 53.0, 38.4)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (121.0, 50.0, 42.72)
    return exif


def halves(size: tuple[int, int]) -> Image.Image:
    """An image red on its left half and blue on its right half."""
    image = Image.new("RGB", size, BLUE)
    image.paste(RED, (0, 0, size[0] // 2, size[1]))
    return image


def encode(image: Image.Image, fmt: str = "JPEG", **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def noise(size: tuple[int, int]) -> Image.Image:
    """Random pixels: they do not compress, so the file size is predictable."""
    return Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))


def report(api: TestClient, **changes: Any) -> dict[str, Any]:
    response = api.post("/api/v1/issues", json={**GOOD, **changes})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def upload(
    api: TestClient,
    case_id: int,
    data: bytes,
    *,
    name: str = "photo.jpg",
    content_type: str = "image/jpeg",
    photo_token: str | None = None,
    staff: str | None = None,
) -> Any:
    headers = {}
    if photo_token is not None:
        headers["X-Photo-Token"] = photo_token
    if staff is not None:
        headers.update(auth(staff))
    return api.post(
        f"/api/v1/issues/{case_id}/photos",
        files={"file": (name, data, content_type)},
        headers=headers,
    )


def fetch(api: TestClient, url: str, token: str) -> Image.Image:
    response = api.get(url, headers=auth(token))
    assert response.status_code == 200, response.text
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def files_of(settings: Any, case_id: int) -> list[Path]:
    folder = Path(settings.photo_dir) / str(case_id)
    return sorted(folder.iterdir()) if folder.exists() else []


def close(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 40) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a[:3], b[:3], strict=True))


@pytest.fixture()
def case(api: TestClient) -> dict[str, Any]:
    """A freshly reported case, with its id and photo token."""
    return report(api)


# -- accepted uploads -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_reporter_uploads_jpeg_png_or_webp_with_the_photo_token(
    api: TestClient, case: dict[str, Any], tokens: dict[str, str], fmt: str
) -> None:
    data = encode(halves((160, 120)), fmt, exif=phone_exif())
    response = upload(
        api,
        case["id"],
        data,
        name=f"IMG_0001{SUFFIX[fmt]}",
        content_type=MEDIA[fmt],
        photo_token=case["photo_token"],
    )
    assert response.status_code == 201, response.text
    photo = response.json()
    assert photo["content_type"] == MEDIA[fmt]
    assert (photo["width"], photo["height"]) == (160, 120)
    assert photo["url"] == f"/api/v1/issues/{case['id']}/photos/{photo['id']}"
    assert photo["thumbnail_url"].startswith(photo["url"])
    served = api.get(photo["url"], headers=auth(tokens["grid_worker"]))
    assert served.status_code == 200
    assert served.headers["content-type"] == MEDIA[fmt]
    stored = Image.open(io.BytesIO(served.content))
    assert stored.format == fmt and stored.size == (160, 120)


@pytest.mark.parametrize("role", ["grid_worker", "dispatcher", "manager", "planner", "admin"])
def test_staff_upload_with_their_bearer_token(
    api: TestClient, case: dict[str, Any], tokens: dict[str, str], role: str
) -> None:
    response = upload(api, case["id"], encode(halves((64, 48))), staff=tokens[role])
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == "image/jpeg"


def test_a_png_named_and_declared_as_jpeg_is_stored_as_png(
    api: TestClient, case: dict[str, Any]
) -> None:
    data = encode(halves((64, 48)), "PNG")
    response = upload(api, case["id"], data, name="x.jpg", photo_token=case["photo_token"])
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == "image/png"


@pytest.mark.parametrize(
    ("fmt", "mode"),
    [
        ("PNG", "RGBA"),
        ("PNG", "P"),
        ("PNG", "L"),
        ("PNG", "LA"),
        ("PNG", "1"),
        ("PNG", "I;16"),
        ("JPEG", "L"),
        ("JPEG", "CMYK"),
        ("WEBP", "RGBA"),
    ],
)
def test_other_colour_modes_are_accepted(
    api: TestClient, case: dict[str, Any], tokens: dict[str, str], fmt: str, mode: str
) -> None:
    image = halves((80, 60))
    image = (
        image.convert("L").convert("I").convert("I;16") if mode == "I;16" else image.convert(mode)
    )
    data = encode(image, fmt)
    response = upload(api, case["id"], data, photo_token=case["photo_token"])
    assert response.status_code == 201, response.text
    photo = response.json()
    assert (photo["width"], photo["height"]) == (80, 60)
    thumb = fetch(api, photo["thumbnail_url"], tokens["admin"])
    assert thumb.format == "JPEG"


# -- cleaning -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_exif_with_gps_is_removed(
    api: TestClient, case: dict[str, Any], tokens: dict[str, str], fmt: str
) -> None:
    data = encode(halves((120, 90)), fmt, exif=phone_exif())
    sent = Image.open(io.BytesIO(data)).getexif()
    assert sent.get_ifd(ExifTags.IFD.GPSInfo) and b"GridPhone" in data  # the test's own premise
    photo = upload(api, case["id"], data, content_type=MEDIA[fmt], staff=tokens["admin"]).json()
    for url in (photo["url"], photo["thumbnail_url"]):
        raw = api.get(url, headers=auth(tokens["admin"])).content
        image = Image.open(io.BytesIO(raw))
        exif = image.getexif()
        assert len(exif) == 0, dict(exif)
        assert not exif.get_ifd(ExifTags.IFD.GPSInfo)
        assert "exif" not in image.info
        assert b"GridPhone" not in raw and b"GP-9 Pro" not in raw and b"Exif\x00\x00" not in raw


def test_a_phones_multi_picture_jpeg_is_stored_as_a_plain_jpeg(
    api: TestClient, case: dict[str, Any], tokens: dict[str, str]
) -> None:
    # phones write MPO (a JPEG carrying a second picture, e.g. a depth map): still a JPEG
    buffer = io.BytesIO()
    halves((160, 120)).save(
        buffer, "MPO", save_all=True, append_images=[Image.new("RGB", (160, 120))],
        exif=phone_exif(),
    )  # fmt: skip
    assert Image.open(io.BytesIO(buffer.getvalue())).format == "MPO"
    response = upload(api, case["id"], buffer.getvalue(), photo_token=case["photo_token"])
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == "image/jpeg"
    raw = api.get(response.json()["url"], headers=auth(tokens["admin"])).content
    stored = Image.open(io.BytesIO(raw))
    assert stored.format == "JPEG" and getattr(stored, "n_frames", 1) == 1
    assert b"GridPhone" not in raw and not stored.getexif()
    assert close(stored.convert("RGB").getpixel((20, 60)), RED)


def test_jpeg_comment_is_removed(
    api: TestClient, case: dict[str, Any], tokens: dict[str, str]
) -> None:
    data = encode(halves((64, 48)), "JPEG", comment="王阿姨 13800138000".encode())
    photo = upload(api, case["id"], data, photo_token=case["photo_token"]).json()
    raw = api.get(photo["url"], headers=auth(tokens["admin"])).content
    assert b"13800138000" not in raw
    assert "comment" not in Image.open(io.BytesIO(raw)).info


def test_orientation_is_applied_and_thumbnail_is_small_jpeg(
    api: TestClient, case: dict[str, Any], tokens: dict[str, str]
) -> None:
    # stored landscape 1200×900 with "rotate 90° clockwise to display": a portrait photo
    data = encode(halves((1200, 900)), "JPEG", exif=phone_exif(orientation=6), quality=90)
    response = upload(api, case["id"], data, photo_token=case["photo_token"])
    assert response.status_code == 201, response.text
    photo = response.json()
    assert (photo["width"], photo["height"]) == (900, 1200)
    stored = fetch(api, photo["url"], tokens["manager"])
    assert stored.size == (900, 1200)
    assert stored.getexif().get(ExifTags.Base.Orientation) is None
    # the left half (red) is now on top, the right half (blue) below
    assert close(stored.getpixel((450, 100)), RED)
    assert close(stored.getpixel((450, 1100)), BLUE)
    thumb_response = api.get(photo["thumbnail_url"], headers=auth(tokens["manager"]))
    assert thumb_response.headers["content-type"] == "image/jpeg"
    thumb = Image.open(io.BytesIO(thumb_response.content))
    assert thumb.format == "JPEG"
    assert max(thumb.size) <= 320 and thumb.size == (240, 320)
    thumb = thumb.convert("RGB")
    assert close(thumb.getpixel((120, 20)), RED) and close(thumb.getpixel((120, 300)), BLUE)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize(
    ("orientation", "size", "top", "bottom"),
    [
        (1, (120, 80), RED, RED),  # upright: left red, right blue
        (3, (120, 80), BLUE, BLUE),  # upside down: turned 180°, left becomes blue
        (6, (80, 120), RED, BLUE),  # turned 90° clockwise: left half on top
        (8, (80, 120), BLUE, RED),  # turned 90° anticlockwise: left half at the bottom
    ],
)
def test_orientation_is_applied_in_every_format(
    api: TestClient,
    case: dict[str, Any],
    tokens: dict[str, str],
    fmt: str,
    orientation: int,
    size: tuple[int, int],
    top: tuple[int, int, int],
    bottom: tuple[int, int, int],
) -> None:
    data = encode(halves((120, 80)), fmt, exif=phone_exif(orientation))
    response = upload(api, case["id"], data, content_type=MEDIA[fmt], staff=tokens["admin"])
    assert response.status_code == 201, response.text
    assert (response.json()["width"], response.json()["height"]) == size
    stored = fetch(api, response.json()["url"], tokens["admin"])
    assert stored.size == size
    assert not stored.getexif()
    stored = stored.convert("RGB")
    # sample the upper-left and lower-left quarter of the upright picture
    assert close(stored.getpixel((size[0] // 4, size[1] // 4)), top)
    assert close(stored.getpixel((size[0] // 4, size[1] * 3 // 4)), bottom)
    thumb = fetch(api, response.json()["thumbnail_url"], tokens["admin"])
    assert thumb.size == size


def test_small_photo_thumbnail_is_not_enlarged(
    api: TestClient, case: dict[str, Any], tokens: dict[str, str]
) -> None:
    photo = upload(api, case["id"], encode(halves((100, 50)), "PNG"), staff=tokens["admin"]).json()
    thumb = fetch(api, photo["thumbnail_url"], tokens["admin"])
    assert thumb.format == "JPEG" and thumb.size == (100, 50)


# -- storage --------------------------------------------------------------------------------


def test_files_are_stored_in_the_case_folder_not_in_the_database(
    api: TestClient, settings: Any, loaded_url: str, tokens: dict[str, str]
) -> None:
    first, second = report(api), report(api, description="另一件")
    a = upload(api, first["id"], encode(halves((64, 48))), photo_token=first["photo_token"])
    b = upload(
        api,
        second["id"],
        encode(halves((64, 48)), "PNG"),
        content_type="image/png",
        photo_token=second["photo_token"],
    )
    assert a.status_code == b.status_code == 201
    folder = Path(settings.photo_dir) / str(first["id"])
    on_disk = files_of(settings, first["id"])
    assert len(on_disk) == 2  # the photo and its thumbnail
    assert {p.suffix for p in on_disk} == {".jpg"}
    assert len(files_of(settings, second["id"])) == 2
    engine = make_engine(loaded_url)
    with Session(engine) as session:
        rows = list(session.scalars(select(IssuePhoto).order_by(IssuePhoto.id)))
    engine.dispose()
    assert [r.issue_id for r in rows] == [first["id"], second["id"]]
    row = rows[0]
    # rows hold paths relative to the photo folder, so the folder may move
    assert not Path(row.path).is_absolute()
    photo, thumb = settings.photo_dir / row.path, settings.photo_dir / row.thumb_path
    assert photo.parent.resolve() == folder.resolve() == thumb.parent.resolve()
    assert sorted([photo.name, thumb.name]) == [p.name for p in on_disk]
    assert row.size == photo.stat().st_size
    assert Path(rows[1].path).suffix == ".png"
    served = api.get(a.json()["url"], headers=auth(tokens["admin"])).content
    assert served == photo.read_bytes()


def test_photo_folder_may_be_deep(loaded_url: str, tmp_path: Path) -> None:
    from api.app import create_app
    from service.settings import Settings

    deep = Settings(
        database_url=loaded_url, var_dir=tmp_path / ("gridgov-" * 19), report_rate=10_000
    )
    assert len(str(deep.var_dir)) > 150
    app = create_app(deep)
    with TestClient(app, raise_server_exceptions=False) as client:
        case = report(client)
        response = upload(
            client, case["id"], encode(halves((64, 48))), photo_token=case["photo_token"]
        )
    app.state.engine.dispose()
    assert response.status_code == 201, response.text
    assert len(files_of(deep, case["id"])) == 2


# -- refused uploads ------------------------------------------------------------------------


def refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def truncated_jpeg() -> bytes:
    whole = encode(noise((200, 150)), "JPEG", quality=95)
    return whole[: len(whole) // 3]


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        pytest.param("x.jpg", "这不是图片，只是文字。\n".encode() * 20, "image/jpeg", id="text"),
        pytest.param(
            "x.jpg", b"\xff\xd8\xff\xe0" + os.urandom(4000), "image/jpeg", id="jpeg-magic-garbage"
        ),
        pytest.param("x.jpg", truncated_jpeg(), "image/jpeg", id="truncated-jpeg"),
        pytest.param(
            "x.png", b"\x89PNG\r\n\x1a\n" + os.urandom(2000), "image/png", id="png-magic-garbage"
        ),
        pytest.param("x.webp", b"RIFF\x00\x10\x00\x00WEBP" + b"\x00" * 64, "image/webp", id="webp"),
        pytest.param("x.gif", encode(halves((40, 30)), "GIF"), "image/gif", id="gif"),
        pytest.param("x.jpg", encode(halves((40, 30)), "GIF"), "image/jpeg", id="gif-as-jpeg"),
        pytest.param("x.bmp", encode(halves((40, 30)), "BMP"), "image/jpeg", id="bmp"),
        pytest.param("x.jpg", b"", "image/jpeg", id="empty"),
    ],
)
def test_content_that_is_not_a_readable_image_is_refused(
    api: TestClient,
    case: dict[str, Any],
    settings: Any,
    tokens: dict[str, str],
    name: str,
    data: bytes,
    content_type: str,
) -> None:
    response = upload(
        api, case["id"], data, name=name, content_type=content_type, photo_token=case["photo_token"]
    )
    refused(response, 415, "unsupported_image")
    assert response.json()["error"]["message"]
    assert files_of(settings, case["id"]) == []
    staff = api.get(f"/api/v1/issues/{case['id']}", headers=auth(tokens["admin"])).json()
    assert staff["photos"] == []


def png_of_size(width: int, height: int, *, decodable: bool = True) -> bytes:
    """A one-bit black PNG of ``width``×``height`` pixels, made a band of rows at a time,
    so that even a huge one is a few kB and costs the test little memory.

    With ``decodable=False`` its pixel data is garbage: only a decoder would notice,
    so an answer that names the size proves the size was refused before decoding.
    """

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    if decodable:
        row = b"\x00" * (1 + (width + 7) // 8)  # filter byte, then the bits
        packer = zlib.compressobj(9)
        band = row * 1000
        pixels = b"".join(packer.compress(band) for _ in range(height // 1000))
        pixels += packer.compress(row * (height % 1000)) + packer.flush()
    else:
        pixels = os.urandom(256)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_png_of_size_makes_what_it_says() -> None:
    image = Image.open(io.BytesIO(png_of_size(1500, 2100)))
    assert image.size == (1500, 2100) and image.mode == "1"
    image.load()
    assert image.getextrema() == (0, 0)


@pytest.mark.parametrize("decodable", [True, False], ids=["valid", "garbage-pixels"])
def test_images_over_the_pixel_limit_are_refused_before_decoding(
    api: TestClient, case: dict[str, Any], settings: Any, decodable: bool
) -> None:
    # 9000×9000 one-bit pixels: a few kB that would take 81 MB to decode, 324 MB as RGB
    data = png_of_size(9000, 9000, decodable=decodable)
    assert len(data) < 50_000 and settings.max_photo_pixels < 9000 * 9000
    response = upload(
        api, case["id"], data, content_type="image/png", photo_token=case["photo_token"]
    )
    refused(response, 413, "too_many_pixels")  # not 415: the garbage was never decoded
    message = response.json()["error"]["message"]
    assert "9000×9000" in message and "megapixels" in message
    assert files_of(settings, case["id"]) == []


@pytest.mark.parametrize(
    "warnings_are_errors",
    [
        # Pillow's warning is the log's business, not the test's
        pytest.param(
            False, marks=pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
        ),
        pytest.param(
            True, marks=pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
        ),
    ],
    ids=["default", "bomb-warning-as-error"],
)
@pytest.mark.parametrize("side", [10_000, 20_000], ids=["100MP", "400MP"])
def test_decompression_bombs_are_refused_with_413(
    api: TestClient,
    case: dict[str, Any],
    settings: Any,
    tokens: dict[str, str],
    side: int,
    warnings_are_errors: bool,
) -> None:
    # past Pillow's own limits: 100 MP warns (an error when warnings are), 400 MP is an error
    data = png_of_size(side, side)
    assert len(data) < 100_000
    response = upload(api, case["id"], data, content_type="image/png", staff=tokens["admin"])
    refused(response, 413, "too_many_pixels")
    assert "megapixels" in response.json()["error"]["message"]
    assert files_of(settings, case["id"]) == []


def test_photo_token_is_required_and_must_be_the_cases_own(
    api: TestClient, settings: Any, tokens: dict[str, str]
) -> None:
    mine, other = report(api), report(api, description="隔壁楼道")
    data = encode(halves((64, 48)))
    refused(upload(api, mine["id"], data), 403, "photo_token_required")
    refused(upload(api, mine["id"], data, photo_token="not-the-token"), 403, "photo_token_required")
    refused(upload(api, mine["id"], data, photo_token=""), 403, "photo_token_required")
    refused(
        upload(api, mine["id"], data, photo_token=other["photo_token"]),
        403,
        "photo_token_required",
    )
    bad_bearer = upload(api, mine["id"], data, photo_token=mine["photo_token"], staff="forged")
    refused(bad_bearer, 401, "bad_token")
    assert files_of(settings, mine["id"]) == []
    staff = api.get(f"/api/v1/issues/{mine['id']}", headers=auth(tokens["admin"])).json()
    assert staff["photos"] == []
    # the other case's token still works for the other case
    own = upload(api, other["id"], data, photo_token=other["photo_token"])
    assert own.status_code == 201


def test_unknown_case_is_404(api: TestClient, case: dict[str, Any], tokens: dict[str, str]) -> None:
    data = encode(halves((64, 48)))
    refused(upload(api, 999_999, data, staff=tokens["admin"]), 404, "issue_not_found")
    refused(upload(api, 999_999, data, photo_token=case["photo_token"]), 404, "issue_not_found")


@pytest.fixture()
def small_limits_api(loaded_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, Any]]:
    """A client on an app that allows 50 kB per photo and two photos per case."""
    from api.app import create_app
    from service.settings import Settings

    limits = Settings(
        database_url=loaded_url,
        var_dir=tmp_path / "var",
        report_rate=10_000,
        max_photo_bytes=50_000,
        max_photos=2,
    )
    app = create_app(limits)
    with TestClient(app) as client:
        yield client, limits
    app.state.engine.dispose()


@pytest.mark.parametrize(
    "size",
    [
        pytest.param((140, 140), id="over-photo-limit"),  # ~59 kB: read and refused by the route
        pytest.param((260, 260), id="over-body-limit"),  # ~203 kB: refused before it is read
    ],
)
def test_oversized_photo_is_413_and_nothing_is_written(
    small_limits_api: tuple[TestClient, Any],
    tokens: dict[str, str],
    size: tuple[int, int],
) -> None:
    client, limits = small_limits_api
    case = report(client)
    data = encode(noise(size), "PNG")
    assert len(data) > limits.max_photo_bytes
    Image.open(io.BytesIO(data)).verify()  # a valid image, only too large
    response = upload(
        client, case["id"], data, content_type="image/png", photo_token=case["photo_token"]
    )
    refused(response, 413, "payload_too_large")
    staff = client.get(f"/api/v1/issues/{case['id']}", headers=auth(tokens["admin"])).json()
    assert staff["photos"] == []
    assert files_of(limits, case["id"]) == []
    # a photo within the limit is still accepted afterwards
    small = upload(client, case["id"], encode(halves((64, 48))), photo_token=case["photo_token"])
    assert small.status_code == 201, small.text


def test_oversized_message_names_the_limit(small_limits_api: tuple[TestClient, Any]) -> None:
    client, _ = small_limits_api
    case = report(client)
    data = encode(noise((140, 140)), "PNG")
    response = upload(client, case["id"], data, photo_token=case["photo_token"])
    refused(response, 413, "payload_too_large")
    assert " 0 MB" not in response.json()["error"]["message"]


def test_photo_just_at_the_limit_is_accepted(
    small_limits_api: tuple[TestClient, Any], tokens: dict[str, str]
) -> None:
    client, limits = small_limits_api
    case = report(client)
    data = encode(noise((120, 120)), "PNG")
    assert len(data) < limits.max_photo_bytes
    padded = data + b"\x00" * (limits.max_photo_bytes - len(data))  # trailing bytes after IEND
    assert len(padded) == limits.max_photo_bytes
    response = upload(client, case["id"], padded, staff=tokens["admin"])
    assert response.status_code == 201, response.text


def test_too_many_photos_is_409(
    small_limits_api: tuple[TestClient, Any], tokens: dict[str, str]
) -> None:
    client, limits = small_limits_api
    case = report(client)
    data = encode(halves((64, 48)))
    for _ in range(limits.max_photos):
        ok = upload(client, case["id"], data, photo_token=case["photo_token"])
        assert ok.status_code == 201, ok.text
    refused(
        upload(client, case["id"], data, photo_token=case["photo_token"]), 409, "too_many_photos"
    )
    refused(upload(client, case["id"], data, staff=tokens["admin"]), 409, "too_many_photos")
    staff = client.get(f"/api/v1/issues/{case['id']}", headers=auth(tokens["admin"])).json()
    assert len(staff["photos"]) == limits.max_photos
    assert len(files_of(limits, case["id"])) == 2 * limits.max_photos
    # the limit is per case
    other = report(client, description="另一处")
    assert upload(client, other["id"], data, photo_token=other["photo_token"]).status_code == 201


def test_default_limit_is_six_photos(api: TestClient, case: dict[str, Any]) -> None:
    data = encode(halves((32, 24)))
    codes = [upload(api, case["id"], data, photo_token=case["photo_token"]) for _ in range(7)]
    assert [c.status_code for c in codes] == [201] * 6 + [409]
    assert codes[-1].json()["error"]["code"] == "too_many_photos"


# -- who sees photos ------------------------------------------------------------------------


def test_photos_are_served_to_staff_and_to_their_reporter_only(
    api: TestClient, case: dict[str, Any], tokens: dict[str, str]
) -> None:
    first = upload(api, case["id"], encode(halves((64, 48))), photo_token=case["photo_token"])
    second = upload(
        api,
        case["id"],
        encode(halves((48, 64)), "WEBP"),
        content_type="image/webp",
        staff=tokens["grid_worker"],
    )
    assert first.status_code == second.status_code == 201
    public = api.get(f"/api/v1/issues/{case['id']}")
    assert public.status_code == 200 and "photos" not in public.json()
    assert "/photos/" not in public.text
    listed = api.get("/api/v1/issues").json()["features"][0]["properties"]
    assert "photos" not in listed
    for role in ("grid_worker", "planner"):
        staff = api.get(f"/api/v1/issues/{case['id']}", headers=auth(tokens[role])).json()
        assert staff["photos"] == [first.json(), second.json()]
    # the reporter's phone holds the case's photo token: it lists and shows the photos
    listing = f"/api/v1/issues/{case['id']}/photos"
    mine = {"X-Photo-Token": case["photo_token"]}
    assert api.get(listing, headers=mine).json() == [first.json(), second.json()]
    assert api.get(listing, headers=auth(tokens["planner"])).json() == [
        first.json(),
        second.json(),
    ]
    other = report(api, description="别的楼道")
    url, thumb = first.json()["url"], first.json()["thumbnail_url"]
    for target in (listing, url, thumb):
        refused(api.get(target), 403, "photo_token_required")
        refused(api.get(target, headers={"X-Photo-Token": "forged"}), 403, "photo_token_required")
        # another case's token shows nothing of this one
        wrong = {"X-Photo-Token": other["photo_token"]}
        refused(api.get(target, headers=wrong), 403, "photo_token_required")
        assert api.get(target, headers=auth("forged")).status_code == 401
        assert api.get(target, headers=auth(tokens["planner"])).status_code == 200
        assert api.get(target, headers=mine).status_code == 200
    assert api.get(thumb, headers=mine).headers["content-type"] == "image/jpeg"


def test_photo_of_another_case_or_unknown_is_404(
    api: TestClient, case: dict[str, Any], tokens: dict[str, str]
) -> None:
    photo = upload(api, case["id"], encode(halves((64, 48))), photo_token=case["photo_token"])
    photo_id = photo.json()["id"]
    other = report(api, description="别的楼道")
    admin = auth(tokens["admin"])
    wrong_case = api.get(f"/api/v1/issues/{other['id']}/photos/{photo_id}", headers=admin)
    refused(wrong_case, 404, "photo_not_found")
    refused(
        api.get(f"/api/v1/issues/{case['id']}/photos/{photo_id + 1000}", headers=admin),
        404,
        "photo_not_found",
    )


# -- decoding: bounded, outside any transaction ---------------------------------------------


@pytest.fixture()
def app_with(loaded_url: str, tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """Makes clients on apps with some settings changed (the photo folder under tmp_path)."""
    from api.app import create_app
    from service.settings import Settings

    made: list[tuple[Any, TestClient]] = []

    def make(**changes: Any) -> TestClient:
        folder = tmp_path / f"var{len(made)}"
        limits = Settings(database_url=loaded_url, var_dir=folder, report_rate=10_000, **changes)
        app = create_app(limits)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        made.append((app, client))
        return client

    yield make
    for app, client in made:
        client.__exit__(None, None, None)
        app.state.engine.dispose()


class HeldDecode:
    """Stands in for ``service.images.clean_photo``: each call says it started, then
    waits until the test lets it go (no sleeps, no timings), then cleans for real.

    ``hold`` calls are held (the rest pass straight through); ``check`` runs in the
    decoding thread, first thing.
    """

    def __init__(self, real: Callable[..., Any], hold: int, check: Callable[[], None]) -> None:
        self.real, self.hold, self.check = real, hold, check
        self.started = threading.Semaphore(0)
        self.go = threading.Event()
        self.calls = 0
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()

    def __call__(self, *args: Any) -> Any:
        with self._lock:
            self.calls += 1
            held = self.calls <= self.hold
        try:
            self.check()
        except BaseException as exc:  # reported by the test, not lost in a server thread
            self.errors.append(exc)
        if held:
            self.started.release()
            assert self.go.wait(timeout=120), "the test never let the decode go"
        return self.real(*args)

    def wait_started(self, count: int) -> None:
        for _ in range(count):
            assert self.started.acquire(timeout=60), "a decode never started"


def in_thread(fn: Callable[[], T]) -> tuple[threading.Thread, list[T]]:
    """Run ``fn`` on a thread of its own; its result lands in the list."""
    out: list[T] = []
    thread = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    thread.start()
    return thread, out


def test_decoding_holds_no_connection_and_reports_go_on_meanwhile(
    app_with: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    from service import images

    client = app_with()
    engine = client.app.state.engine  # type: ignore[attr-defined]
    held: list[int] = []
    decode = HeldDecode(images.clean_photo, 1, lambda: held.append(engine.pool.checkedout()))
    monkeypatch.setattr(images, "clean_photo", decode)
    case = report(client)
    data = encode(halves((1200, 900)))
    uploading, uploaded = in_thread(
        lambda: upload(client, case["id"], data, photo_token=case["photo_token"])
    )
    decode.wait_started(1)
    # while the photo decodes, a report is taken (on SQLite it needs the write lock)
    reporting, reported = in_thread(lambda: client.post("/api/v1/issues", json=GOOD))
    reporting.join(timeout=60)
    assert reported and reported[0].status_code == 201, "a report waited for a photo decode"
    decode.go.set()
    uploading.join(timeout=60)
    assert uploaded and uploaded[0].status_code == 201, uploaded
    assert held == [0], "the upload held a database connection while decoding"
    assert not decode.errors


def test_uploads_beyond_the_workers_and_queue_are_answered_503_with_retry_after(
    app_with: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    from service import images

    client = app_with(photo_workers=1, photo_queue=1, photo_wait_s=600)
    decode = HeldDecode(images.clean_photo, 3, lambda: None)
    monkeypatch.setattr(images, "clean_photo", decode)
    case = report(client)
    data = encode(halves((64, 48)))
    answers: queue.Queue[Any] = queue.Queue()

    def send() -> None:
        answers.put(upload(client, case["id"], data, photo_token=case["photo_token"]))

    threads = [threading.Thread(target=send, daemon=True) for _ in range(3)]
    for thread in threads:
        thread.start()
    # one decodes (held), one waits its turn, so the third is answered at once, whatever
    # the order they came in: nothing leaves the gate before the test lets it go
    decode.wait_started(1)
    busy = answers.get(timeout=60)
    assert busy.status_code == 503, busy.text
    assert int(busy.headers["Retry-After"]) >= 1
    assert busy.headers["content-type"] == "application/json"
    error = busy.json()["error"]
    assert error["code"] == "busy" and "try again" in error["message"]
    assert set(busy.json()) == {"error"} and "retry_after_s" not in error
    decode.go.set()
    for thread in threads:
        thread.join(timeout=60)
    rest = [answers.get_nowait() for _ in range(2)]
    assert [r.status_code for r in rest] == [201, 201]
    assert decode.calls == 2  # the refused upload was never decoded


def test_a_photo_that_loses_the_last_place_while_decoding_is_409_and_leaves_no_files(
    app_with: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    from service import images

    client = app_with(max_photos=1)
    limits = client.app.state.settings  # type: ignore[attr-defined]
    decode = HeldDecode(images.clean_photo, 1, lambda: None)
    monkeypatch.setattr(images, "clean_photo", decode)
    case = report(client)
    data = encode(halves((64, 48)))
    first, first_answer = in_thread(
        lambda: upload(client, case["id"], data, photo_token=case["photo_token"])
    )
    decode.wait_started(1)
    second = upload(client, case["id"], data, photo_token=case["photo_token"])
    assert second.status_code == 201, second.text  # it took the case's one place
    decode.go.set()
    first.join(timeout=60)
    refused(first_answer[0], 409, "too_many_photos")
    assert len(files_of(limits, case["id"])) == 2  # the second photo and its thumbnail


def test_a_failed_transaction_leaves_no_files(
    app_with: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch, loaded_url: str
) -> None:
    from service import issues
    from store import photos

    def record_then_fail(*args: Any) -> Any:
        photos.record_photo(*args)
        raise RuntimeError("the disk is full")

    client = app_with()
    limits = client.app.state.settings  # type: ignore[attr-defined]
    monkeypatch.setattr(issues, "record_photo", record_then_fail)
    case = report(client)
    response = upload(client, case["id"], encode(halves((64, 48))), photo_token=case["photo_token"])
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert files_of(limits, case["id"]) == []  # neither the files nor a partial one
    engine = make_engine(loaded_url)
    with Session(engine) as session:
        assert session.scalars(select(IssuePhoto)).all() == []
    engine.dispose()


def test_photos_are_stored_downscaled_to_the_longest_side(
    app_with: Callable[..., TestClient], tokens: dict[str, str]
) -> None:
    client = app_with(photo_max_side=640)
    case = report(client)
    for fmt, size in (("PNG", (1200, 800)), ("JPEG", (800, 1200)), ("WEBP", (900, 900))):
        response = upload(client, case["id"], encode(halves(size), fmt), staff=tokens["admin"])
        assert response.status_code == 201, response.text
        photo = response.json()
        expected = (
            (640, 427) if size[0] > size[1] else (427, 640) if size[0] < size[1] else (640, 640)
        )
        assert (photo["width"], photo["height"]) == expected
        stored = fetch(client, photo["url"], tokens["admin"])
        assert stored.format == fmt and stored.size == expected


def test_a_large_jpeg_is_decoded_at_reduced_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import JpegImagePlugin

    from service import images

    real_draft = JpegImagePlugin.JpegImageFile.draft
    drafts: list[tuple[Any, Any, tuple[int, int]]] = []

    def spy(self: Any, mode: Any, size: Any) -> Any:
        answer = real_draft(self, mode, size)
        drafts.append((mode, size, self.size))  # what was asked, and the size decoded
        return answer

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    data = encode(halves((4000, 3000)), "JPEG", exif=phone_exif(orientation=6))
    cleaned = images.clean_photo(data, 50_000_000, 1000)
    assert drafts[0] == ("RGB", (1000, 750), (1000, 750))  # libjpeg's 1/4 scale
    assert (cleaned.width, cleaned.height) == (750, 1000)  # and turned upright
    stored = Image.open(io.BytesIO(cleaned.data))
    assert stored.size == (750, 1000) and not stored.getexif()
    # a JPEG already within the stored size is decoded whole
    drafts.clear()
    images.clean_photo(encode(halves((800, 600)), "JPEG"), 50_000_000, 1000)
    assert all(decoded == (800, 600) for _, _, decoded in drafts)


def test_the_pixel_limit_applies_to_every_format_before_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from service import images

    loads: list[str] = []
    real_load = ImageFile.ImageFile.load

    def spy(self: Any) -> Any:
        loads.append(self.format)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    for fmt in ("JPEG", "PNG", "WEBP"):
        data = encode(halves((1200, 1000)), fmt)
        with pytest.raises(images.TooManyPixels, match="1200×1000"):
            images.clean_photo(data, 1_000_000, 2560)
    assert loads == []
    images.clean_photo(encode(halves((1000, 1000)), "PNG"), 1_000_000, 2560)  # just at it
    assert loads


# -- the gate itself ------------------------------------------------------------------------


def test_gate_refuses_at_once_when_its_queue_is_full() -> None:
    from service.errors import Unavailable
    from service.gate import Gate

    gate = Gate(workers=2, waiting=0, wait_s=30)
    with gate.slot(), gate.slot():
        with pytest.raises(Unavailable) as busy, gate.slot():
            pass
        assert busy.value.code == "busy"
        assert busy.value.extra["retry_after_s"] >= 1  # type: ignore[operator]
    with gate.slot():  # places come back
        pass


def test_gate_refuses_a_waiter_whose_wait_is_over() -> None:
    from service.errors import Unavailable
    from service.gate import Gate

    gate = Gate(workers=1, waiting=1, wait_s=0)  # the wait ends at once: no time passes
    with gate.slot(), pytest.raises(Unavailable, match="1 being processed"), gate.slot():
        pass
    with gate.slot():
        pass


def test_gate_lets_a_waiter_in_when_a_place_is_freed() -> None:
    from service.gate import Gate

    gate = Gate(workers=1, waiting=1, wait_s=120)
    inside = threading.Event()
    with gate.slot():
        waiter, done = in_thread(lambda: _enter_and_mark(gate, inside))
        assert not inside.is_set()
    waiter.join(timeout=60)
    assert done == [True]


def _enter_and_mark(gate: Any, inside: threading.Event) -> bool:
    with gate.slot():
        inside.set()
    return True


@pytest.mark.parametrize(("workers", "waiting", "wait_s"), [(0, 1, 1.0), (1, -1, 1.0), (1, 1, -1)])
def test_gate_refuses_settings_it_cannot_keep(workers: int, waiting: int, wait_s: float) -> None:
    from service.gate import Gate

    with pytest.raises(ValueError, match="workers >= 1"):
        Gate(workers, waiting, wait_s)


def test_gate_runs_the_work_on_a_thread_of_its_own_and_hands_back_its_outcome() -> None:
    from service.gate import Gate

    gate = Gate(workers=1, waiting=0, wait_s=0)
    caller = threading.get_ident()
    assert gate.run(lambda a, b: (a + b, threading.get_ident()), 2, 3)[0] == 5
    assert gate.run(threading.get_ident) != caller
    with pytest.raises(KeyError, match="lost"):
        gate.run({}.__getitem__, "lost")
    assert gate.run(str, 7) == "7"  # the place came back after the failure
