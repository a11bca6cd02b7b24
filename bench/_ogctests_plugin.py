"""A pytest plugin that ``bench.ogc_conformance`` loads into ogctests' own pytest.

It runs in the tool's virtualenv (``.venv-ogc/ogctests``), not in gridgov's, and
imports nothing of gridgov.  Always: each test's abstract-test id (the first word
of its docstring, e.g. ``/ats/core/fc-op`` or ``/conf/queryables/get-queryables``)
is written into the JUnit XML as the property ``test_id``, so that the report
can count results per conformance class.

With ``OGC_REPAIR_LINK_HEADER=1`` it also repairs two defects of ogctests 0.1.15
in the test ``/conf/queryables/get-queryables-uris`` (``test_ct2``), and nothing
else, so that the test after it (``get-queryables``) can judge the server:

* its ``parse_link_header`` keeps the quotes around a parameter's value
  (``rel="…"`` stays ``'"…"'``) and stores the target IRI as ``iri`` with its
  angle brackets, while the test reads ``href``: no quoted relation type, which a
  URI relation type must be (RFC 8288 section 3), can ever match; it is replaced
  by :func:`rfc8288_links`;
* it stores the list of the matching hrefs where the abstract test stores the
  href (``store the href value as the Queryables URI``), and the next test then
  requests that list as a URL: the single href is stored instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

REPAIR = os.environ.get("OGC_REPAIR_LINK_HEADER") == "1"

_LINK = re.compile(r"<([^>]*)>((?:[^,\"]|\"(?:[^\"\\]|\\.)*\")*)")
_PARAM = re.compile(r";\s*([^\s;=,]+)\s*(?:=\s*(\"(?:[^\"\\]|\\.)*\"|[^\s;,]*))?")


def rfc8288_links(header: str) -> list[dict[str, str]]:
    """The links of a ``Link`` header value (RFC 8288): ``href`` and each parameter,
    quoted-string values unquoted."""
    links = []
    for target, params in _LINK.findall(header or ""):
        link = {"href": target}
        for name, value in _PARAM.findall(params):
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            link[name.lower()] = value
        links.append(link)
    return links


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Record each test's abstract-test id; under repair, swap in the Link parser."""
    for item in items:
        doc = (getattr(getattr(item, "function", None), "__doc__", None) or "").split()
        item.user_properties.append(("test_id", doc[0] if doc else ""))
        module: Any = getattr(item, "module", None)
        if REPAIR and module is not None and hasattr(module, "parse_link_header"):
            module.parse_link_header = rfc8288_links


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Under repair, after ``get-queryables-uris``: the href itself, not a list of it."""
    yield
    if not REPAIR or item.name != "test_ct2":
        return
    funcargs: dict[str, Any] = getattr(item, "funcargs", {})
    for resource in funcargs.get("filterable_resources") or []:
        found = resource.get("queryables_uri")
        if isinstance(found, list) and len(found) == 1:
            resource["queryables_uri"] = found[0]
