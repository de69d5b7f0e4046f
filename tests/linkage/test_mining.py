"""The miner: textbook rules on plain baskets, the window's edges, chunking, and filing candidates."""

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from daodian.linkage.models import CategoryLink, LinkSource, LinkStatus
from daodian.mining import rules as mining
from daodian.mining import service as mining_service
from daodian.mining.sources import ClosedLoop
from daodian.taxonomy.models import ProductCategory, ServiceCategory

GROCERIES = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "groceries" / "groceries.csv"
DAY = 86_400


def groceries():
    if not GROCERIES.exists():
        pytest.skip(f"{GROCERIES} not here (see ../shared/datasets/README.md)")
    baskets = [line.rstrip("\n").split(",") for line in GROCERIES.open(encoding="utf-8")]
    items = sorted({item for basket in baskets for item in basket})
    index = {name: i for i, name in enumerate(items)}
    who = [b for b, basket in enumerate(baskets) for _ in dict.fromkeys(basket)]
    what = [index[item] for basket in baskets for item in dict.fromkeys(basket)]
    return mining.Events.of(who, what), items, len(baskets)


def test_plain_baskets_give_the_textbook_rules():
    """Hahsler's Groceries as in arules / Lantz ch. 8: apriori(support=0.006, confidence=0.25) has 150 rules of
    length 2, the best by lift {herbs} => {root vegetables} (0.0070158, 0.43125, 3.9565)."""
    baskets, items, n = groceries()
    counts = mining.count(baskets, baskets, window=0, n_antecedents=len(items), n_consequents=len(items),
                          exclude_same=True, people=n)
    assert counts.people == 9835 and len(items) == 169
    assert counts.antecedents[items.index("whole milk")] == 2513
    rules = mining.rules(counts, mining.Thresholds(min_support=0.006, min_confidence=0.25),
                         antecedent_names=items, consequent_names=items)
    assert len(rules) == 150
    top = rules.iloc[0]
    assert (top.antecedent, top.consequent) == ("herbs", "root vegetables")
    assert top.support == pytest.approx(0.0070158, abs=5e-8)
    assert top.confidence == pytest.approx(0.43125, abs=5e-6)
    assert top.lift == pytest.approx(3.9565, abs=5e-5)
    second = rules.iloc[1]
    assert (second.antecedent, second.consequent, round(second.lift, 4)) == ("berries", "whipped/sour cream", 3.7969)


def test_rules_match_a_brute_force_count():
    baskets, items, n = groceries()
    sets = [set() for _ in range(n)]
    for who, what in zip(baskets.who.tolist(), baskets.what.tolist()):
        sets[who].add(what)
    counts = mining.count(baskets, baskets, window=0, n_antecedents=len(items), n_consequents=len(items),
                          exclude_same=True, people=n)
    for a, c in [(items.index("herbs"), items.index("root vegetables")), (items.index("beef"), items.index("whole milk"))]:
        assert counts.pairs[a, c] == sum(1 for s in sets if a in s and c in s)


def test_the_window_counts_people_once_and_only_forwards():
    # person 1: buys X (0) on day 0, consumes Y (0) on days 5 and 6 -> one person, not two
    # person 2: consumes Y on day 0, buys X on day 1 -> before the purchase: no pair
    # person 3: buys X on day 0, consumes Y on day 31 -> outside a 30-day window
    # person 4: buys X on day 10, consumes Y on day 40 (exactly 30 days) -> inside
    purchases = mining.Events.of([1, 2, 3, 4], [0, 0, 0, 0], [0, DAY, 0, 10 * DAY])
    consumptions = mining.Events.of([1, 1, 2, 3, 4], [0, 0, 0, 0, 0], [5 * DAY, 6 * DAY, 0, 31 * DAY, 40 * DAY])
    counts = mining.count(purchases, consumptions, window=30 * DAY, n_antecedents=1, n_consequents=1)
    assert counts.pairs[0, 0] == 2 and counts.antecedents[0] == 4 and counts.consequents[0] == 4
    assert counts.people == 4 and counts.candidate_pairs == 3
    rule = mining.rules(counts).iloc[0]
    assert (rule.support, rule.confidence, rule.lift) == (0.5, 0.5, 0.5)
    assert mining.count(purchases, consumptions, window=0, n_antecedents=1, n_consequents=1).pairs[0, 0] == 0


