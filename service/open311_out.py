"""What Open311 GeoReport v2 answers look like: the JSON models and the XML rendering.

The same plain data (lists of flat dicts) is answered as JSON or as XML, as the
path's ``.json`` / ``.xml`` suffix asks.  The XML is built with ``xml.etree``,
which escapes every text, so that whatever a resident typed stays text; the
characters XML 1.0 cannot carry at all are left out.  Root and item elements
follow the specification: ``<discovery>``, ``<services><service>``,
``<service_definition>``, ``<service_requests><request>``, ``<errors><error>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

FORMATS = ("json", "xml")
MEDIA = {"json": "application/json", "xml": "application/xml"}

# what XML 1.0 cannot hold, even escaped
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# how a list is wrapped: the root element, and the element of each item
WRAPPERS = {
    "services": ("services", "service"),
    "requests": ("service_requests", "request"),
    "errors": ("errors", "error"),
}
# lists inside an item: the element of the list, and of each entry
INNER = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value"}


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Open311Error(_Closed):
    """One error: the HTTP status as ``code``, and what is wrong, naming the bad value."""

    code: int
    description: str


class Endpoint(_Closed):
    specification: str
    url: str
    changeset: str
    type: Literal["production", "test"]
    formats: list[str]


class Discovery(_Closed):
    """Where the GeoReport endpoint is, what it speaks, and whom to ask."""

    changeset: str
    contact: str
    key_service: str
    endpoints: list[Endpoint]


class Service(_Closed):
    """One kind of problem a resident can report: a category of gridgov's catalogue."""

    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str
    group: str


class AttributeValue(_Closed):
    key: str
    name: str


class Attribute(_Closed):
    variable: bool
    code: str
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    required: bool
    datatype_description: str
    order: int
    description: str
    values: list[AttributeValue]


class ServiceDefinition(_Closed):
    """The extra questions a service asks (``attribute[code]`` in a report)."""

    service_code: str
    attributes: list[Attribute]


class Submitted(_Closed):
    """A report taken: the case's id, what happens next, and the reporter's account (none)."""

    service_request_id: str
    service_notice: str
    account_id: str | None


class TokenAnswer(_Closed):
    """A token's case; gridgov answers reports at once, so the token is the case's id."""

    service_request_id: str
    token: str


class ServiceRequest(_Closed):
    """A case as Open311 shows it: public fields only, never the reporter's contacts."""

    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str
    service_name: str
    service_code: str
    description: str
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float
    long: float
    media_url: str | None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(parent: ET.Element, item: dict[str, Any]) -> None:
    for name, value in item.items():
        child = ET.SubElement(parent, name)
        if value is None:
            continue
        if isinstance(value, list):
            for entry in value:
                inner = ET.SubElement(child, INNER.get(name, "item"))
                if isinstance(entry, dict):
                    _fill(inner, entry)
                else:
                    inner.text = _text(entry)
        elif isinstance(value, dict):
            _fill(child, value)
        else:
            child.text = _text(value)


def to_xml(kind: str, data: list[dict[str, Any]] | dict[str, Any]) -> bytes:
    """``data`` as an XML document: a list under its ``kind``'s wrapper
    (:data:`WRAPPERS`), or one object under the root element ``kind``."""
    if isinstance(data, list):
        root_name, item_name = WRAPPERS[kind]
        root = ET.Element(root_name)
        for item in data:
            _fill(ET.SubElement(root, item_name), item)
    else:
        root = ET.Element(kind)
        _fill(root, data)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def errors_of(status: int, description: str) -> list[dict[str, Any]]:
    """The specification's error list for one error."""
    return [{"code": status, "description": description}]
