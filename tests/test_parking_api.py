"""The parking planning API on the sample community, on SQLite and PostGIS."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pytest

from gis.crs import wgs84_to_gcj02
from gis.network import WalkingNetwork
from gis.parking import ParkingQuestion, analyse
from tests.helpers import DATA, auth

URL = "/api/v1/parking/coverage"
INSIDE = (121.8330, 29.8935)  # beside 黄山豪庭, in the community
OUTSIDE = (121.8600, 29.8935)  # about 2.5 km east


def _get(api: Any, token: str, **params: Any) -> Any:
    return api.get(URL, params=params, headers=auth(token))


def test_planners_only(api: Any, tokens: dict[str, str]) -> None:
    assert api.get(URL).status_code == 401
    assert _get(api, tokens["dispatcher"]).status_code == 403
    for role in ("planner", "manager", "admin"):
        assert _get(api, tokens[role]).status_code == 200


def test_figures_match_the_analysis_of_the_sample_files(api: Any, tokens: dict[str, str]) -> None:
    body = _get(api, tokens["planner"], radius_m=300, scenario="planned").json()
    files = {n: gpd.read_file(DATA / f"{n}.geojson") for n in ("buildings", "parking", "streets")}
    direct = analyse(
        WalkingNetwork.from_frame(files["streets"]),
        files["buildings"],
        files["parking"],
        ParkingQuestion(scenario="planned"),
    )
    for name in ("households_covered_share", "smart_covered_share", "spaces_per_demand"):
        assert body["figures"][name] == pytest.approx(direct.after.figures[name], abs=1e-6)
        assert body["before"][name] == pytest.approx(direct.before.figures[name], abs=1e-6)
    layers = body["layers"]
    assert len(layers["covered"]["features"]) + len(layers["uncovered"]["features"]) == 260
    assert layers["covered"]["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert {f["properties"]["distance_m"] for f in layers["service_areas"]["features"]} == {
        150,
        300,
        500,
    }
    assert len(body["curve"]["radius_m"]) == 15 and body["curve"]["radius_m"][0] == 100


def test_the_planned_lot_radius_and_mode_change_the_figures(
    api: Any, tokens: dict[str, str]
) -> None:
    t = tokens["planner"]
    now = _get(api, t).json()
    planned = _get(api, t, scenario="planned").json()
    ids = lambda b: {f["properties"]["id"] for f in b["layers"]["facilities"]["features"]}  # noqa: E731
    assert "P03" not in ids(now) and "P03" in ids(planned)
    assert (
        planned["figures"]["households_covered_share"] > now["figures"]["households_covered_share"]
    )
    assert planned["before"] == now["figures"]
    wider = _get(api, t, radius_m=500).json()["figures"]
    assert wider["households_covered_share"] > now["figures"]["households_covered_share"]
    straight = _get(api, t, mode="straight_line").json()["figures"]
    assert straight["households_covered_share"] > now["figures"]["households_covered_share"]


def test_what_if_removes_and_adds(api: Any, tokens: dict[str, str]) -> None:
    t = tokens["planner"]
    without = _get(api, t, remove="P01,P02").json()
    names = {f["properties"]["id"] for f in without["layers"]["facilities"]["features"]}
    assert not names & {"P01", "P02"} and without["removed"] == ["P01", "P02"]
    lon, lat = (float(v) for v in wgs84_to_gcj02(*INSIDE))
    added = _get(api, t, add=f"{lon},{lat},80,smart", crs="gcj02").json()
    new = [f for f in added["layers"]["facilities"]["features"] if f["properties"]["id"] == "NEW1"]
    assert new and new[0]["properties"]["smart"] is True
    assert new[0]["geometry"]["coordinates"] == pytest.approx(list(INSIDE), abs=1e-5)


@pytest.mark.parametrize(
    ("params", "code", "words"),
    [
        ({"remove": "P99"}, "bad_parking_question", "no parking facility 'P99' to remove"),
        ({"add": f"{OUTSIDE[0]},{OUTSIDE[1]},50"}, "outside_community", "m outside"),
        ({"add": "121.83,29.89"}, "bad_added_facility", "'lon,lat,capacity'"),
        ({"add": "521.83,29.89,5"}, "coordinate_out_of_range", "521.83"),
        ({"mode": "drive"}, "bad_mode", "'drive'"),
        ({"scenario": "dream"}, "bad_scenario", "'dream'"),
        ({"radius_m": 5000}, None, "radius_m"),
        ({"radius_m": 0}, None, "radius_m"),
    ],
)
def test_bad_questions_get_a_clear_422(
    api: Any, tokens: dict[str, str], params: dict[str, Any], code: str | None, words: str
) -> None:
    r = _get(api, tokens["planner"], **params)
    assert r.status_code == 422
    error = r.json()["error"]
    if code:
        assert error["code"] == code
    assert words in str(error)


def test_suggested_sites_raise_coverage(api: Any, tokens: dict[str, str]) -> None:
    body = _get(api, tokens["planner"], suggest=2).json()
    sites = body["layers"]["suggested_sites"]["features"]
    assert len(sites) == 2 and all(s["properties"]["new_households"] > 0 for s in sites)
    s = body["suggestion"]
    assert s["problem"] == "mclp"
    assert s["households_covered_share_before"] == pytest.approx(
        body["figures"]["households_covered_share"], abs=1e-6
    )
    assert s["households_covered_share_after"] > s["households_covered_share_before"]


def test_sites_endpoint_chooses_among_drawn_candidates(api: Any, tokens: dict[str, str]) -> None:
    # one candidate far from homes' gaps (next to an existing lot), one in the west
    drawn = [
        {"id": "near-P01", "lon": 121.83325, "lat": 29.8946},
        {"id": "west", "lon": 121.8245, "lat": 29.8949},
    ]
    r = api.post(
        "/api/v1/parking/sites",
        json={"candidates": drawn, "p": 1, "problem": "both"},
        headers=auth(tokens["planner"]),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["candidates"] == 2
    mclp = body["mclp"]
    assert [f["properties"]["id"] for f in mclp["sites"]["features"]] == ["west"]
    assert mclp["households_covered_share_after"] > mclp["households_covered_share_before"]
    lscp = body["lscp"]
    assert lscp["problem"] == "lscp" and lscp["unreachable_households"] > 0
    generated = api.post(
        "/api/v1/parking/sites",
        json={"p": 1, "problem": "mclp", "spacing_m": 200},
        headers=auth(tokens["planner"]),
    ).json()
    assert generated["candidates"] > 50 and len(generated["mclp"]["sites"]["features"]) == 1


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ({"candidates": [{"lon": OUTSIDE[0], "lat": OUTSIDE[1]}]}, "outside_community", "outside"),
        ({"candidates": [{"lon": INSIDE[0], "lat": INSIDE[1]}], "p": 2}, None, "cannot choose 2"),
        ({"spacing_m": 5}, None, "spacing_m"),
        ({"candidates": []}, "no_candidates", "no candidate"),
    ],
)
def test_bad_site_requests_get_a_clear_422(
    api: Any, tokens: dict[str, str], body: dict[str, Any], code: str | None, words: str
) -> None:
    r = api.post("/api/v1/parking/sites", json=body, headers=auth(tokens["planner"]))
    assert r.status_code == 422
    if code:
        assert r.json()["error"]["code"] == code
    assert words in str(r.json()["error"])


def test_too_many_generated_candidates_ask_for_a_wider_spacing(
    api: Any, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from service import parking

    monkeypatch.setattr(parking, "MAX_CANDIDATES", 100)
    r = api.post("/api/v1/parking/sites", json={"spacing_m": 50}, headers=auth(tokens["planner"]))
    assert r.status_code == 422 and r.json()["error"]["code"] == "too_many_candidates"
    assert "at most 100 can be weighed, so use a wider spacing" in r.json()["error"]["message"]
