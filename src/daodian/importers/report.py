"""What an import did: counts of rows created, updated and unchanged, and every line it turned away."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rejection:
    """One input line that was not imported: where it is, what it was, and why (a stable code and a sentence)."""

    line: int
    ref: str | None
    code: str
    reason: str


@dataclass
class ImportReport:
    source: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    dry_run: bool = False

    @property
    def imported(self) -> int:
        """Lines that are in the database after the import (new, changed or already up to date)."""
        return self.created + self.updated + self.unchanged

    @property
    def lines(self) -> int:
        return self.imported + len(self.rejected)

    def reject(self, line: int, ref: str | None, code: str, reason: str) -> None:
        self.rejected.append(Rejection(line, ref, code, reason))

    def rejected_by_code(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.rejected:
            counts[r.code] = counts.get(r.code, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
