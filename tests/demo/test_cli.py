"""`daodian demo` end to end on a database of its own: what `make run` does on first and later starts."""

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from daodian.cli import app
from daodian.kit.db import create_db_engine
from daodian.kit.settings import get_settings
from daodian.merchants.models import Store
from tests.support.databases import prepare_database

runner = CliRunner()


@pytest.fixture(scope="module")
def cli_settings(backend, tmp_path_factory):
    settings = prepare_database(backend, "daodian_test_demo_cli", tmp_path_factory.mktemp("demo_cli"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAODIAN_DATABASE_URL", settings.database_url)
        get_settings.cache_clear()
        yield settings
    get_settings.cache_clear()


def stores(settings) -> int:
    engine = create_db_engine(settings)
    with engine.connect() as connection:
        n = connection.scalar(select(func.count()).select_from(Store))
    engine.dispose()
    return n


def test_demo_then_if_empty_does_nothing(cli_settings):
    first = runner.invoke(app, ["demo", "--stores", "60", "--consumers", "20", "--seed", "3"])
    assert first.exit_code == 0, first.output
    assert "13800000001" in first.output and "daodian-demo" in first.output
    assert stores(cli_settings) == 60
    assert "planted links: precision" in first.output  # history was generated and mined

    mined = runner.invoke(app, ["linkage", "mine", "--window-days", "30", "--min-pairs", "1", "--report-against-demo"])
    assert mined.exit_code == 0, mined.output
    assert "Candidates:" in mined.output and "planted links: precision" in mined.output

    again = runner.invoke(app, ["demo", "--if-empty"])
    assert again.exit_code == 0, again.output
    assert "no demo city loaded" in again.output
    assert stores(cli_settings) == 60

    refused = runner.invoke(app, ["demo", "--stores", "60"])
    assert refused.exit_code == 1 and "already exist" in refused.output
    assert stores(cli_settings) == 60


def test_too_few_stores_is_a_usage_error(cli_settings):
    result = runner.invoke(app, ["demo", "--stores", "5"])
    assert result.exit_code == 2 and "at least" in result.output
