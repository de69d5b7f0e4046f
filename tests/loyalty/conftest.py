"""Fixtures the earning and tier tests share: a shop, a consumer and the consumer's auth headers."""

import pytest

from tests.factories import auth, make_shop, make_user


@pytest.fixture
def shop(db):
    return make_shop(db)


@pytest.fixture
def consumer(db):
    return make_user(db, name="顾客")


@pytest.fixture
def me(db, consumer):
    return auth(db, consumer)
