"""Generate the illustrative Lingxiao sample dataset.

Run ``python data/generate.py [OUT_DIR]`` (default: this folder).  The output is
deterministic: the same code writes byte-identical files, and the test suite
checks that the committed files are what this script writes.

Everything here is illustrative.  Landmark positions (the District People's
Hospital, Yintai City, Fubang Plaza, the Phoenix cluster, Morgan International,
Global Oriental Port City) are taken from OpenStreetMap (© OpenStreetMap
contributors, ODbL 1.0); the boundary, grids, roads' exact geometry, compounds,
merchants, squads and members are invented around them.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon, box, mapping

SEED = 20211126
COMMUNITY_CODE = "330206002016"
PRECISION = 7  # decimal degrees, about 1 cm

# --- layout (lon, lat) -------------------------------------------------------
W, E_N, E_S, S = 121.8220, 121.8462, 121.8459, 29.8885
N_W, N_MID, N_E = 29.8998, 29.8996, 29.8998
X_TAIHE, X_MINGZHOU, X_MINSHAN = 121.8298, 121.8345, 121.8418
Y_HUANGSHAN, Y_LUSHAN = 29.8928, 29.8958
SW_CUT_Y = 29.8912

BOUNDARY = Polygon(
    [
        (W, SW_CUT_Y),
        (X_TAIHE, SW_CUT_Y),
        (X_TAIHE, S),
        (X_MINSHAN, S),
        (X_MINSHAN, Y_HUANGSHAN),
        (E_S, Y_HUANGSHAN),
        (E_N, N_E),
        (121.8345, N_MID),
        (W, N_W),
    ]
)

# A road or lane: (name, kind, coordinates).
Road = tuple[str, str, list[tuple[float, float]]]

# Roads and lanes that cut the community into grids.
ROADS: list[Road] = [
    ("太河路", "primary", [(X_TAIHE, S - 0.0004), (X_TAIHE, N_W + 0.0004)]),
    ("明州路", "primary", [(X_MINGZHOU, S - 0.0004), (X_MINGZHOU, N_MID + 0.0004)]),
    ("岷山路", "primary", [(X_MINSHAN, S - 0.0004), (X_MINSHAN, N_E + 0.0004)]),
    ("黄山路", "primary", [(X_TAIHE, Y_HUANGSHAN), (E_S + 0.0004, Y_HUANGSHAN)]),
    ("庐山中路", "primary", [(W - 0.0004, Y_LUSHAN), (121.8375, Y_LUSHAN)]),
    ("庐山东路", "primary", [(X_MINSHAN, Y_LUSHAN), (E_N + 0.0004, Y_LUSHAN)]),
    ("长江路", "primary", [(W, N_W), (121.8345, N_MID), (E_N, N_E)]),
    ("新大路", "primary", [(X_TAIHE - 0.0004, S), (X_MINSHAN + 0.0004, S)]),
    ("银泰西侧支路", "lane", [(121.8252, Y_LUSHAN), (121.8252, N_W + 0.0004)]),
    ("环球支路", "lane", [(121.8260, SW_CUT_Y), (121.8260, Y_LUSHAN)]),
    ("凌霄北弄", "lane", [(X_TAIHE, 29.8978), (X_MINGZHOU, 29.8978)]),
    ("凌霄中弄", "lane", [(121.8320, S), (121.8320, N_W + 0.0004)]),
    ("富邦西侧支路", "lane", [(121.8375, Y_HUANGSHAN), (121.8375, N_W + 0.0004)]),
    ("港城支路", "lane", [(W, 29.8938), (121.8260, 29.8938)]),
    ("凌霄南弄", "lane", [(X_TAIHE, 29.8906), (X_MINGZHOU, 29.8906)]),
    ("世茂东侧支路", "lane", [(121.8440, Y_HUANGSHAN), (121.8440, Y_LUSHAN)]),
    ("西环支路", "lane", [(W, SW_CUT_Y), (W, N_W)]),
    ("东环支路", "lane", [(E_S, Y_HUANGSHAN), (E_N, N_E)]),
    ("南环支路", "lane", [(W, SW_CUT_Y), (X_TAIHE, SW_CUT_Y)]),
]

# Grids in code order: west to east within a row, rows north to south (a row is
# the grids sharing a northern edge).  (seed point, kind, dedicated_to)
GRID_SEEDS: list[tuple[tuple[float, float], str, str | None]] = [
    ((121.8240, 29.8980), "general", None),
    ((121.8270, 29.8980), "dedicated", "北仑银泰城"),
    ((121.8310, 29.8988), "general", None),
    ((121.8332, 29.8988), "general", None),
    ((121.8360, 29.8980), "general", None),
    ((121.8395, 29.8960), "dedicated", "富邦商业广场"),
    ((121.8440, 29.8980), "dedicated", "凤凰城堡、北仑凤凰金融中心"),
    ((121.8310, 29.8968), "general", None),
    ((121.8332, 29.8968), "general", None),
    ((121.8240, 29.8948), "general", None),
    ((121.8280, 29.8940), "general", None),
    ((121.8310, 29.8943), "general", None),
    ((121.8332, 29.8943), "general", None),
    ((121.8360, 29.8943), "general", None),
    ((121.8430, 29.8943), "general", None),
    ((121.8450, 29.8943), "general", None),
    ((121.8240, 29.8925), "general", None),
    ((121.8310, 29.8917), "general", None),
    ((121.8332, 29.8917), "general", None),
    ((121.8380, 29.8905), "dedicated", "北仑区人民医院、北仑区医疗中心"),
    ((121.8310, 29.8895), "general", None),
    ((121.8332, 29.8895), "general", None),
]

DISTRICTS = [
    (
        "BD01",
        "凌霄西商圈",
        "West business district (Yintai, Morgan, Port City)",
        box(121.8220, 29.8918, 121.8298, 29.8990),
    ),
    (
        "BD02",
        "凌霄东商圈",
        "East business district (Fubang, Phoenix)",
        box(121.8375, 29.8935, 121.8459, 29.8994),
    ),
]

CN_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """Write 1..99 in Chinese numerals, as grid names do (第十二网格)."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return CN_DIGITS[ones]
    head = "" if tens == 1 else CN_DIGITS[tens]
    return head + "十" + (CN_DIGITS[ones] if ones else "")


