"""A page kept for many answers (``service.page_cache``), each answer with its own CSP
nonce, compressed once for them all.

The page is kept written with :data:`layers.page.NONCE_SLOT` where each answer's
nonce goes.  Compressing a 300 KB page anew (as ``GZipMiddleware`` would) costs more
than everything else an answer does, so the text between the slots is deflated once,
each piece ending on a byte boundary (a sync flush); an answer is those pieces with
its nonce, deflated on its own, between them (RFC 1951 blocks may follow one another
so), an empty last block, and the gzip trailer (RFC 1952) of the whole answer's text.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from layers.page import NONCE_SLOT, checked_nonce

# a gzip member's header: deflate, no name, no time, unknown system (RFC 1952)
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
LAST_BLOCK = zlib.compressobj(wbits=-15).flush()  # an empty final deflate block


def _deflated(data: bytes, level: int = 9) -> bytes:
    """``data`` as raw deflate blocks, none of them final, ending on a byte boundary."""
    deflate = zlib.compressobj(level, zlib.DEFLATED, -15)
    return deflate.compress(data) + deflate.flush(zlib.Z_SYNC_FLUSH)


@dataclass(frozen=True)
class KeptPage:
    """A page's UTF-8 text between its nonce slots, as it is and deflated."""

    pieces: tuple[bytes, ...]
    deflated: tuple[bytes, ...]

    @classmethod
    def of(cls, html: str) -> KeptPage:
        """The page ``html``, written with :data:`NONCE_SLOT` for its nonce."""
        pieces = tuple(piece.encode() for piece in html.split(NONCE_SLOT))
        return cls(pieces, tuple(_deflated(piece) for piece in pieces))

    def text(self, nonce: str) -> bytes:
        """The page with ``nonce`` on its scripts (UTF-8)."""
        return checked_nonce(nonce).encode().join(self.pieces)

    def gzipped(self, nonce: str) -> bytes:
        """:meth:`text`, gzip-compressed: the pieces deflated once and the nonce now."""
        text = self.text(nonce)
        body = _deflated(nonce.encode(), 1).join(self.deflated)
        trailer = struct.pack("<II", zlib.crc32(text), len(text) & 0xFFFFFFFF)
        return GZIP_HEADER + body + LAST_BLOCK + trailer
