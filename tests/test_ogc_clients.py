"""OGC API – Features read by real clients against a running server, on both backends.

GDAL's OAPIF driver (through pyogrio) runs in a child process: pyogrio holds the GIL
while GDAL fetches pages, and the server under test answers from a thread of this
process, so in one process the two would wait for each other forever.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from sqlalchemy.orm import Session

from service.catalogue import PUBLIC_LAYERS
from store.db import make_engine
from tests.helpers import MORNING

GDAL_READ = """
import json, sys
import pyogrio
source = "OAPIF:" + sys.argv[1] + "/ogc"
out = {}
for name, kind in pyogrio.list_layers(source):
    frame = pyogrio.read_dataframe(source, layer=name)
    out[str(name)] = {"count": len(frame), "columns": list(frame.columns), "kind": str(kind),
                      "crs": frame.crs.to_string() if frame.crs is not None else None,
                      "bounds": [float(v) for v in frame.total_bounds]}
print(json.dumps(out))
"""


@pytest.fixture()
def demo_server(loaded_url: str, live_server: str) -> str:
    """A running server over the sample with the 300 demo cases."""
    from store.demo import load_demo_cases

    engine = make_engine(loaded_url)
    with Session(engine) as session, session.begin():
        assert load_demo_cases(session, MORNING) == 300
    engine.dispose()
    return live_server


def test_gdal_lists_and_reads_every_collection(demo_server: str) -> None:
    import requests

    done = subprocess.run(
        [sys.executable, "-c", GDAL_READ, demo_server],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    read: dict[str, Any] = json.loads(done.stdout)
    assert list(read) == [*PUBLIC_LAYERS, "cases"]
    listing = requests.get(f"{demo_server}/ogc/collections", timeout=30).json()["collections"]
    for collection in listing:
        name = collection["id"]
        got = read[name]
        assert got["count"] == collection["count"], name
        assert got["crs"] == "OGC:CRS84", name
        sample = requests.get(
            f"{demo_server}/ogc/collections/{name}/items?limit=1", timeout=30
        ).json()["features"][0]["properties"]
        assert set(sample) <= set(got["columns"]), (name, set(sample) - set(got["columns"]))
        (box,) = collection["extent"]["spatial"]["bbox"]
        assert got["bounds"] == pytest.approx(box, abs=1e-9), name
    assert read["cases"]["count"] == 300
    assert {"grid_code", "grid_name", "category_code", "category_name"} <= set(
        read["cases"]["columns"]
    )
    assert "reporter_phone" not in read["cases"]["columns"]
    assert read["streets"]["kind"] == "LineString" and read["cases"]["kind"] == "Point"


def test_owslib_reads_collections_items_by_bbox_and_pages_to_the_end(demo_server: str) -> None:
    from owslib.ogcapi.features import Features

    api = Features(f"{demo_server}/ogc")
    ids = [c["id"] for c in api.collections()["collections"]]
    assert ids == [*PUBLIC_LAYERS, "cases"]
    assert (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
        in (api.conformance()["conformsTo"])
    )
    assert api.collection("cases")["extent"]["temporal"]["interval"]
    box = [121.83, 29.89, 121.84, 29.895]
    page = api.collection_items("cases", bbox=box, limit=5)
    assert page["numberReturned"] == len(page["features"]) == 5
    for feature in page["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert box[0] <= lon <= box[2] and box[1] <= lat <= box[3]
    seen: list[int] = []
    offset = 0
    while True:  # OWSLib pages by offset, as the next links do
        page = api.collection_items("cases", limit=64, offset=offset)
        seen += [f["id"] for f in page["features"]]
        if not any(link["rel"] == "next" for link in page["links"]):
            break
        offset += page["numberReturned"]
    assert len(seen) == 300 == len(set(seen)) == page["numberMatched"]
    one = api.collection_item("grids", "330206002016001")
    assert one["properties"]["code"] == "330206002016001"
    assert api.collection_queryables("cases")["properties"]["status"]["type"] == "string"
