"""Results of a nearby search as the API shows them: each hit with its store's view, as JSON-ready dicts
(the NearbyItem schema, which linkage's NearbyStore shares). The nearby page itself is put together as
JSON from views each process keeps (nearby.store_json)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from daodian.merchants import stores
from daodian.nearby.index import Hit


def items(session: Session, hits: list[Hit]) -> list[dict]:
    """One query for the stores and their categories (merchants.stores.store_views); the store's
    `open_now` is the one the ranking used. A store deleted since the index last looked is left out."""
    views = {v["id"]: v for v in stores.store_views(session, [h.store_id for h in hits],
                                                        open_now={h.store_id: h.open_now for h in hits})}
    return [{"store": views[h.store_id], "distance_m": round(h.distance_m), "open_now": h.open_now, "score": h.score,
             "score_parts": h.score_parts, "promoted": h.promoted} for h in hits if h.store_id in views]
