"""`daodian linkage mine`: mine the closed loop and file the rules as `mined` candidate links.

Operators decide (linkage.service.update_link); the miner only proposes. Rules on a pair that already
has a curated link are reported but not filed again (the curated link says it already). An existing
mined row gets the new figures every run, but its status and strength move only while no operator has
decided on it: a rejected pair stays rejected, an approved one stays live. Undecided candidates that no
longer pass the thresholds are withdrawn (deleted: nobody ever looked at them). Running twice on the
same data gives the same rows and figures.
"""

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from sqlalchemy.orm import Session

from daodian.kit.clock import utcnow
from daodian.linkage import repository
from daodian.linkage.models import CategoryLink, LinkSource, LinkStatus
from daodian.mining import rules as mining
from daodian.mining.sources import ClosedLoop, read_closed_loop

DAY_S = 86_400
DEFAULT_WINDOW_DAYS = 30
# Demo-tuned defaults: a rule needs a few people behind it and a clear lift over chance.
DEFAULT_THRESHOLDS = mining.Thresholds(min_support=0.0005, min_confidence=0.05, min_lift=2.0, min_pairs=5)


@dataclass
class MiningRun:
    rules: pd.DataFrame  # antecedent / consequent are category codes
    purchases: int
    consumptions: int
    people: int
    candidate_pairs: int
    created: int = 0
    updated: int = 0
    withdrawn: int = 0
    already_curated: list[tuple[str, str]] = field(default_factory=list)

    @property
    def pairs(self) -> set[tuple[str, str]]:
        return set(zip(self.rules["antecedent"], self.rules["consequent"]))


def mine(session: Session, *, window_days: int = DEFAULT_WINDOW_DAYS,
         thresholds: mining.Thresholds = DEFAULT_THRESHOLDS, now: datetime | None = None,
         loop: ClosedLoop | None = None) -> MiningRun:
    """Mine the closed loop (or the events given) and file the rules; the caller commits."""
    loop = loop or read_closed_loop(session)
    counts = mining.count(loop.purchases, loop.consumptions, window=window_days * DAY_S,
                          n_antecedents=len(loop.product_categories), n_consequents=len(loop.service_categories))
    found = mining.rules(counts, thresholds, antecedent_names=[c.code for c in loop.product_categories],
                         consequent_names=[c.code for c in loop.service_categories])
    run = MiningRun(found, len(loop.purchases), len(loop.consumptions), counts.people, counts.candidate_pairs)
    _file(session, run, loop, window_days, now or utcnow())
    return run


def _file(session: Session, run: MiningRun, loop: ClosedLoop, window_days: int, now: datetime) -> None:
    product_id = {c.code: c.id for c in loop.product_categories}
    service_id = {c.code: c.id for c in loop.service_categories}
    curated = {(r.product_category_id, r.service_category_id) for r in repository.links_by_source(session, LinkSource.CURATED)}
    mined = {(r.product_category_id, r.service_category_id): r for r in repository.links_by_source(session, LinkSource.MINED)}
    seen: set[tuple[int, int]] = set()
    for rule in run.rules.itertuples(index=False):
        key = (product_id[rule.antecedent], service_id[rule.consequent])
        if key in curated and key not in mined:
            run.already_curated.append((rule.antecedent, rule.consequent))
            continue
        seen.add(key)
        figures = dict(support=float(rule.support), confidence=float(rule.confidence), lift=float(rule.lift),
                       pair_count=int(rule.pair_count), antecedent_count=int(rule.antecedent_count),
                       consequent_count=int(rule.consequent_count), window_days=window_days, mined_at=now)
        row = mined.get(key)
        if row is None:
            session.add(CategoryLink(product_category_id=key[0], service_category_id=key[1], source=LinkSource.MINED,
                                     status=LinkStatus.CANDIDATE, strength=_strength(rule.confidence), **figures))
            run.created += 1
            continue
        for name, value in figures.items():
            setattr(row, name, value)
        if not row.operator_decided and row.status == LinkStatus.CANDIDATE:
            row.strength = _strength(rule.confidence)
        run.updated += 1
    for key, row in mined.items():
        if key not in seen and not row.operator_decided and row.status == LinkStatus.CANDIDATE:
            session.delete(row)
            run.withdrawn += 1
    session.flush()


def _strength(confidence: float) -> float:
    """How often buyers went on to the service: a fair first guess an operator can change."""
    return round(min(1.0, max(0.0, float(confidence))), 4)


def precision_recall(found: set[tuple[str, str]], planted: set[tuple[str, str]]) -> tuple[float, float]:
    hits = len(found & planted)
    return (hits / len(found) if found else 0.0), (hits / len(planted) if planted else 0.0)
