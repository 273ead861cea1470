"""What makes two quarantined payloads "the same bad item": a fingerprint of their raw form.

Pure (no ORM), so the ingest code and the migration that backfilled old rows compute it alike.
"""

import hashlib
import json
from typing import Any

# Envelopes that carry the post itself: a Mastodon boost, a Bluesky feed item, a Reddit thing.
_WRAPPERS = ("reblog", "post", "data")
# Where platforms put an item's own id, in the order the connectors read them.
_ID_KEYS = ("id", "uri", "name", "guid", "link")
# Bounds the walk of a hostile payload (the webhook accepts JSON nested thousands deep).
_MAX_DEPTH = 64


def quarantine_fingerprint(platform: str, raw: Any) -> str:
    """sha256 (hex) of the platform and the item's external id when the raw payload states
    one, else of the platform and the payload's canonical JSON.

    So a re-poll or a re-push of the same item (even edited) matches its earlier copy, and
    two different items without ids match only when their payloads are equal.
    """
    external_id = readable_external_id(raw)
    material = ["raw", platform, raw] if external_id is None else ["id", platform, external_id]
    return hashlib.sha256(canonical_json(material).encode("ascii")).hexdigest()


def readable_external_id(raw: Any) -> str | int | None:
    """The item's id as its payload states it (a non-empty string or an integer), or None;
    the innermost envelope that states one wins, as the connectors read the wrapped post."""
    chain = []
    item = raw
    while isinstance(item, dict) and len(chain) <= len(_WRAPPERS):
        chain.append(item)
        item = next((item[key] for key in _WRAPPERS if isinstance(item.get(key), dict)), None)
    for envelope in reversed(chain):
        for key in _ID_KEYS:
            value = envelope.get(key)
            if isinstance(value, str) and value.strip():
                return value
            if isinstance(value, int) and not isinstance(value, bool):
                return value
    return None


def canonical_json(value: Any) -> str:
    """One ASCII text per JSON value whatever its key order; survives what json.dumps refuses
    (lone surrogates are escaped by ensure_ascii; integers past 4300 digits and NaN are
    spelled out; anything else becomes its repr)."""
    return json.dumps(
        _canonical(value, 0), sort_keys=True, separators=(",", ":"), ensure_ascii=True
    )


def _canonical(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        # str() of an integer beyond 4300 digits raises; hex() has no such limit.
        return value if value.bit_length() <= 64 else {"$int": hex(value)}
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else {"$float": repr(value)}
    if depth >= _MAX_DEPTH:
        return "$deep"  # what a hostile payload nests below this is not walked
    if isinstance(value, dict):
        return {str(key): _canonical(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item, depth + 1) for item in value]
    return {"$repr": repr(value)}