def test_chunks_add_up_to_one_pass(monkeypatch):
    rng = np.random.default_rng(3)
    purchases = mining.Events.of(rng.integers(0, 300, 4000), rng.integers(0, 7, 4000), rng.integers(0, 90 * DAY, 4000))
    consumptions = mining.Events.of(rng.integers(0, 300, 5000), rng.integers(0, 5, 5000),
                                    rng.integers(0, 90 * DAY, 5000))
    whole = mining.count(purchases, consumptions, window=20 * DAY, n_antecedents=7, n_consequents=5)
    monkeypatch.setattr(mining, "CHUNK_PAIRS", 50)
    chunked = mining.count(purchases, consumptions, window=20 * DAY, n_antecedents=7, n_consequents=5)
    assert (whole.pairs == chunked.pairs).all() and whole.pairs.sum() > 0
    # and against the definition, person by person
    expected = np.zeros((7, 5), dtype=np.int64)
    for person in range(300):
        p = purchases.who == person
        c = consumptions.who == person
        pairs = {(a, b) for a, ta in zip(purchases.what[p], purchases.when[p])
                 for b, tb in zip(consumptions.what[c], consumptions.when[c]) if 0 <= tb - ta <= 20 * DAY}
        for a, b in pairs:
            expected[a, b] += 1
    assert (whole.pairs == expected).all()


def test_bad_input_is_refused():
    events = mining.Events.of([1], [3], [0])
    with pytest.raises(ValueError, match="window"):
        mining.count(events, events, window=-1, n_antecedents=4, n_consequents=4)
    with pytest.raises(ValueError, match="codes"):
        mining.count(events, events, window=0, n_antecedents=2, n_consequents=4)


def test_filing_keeps_operators_decisions_and_is_idempotent(db):
    """Candidates are filed once; re-runs refresh figures; rejected and approved rows keep their status; curated
    pairs get no duplicate; undecided candidates that fade are withdrawn."""
    codes = {c.code: c.id for c in db.scalars(select(ProductCategory))}
    service = {c.code: c.id for c in db.scalars(select(ServiceCategory))}
    products = sorted(codes, key=codes.get)
    services = sorted(service, key=service.get)
    found = [("food.tea", "dining.cafe"), ("pets.food", "pet_service.grooming"), ("auto.oil", "auto_service.oil_change"),
             ("av.mic", "leisure.ktv")]

    def loop(rules):
        """Ten people per rule buy the product on day 0 and consume the service on day 1."""
        who, bought, used = [], [], []
        for k, (product, service_code) in enumerate(rules):
            who += [k * 100 + person for person in range(10)]
            bought += [products.index(product)] * 10
            used += [services.index(service_code)] * 10
        return ClosedLoop(mining.Events.of(who, bought, [0] * len(who)), mining.Events.of(who, used, [DAY] * len(who)),
                          db.scalars(select(ProductCategory).order_by(ProductCategory.id)).all(),
                          db.scalars(select(ServiceCategory).order_by(ServiceCategory.id)).all())

    first = mining_service.mine(db, loop=loop(found))
    assert first.pairs == set(found) and first.created == 3 and first.already_curated == [("auto.oil", "auto_service.oil_change")]

    def rows():
        db.expire_all()
        return {(r.product_category_id, r.service_category_id): r for r in db.scalars(
            select(CategoryLink).where(CategoryLink.source == LinkSource.MINED))}

    mined = rows()
    tea = mined[(codes["food.tea"], service["dining.cafe"])]
    assert tea.status == LinkStatus.CANDIDATE and tea.pair_count == 10 and tea.window_days == 30 and tea.lift > 1
    tea.status, tea.reviewed_at = LinkStatus.REJECTED, tea.mined_at  # as an operator's PATCH would
    pets = mined[(codes["pets.food"], service["pet_service.grooming"])]
    pets.status, pets.reviewed_at = LinkStatus.LIVE, pets.mined_at
    db.flush()
    figures = {k: (r.support, r.confidence, r.lift, r.pair_count) for k, r in mined.items()}

    again = mining_service.mine(db, loop=loop(found))
    assert again.created == 0 and again.updated == 3
    after = rows()
    assert {k: (r.support, r.confidence, r.lift, r.pair_count) for k, r in after.items()} == figures
    assert after[(codes["food.tea"], service["dining.cafe"])].status == LinkStatus.REJECTED
    assert after[(codes["pets.food"], service["pet_service.grooming"])].status == LinkStatus.LIVE

    last = mining_service.mine(db, loop=loop([("food.tea", "dining.cafe")]))  # the others fade away
    assert last.withdrawn == 1  # av.mic -> ktv was never decided on
    assert set(rows()) == {(codes["food.tea"], service["dining.cafe"]), (codes["pets.food"], service["pet_service.grooming"])}
