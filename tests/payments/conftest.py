import pytest

from tests.factories import auth, make_shop, make_user


@pytest.fixture
def shop(db):
    return make_shop(db)


@pytest.fixture
def consumer(db):
    return make_user(db, name="顾客")


@pytest.fixture
def me(db, consumer) -> dict:
    """The consumer's auth headers."""
    return auth(db, consumer)
