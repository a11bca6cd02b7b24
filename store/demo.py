"""A deterministic demo history for the sample community.

About 300 cases over the last 90 days, across every grid and category and in
every status, written through the same repository functions as real cases, so
that maps and indicators have something true to show.  One of them is the
世茂世界湾一期 stairwell case: escalated to the property management centre and
closed within 3 days.  The same ``now`` and seed always give the same history.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.lifecycle import Role, Status
from gis.index import AreaIndex
from store.issues import Actor, NewIssue, create_issue, transition
from store.layers import read_layer
from store.models import Category

SEED = 20200902
DAYS = 90
WORKER = Actor("演示网格员", Role.GRID_WORKER)
DISPATCHER = Actor("演示调度员", Role.DISPATCHER)
DESCRIPTIONS = {
    "city_appearance": "路边垃圾桶满溢，周边有散落垃圾",
    "street_order": "店外占道经营，行人需绕行",
    "public_facility": "路灯不亮，晚上很黑",
    "road_traffic": "人行道地砖松动翘起",
    "greenery": "绿化带树枝折断压在人行道上",
    "housing_land": "楼顶防水层破损，雨天渗水",
    "emergency": "电动车在楼道内充电冒烟",
    "advertising": "墙面乱贴小广告",
    "construction": "夜间施工噪音扰民",
    "waste_sorting": "垃圾投放点未分类，厨余垃圾混投",
    "safety_hazard": "电动车在楼道内充电，有火灾隐患",
    "stairwell_clutter": "楼道堆放杂物，堵塞消防通道",
    "neighbour_dispute": "楼上漏水与楼下邻居发生纠纷",
    "elder_care": "独居老人需要上门帮助",
    "parking": "车辆乱停占用消防通道",
    "merchant": "商户油烟排放影响居民",
}
SHIMAO_CASE = "世茂世界湾一期沿街楼道内堆放装修垃圾和旧家具，堵塞楼道"


def load_demo_cases(
    session: Session, now: datetime, file_limit: str = "2wd", count: int = 300
) -> int:
    """Write the demo history ending at ``now`` (naive UTC); returns the number of cases."""
    rng = np.random.default_rng(SEED)
    grids = read_layer(session, "grids")
    districts = read_layer(session, "districts")
    squads = read_layer(session, "squads")
    compounds = read_layer(session, "compounds")
    categories = list(session.scalars(select(Category).order_by(Category.code)))
    district_index = AreaIndex.from_frame(districts) if len(districts) else None
    handlers = {
        c.code: [
            str(s)
            for s, cats in zip(squads["id"], squads["categories"], strict=True)
            if c.code in str(cats)
        ]
        for c in categories
    }
    units = {c.code: c.unit for c in categories}

    start = now - timedelta(days=DAYS)
    shimao = compounds[compounds["name"] == "世茂世界湾一期"].geometry
    written = 0
    if len(shimao):
        _shimao_case(
            session,
            shimao.iloc[0].centroid,
            now - timedelta(days=85),
            grids,
            district_index,
            file_limit,
        )
        written += 1
    offsets = np.sort(rng.uniform(0, DAYS * 86400 - 3600, count - written))
    for i, offset in enumerate(offsets):
        grid = grids.iloc[i % len(grids)]
        category = categories[(i * 7) % len(categories)]
        point = _random_point(grid.geometry, rng)
        district = (
            district_index.codes_of([district_index.locate(point.x, point.y)])[0]
            if district_index
            else None
        )
        new = NewIssue(
            lon=point.x,
            lat=point.y,
            input_crs="wgs84",
            input_lon=point.x,
            input_lat=point.y,
            category=category.code,
            description=DESCRIPTIONS.get(category.code, category.name_zh),
            channel=str(rng.choice(["mobile", "mobile", "web", "patrol", "phone"])),
            grid_code=str(grid["code"]),
            district_code=district,
        )
        at = start + timedelta(seconds=float(offset))
        issue, _ = create_issue(session, new, at, file_limit)
        _play(
            session,
            issue.id,
            at,
            now,
            rng,
            handlers.get(category.code) or ["SQ1"],
            units.get(category.code) or "U01",
        )
        written += 1
    return written


def _random_point(polygon: shapely.Geometry, rng: np.random.Generator) -> shapely.Point:
    minx, miny, maxx, maxy = polygon.bounds
    while True:
        p = shapely.Point(round(rng.uniform(minx, maxx), 7), round(rng.uniform(miny, maxy), 7))
        if polygon.contains(p):
            return p


def _play(
    session: Session,
    issue_id: int,
    at: datetime,
    now: datetime,
    rng: np.random.Generator,
    squads: list[str],
    unit: str,
) -> None:
    """Move one case along its life until the next step would lie in the future."""
    roll = rng.random()
    steps: list[tuple[float, Status, Actor, dict[str, str | None]]]
    if roll < 0.05:
        steps = [(rng.uniform(1, 30), Status.REJECTED, WORKER, {"note": "经核实不属于社区事项"})]
    elif roll < 0.09 and issue_id > 1:
        steps = [
            (rng.uniform(1, 10), Status.DUPLICATE, WORKER, {"duplicate_of": str(issue_id - 1)})
        ]
    else:
        squad = str(rng.choice(squads))
        steps = [(rng.uniform(1, 40), Status.FILED, WORKER, {})]
        if rng.random() < 0.12:
            steps += [
                (
                    rng.uniform(2, 24),
                    Status.ESCALATED,
                    DISPATCHER,
                    {"department": unit, "note": "书记面对面：提交共建单位处理"},
                ),
                (
                    rng.uniform(24, 400),
                    Status.RESOLVED,
                    DISPATCHER,
                    {"response": "共建单位已处理完毕"},
                ),
            ]
        else:
            steps += [
                (rng.uniform(0.5, 12), Status.DISPATCHED, DISPATCHER, {"squad": squad}),
                (rng.uniform(0.5, 24), Status.IN_PROGRESS, WORKER, {}),
                (rng.uniform(2, 150), Status.RESOLVED, WORKER, {"note": "已处理"}),
            ]
            if rng.random() < 0.12:
                steps += [
                    (rng.uniform(1, 24), Status.IN_PROGRESS, WORKER, {"note": "核查未通过，返工"}),
                    (rng.uniform(2, 48), Status.RESOLVED, WORKER, {"note": "返工完成"}),
                ]
        steps += [(rng.uniform(1, 48), Status.CLOSED, WORKER, {"note": "核查通过，结案"})]
    for hours, target, actor, fields in steps:
        at += timedelta(hours=float(hours))
        if at >= now:
            return
        transition(session, issue_id, target, actor, at, fields)


def _shimao_case(
    session: Session,
    point: shapely.Point,
    at: datetime,
    grids: gpd.GeoDataFrame,
    district_index: AreaIndex | None,
    file_limit: str,
) -> None:
    grid_index = AreaIndex.from_frame(grids)
    grid = grid_index.codes_of([grid_index.locate(point.x, point.y)])[0]
    district = (
        district_index.codes_of([district_index.locate(point.x, point.y)])[0]
        if district_index
        else None
    )
    lon, lat = round(point.x, 7), round(point.y, 7)
    new = NewIssue(
        lon=lon,
        lat=lat,
        input_crs="wgs84",
        input_lon=lon,
        input_lat=lat,
        category="stairwell_clutter",
        description=SHIMAO_CASE,
        channel="patrol",
        grid_code=str(grid),
        district_code=district,
    )
    issue, _ = create_issue(session, new, at, file_limit, WORKER)
    steps: list[tuple[float, Status, Actor, dict[str, str | None]]] = [
        (2, Status.FILED, WORKER, {}),
        (
            1,
            Status.ESCALATED,
            DISPATCHER,
            {"department": "U01", "deadline": "3d", "note": "书记面对面：与物管中心联合整治"},
        ),
        (58, Status.RESOLVED, DISPATCHER, {"response": "物管中心联合社区清理完毕，楼道恢复畅通"}),
        (6, Status.CLOSED, WORKER, {"note": "现场核查通过"}),
    ]
    for hours, target, actor, fields in steps:
        at += timedelta(hours=hours)
        transition(session, issue.id, target, actor, at, fields)
