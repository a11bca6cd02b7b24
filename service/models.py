"""Response models: the shape of every JSON answer, and so the API's published contract.

The use cases build plain dicts (``service.views`` and the modules beside it);
the routes validate those dicts through these models, which is what
``/openapi.json`` publishes.  Privacy is part of the contract: a case answer
for the public goes through :class:`IssuePublic`, which has no contact,
typed-in coordinates, photo or staff-name fields, so a view that carried them
would lose them on the way out.  :class:`IssueStaff` adds them for staff.

Times are the text ``iso()`` writes (naive UTC, ``2026-11-26T02:00:00Z``).
Keys a view leaves out when empty (a ranking's suggestion, a unit to escalate
to, an unasked siting problem) are left out of the answer too.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cases.lifecycle import Status

Timestamp = Annotated[
    str,
    Field(
        description="ISO 8601 in UTC, with a trailing Z",
        examples=["2026-11-26T02:00:00Z"],
        json_schema_extra={"format": "date-time"},
    ),
]


def _absent(value: Any) -> bool:
    return value is None


def omitted_when_empty(description: str) -> Any:
    """A field whose key the answer leaves out, rather than sending ``null``."""
    return Field(default=None, exclude_if=_absent, description=description)


class Answer(BaseModel):
    """Base of the response models: unknown keys are dropped, names go out as aliased."""

    model_config = ConfigDict(extra="ignore", serialize_by_alias=True)


# --- small parts ---------------------------------------------------------------------------


class LonLat(Answer):
    """A WGS84 point."""

    lon: float
    lat: float


class CategoryRef(Answer):
    """A case's category, with its names (``null`` if it has left the catalogue)."""

    code: str
    name_zh: str | None
    name_en: str | None


class GridRef(Answer):
    """A grid by code, with its names (``name_en``: null if none)."""

    code: str
    name: str | None
    name_en: str | None = None


class DistrictRef(Answer):
    """A business district by code, with its names (``name_en``: null if none)."""

    code: str
    name: str | None
    name_en: str | None = None


class SquadRef(Answer):
    """A squad by id, with its names (``name_en``: null if none)."""

    id: str
    name: str | None
    name_en: str | None = None


class UnitRef(Answer):
    """A co-building unit (department) by id, with its names (``name_en``: null if none)."""

    id: str
    name: str | None
    name_en: str | None = None


class Contact(Answer):
    """The reporter's contact details, as given (staff only)."""

    name: str | None
    phone: str | None


class InputPoint(Answer):
    """The coordinates as the reporter sent them, in their CRS (staff only)."""

    crs: str
    lon: float
    lat: float


class Photo(Answer):
    """A case photo: where staff fetch it and its thumbnail, its type and size in pixels."""

    id: int
    url: str
    thumbnail_url: str
    content_type: str
    width: int
    height: int


# --- a case, public and staff ----------------------------------------------------------------


class IssuePublicProperties(Answer):
    """A case's public fields, but its location (a GeoJSON feature's properties)."""

    id: int
    status: Status
    category: CategoryRef
    description: str
    grid: GridRef
    district: DistrictRef | None
    channel: str = Field(description="mobile, web, patrol or phone")
    squad: SquadRef | None
    escalated_to: UnitRef | None
    reported_at: Timestamp
    updated_at: Timestamp
    deadline: Timestamp | None = Field(description="The current stage's deadline")
    overdue: bool
    duplicate_of: int | None


class IssuePublic(IssuePublicProperties):
    """A case as anyone may see it: no reporter contact, typed-in coordinates or photos."""

    location: LonLat


class StaffDetails(Answer):
    """What staff see of a case besides its public fields."""

    reporter: Contact
    input: InputPoint
    filed_at: Timestamp | None
    dispatched_at: Timestamp | None
    resolved_at: Timestamp | None
    closed_at: Timestamp | None
    file_deadline: Timestamp | None
    handle_deadline: Timestamp | None
    department_deadline: Timestamp | None
    department_response: str | None
    rework_count: int
    photos: list[Photo]


class IssueStaff(StaffDetails, IssuePublic):
    """A case as staff see it: the public fields, then contact, input point, stage times
    and deadlines, the department's response, rework count and photos."""


class IssueStaffProperties(StaffDetails, IssuePublicProperties):
    """A case's staff fields, but its location (a GeoJSON feature's properties)."""