def rounded(geom: shapely.Geometry) -> shapely.Geometry:
    """Round coordinates to the written precision, in canonical vertex order."""
    return shapely.normalize(shapely.set_precision(geom, 10.0**-PRECISION))


def build_grids() -> list[Polygon]:
    """Cut the community into faces along its roads and lanes, in code order."""
    lines = [LineString(c) for _, _, c in ROADS] + [BOUNDARY.exterior]
    noded = shapely.union_all(lines)
    faces = [
        f
        for f in shapely.get_parts(shapely.polygonize([noded]))
        if BOUNDARY.contains(f.representative_point())
    ]
    ordered = []
    for (x, y), _, _ in GRID_SEEDS:
        hits = [f for f in faces if f.contains(Point(x, y))]
        if len(hits) != 1:
            raise RuntimeError(f"seed {(x, y)} hits {len(hits)} faces")
        ordered.append(rounded(hits[0]))
    if len(ordered) != len(faces):
        raise RuntimeError(f"{len(faces)} faces but {len(ordered)} seeds")
    return ordered


def feature(geom: shapely.Geometry, props: dict) -> dict:
    return {"type": "Feature", "properties": props, "geometry": mapping(geom)}


def write_geojson(path: Path, features: list[dict], name: str) -> None:
    """Write a FeatureCollection with one feature per line, for readable diffs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    head = {"type": "FeatureCollection", "name": name}
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    body = ",\n".join(lines)
    text = json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n' + body + "\n]}\n"
    path.write_text(text, encoding="utf-8")


def rand_point_in(poly: Polygon, rng: np.random.Generator, margin: float = 0.00008) -> Point:
    inner = poly.buffer(-margin)
    minx, miny, maxx, maxy = inner.bounds
    while True:
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if inner.contains(p):
            return rounded(p)


def compound_boxes(grid: Polygon, n: int) -> list[Polygon]:
    """Split a grid's inset bounding box into n side-by-side compounds."""
    minx, miny, maxx, maxy = grid.buffer(-0.00018).bounds
    xs = np.linspace(minx, maxx, n + 1)
    gap = 0.00006 if n > 1 else 0.0
    return [box(xs[i] + gap, miny, xs[i + 1] - gap, maxy) for i in range(n)]


