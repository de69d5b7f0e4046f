import pytest

from daodian.nearby import index as nearby


@pytest.fixture
def api(client, app):
    """The client, with the nearby index polling the database on every request (stores made mid-test)."""
    nearby.index_for(app.state, None).freshness.interval_s = 0
    return client
