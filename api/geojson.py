"""The GeoJSON media type for answers built by ``service.geojson``."""

from __future__ import annotations

from fastapi.responses import JSONResponse, Response

from service.basemap import Basemap

# phones keep the basemap ten minutes, then ask with If-None-Match (a 304 when unchanged)
BASEMAP_CACHE = "public, max-age=600"


class GeoJSONResponse(JSONResponse):
    media_type = "application/geo+json"


def basemap_response(basemap: Basemap, if_none_match: str | None) -> Response:
    """The basemap's GeoJSON with its ``ETag``, or ``304 Not Modified`` when the client
    holds this version already."""
    headers = {"ETag": basemap.etag, "Cache-Control": BASEMAP_CACHE}
    if basemap.matches(if_none_match):
        return Response(status_code=304, headers=headers)
    return Response(basemap.body, media_type=GeoJSONResponse.media_type, headers=headers)
