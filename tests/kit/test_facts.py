import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from daodian.kit.facts import append_fact


def test_facts_are_append_only_in_the_database(db):
    fact = append_fact(db, "test.happened", {"amount_fen": 100})
    for statement in (f"UPDATE facts SET kind = 'x' WHERE id = {fact.id}", f"DELETE FROM facts WHERE id = {fact.id}"):
        with pytest.raises(DatabaseError, match="append-only"), db.begin_nested():
            db.execute(text(statement))
    assert db.execute(text(f"SELECT kind FROM facts WHERE id = {fact.id}")).scalar_one() == "test.happened"
