"""Writers of one SQLite file take turns on its lock file (kit.sqlite_turns), across connections and processes.

On a SQLite file of their own whichever database leg runs."""

import fcntl
import os
import signal
import subprocess
import sys
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from daodian.kit.db import BEGIN_MODE, create_db_engine
from daodian.kit.settings import Settings
from daodian.kit.sqlite_turns import LOCK_SUFFIX


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "turns.sqlite3"
    engine = create_db_engine(Settings(env="dev", database_url=f"sqlite:///{path}"))
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        connection.execute(text("INSERT INTO counter VALUES (0)"))
    engine.dispose()
    return path


def engine_of(path, busy_timeout_ms=5000):
    return create_db_engine(Settings(env="dev", database_url=f"sqlite:///{path}", sqlite_busy_timeout_ms=busy_timeout_ms))


def turn_is_free(path) -> bool:
    with open(f"{path}{LOCK_SUFFIX}", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def test_a_writing_transaction_holds_the_turn_until_it_ends(database):
    engine = engine_of(database)
    for end in ("commit", "rollback"):
        connection = engine.connect()
        transaction = connection.begin()
        assert not turn_is_free(database)
        connection.execute(text("UPDATE counter SET n = n + 1"))
        getattr(transaction, end)()
        assert turn_is_free(database)
        connection.close()
    with engine.connect().execution_options(**{BEGIN_MODE: "DEFERRED"}) as reading, reading.begin():
        reading.execute(text("SELECT n FROM counter")).scalar_one()
        assert turn_is_free(database)  # a read takes no turn
    engine.dispose()


def test_a_second_writer_waits_for_the_turn_not_for_sqlites_busy_handler(database):
    """With no busy timeout SQLite would refuse the second writer at once; it waits for the turn instead."""
    first, second = engine_of(database), engine_of(database, busy_timeout_ms=0)
    holding = first.connect()
    transaction = holding.begin()
    holding.execute(text("UPDATE counter SET n = n + 1"))
    outcome = {}

    def write():
        try:
            with second.begin() as connection:
                connection.execute(text("UPDATE counter SET n = n + 10"))
            outcome["done"] = True
        except OperationalError as exc:
            outcome["error"] = exc

    writer = threading.Thread(target=write)
    writer.start()
    writer.join(0.3)
    assert writer.is_alive() and not outcome  # waiting for the turn
    transaction.commit()
    writer.join(10)
    assert outcome == {"done": True}
    with first.connect() as connection:
        assert connection.execute(text("SELECT n FROM counter")).scalar_one() == 11
    holding.close()
    first.dispose()
    second.dispose()


def test_a_thread_holding_the_turn_does_not_wait_for_itself(database):
    engine = engine_of(database, busy_timeout_ms=50)
    outer = engine.connect()
    transaction = outer.begin()
    outer.execute(text("UPDATE counter SET n = n + 1"))
    with pytest.raises(OperationalError, match="locked"), engine.begin() as inner:  # SQLite's own refusal
        inner.execute(text("UPDATE counter SET n = n + 1"))
    assert not turn_is_free(database)  # still the outer transaction's
    transaction.commit()
    assert turn_is_free(database)
    outer.close()
    engine.dispose()


def test_a_killed_process_leaves_the_turn_free(database):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        "from sqlalchemy import text\n"
        "from daodian.kit.db import create_db_engine\n"
        "from daodian.kit.settings import Settings\n"
        f"engine = create_db_engine(Settings(env='dev', database_url='sqlite:///{database}'))\n"
        "connection = engine.connect(); connection.begin()\n"
        "connection.execute(text('UPDATE counter SET n = n + 100'))\n"
        "print('holding', flush=True); time.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        assert not turn_is_free(database)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
    finally:
        if holder.poll() is None:
            holder.kill()
    assert turn_is_free(database)
    engine = engine_of(database, busy_timeout_ms=0)
    with engine.begin() as connection:  # SQLite's lock went with it too: the uncommitted +100 is gone
        connection.execute(text("UPDATE counter SET n = n + 1"))
        assert connection.execute(text("SELECT n FROM counter")).scalar_one() == 1
    engine.dispose()
