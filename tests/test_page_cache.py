"""The managers' map page is rendered once per version of the layers and key, and kept.

Every answer carries its own nonce on an otherwise identical page; loading a layer or a
community shows on the next request; languages are kept apart; cases, which the page
never holds, and who asks never change it.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.page_cache import PageCache
from tests.helpers import GOOD_REPORT, auth

NONCE_ATTR = re.compile(r' nonce="([^"]+)"')


def _body(html: str) -> str:
    """The page less its nonces."""
    return NONCE_ATTR.sub(' nonce=""', html)


def _nonces(html: str) -> set[str]:
    return set(NONCE_ATTR.findall(html))


def test_each_answer_has_its_own_nonce_on_the_one_rendered_page(api: TestClient) -> None:
    first, second = api.get("/"), api.get("/")
    assert first.status_code == second.status_code == 200
    one, two = _nonces(first.text), _nonces(second.text)
    assert len(one) == len(two) == 1 and one != two
    # the nonce of the page's scripts is the one its policy allows
    for answer, nonce in ((first, one), (second, two)):
        assert f"'nonce-{nonce.pop()}'" in answer.headers["content-security-policy"]
    assert _body(first.text) == _body(second.text)
    assert api.app.state.pages.renders == 1  # type: ignore[attr-defined]


def test_two_languages_are_kept_apart(api: TestClient) -> None:
    zh, en, zh_again = (api.get("/", params={"lang": lang}).text for lang in ("zh", "en", "zh"))
    assert '<html lang="zh">' in zh and '<html lang="en">' in en
    assert _body(zh) == _body(zh_again) != _body(en)
    # Accept-Language picks the same words, but links leave the language to the browser
    accepted = api.get("/", headers={"Accept-Language": "en"}).text
    assert '<html lang="en">' in accepted
    assert api.app.state.pages.renders == 3  # type: ignore[attr-defined]


def test_new_cases_and_signed_in_staff_get_the_same_page(
    api: TestClient, tokens: dict[str, str]
) -> None:
    before = api.get("/").text
    assert api.post("/api/v1/issues", json=GOOD_REPORT).status_code == 201
    staff = api.get("/", headers=auth(tokens["manager"])).text
    assert _body(staff) == _body(before)
    assert api.app.state.pages.renders == 1  # type: ignore[attr-defined]


def test_loading_a_layer_shows_on_the_next_request(
    api: TestClient, sample_dir: Path, loaded_url: str
) -> None:
    from store.db import make_engine
    from store.load import load_folder

    assert "新开的小店" not in api.get("/").text
    path = sample_dir / "merchants.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["features"][0]["properties"]["name"] = "新开的小店"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    engine = make_engine(loaded_url)
    assert load_folder(engine, sample_dir).ok
    engine.dispose()
    assert "新开的小店" in api.get("/").text


def test_loading_a_community_shows_on_the_next_request(
    api: TestClient, tmp_path: Path, loaded_url: str
) -> None:
    from store.db import make_engine
    from store.load import load_folder
    from tests.helpers import GAOTANG_CODE, GAOTANG_NAME, neighbour_community

    assert "gridgovArea" not in api.get("/").text  # Lingxiao's own map
    folder = neighbour_community(tmp_path / "gaotang", GAOTANG_CODE, GAOTANG_NAME, 0.05, "GT-")
    engine = make_engine(loaded_url)
    assert load_folder(engine, folder).ok
    engine.dispose()
    street = api.get("/").text  # now the street's overview of both
    assert "gridgovArea" in street and GAOTANG_NAME in street


@pytest.mark.parametrize("kept", [0, 2])
def test_the_cache_is_bounded_and_may_be_switched_off(kept: int) -> None:
    cache = PageCache(kept)
    for key in ("a", "b", "c", "a"):
        assert cache.get(1, key, lambda key=key: f"page {key}") == f"page {key}"
    assert len(cache) == kept
    assert cache.renders == 4  # kept=2: "a" was dropped to make room for "c"
    if kept:
        assert cache.get(1, "c", lambda: "again") == "page c"
        assert cache.get(2, "c", lambda: "new layers") == "new layers"
        assert len(cache) == 1


def test_a_failed_rendering_keeps_nothing() -> None:
    cache = PageCache(4)

    def fail() -> str:
        raise RuntimeError("no grids")

    with pytest.raises(RuntimeError):
        cache.get(1, "a", fail)
    assert len(cache) == 0 and cache.get(1, "a", lambda: "page") == "page"


def test_a_kept_page_is_compressed_once_and_answered_with_each_nonce() -> None:
    from api.kept_page import KeptPage
    from layers.page import NONCE_SLOT, with_nonce

    html = "<html><script>var a = 1;</script>地图 " * 50 + "<script src='/b.js'></script></html>"
    kept = KeptPage.of(with_nonce(html, NONCE_SLOT))
    for nonce in ("abc", "Zm9v+/==", "x" * 40):
        expected = with_nonce(html, nonce).encode()
        assert kept.text(nonce) == expected
        assert gzip.decompress(kept.gzipped(nonce)) == expected
    with pytest.raises(ValueError, match="base64"):
        kept.gzipped('x" onload="alert(1)')


def test_the_page_is_answered_compressed_or_not(api: TestClient) -> None:
    plain = api.get("/", headers={"Accept-Encoding": "identity"})
    packed = api.get("/", headers={"Accept-Encoding": "gzip, deflate"})
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert len(packed.content) > 0 and _body(packed.text) == _body(plain.text)


def test_every_load_and_unload_moves_the_layers_version(loaded_url: str, sample_dir: Path) -> None:
    """Even a reload of the same layers (as many features, SQLite may reuse their ids)."""
    from sqlalchemy.orm import Session

    from service.community import layers_stamp
    from store.communities import unload_community
    from store.db import make_engine
    from store.load import load_folder

    engine = make_engine(loaded_url)
    with Session(engine) as session:
        before = layers_stamp(session)
    assert load_folder(engine, sample_dir).ok
    with Session(engine) as session:
        reloaded = layers_stamp(session)
    with Session(engine) as session, session.begin():
        unload_community(session, "330206002016", force=True)
    with Session(engine) as session:
        unloaded = layers_stamp(session)
    engine.dispose()
    assert reloaded[1] == before[1] and reloaded[0] > before[0]
    assert unloaded[0] > reloaded[0] and unloaded[1] < reloaded[1]
