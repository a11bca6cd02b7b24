"""Capabilities handed to reporters, derived from the server secret."""

from __future__ import annotations

import base64
import hashlib
import hmac


def photo_token(secret: bytes, issue_id: int) -> str:
    """The capability to add photos to one case, handed to its reporter.

    Derived, not stored, so that a retried report can be answered with the same
    token without writing anything.
    """
    digest = hmac.new(secret, f"photo:{issue_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()
