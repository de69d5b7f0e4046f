"""`daodian import yelp` as a command: the table of rejected lines, and a dry run that writes nothing."""

import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from daodian.cli import app
from daodian.kit.db import create_db_engine
from daodian.kit.settings import get_settings
from daodian.merchants.models import Store

runner = CliRunner()


@pytest.fixture
def cli_env(settings, monkeypatch):
    monkeypatch.setenv("DAODIAN_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def test_dry_run_reports_and_rolls_back(cli_env, tmp_path):
    path = tmp_path / "businesses.json"
    good = {"business_id": "cli-1", "name": "Cut & Go", "full_address": "1 Main St", "latitude": 42.3,
            "longitude": -71.0, "categories": ["Hair Salons"], "stars": 4.5, "review_count": 3}
    path.write_text(json.dumps(good) + "\n" + '{"business_id": "cli-2", "name": "Pub", "latitude": 42.3, '
                    '"longitude": -71.0, "categories": ["Bars"]}\n', encoding="utf-8")
    result = runner.invoke(app, ["import", "yelp", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "cli-2" in result.output and "no service category for Yelp categories: Bars" in result.output
    assert "would import 1 of 2 lines" in result.output
    engine = create_db_engine(cli_env)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Store).where(Store.external_ref.like("yelp:cli-%"))) == 0
    engine.dispose()


def test_unknown_fallback_category_is_refused(cli_env, tmp_path):
    path = tmp_path / "empty.json"
    path.write_text("", encoding="utf-8")
    result = runner.invoke(app, ["import", "yelp", str(path), "--fallback-category", "dining.nowhere"])
    assert result.exit_code == 1 and "dining.nowhere" in result.output