class PossibleDuplicate(Answer):
    """An earlier case of the same category nearby, which the new one may repeat."""

    id: int
    distance_m: float
    status: Status
    reported_at: Timestamp
    description: str


class ReportedPublic(IssuePublic):
    """A new case as its reporter sees it, with near duplicates and the photo token."""

    possible_duplicates: list[PossibleDuplicate] = Field(
        description="The nearest open cases of the same category (at most 5), nearest first"
    )
    possible_duplicates_total: int = Field(description="How many such cases there are in all")
    photo_token: str = Field(description="Send as X-Photo-Token to attach photos")


class ReportedStaff(IssueStaff):
    """A new case reported by staff, with near duplicates and the photo token."""

    possible_duplicates: list[PossibleDuplicate] = Field(
        description="The nearest open cases of the same category (at most 5), nearest first"
    )
    possible_duplicates_total: int = Field(description="How many such cases there are in all")
    photo_token: str = Field(description="Send as X-Photo-Token to attach photos")


class EventPublic(Answer):
    """A status change: when, from what, to what."""

    at: Timestamp
    from_: Status | None = Field(alias="from")
    to: Status
    level: Literal["community", "street", "district"] | None = Field(
        default=None, description="For an escalation: the level it went to"
    )


class EventStaff(EventPublic):
    """A status change with who made it, in what role, and the note; ``override`` when
    a dispatcher sent the case to a squad already at capacity."""

    actor: str
    role: str | None
    note: str | None
    override: bool = False
    department: str | None = None


class HistoryPublic(Answer):
    """Every status change of a case, oldest first."""

    issue_id: int
    events: list[EventPublic]


class HistoryStaff(Answer):
    """Every status change of a case, with who made it and the note."""

    issue_id: int
    events: list[EventStaff]


# --- GeoJSON ---------------------------------------------------------------------------------

Position = Annotated[list[float], Field(description="[longitude, latitude] in WGS84")]


class Point(Answer):
    """A GeoJSON Point."""

    type: Literal["Point"]
    coordinates: Position


class MultiPoint(Answer):
    """A GeoJSON MultiPoint."""

    type: Literal["MultiPoint"]
    coordinates: list[Position]


class LineString(Answer):
    """A GeoJSON LineString."""

    type: Literal["LineString"]
    coordinates: list[Position]


class MultiLineString(Answer):
    """A GeoJSON MultiLineString."""

    type: Literal["MultiLineString"]
    coordinates: list[list[Position]]


class Polygon(Answer):
    """A GeoJSON Polygon: its outer ring, then any holes."""

    type: Literal["Polygon"]
    coordinates: list[list[Position]]


class MultiPolygon(Answer):
    """A GeoJSON MultiPolygon."""

    type: Literal["MultiPolygon"]
    coordinates: list[list[list[Position]]]


class GeometryCollection(Answer):
    """A GeoJSON GeometryCollection."""

    type: Literal["GeometryCollection"]
    geometries: list[Geometry]


Geometry = Annotated[
    Point | MultiPoint | LineString | MultiLineString | Polygon | MultiPolygon | GeometryCollection,
    Field(discriminator="type"),
]
GeometryCollection.model_rebuild()


class Feature(Answer):
    """A GeoJSON Feature of a layer; its properties are the layer's own attributes."""

    type: Literal["Feature"]
    geometry: Geometry | None
    properties: dict[str, Any] | None


class FeatureCollection(Answer):
    """A GeoJSON FeatureCollection of a layer."""

    type: Literal["FeatureCollection"]
    features: list[Feature]


class LayerCollection(FeatureCollection):
    """A public layer as GeoJSON, with how many features it holds."""

    total: int


class BasemapCollection(FeatureCollection):
    """The map without tiles: every feature's ``layer`` (``buildings``, ``streets``,
    ``community``, ``grids``) names its layer; a grid's ``label`` is the lon/lat to write
    its number at; ``format`` the version of this shape."""

    format: int


class IssueFeaturePublic(Answer):
    """A case as a GeoJSON Feature: its id, its location as the point, its public fields."""

    type: Literal["Feature"]
    id: int
    geometry: Point
    properties: IssuePublicProperties


class IssueFeatureStaff(Answer):
    """A case as a GeoJSON Feature, with the fields staff see."""

    type: Literal["Feature"]
    id: int
    geometry: Point
    properties: IssueStaffProperties


