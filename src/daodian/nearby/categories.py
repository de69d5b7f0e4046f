"""Which service categories a nearby search looks in, by code: read once, and again after an edit.

The category trees change with a deploy (migrations sync them) and when an operator edits them (taxonomy.watch
notices within seconds), so the ids under a code are kept after the first search asks for it until then. An
unknown code is never kept: taxonomy refuses it (404 unknown_category) each time it is asked.
"""

from sqlalchemy.orm import Session

from daodian.taxonomy import service as taxonomy
from daodian.taxonomy.models import ServiceCategory
from daodian.taxonomy.watch import TreeWatch


class Subtrees:
    def __init__(self) -> None:
        self._ids: dict[str, list[int]] = {}
        self.watch = TreeWatch()

    def subtree(self, session: Session, code: str) -> list[int]:
        """The category and every one below it (a group: all its services)."""
        if self.watch.changed(session):
            self._ids = {}
        found = self._ids.get(code)
        if found is None:
            found = self._ids[code] = taxonomy.subtree_ids(session, ServiceCategory, code)
        return found
