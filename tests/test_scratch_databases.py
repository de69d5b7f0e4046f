"""A test run leaves no scratch PostgreSQL database behind, whichever fixture made it."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.support.databases import POSTGRES_ADMIN_URL

ROOT = Path(__file__).resolve().parents[1]


def _databases(like: str) -> set[str]:
    engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        names = set(conn.scalars(text("SELECT datname FROM pg_database WHERE datname LIKE :like"), {"like": like}))
    engine.dispose()
    return names


def test_a_module_fixture_that_never_drops_its_database_leaves_nothing(backend, tmp_path):
    if backend != "postgresql":
        pytest.skip("scratch databases are PostgreSQL's; SQLite files live in pytest's tmp dir")
    probe = ROOT / "tests" / f"test_zz_scratch_probe_{tmp_path.name}.py"
    probe.write_text(textwrap.dedent("""
        from tests.support.databases import prepare_database

        def test_prepares_and_forgets(backend, tmp_path):
            prepare_database(backend, "daodian_test_forgotten", tmp_path)
    """))
    try:
        run = subprocess.run([sys.executable, "-m", "pytest", "--db", "postgresql", "-q", "-p", "no:cacheprovider",
                              str(probe)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    finally:
        probe.unlink()
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout
    assert not _databases("daodian_test_forgotten_%")