def buildings_in(compound: Polygon) -> list[Polygon]:
    """Rows of south-facing slab blocks, about 14 m x 50 m, 36 m apart."""
    minx, miny, maxx, maxy = compound.bounds
    w, h = 0.00052, 0.000126  # ~50 m, ~14 m
    out = []
    y = miny + 0.00008
    while y + h <= maxy - 0.00006:
        x = minx + 0.00008
        while x + w <= maxx - 0.00006:
            out.append(rounded(box(x, y, x + w, y + h)))
            x += w + 0.00022
        y += h + 0.00032
    return out


# Compounds the reference names, placed by grid number: 黄山豪庭 by 黄山路 and
# 明州路, the two phases of 世茂世界湾 side by side next to the Phoenix cluster.
NAMED_COMPOUNDS = {13: "黄山豪庭", 15: "世茂世界湾二期", 16: "世茂世界湾一期"}
COMPOUND_NAMES = [
    "银港花苑",
    "明州新村",
    "凌霄花园",
    "太河小区",
    "长江公寓",
    "庐山新村",
    "港城佳苑",
    "摩根公寓",
    "新碶人家",
    "明港苑",
    "岷山新村",
    "凌霄东苑",
    "西环小区",
    "凌霄南苑",
    "泰河新村",
    "北仑人家",
    "海晏小区",
    "九峰苑",
    "锦绣港城",
    "阳光小区",
    "港湾花园",
    "银杏苑",
    "东岸公寓",
    "红帆小区",
    "甬港新村",
]