TOTAL = (
    "Cases matching the filters, on every page: exact up to GRIDGOV_EXACT_COUNT_CAP, "
    "an estimate beyond it (then total_is_estimate is true)"
)
TOTAL_IS_ESTIMATE = (
    "Whether more cases match than are counted exactly: total is then the database's "
    "estimate (PostgreSQL) or the cap + 1, the least it can be (SQLite)"
)
NEXT = "Pass as after= to read the next page; null on the last page"


class IssueCollectionPublic(Answer):
    """One page of cases as a GeoJSON FeatureCollection, with the total and the server's now."""

    type: Literal["FeatureCollection"]
    features: list[IssueFeaturePublic]
    total: int = Field(description=TOTAL)
    total_is_estimate: bool = Field(description=TOTAL_IS_ESTIMATE)
    limit: int
    offset: int
    after: int | None = Field(description="The cursor this page was read from, if any")
    next: int | None = Field(description=NEXT)
    now: Timestamp


class IssueCollectionStaff(Answer):
    """One page of cases, as staff see them, as a GeoJSON FeatureCollection."""

    type: Literal["FeatureCollection"]
    features: list[IssueFeatureStaff]
    total: int = Field(description=TOTAL)
    total_is_estimate: bool = Field(description=TOTAL_IS_ESTIMATE)
    limit: int
    offset: int
    after: int | None = Field(description="The cursor this page was read from, if any")
    next: int | None = Field(description=NEXT)
    now: Timestamp


# --- who is asking ------------------------------------------------------------------------------


class Me(Answer):
    """The staff user a token names: what the pages need to know of them."""

    name: str
    role: str
    area: str = Field(
        description="where the role holds: a district, street or community code; "
        "empty for the whole deployment"
    )


class StaffAccount(Answer):
    """A staff account as an admin sees it: never its token or the token's hash."""

    id: int
    name: str
    role: str
    area: str = Field(description="where the role holds; empty for the whole deployment")
    member_id: str | None = Field(description="the squad member whose phone this is, if any")
    active: bool = Field(description="false once revoked: the token no longer works")
    created_at: Timestamp


class StaffAccounts(Answer):
    """Every staff account, oldest first."""

    accounts: list[StaffAccount]


class StaffAccountCreated(StaffAccount):
    """A new account with its bearer token, shown only in this answer."""

    token: str


# --- where, and how many -----------------------------------------------------------------------


class Located(Answer):
    """The grid and district at a point, or how far outside the community it lies."""

    location: LonLat
    inside: bool
    grid: GridRef | None
    district: DistrictRef | None
    outside_m: float | None
    community: str | None


class Cell(Answer):
    """Cases in one lattice square: where their middle is, how many, how many overdue."""

    lon: float
    lat: float
    count: int
    overdue: int


class Cells(Answer):
    """Cases counted per lattice square."""

    cell_deg: float
    total: int
    now: Timestamp
    cells: list[Cell]


class StatsRow(Answer):
    """The indicators of one grid, squad, category, month, community or street (rates
    are 0..1, each counted from the group's own cases)."""

    key: str = Field(
        description="the group's code (a division code for grids, communities "
        "and streets, YYYY-MM for months); '—' for cases with none"
    )
    name: str | None = Field(description="its name where known; null for streets")
    name_en: str | None = Field(
        default=None, description="its English name where the data has one (categories)"
    )
    reported: int
    open: int
    filed: int
    due: int
    closed: int
    closed_on_time: int
    closure_rate: float | None
    on_time_rate: float | None
    rework_rate: float | None
    mean_handling_hours: float | None
    overdue: int
    escalated: int = Field(description="cases escalated (to any level)")
    escalated_street: int = Field(description="cases that reached a street department")
    escalated_district: int = Field(description="cases that reached a district department")


class Stats(Answer):
    """Indicators per group for the cases reported in [from, to)."""

    group_by: str = Field(description="grid, squad, category, month, community or street")
    area: str | None = Field(
        description="the district, street or community counted; null: the whole deployment"
    )
    from_: Timestamp = Field(alias="from")
    to: Timestamp
    now: Timestamp
    rows: list[StatsRow]


class CatalogueEntry(Answer):
    """A category: its names, class, time limit, escalation unit and the squads able."""

    code: str
    name_zh: str
    name_en: str
    class_: str = Field(alias="class")
    time_limit: str = Field(description="e.g. 24h, 2d, 7wd (working days)")
    escalation_unit: str | None
    squads: list[str]


