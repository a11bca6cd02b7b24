"""Import a community's layers from a folder into the database.

Every layer is read and validated before anything is written; a layer with
errors is refused and reported, and the accepted layers are written in one
transaction, so a failed import leaves the database as it was.

A deployment holds many communities.  A folder is one community: its code
comes from its community boundary (or the 12 digits its grid codes start
with), and loading it replaces that community's rows of each layer it holds,
leaving every other community as it was.  Ids are unique across the
deployment, so a folder reusing another community's squad, merchant or member
id is refused with the ids named.  The catalogue (``categories.csv``) is shared:
its rows are added or updated, never removed (cases refer to them).  A folder's
``category_overrides.csv`` replaces its community's overrides of the shared
entries; any problem in it refuses the whole folder.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from cases.areas import BadAreaCode, grid_number, parent_of
from cases.deadlines import BadLimit, parse_limit
from gis.boundaries import BOUNDARY_LAYERS, validate_boundaries
from gis.io import LayerReadError, find_layer_file, read_layer_file
from gis.neighbours import CommunityOverlap, check_new_community
from gis.validate import SPECS, Problem, validate_layer
from store.catalogue import replace_overrides
from store.layers import keys_elsewhere, replace_layer
from store.models import Base, Category, CategoryOverride, LayerFeature, Member, MemberPosition

LAYERS = tuple(SPECS)  # boundaries first, then the other layers
UNASSIGNED = ""  # the community of layers loaded before any community's boundaries
MEMBER_KINDS = ("registered", "in_service")
OVERRIDES = "category_overrides"  # the file (.csv) and the layer name its problems go under
OVERRIDE_COLUMNS = ("code", "time_limit", "unit", "name_zh", "name_en", "offered")
OFFERED_VALUES = {"true": True, "false": False, "": True}  # blank: offered, as shared


@dataclass
class LoadResult:
    """What an import wrote and what it refused."""

    loaded: dict[str, int] = field(default_factory=dict)
    refused: dict[str, list[Problem]] = field(default_factory=dict)
    community: str | None = None  # the community the folder was loaded as
    warnings: list[Problem] = field(default_factory=list)  # loaded anyway: gaps to neighbours

    @property
    def ok(self) -> bool:
        return not self.refused


StartFn = Callable[[str, int], Callable[[int], None]]


def find_layers(folder: Path) -> dict[str, Path]:
    """Layer files in ``folder`` or its ``boundaries/`` subfolder, by layer name."""
    found = {}
    for name in LAYERS:
        path = find_layer_file(folder, name) or find_layer_file(folder / "boundaries", name)
        if path is not None:
            found[name] = path
    return found


def load_folder(
    engine: Engine,
    folder: str | Path,
    crs: str | None = None,
    start: StartFn | None = None,
    community: str | None = None,
) -> LoadResult:
    """Validate and import every layer found in ``folder``, as one community.

    Parameters
    ----------
    engine : Engine
        Target database, with the schema created.
    folder : path-like
        Holds ``community``, ``grids``, ``districts``, ``merchants`` ... files in
        any supported format, optionally with the boundaries in ``boundaries/``,
        plus ``members.csv`` and ``categories.csv`` tables, and
        ``category_overrides.csv`` (the community's changes to the catalogue: any
        problem in it refuses the whole folder).
    crs : str, optional
        The coordinates' system when files do not declare it (``gcj02`` ...).
    start : callable, optional
        ``start(layer, n_rows)`` is called before a layer is written and returns
        a function called with the rows written so far, for progress bars.
    community : str, optional
        The community's 12-digit code, for a folder without boundaries (only
        some layers of a loaded community); with boundaries it must agree.
    """
    folder = Path(folder)
    result = LoadResult()
    frames: dict[str, gpd.GeoDataFrame] = {}
    for name, path in find_layers(folder).items():
        try:
            frames[name] = read_layer_file(path, crs)
        except LayerReadError as exc:
            result.refused[name] = [Problem(name, "unreadable", str(exc))]
    _check_boundaries(frames, result)
    if "grids" in frames and "grids" not in result.refused:
        frames["grids"] = english_grid_names(frames["grids"], frames.get("community"))
    for name in list(frames):
        if name not in BOUNDARY_LAYERS:
            problems = validate_layer(name, frames[name])
            if problems:
                result.refused[name] = problems
                del frames[name]
    tables = _read_tables(folder, frames.get("grids"), result)
    overrides = _read_overrides(folder, result)
    if OVERRIDES in result.refused:
        return result  # refused whole: nothing is written

    with Session(engine) as session, session.begin():
        found = _community_code(session, frames, community, result)
        if found is None:
            return result
        code = found or None  # UNASSIGNED: layers loaded before any community
        result.community = code
        if code is not None and not _fits_beside_the_others(session, code, frames, result):
            return result
        if overrides is not None and not _overrides_fit(session, code, overrides, tables, result):
            return result
        _refuse_taken_keys(session, code, frames, tables, result)
        for name, frame in frames.items():
            advance = start(name, len(frame)) if start else None
            result.loaded[name] = replace_layer(
                session, name, frame, SPECS[name].key, advance, community=code
            )
        for model, rows in tables.items():
            advance = start(model.__tablename__, len(rows)) if start else None
            if model is Member:  # positions belong to members
                _replace_members(session, code, rows)
            else:
                _merge_categories(session, rows)
            if advance:
                advance(len(rows))
            result.loaded[model.__tablename__] = len(rows)
        if overrides is not None and code is not None:
            session.flush()  # the categories they refer to first
            replace_overrides(session, code, overrides)
            result.loaded[OVERRIDES] = len(overrides)
    return result


def _read_overrides(folder: Path, result: LoadResult) -> list[dict[str, Any]] | None:
    """The rows of the folder's ``category_overrides.csv`` as column values (blank cells
    NULL: the shared value holds), ``None`` without the file; problems go to
    ``result.refused``.

    The file has a ``code`` column and any of ``time_limit``, ``unit``, ``name_zh``,
    ``name_en`` and ``offered`` (``true``, ``false`` or blank).
    """
    path = folder / f"{OVERRIDES}.csv"
    if not path.exists():
        return None
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.columns = [str(c).strip() for c in table.columns]
    problems = _require(table, OVERRIDES, ("code",))
    problems += [
        Problem(OVERRIDES, "unknown_attribute", f"column {c!r} is not one of {OVERRIDE_COLUMNS}", c)
        for c in table.columns
        if c not in OVERRIDE_COLUMNS
    ]
    if problems:
        result.refused[OVERRIDES] = problems
        return None
    table = table.apply(lambda column: column.str.strip())
    widths = {c.name: getattr(c.type, "length", None) for c in CategoryOverride.__table__.columns}
    rows: list[dict[str, Any]] = []
    for number, record in enumerate(table.to_dict("records"), start=2):  # line 1: the header
        code = record["code"]
        if not code:
            problems.append(Problem(OVERRIDES, "missing_attribute", f"line {number} has no code"))
            continue
        limit = record.get("time_limit", "")
        if limit:
            try:
                parse_limit(limit)
            except BadLimit as exc:
                problems.append(Problem(OVERRIDES, "bad_value", str(exc), code))
        offered = record.get("offered", "")
        if offered.lower() not in OFFERED_VALUES:
            problems.append(
                Problem(
                    OVERRIDES,
                    "bad_value",
                    f"offered {offered!r} is not true, false or blank",
                    code,
                )
            )
        for column in ("name_zh", "name_en", "unit"):
            width = widths[column]
            value = record.get(column, "")
            if width is not None and len(value) > width:
                problems.append(
                    Problem(
                        OVERRIDES,
                        "bad_value",
                        f"{column} {value!r} is longer than {width} characters",
                        code,
                    )
                )
        rows.append(
            {
                "code": code,
                **{c: record.get(c) or None for c in ("time_limit", "unit", "name_zh", "name_en")},
                "offered": OFFERED_VALUES.get(offered.lower(), True),
            }
        )
    problems += [
        Problem(OVERRIDES, "duplicate_code", f"code {c!r} is used more than once", c)
        for c in sorted(set(table["code"][table["code"].duplicated()]) - {""})
    ]
    if problems:
        result.refused[OVERRIDES] = problems
        return None
    return rows


def _overrides_fit(
    session: Session,
    code: str | None,
    overrides: list[dict[str, Any]],
    tables: dict[type[Base], list[dict[str, Any]]],
    result: LoadResult,
) -> bool:
    """Whether the overrides are for a community and name known categories (the stored
    catalogue's or the folder's own ``categories.csv``); else refuse the whole folder."""
    if code is None:
        result.refused[OVERRIDES] = [
            Problem(OVERRIDES, "missing_layer", "overrides are for a community: load one first")
        ]
        return False
    known = set(session.scalars(select(Category.code)))
    known |= {r["code"] for r in tables.get(Category, [])}
    unknown = [r["code"] for r in overrides if r["code"] not in known]
    if unknown:
        result.refused[OVERRIDES] = [
            Problem(OVERRIDES, "unknown_category", f"category {c!r} is not in the catalogue", c)
            for c in unknown
        ]
        return False
    return True


def _community_code(
    session: Session,
    frames: dict[str, gpd.GeoDataFrame],
    given: str | None,
    result: LoadResult,
) -> str | None:
    """The folder's community: from its boundaries, the code given, or the only one loaded;
    :data:`UNASSIGNED` while the deployment holds none (layers loaded before boundaries);
    ``None`` (with the refusal recorded) when it cannot tell."""
    found: str | None = None
    if "community" in frames and len(frames["community"]):
        found = str(frames["community"]["code"].iloc[0])
    elif "grids" in frames and len(frames["grids"]):
        found = str(frames["grids"]["code"].astype(str).min())[:12]
    if found is not None and given is not None and found != given:
        result.refused["community"] = [
            Problem("community", "bad_value", f"the folder holds {found}, not {given}", found)
        ]
        return None
    if found is not None or given is not None:
        return found or given
    loaded = list(
        session.scalars(select(LayerFeature.key).where(LayerFeature.layer == "community"))
    )
    if len(loaded) == 1:
        return loaded[0]
    if not loaded:
        return UNASSIGNED
    result.refused["community"] = [
        Problem(
            "community",
            "missing_layer",
            "the folder has no boundaries and the deployment holds "
            f"{len(loaded)} communities: say which one it is for (--community CODE)",
        )
    ]
    return None


def _fits_beside_the_others(
    session: Session, code: str, frames: dict[str, gpd.GeoDataFrame], result: LoadResult
) -> bool:
    """Refuse the whole folder if its community overlaps a loaded one; warn of gaps.

    A community that lies across another cannot be placed: which one would a
    report there belong to?  A gap left between neighbours of the same street
    is loaded, with a warning, since it may be real (a river, a road).
    """
    if "community" not in frames or not len(frames["community"]):
        return True
    outline = frames["community"].geometry.iloc[0]
    loaded: dict[str, Any] = dict(
        session.execute(
            select(LayerFeature.key, LayerFeature.geom).where(
                LayerFeature.layer == "community", LayerFeature.key != code
            )
        ).all()
    )
    try:
        gaps = check_new_community(code, outline, loaded, street=parent_of(code))
    except CommunityOverlap as exc:
        result.refused["community"] = [o.as_problem(code) for o in exc.overlaps]
        return False
    result.warnings += [gap.as_problem(code) for gap in gaps]
    return True


def _refuse_taken_keys(
    session: Session,
    code: str | None,
    frames: dict[str, gpd.GeoDataFrame],
    tables: dict[type[Base], list[dict[str, Any]]],
    result: LoadResult,
) -> None:
    """Refuse (and leave out) layers whose ids another community already uses."""
    for name, frame in list(frames.items()):
        keys = frame[SPECS[name].key].astype(str).tolist()
        taken = sorted(keys_elsewhere(session, name, keys, code))
        if taken:
            result.refused[name] = [
                Problem(name, "id_taken", f"{key!r} belongs to another community", key)
                for key in taken
            ]
            del frames[name]
    members = tables.get(Member, [])
    if members:
        ids = [r["id"] for r in members]
        taken_members = session.scalars(
            select(Member.id).where(
                Member.id.in_(ids), Member.community_code.is_distinct_from(code)
            )
        ).all()
        if taken_members:
            result.refused["members"] = [
                Problem("members", "id_taken", f"{i!r} belongs to another community", i)
                for i in sorted(taken_members)
            ]
            del tables[Member]


def _replace_members(session: Session, code: str | None, rows: list[dict[str, Any]]) -> None:
    """The community's members (and their live positions) replaced by ``rows``."""
    owned = Member.community_code.is_(None) if code is None else Member.community_code == code
    mine = select(Member.id).where(owned)
    session.execute(delete(MemberPosition).where(MemberPosition.member_id.in_(mine)))
    session.execute(delete(Member).where(owned))
    if rows:
        session.execute(insert(Member), [{**r, "community_code": code} for r in rows])