def split_evenly(total: int, n: int) -> list[int]:
    """``total`` as ``n`` whole parts that differ by at most one, the larger first."""
    return [total // n + (1 if i < total % n else 0) for i in range(n)]


def compound_features(
    cid: str,
    name: str,
    grid_code: str,
    outline: Polygon,
    blds: list[Polygon],
    households: int,
    rng: np.random.Generator,
) -> tuple[dict, list[dict]]:
    """One compound's feature and its buildings', the households shared among them.

    Shared by the Lingxiao sample and the synthetic street (``street.py``), so
    that both write compounds and buildings with the same attributes.
    """
    per = split_evenly(households, len(blds))
    compound = feature(
        rounded(outline),
        {
            "id": cid,
            "name": name,
            "grid": grid_code,
            "households": int(households),
            "buildings": len(blds),
        },
    )
    buildings = [
        feature(
            b,
            {
                "id": f"{cid}-B{i + 1:02d}",
                "compound": cid,
                "name": f"{name}{i + 1}幢",
                "households": int(n_hh),
                "floors": int(rng.integers(6, 19)),
            },
        )
        for i, (b, n_hh) in enumerate(zip(blds, per, strict=True))
    ]
    return compound, buildings


def build_compounds(
    grids: list[Polygon], info: list[dict], rng: np.random.Generator
) -> tuple[list[tuple[dict, Polygon]], list[dict]]:
    """Lingxiao's compounds, one or two per general grid, and their buildings."""
    compounds: list[tuple[dict, Polygon]] = []
    buildings: list[dict] = []
    names = iter(COMPOUND_NAMES)
    for number, (grid, g) in enumerate(zip(grids, info, strict=True), 1):
        if g["kind"] != "general":
            continue
        n = 2 if grid.area > 1.1e-5 else 1
        split = split_evenly(g["households"], n)
        for k, (cbox, hh) in enumerate(zip(compound_boxes(grid, n), split, strict=True)):
            name = NAMED_COMPOUNDS[number] if k == 0 and number in NAMED_COMPOUNDS else next(names)
            cid = f"C{len(compounds) + 1:02d}"
            compound, blds = compound_features(
                cid, name, g["code"], cbox, buildings_in(cbox), hh, rng
            )
            compounds.append((compound, grid))
            buildings += blds
    return compounds, buildings


def build_streets(
    compounds: list[tuple[dict, Polygon]],
    roads: list[Road] = ROADS,
    boundary: Polygon = BOUNDARY,
) -> list[dict]:
    """Roads, lanes and compound paths, noded so that every crossing is a vertex.

    ``roads`` and ``boundary`` default to Lingxiao's; the synthetic street
    passes each community's own.
    """
    sources: list[tuple[str, str, LineString]] = [
        (name, kind, LineString(c)) for name, kind, c in roads
    ]
    for c, grid in compounds:
        minx, miny, maxx, _ = shapely.geometry.shape(c["geometry"]).bounds
        gy0, gy1 = grid.bounds[1] - 0.00002, grid.bounds[3] + 0.00002
        cx = round((minx + maxx) / 2, PRECISION)
        name = c["properties"]["name"] + "内部道路"
        sources.append((name, "path", LineString([(cx, gy0), (cx, gy1)])))
        sources.append((name, "path", LineString([(minx, miny), (maxx, miny)])))
    clipper = boundary.buffer(0.00002, join_style="mitre")
    lines = [shapely.intersection(ln, clipper) for _, _, ln in sources]
    noded = shapely.get_parts(shapely.union_all(lines))
    tree = shapely.STRtree(lines)
    out = []
    for seg in sorted((rounded(s) for s in noded), key=lambda s: s.wkb):
        mid = seg.interpolate(0.5, normalized=True)
        idx = int(tree.query_nearest(mid)[0])
        name, kind, _ = sources[idx]
        out.append(feature(seg, {"name": name or None, "kind": kind}))
    for i, f in enumerate(out):
        f["properties"] = {"id": f"S{i + 1:03d}", **f["properties"]}
    return out


MERCHANT_KINDS = {
    "food": (
        ["面馆", "馄饨店", "小吃店", "奶茶店", "烘焙坊", "快餐店", "海鲜排档"],
        "为80岁以上老人每月免费送餐一次",
    ),
    "retail": (["便利店", "水果店", "文具店", "超市", "母婴店"], "免费代收快递、借用雨伞"),
    "training": (
        ["书法培训", "英语培训", "舞蹈工作室", "围棋教室", "美术教室"],
        "每月一次免费公益课",
    ),
    "beauty": (["理发店", "美容院", "美甲店"], "为老人免费理发"),
    "pharmacy": (["大药房", "中医诊所"], "免费测量血压血糖"),
    "repairs": (["家电维修", "修鞋配钥匙", "手机维修", "自行车维修"], "免费小家电维修"),
    "services": (["干洗店", "照相馆", "打印店"], "免费打印复印政务材料"),
}
MERCHANT_PREFIX = [
    "阿福",
    "惠民",
    "海港",
    "明州",
    "金港",
    "东方",
    "新碶",
    "幸福",
    "红帆",
    "港城",
    "甬江",
    "小岛",
    "老街",
    "好邻居",
    "四季",
    "阳光",
]


# Where Lingxiao's merchants are: so many in each business district, the rest anywhere.
MERCHANT_PLACES: list[tuple[str | None, int]] = [("BD01", 52), ("BD02", 50), (None, 18)]


def build_merchants(
    rng: np.random.Generator,
    districts: list[tuple[str, str, str, Polygon]],
    community: Polygon,
    places: list[tuple[str | None, int]] = MERCHANT_PLACES,
) -> list[dict]:
    """Merchants with unique names, ``count`` of them per (district code or None) place."""
    kinds = list(MERCHANT_KINDS)
    weights = np.array([0.34, 0.2, 0.12, 0.12, 0.06, 0.08, 0.08])
    shapes = {code: geom for code, _, _, geom in districts}
    out: list[dict] = []
    seen: set[str] = set()
    for where, count in places:
        area = shapes[where] if where else community
        for _ in range(count):
            kind = kinds[int(rng.choice(len(kinds), p=weights))]
            shops, service = MERCHANT_KINDS[kind]
            while True:
                name = str(rng.choice(MERCHANT_PREFIX)) + str(rng.choice(shops))
                if name not in seen:
                    seen.add(name)
                    break
            partner = bool(rng.random() < 0.9)
            out.append(
                feature(
                    rand_point_in(area, rng),
                    {
                        "id": f"MER{len(out) + 1:03d}",
                        "name": name,
                        "category": kind,
                        "caring_partner": partner,
                        "free_service": service if partner else None,
                    },
                )
            )
    return out


CATEGORIES = [
    # code, zh, en, class, time limit (h hours, d days, wd working days), escalation unit
    ("city_appearance", "市容环境", "City appearance", "event", "7wd", "U06"),
    ("street_order", "街面秩序", "Street order", "event", "7wd", "U02"),
    ("public_facility", "公用设施", "Public facilities", "component", "7wd", "U07"),
    ("road_traffic", "道路交通", "Roads and traffic", "component", "7wd", "U04"),
    ("greenery", "园林绿化", "Parks and greenery", "component", "7wd", "U07"),
    ("housing_land", "房屋土地", "Housing and land", "component", "7wd", "U01"),
    ("emergency", "突发事件", "Emergency", "event", "24h", "U08"),
    ("advertising", "宣传广告", "Advertising and signs", "event", "7wd", "U02"),
    ("construction", "施工管理", "Construction", "event", "7wd", "U02"),
    ("waste_sorting", "垃圾分类", "Waste sorting", "community", "3d", "U01"),
    ("safety_hazard", "安全隐患", "Safety hazard", "community", "2d", "U08"),
    ("stairwell_clutter", "楼道堆物", "Stairwell clutter", "community", "3d", "U01"),
    ("neighbour_dispute", "邻里纠纷", "Neighbour dispute", "community", "7wd", "U01"),
    ("elder_care", "为老服务", "Elder care", "community", "2d", "U05"),
    ("parking", "停车", "Parking", "community", "7wd", "U04"),
    ("merchant", "商户经营", "Merchant business", "community", "7wd", "U03"),
]

SQUADS = [
    # id, zh, en, categories, duty, capacity, base, illustrative
    (
        "SQ1",
        "文明播客先锋队",
        "Civility broadcasters",
        ["advertising", "street_order", "city_appearance"],
        "08:00-20:00",
        8,
        (121.8355, 29.8950),
        False,
    ),
    (
        "SQ2",
        "安居卫士先锋队",
        "Safe-living guards",
        ["safety_hazard", "stairwell_clutter", "housing_land", "public_facility"],
        "07:00-22:00",
        10,
        (121.8310, 29.8960),
        False,
    ),
    (
        "SQ3",
        "环保使者先锋队",
        "Eco envoys",
        ["city_appearance", "greenery", "construction"],
        "08:00-18:00",
        8,
        (121.8240, 29.8935),
        False,
    ),
    (
        "SQ4",
        "分类达人先锋队",
        "Waste-sorting experts",
        ["waste_sorting", "city_appearance"],
        "06:30-20:30",
        10,
        (121.8430, 29.8935),
        False,
    ),
    (
        "SQ5",
        "应急先锋队",
        "Emergency vanguards",
        ["emergency", "safety_hazard", "road_traffic", "public_facility"],
        "00:00-24:00",
        6,
        (121.8345, 29.8928),
        False,
    ),
    (
        "SQ6",
        "为老服务先锋队",
        "Elder care",
        ["elder_care"],
        "08:00-20:00",
        12,
        (121.8380, 29.8925),
        True,
    ),
    (
        "SQ7",
        "邻里调解先锋队",
        "Neighbour mediation",
        ["neighbour_dispute", "parking"],
        "09:00-21:00",
        6,
        (121.8326, 29.8935),
        True,
    ),
    (
        "SQ8",
        "商户联络先锋队",
        "Merchant liaison",
        ["merchant", "advertising", "street_order", "stairwell_clutter"],
        "09:00-21:00",
        8,
        (121.8270, 29.8960),
        True,
    ),
]

UNITS = [
    (
        "U01",
        "物管中心",
        "Property management centre",
        (121.8448, 29.8932),
        ["housing_land", "waste_sorting", "stairwell_clutter", "neighbour_dispute"],
    ),
    (
        "U02",
        "城管执法中队",
        "City management enforcement squadron",
        (121.8300, 29.8890),
        ["street_order", "advertising", "construction"],
    ),
    ("U03", "市场监管所", "Market supervision office", (121.8290, 29.8955), ["merchant"]),
    (
        "U04",
        "交警中队",
        "Traffic police squadron",
        (121.8412, 29.8887),
        ["road_traffic", "parking"],
    ),
    ("U05", "区人民医院", "District People's Hospital", (121.838591, 29.890289), ["elder_care"]),
    ("U06", "环卫所", "Sanitation station", (121.8234, 29.8915), ["city_appearance"]),
    (
        "U07",
        "市政养护所",
        "Municipal maintenance office",
        (121.8350, 29.8886),
        ["public_facility", "greenery"],
    ),
    (
        "U08",
        "消防救援站",
        "Fire and rescue station",
        (121.8460, 29.8930),
        ["emergency", "safety_hazard"],
    ),
    ("U09", "供电所", "Power supply office", (121.8232, 29.8993), ["public_facility"]),
]

SERVICE_POINTS = [
    ("SP1", "红领驿站", "Red Collar station", "station", (121.8357, 29.8952), "00:00-24:00"),
    (
        "SP2",
        "凌霄社区党群服务中心",
        "Lingxiao community service centre",
        "office",
        (121.8360, 29.8934),
        "08:30-17:30",
    ),
    (
        "SP3",
        "世茂世界湾物管中心",
        "Shimao World Bay property centre",
        "property",
        (121.8452, 29.8932),
        "08:00-20:00",
    ),
    (
        "SP4",
        "北仑区人民医院",
        "Beilun District People's Hospital",
        "hospital",
        (121.838591, 29.890289),
        "00:00-24:00",
    ),
    ("SP5", "红领集市", "Red Collar market", "market", (121.8270, 29.8956), "周六 08:00-12:00"),
]

PARKING = [
    ("P01", "黄山豪庭地下车库", "garage", 420, False, "open", (121.83325, 29.8945)),
    ("P02", "黄山路路内泊位", "on_street", 60, True, "open", (121.8330, 29.89288)),
    ("P03", "黄山豪庭智慧停车场", "lot", 180, True, "planned", (121.8333, 29.8920)),
    ("P04", "明州路公共停车场", "lot", 120, False, "open", (121.8349, 29.8950)),
    ("P05", "党群服务中心停车场", "lot", 40, False, "open", (121.8362, 29.8930)),
    ("P06", "庐山中路智慧停车场", "lot", 150, True, "open", (121.8312, 29.8961)),
    ("P07", "太河路路内泊位", "on_street", 50, True, "open", (121.82988, 29.8937)),
    ("P08", "凌霄南苑地下车库", "garage", 260, False, "open", (121.8310, 29.8899)),
]


# The posts members of each of Lingxiao's squads claim.
SQUAD_POSTS = {
    "SQ1": ["文明宣讲", "楼道文明督导"],
    "SQ2": ["楼道巡查", "电动车充电巡查"],
    "SQ3": ["环境整治", "绿化认养"],
    "SQ4": ["垃圾分类督导", "定时定点值守"],
    "SQ5": ["应急值守", "防汛防台"],
    "SQ6": ["独居老人结对", "助老送餐"],
    "SQ7": ["邻里调解", "停车协调"],
    "SQ8": ["商户走访", "爱心伙伴联络"],
}
MEMBER_COUNTS = (207, 863)  # registered, in service (the 2021 report)


def build_members(
    rng: np.random.Generator,
    info: list[dict],
    counts: tuple[int, int] = MEMBER_COUNTS,
    posts: dict[str, list[str]] = SQUAD_POSTS,
) -> list[dict]:
    """Registered and in-service Party members, pseudonymous, in general grids.

    Each is placed in a grid (more often in one with more households) and
    claims a post in one of the squads of ``posts``.
    """
    general = [g for g in info if g["kind"] == "general"]
    weights = np.array([g["households"] for g in general], dtype=float)
    weights /= weights.sum()
    squads = list(posts)
    rows: list[dict] = []
    for kind, count in zip(("registered", "in_service"), counts, strict=True):
        for _ in range(count):
            grid = general[int(rng.choice(len(general), p=weights))]["code"]
            squad = squads[int(rng.integers(len(squads)))]
            rows.append(
                {
                    "id": f"PM{len(rows) + 1:04d}",
                    "kind": kind,
                    "grid": grid,
                    "squad": squad,
                    "post": str(rng.choice(posts[squad])),
                }
            )
    return rows


def point_features(rows, keys) -> list[dict]:
    out = []
    for row in rows:
        props = dict(zip(keys, row, strict=True))
        lon, lat = props.pop("at")
        out.append(feature(Point(lon, lat), props))
    return out


def write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def grid_record(
    rng: np.random.Generator, code: str, name: str, number: int, kind: str, dedicated: str | None
) -> dict:
    """A grid's attributes: households (300-500 in a general grid), residents, 1+3+N staff.

    Staff are role ids only (``GH01`` grid head, ``FT01`` full-time worker,
    ``PT01`` part-time worker, ``GI01`` instructor), numbered by ``number``.
    """
    hh = int(rng.integers(330, 500)) if kind == "general" else int(rng.integers(0, 2)) * 90
    return {
        "code": code,
        "name": name,
        "kind": kind,
        "dedicated_to": dedicated,
        "households": hh,
        "residents": round(hh * rng.uniform(2.55, 2.85)),
        "grid_head": f"GH{number:02d}",
        "full_time_worker": f"FT{number:02d}",
        "part_time_worker": f"PT{number:02d}",
        "instructor": f"GI{number:02d}",
        "others_n": int(rng.integers(3, 9)),
    }


def write_boundaries(
    out: Path,
    props: dict,
    community: Polygon,
    grids: list[Polygon],
    info: list[dict],
    districts: list[tuple[str, str, str, Polygon]] | None,
) -> None:
    """Write ``boundaries/``: the community (``props`` then its totals), grids, districts.

    The community's households and residents are the sums of its grids'.
    """
    bounds = out / "boundaries"
    totals = {
        "households": sum(g["households"] for g in info),
        "residents": sum(g["residents"] for g in info),
    }
    write_geojson(
        bounds / "community.geojson", [feature(community, {**props, **totals})], "community"
    )
    write_geojson(
        bounds / "grids.geojson", [feature(g, p) for g, p in zip(grids, info, strict=True)], "grids"
    )
    if districts is not None:
        write_geojson(
            bounds / "districts.geojson",
            [
                feature(geom, {"code": c, "name": zh, "name_en": en})
                for c, zh, en, geom in districts
            ],
            "districts",
        )


SQUAD_KEYS = ["id", "name", "name_en", "categories", "duty_hours", "capacity", "illustrative", "at"]


def squad_rows(squads: list[tuple]) -> list[tuple]:
    """Squads given as ``SQUADS`` entries, as rows in ``SQUAD_KEYS`` order."""
    return [
        (i, zh, en, ",".join(cats), duty, cap, illus, at)
        for i, zh, en, cats, duty, cap, at, illus in squads
    ]


def unit_rows(units: list[tuple]) -> list[tuple]:
    """Units given as ``UNITS`` entries, as rows for ``point_features``."""
    return [(i, zh, en, ",".join(cats), at) for i, zh, en, at, cats in units]


UNIT_KEYS = ["id", "name", "name_en", "categories", "at"]
SERVICE_POINT_KEYS = ["id", "name", "name_en", "kind", "at", "hours"]
PARKING_KEYS = ["id", "name", "kind", "capacity", "smart", "status", "at"]


def lingxiao_outline() -> Polygon:
    """Lingxiao's boundary as ``boundaries/community.geojson`` holds it: its grids' union."""
    return rounded(shapely.union_all(build_grids()))


def write_community(out: Path) -> None:
    """Write Lingxiao's own files into ``out``: everything but the shared catalogue."""
    rng = np.random.default_rng(SEED)
    grids = build_grids()
    community = rounded(shapely.union_all(grids))
    info = [
        grid_record(rng, f"{COMMUNITY_CODE}{i:03d}", f"凌霄社区第{chinese_number(i)}网格", i, k, d)
        for i, ((_, k, d), _geom) in enumerate(zip(GRID_SEEDS, grids, strict=True), 1)
    ]
    districts = [(c, zh, en, rounded(geom)) for c, zh, en, geom in DISTRICTS]
    write_boundaries(
        out,
        {
            "code": COMMUNITY_CODE,
            "name": "凌霄社区",
            "name_en": "Lingxiao community",
            "street": "新碶街道",
            "district": "北仑区",
        },
        community,
        grids,
        info,
        districts,
    )

    compounds, buildings = build_compounds(grids, info, rng)
    write_geojson(out / "compounds.geojson", [c for c, _ in compounds], "compounds")
    write_geojson(out / "buildings.geojson", buildings, "buildings")
    write_geojson(out / "streets.geojson", build_streets(compounds), "streets")
    write_geojson(
        out / "merchants.geojson", build_merchants(rng, districts, community), "merchants"
    )
    write_geojson(out / "squads.geojson", point_features(squad_rows(SQUADS), SQUAD_KEYS), "squads")
    write_geojson(out / "units.geojson", point_features(unit_rows(UNITS), UNIT_KEYS), "units")
    write_geojson(
        out / "service_points.geojson",
        point_features(SERVICE_POINTS, SERVICE_POINT_KEYS),
        "service_points",
    )
    write_geojson(out / "parking.geojson", point_features(PARKING, PARKING_KEYS), "parking")
    write_csv(out / "members.csv", build_members(rng, info))


def write_categories(out: Path) -> None:
    """Write the issue catalogue, ``categories.csv``, shared by every community."""
    write_csv(
        out / "categories.csv",
        [
            dict(
                zip(
                    ["code", "name_zh", "name_en", "class", "time_limit", "unit"],
                    c,
                    strict=True,
                )
            )
            for c in CATEGORIES
        ],
    )


def generate(out: Path) -> None:
    """Write the Lingxiao sample into ``out``: its layers and the issue catalogue."""
    write_community(out)
    write_categories(out)


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)
