from datetime import timedelta

from sqlalchemy import update
from typer.testing import CliRunner

from daodian.jobs import cli as jobs
from daodian.kit.api.idempotency import IdempotencyKey
from daodian.kit.clock import utcnow
from daodian.orders.models import Order
from tests.orders.helpers import create_order, service_body


def test_the_cli_jobs(client, db, session_factory, settings, shop, me, monkeypatch):
    monkeypatch.setattr(jobs, "_factory", lambda: session_factory)
    monkeypatch.setattr(jobs, "get_settings", lambda: settings)
    order = create_order(client, me, service_body(shop.item))
    db.execute(update(Order).where(Order.id == order["id"]).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))
    db.flush()
    runner = CliRunner()
    expired = runner.invoke(jobs.jobs_app, ["expire-orders"])
    assert expired.exit_code == 0 and "1 orders expired" in expired.output
    purged = runner.invoke(jobs.jobs_app, ["purge-idempotency-keys"])
    assert purged.exit_code == 0 and "1 idempotency keys purged" in purged.output
    retried = runner.invoke(jobs.jobs_app, ["retry-refunds"])
    assert retried.exit_code == 0 and "none" in retried.output