def _merge_categories(session: Session, rows: list[dict[str, Any]]) -> None:
    """Add new catalogue rows and update known ones; keep the rest (cases refer to them)."""
    for row in rows:
        session.merge(Category(**row))


def loaded_communities(session: Session) -> int:
    """How many communities the deployment holds."""
    counted = session.scalar(
        select(func.count()).select_from(LayerFeature).where(LayerFeature.layer == "community")
    )
    return int(counted or 0)


def english_grid_names(
    grids: gpd.GeoDataFrame, community: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame:
    """``grids`` with an English name for each grid that has none: its community's
    English name and its number (``Lingxiao community grid 16``), so that English pages
    need not show a grid's Chinese name. A ``name_en`` in the data stays; with no English
    name for the community, or a grid code that is no division code, none is made."""
    if community is None or "name_en" not in community or not len(community):
        return grids
    named = community["name_en"].iloc[0]
    if not isinstance(named, str) or not named.strip():
        return grids
    out = grids.copy()
    given = out["name_en"] if "name_en" in out else pd.Series([None] * len(out), index=out.index)
    made: list[object] = []
    for code, own in zip(out["code"], given, strict=True):
        if isinstance(own, str) and own.strip():
            made.append(own)
            continue
        try:
            made.append(f"{named.strip()} grid {grid_number(str(code))}")
        except BadAreaCode:
            made.append(None)
    out["name_en"] = made
    return out


def _check_boundaries(frames: dict[str, gpd.GeoDataFrame], result: LoadResult) -> None:
    """Validate the boundary layers together; refuse all three if any is wrong."""
    present = [n for n in BOUNDARY_LAYERS if n in frames]
    if not present:
        return
    if "grids" not in frames:
        for name in present:
            result.refused[name] = [
                Problem(name, "missing_layer", "boundaries need a grids layer beside them")
            ]
            del frames[name]
        return
    report = validate_boundaries(frames["grids"], frames.get("community"), frames.get("districts"))
    if report.ok:
        return
    for name in present:
        result.refused[name] = report.for_layer(name) or [
            Problem(name, "boundaries_refused", "not loaded: other boundary layers have errors")
        ]
        del frames[name]


def _read_tables(
    folder: Path, grids: gpd.GeoDataFrame | None, result: LoadResult
) -> dict[type[Base], list[dict[str, Any]]]:
    """Validated rows of the non-spatial tables present in ``folder``."""
    tables: dict[type[Base], list[dict[str, Any]]] = {}
    for model, name, check in (
        (Category, "categories", _category_problems),
        (Member, "members", _member_problems),
    ):
        path = folder / f"{name}.csv"
        if not path.exists():
            continue
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        problems = check(table, grids)
        if problems:
            result.refused[name] = problems
        else:
            tables[model] = _rows(model, table)
    return tables


def _category_problems(table: pd.DataFrame, _grids: gpd.GeoDataFrame | None) -> list[Problem]:
    columns = ("code", "name_zh", "name_en", "class", "time_limit")
    problems = _require(table, "categories", columns)
    if problems:
        return problems
    for code, limit in zip(table["code"], table["time_limit"], strict=True):
        try:
            parse_limit(limit)
        except BadLimit as exc:
            problems.append(Problem("categories", "bad_value", str(exc), code))
    problems += [
        Problem("categories", "duplicate_code", f"code {c!r} is used more than once", c)
        for c in table["code"][table["code"].duplicated()]
    ]
    return problems


def _member_problems(table: pd.DataFrame, grids: gpd.GeoDataFrame | None) -> list[Problem]:
    problems = _require(table, "members", ("id", "kind"))
    if problems:
        return problems
    problems += [
        Problem("members", "duplicate_code", f"id {i!r} is used more than once", i)
        for i in table["id"][table["id"].duplicated()]
    ]
    bad_kind = ~table["kind"].isin(MEMBER_KINDS)
    problems += [
        Problem("members", "bad_value", f"kind {k!r} is not one of {', '.join(MEMBER_KINDS)}", i)
        for i, k in zip(table["id"][bad_kind], table["kind"][bad_kind], strict=True)
    ]
    if grids is not None and "grid" in table.columns:
        unknown = table["grid"].ne("") & ~table["grid"].isin(set(grids["code"].astype(str)))
        problems += [
            Problem("members", "unknown_grid", f"grid {g!r} is not a known grid", i)
            for i, g in zip(table["id"][unknown], table["grid"][unknown], strict=True)
        ]
    return problems


def _rows(model: type[Base], table: pd.DataFrame) -> list[dict[str, Any]]:
    """Table rows as column values of ``model``; blank cells become NULL."""
    records = table.replace({"": None}).to_dict("records")
    if model is Category:
        return [
            {
                "code": r["code"],
                "name_zh": r["name_zh"],
                "name_en": r["name_en"],
                "klass": r["class"],
                "time_limit": r["time_limit"],
                "unit": r.get("unit"),
            }
            for r in records
        ]
    return [
        {
            "id": r["id"],
            "kind": r["kind"],
            "grid_code": r.get("grid"),
            "squad_id": r.get("squad"),
            "post": r.get("post"),
        }
        for r in records
    ]


def _require(table: pd.DataFrame, name: str, columns: tuple[str, ...]) -> list[Problem]:
    return [
        Problem(name, "missing_attribute", f"no {c!r} column")
        for c in columns
        if c not in table.columns
    ]


@dataclass
class StreetResult:
    """What loading a street folder did: each community's result, and the street's teams."""

    street: str
    communities: dict[str, LoadResult] = field(default_factory=dict)
    teams: LoadResult = field(default_factory=LoadResult)

    @property
    def ok(self) -> bool:
        return self.teams.ok and all(r.ok for r in self.communities.values())


def load_street(
    engine: Engine,
    folder: str | Path,
    crs: str | None = None,
    start: StartFn | None = None,
    communities: Collection[str] | None = None,
) -> StreetResult:
    """Load a street folder: its catalogue, each community folder in it, then its teams.

    The folder holds ``street.json`` (the street's ``code``, its ``communities``,
    and ``teams``: squads such as the street's law-enforcement team, with ``id``,
    ``name``, ``categories``, ``lon``/``lat``, ``capacity``, ``duty_hours``), one
    folder per community, and may hold the shared ``categories.csv``.  The teams
    are stored as squads of the street (their ``community_code`` is the street's
    code): a candidate in every community of the street for the categories they
    handle.

    ``communities``, when given, are the codes of the street's communities to load
    (the others listed in ``street.json`` are left out); the catalogue, the teams
    and the departments are loaded all the same.
    """
    folder = Path(folder)
    about = json.loads((folder / "street.json").read_text(encoding="utf-8"))
    street = str(about["code"])
    result = StreetResult(street)
    catalogue = _read_tables(folder, None, result.teams)  # the street's shared categories.csv
    if Category in catalogue:
        with Session(engine) as session, session.begin():
            _merge_categories(session, catalogue[Category])
        result.teams.loaded["categories"] = len(catalogue[Category])
    for entry in about.get("communities", []):
        if communities is not None and str(entry["code"]) not in communities:
            continue
        result.communities[str(entry["code"])] = load_folder(
            engine, folder / str(entry.get("folder", entry["code"])), crs, start
        )
    teams = _team_frame(about.get("teams", []), street)
    problems = validate_layer("squads", teams) if len(teams) else []
    if problems:
        result.teams.refused["squads"] = problems
        return result
    with Session(engine) as session, session.begin():
        frames = {"squads": teams}
        _refuse_taken_keys(session, street, frames, {}, result.teams)
        if "squads" in frames:
            result.teams.loaded["squads"] = replace_layer(
                session, "squads", teams, "id", community=street
            )
        district = about.get("district") or {}
        for area, rows in (
            (street, about.get("departments", [])),
            (str(district.get("code", "")), district.get("departments", [])),
        ):
            if not (area and rows):
                continue
            try:
                units = _department_frame(rows)
            except BadLimit as exc:
                result.teams.refused[f"departments of {area}"] = [
                    Problem("units", "bad_value", str(exc), area)
                ]
                continue
            result.teams.loaded[f"departments of {area}"] = replace_layer(
                session, "units", units, "id", community=area
            )
    result.teams.community = street
    return result


def _department_frame(rows: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    """A street's or district's departments as units: where cases are escalated to."""
    frame = gpd.GeoDataFrame(
        [
            {
                "id": str(d["id"]),
                "name": str(d["name"]),
                "name_en": d.get("name_en"),
                "categories": ",".join(d.get("categories", [])),
                "time_limit": str(d.get("time_limit", "")) or None,
            }
            for d in rows
        ],
        geometry=gpd.points_from_xy([d["lon"] for d in rows], [d["lat"] for d in rows]),
        crs="EPSG:4326",
    )
    for limit in frame["time_limit"].dropna():
        parse_limit(limit)  # a BadLimit names it; the caller refuses the departments
    return frame


def _team_frame(teams: list[dict[str, Any]], street: str) -> gpd.GeoDataFrame:
    """The street's teams as a squads layer, each holding the street as its ``area``."""
    rows = [
        {
            "id": str(t["id"]),
            "name": str(t["name"]),
            "name_en": t.get("name_en"),
            "categories": ",".join(t["categories"])
            if isinstance(t["categories"], list)
            else str(t["categories"]),
            "duty_hours": str(t.get("duty_hours", "00:00-24:00")),
            "capacity": int(t["capacity"]),
            "area": street,
        }
        for t in teams
    ]
    points = gpd.points_from_xy([t["lon"] for t in teams], [t["lat"] for t in teams])
    return gpd.GeoDataFrame(rows, geometry=points, crs="EPSG:4326")
