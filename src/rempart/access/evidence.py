"""The camera's evidence on a request: an optional plate crop or context image.

A camera may add ``image`` to ``POST /api/v1/access/requests``: a base64 JPEG or PNG of at most
:func:`max_image_bytes` bytes (decoded; ``REMPART_ACCESS_IMAGE_MAX_KB``, default 200 KB). The
type is read from the magic bytes (JPEG ``FF D8 FF``, PNG ``89 50 4E 47 0D 0A 1A 0A``), never
from what the camera claims. A bad image refuses the whole request (422, one line, nothing
stored). The image is stored beside the decision (:class:`~rempart.access.models.DecisionImage`)
and shown to the control room with the referral.

Retention: an image shows a plate and often people, so it is kept no longer than the plate in
clear: :func:`purge` (run by :func:`rempart.access.retention.purge`) deletes every image older
than the pseudonymisation delay (24 h by default), whether or not the plate holds a permit, and
deleting the decision deletes its image.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import os

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class ImageInvalid(ValueError):
    """An image refused: the message is one line naming the value and what was expected."""


def max_image_bytes() -> int:
    """Largest decoded image accepted, bytes (``REMPART_ACCESS_IMAGE_MAX_KB``, default 200)."""
    return int(float(os.environ.get("REMPART_ACCESS_IMAGE_MAX_KB", "200")) * 1024)


def decode_image(text: str) -> tuple[bytes, str]:
    """The bytes and MIME type of a base64 JPEG or PNG; :class:`ImageInvalid` otherwise.

    A ``data:image/...;base64,`` prefix is accepted and ignored (the magic bytes decide).
    """
    if not isinstance(text, str) or not text.strip():
        raise ImageInvalid("image: expected base64 text of a JPEG or PNG")
    payload = text.strip()
    if payload.startswith("data:"):
        payload = payload.partition(",")[2]
    limit = max_image_bytes()
    if len(payload) > (limit + 2) // 3 * 4 + 4:  # refuse before decoding a huge string
        raise ImageInvalid(
            f"image: about {len(payload) * 3 // 4 // 1024} KB; expected at most {limit // 1024} KB"
        )
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ImageInvalid(
            "image: not valid base64; expected base64 text of a JPEG or PNG"
        ) from None
    if len(data) > limit:
        raise ImageInvalid(f"image: {len(data) / 1024:.0f} KB; expected at most {limit // 1024} KB")
    if data.startswith(JPEG_MAGIC):
        return data, "image/jpeg"
    if data.startswith(PNG_MAGIC):
        return data, "image/png"
    raise ImageInvalid(
        f"image: starts with bytes {data[:4].hex(' ')}; expected a JPEG (ff d8 ff) or PNG "
        "(89 50 4e 47)"
    )


def store(request_id: str, data: bytes, content_type: str) -> None:
    """Keep ``data`` with the decision ``request_id`` (hex or UUID text)."""
    from rempart.access.models import AccessDecision, DecisionImage

    decision = AccessDecision.objects.only("pk", "received_at").get(request_id=request_id)
    DecisionImage.objects.update_or_create(
        decision=decision,
        defaults={
            "content_type": content_type,
            "data": data,
            "size_bytes": len(data),
            "received_at": decision.received_at,
        },
    )


def purge(before: dt.datetime) -> int:
    """Delete every image received before ``before``; returns how many."""
    from rempart.access.models import DecisionImage

    return DecisionImage.objects.filter(received_at__lt=before).delete()[0]
