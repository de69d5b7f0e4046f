import os
import shutil
from pathlib import Path

import pytest

from daodian.analytics.export import export_facts
from daodian.kit.settings import Settings
from tests.analytics import generate


@pytest.fixture
def facts_dir(tmp_path) -> Path:
    return tmp_path / "facts"


@pytest.fixture
def world(db):
    """Synthetic facts of four merchants, in the test's database."""
    return generate.build(db)


@pytest.fixture
def exported(world, session_factory, facts_dir):
    """`world`, exported to Parquet."""
    export_facts(session_factory, facts_dir)
    return world


@pytest.fixture
def analytics_settings(settings, facts_dir) -> Settings:
    return settings.model_copy(update={"facts_dir": facts_dir})


@pytest.fixture(scope="session")
def spark():
    """One local Spark for the whole run (starting it takes seconds); small data only."""
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:  # Spark runs on a JVM (Java 17)
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the Spark tests, but no Java runtime is on PATH (install Java 17)")
        pytest.skip("Spark needs a Java runtime (Java 17), and none is on PATH")
    from daodian.analytics.engines.spark_engine import spark_session

    session = spark_session("local[2]")
    yield session
    session.stop()
