"""How a case is shown: public fields for everyone, more for staff.

Public views never carry the reporter's name or phone, the coordinates as
typed, photos, or staff names in the history. The API answers them through
the models in :mod:`service.models` (``IssuePublic``, ``IssueStaff``, ...),
which hold the same rule a second time: what the public model lacks, the
answer drops.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.community import CommunitySnapshot
from store.catalogue import Entry
from store.models import Issue, IssueEvent, IssuePhoto


def iso(moment: datetime | None) -> str | None:
    """Naive UTC to ISO 8601 with a Z."""
    return None if moment is None else moment.isoformat(timespec="seconds") + "Z"


def issue_view(
    issue: Issue,
    areas: CommunitySnapshot,
    categories: dict[str, Entry],
    now: datetime,
    staff: bool,
    photos: list[IssuePhoto] | None = None,
) -> dict[str, Any]:
    """A case as a JSON-ready dict; ``categories`` is its community's catalogue
    (:func:`store.catalogue.categories_for`), which names its category."""
    category = categories.get(issue.category)
    view: dict[str, Any] = {
        "id": issue.id,
        "status": issue.status,
        "category": {
            "code": issue.category,
            "name_zh": category.name_zh if category else None,
            "name_en": category.name_en if category else None,
        },
        "description": issue.description,
        "location": {"lon": issue.lon, "lat": issue.lat},
        "grid": {
            "code": issue.grid_code,
            **areas.named("grid", issue.grid_code),
        },
        "district": (
            {
                "code": issue.district_code,
                **areas.named("district", issue.district_code),
            }
            if issue.district_code
            else None
        ),
        "channel": issue.channel,
        "squad": (
            {"id": issue.squad_id, **areas.named("squad", issue.squad_id)}
            if issue.squad_id
            else None
        ),
        "escalated_to": (
            {
                "id": issue.department,
                **areas.named("unit", issue.department),
            }
            if issue.department
            else None
        ),
        "reported_at": iso(issue.reported_at),
        "updated_at": iso(issue.updated_at),
        "deadline": iso(issue.due_at),
        "overdue": issue.overdue_at(now),
        "duplicate_of": issue.duplicate_of,
    }
    if staff:
        view.update(
            {
                "reporter": {"name": issue.reporter_name, "phone": issue.reporter_phone},
                "input": {"crs": issue.input_crs, "lon": issue.input_lon, "lat": issue.input_lat},
                "filed_at": iso(issue.filed_at),
                "dispatched_at": iso(issue.dispatched_at),
                "resolved_at": iso(issue.resolved_at),
                "closed_at": iso(issue.closed_at),
                "file_deadline": iso(issue.file_deadline),
                "handle_deadline": iso(issue.handle_deadline),
                "department_deadline": iso(issue.department_deadline),
                "department_response": issue.department_response,
                "rework_count": issue.rework_count,
                "photos": [photo_view(p) for p in photos or []],
            }
        )
    return view


def photo_view(photo: IssuePhoto) -> dict[str, Any]:
    base = f"/api/v1/issues/{photo.issue_id}/photos/{photo.id}"
    return {
        "id": photo.id,
        "url": base,
        "thumbnail_url": f"{base}?thumbnail=true",
        "content_type": photo.content_type,
        "width": photo.width,
        "height": photo.height,
    }


def event_view(event: IssueEvent, staff: bool) -> dict[str, Any]:
    view: dict[str, Any] = {
        "at": iso(event.at),
        "from": event.from_status,
        "to": event.to_status,
        "level": event.level,
    }
    if staff:
        view.update(
            {
                "actor": event.actor,
                "role": event.actor_role,
                "note": event.note,
                "override": bool(event.override),
                "department": event.department,
            }
        )
    return view


def issue_feature(view: dict[str, Any]) -> dict[str, Any]:
    """A case view as a GeoJSON Feature (the location becomes the geometry)."""
    props = {k: v for k, v in view.items() if k != "location"}
    loc = view["location"]
    return {
        "type": "Feature",
        "id": view["id"],
        "geometry": {"type": "Point", "coordinates": [loc["lon"], loc["lat"]]},
        "properties": props,
    }