class Catalogue(Answer):
    """The issue catalogue."""

    categories: list[CatalogueEntry]


# --- dispatch ------------------------------------------------------------------------------------


class Candidate(Answer):
    """A squad able to take a case, and how far it has to walk."""

    squad_id: str
    squad_name: str
    squad_name_en: str | None = None
    position: LonLat
    position_source: Literal["member", "base"]
    distance_m: float
    distance_kind: str = Field(description="network, or straight_line off the network")
    eta_min: float
    load: int
    capacity: int


class Excluded(Answer):
    """A squad that cannot take a case, and why."""

    squad_id: str
    squad_name: str
    squad_name_en: str | None = None
    reason: str
    message: str
    load: int
    capacity: int
    duty_hours: str


class Suggestion(Answer):
    """What to do when no squad can take a case: escalate, and to whom."""

    action: str
    message: str
    department: UnitRef | None = omitted_when_empty("The unit to escalate to, if any")


class Candidates(Answer):
    """Squads able to take a case, nearest first, and those that cannot."""

    issue_id: int | None
    category: str
    location: LonLat
    candidates: list[Candidate]
    excluded: list[Excluded]
    suggestion: Suggestion | None = omitted_when_empty("Only when no squad can take the case")


class Dispatched(Answer):
    """A case sent to a squad, and the squad chosen."""

    issue: IssueStaff
    assignment: Candidate


class BatchAssignment(Answer):
    """A case of a batch matched to a squad."""

    issue_id: int
    squad_id: str
    squad_name: str | None
    distance_m: float


class BatchUnassigned(Answer):
    """A case of a batch no squad could take."""

    issue_id: int
    category: str


class OneByOne(Answer):
    """What dispatching each case to its nearest able squad in turn would give."""

    assigned: int
    total_m: float


class BatchPlanned(Answer):
    """Waiting cases shared out among squads with least total walking."""

    dry_run: bool
    assignments: list[BatchAssignment]
    unassigned: list[BatchUnassigned]
    assigned: int
    total_m: float
    one_by_one: OneByOne
    saving_m: float | None
    saving_share: float | None


class PositionRecorded(Answer):
    """A position as recorded, and until when it counts."""

    squad_id: str
    member_id: str
    on_duty: bool
    location: LonLat | None
    fresh_until: Timestamp | None


class SquadPosition(Answer):
    """Where a squad is now, and its load."""

    squad_id: str
    squad_name: str
    squad_name_en: str | None = None
    position: LonLat
    position_source: Literal["member", "base"]
    reported_at: Timestamp | None
    members_on_duty: int = Field(description="How many of the squad's members are on duty now")
    load: int
    capacity: int


class SquadPositions(Answer):
    """Where each squad is now."""

    now: Timestamp
    squads: list[SquadPosition]


# --- parking -------------------------------------------------------------------------------------

Figures = Annotated[
    dict[str, float | None],
    Field(description="Headline figures by name (households, cars, shares, spaces ...)"),
]


class CoverageLayers(Answer):
    """The coverage answer's map layers, as GeoJSON."""

    facilities: FeatureCollection
    service_areas: FeatureCollection
    covered: FeatureCollection
    uncovered: FeatureCollection
    suggested_sites: FeatureCollection


class SitingSummary(Answer):
    """What a siting problem chose and the household coverage it reaches (shares 0..1)."""

    problem: str = Field(description="mclp or lscp")
    sites_chosen: int
    households_covered_share_before: float
    households_covered_share_after: float
    unreachable_households: float


class SitingResult(SitingSummary):
    """A siting problem's answer, with the chosen sites as GeoJSON."""

    sites: FeatureCollection


class ParkingCoverage(Answer):
    """Households covered by parking within the radius, now (``before``) and in the scenario."""

    radius_m: float
    mode: str
    scenario: str
    removed: list[str]
    cars_per_household: float
    search_m: float
    figures: Figures
    before: Figures
    curve: dict[str, list[float | None]] = Field(
        description="Columns of the coverage curve, by radius_m"
    )
    layers: CoverageLayers
    suggestion: SitingSummary | None = omitted_when_empty("Only when sites were asked for")


class ParkingSites(Answer):
    """New parking sites chosen by one or both siting problems."""

    radius_m: float
    mode: str
    candidates: int
    mclp: SitingResult | None = omitted_when_empty("Unless only lscp was asked for")
    lscp: SitingResult | None = omitted_when_empty("Unless only mclp was asked for")
