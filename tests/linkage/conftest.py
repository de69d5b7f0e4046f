import pytest

from daodian.nearby import process as nearby_process


@pytest.fixture
def api(client, app):
    """The client, with the nearby index polling the database on every request (stores made mid-test)."""
    nearby_process.index_for(app.state, None).freshness.interval_s = 0
    return client
