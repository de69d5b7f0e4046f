"""`daodian demo` on a database nobody has migrated yet: the schema comes first, then the city."""

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from daodian.cli import app
from daodian.kit.db import create_db_engine
from daodian.kit.settings import get_settings
from daodian.merchants.models import Store
from tests.support.databases import drop_database, empty_database


@pytest.fixture
def fresh_settings(backend, tmp_path):
    settings = empty_database(backend, "daodian_test_fresh_demo", tmp_path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAODIAN_DATABASE_URL", settings.database_url)
        get_settings.cache_clear()
        yield settings
    get_settings.cache_clear()
    drop_database(settings)


def test_demo_on_an_empty_database_migrates_it_first(fresh_settings):
    result = CliRunner().invoke(app, ["demo", "--stores", "40", "--consumers", "5", "--no-history"])
    assert result.exit_code == 0, result.output
    engine = create_db_engine(fresh_settings)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Store)) == 40
    engine.dispose()
