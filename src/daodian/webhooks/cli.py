"""`daodian webhooks ...`: send due deliveries from cron (or beside servers whose worker is off)."""

from datetime import timedelta

import typer
from rich.console import Console

from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work
from daodian.kit.outbox import lag
from daodian.kit.settings import get_settings
from daodian.webhooks.fanout import CONSUMER
from daodian.webhooks.runner import deliver as deliver_once

webhooks_app = typer.Typer(help="Webhook deliveries.", no_args_is_help=True)
console = Console()


@webhooks_app.command("deliver")
def deliver() -> None:
    """Turn new facts into deliveries and send every due one (safe beside running servers and itself)."""
    settings = get_settings()
    factory = make_session_factory(create_db_engine(settings))
    stats = deliver_once(factory, timeout=settings.webhook_timeout_seconds,
                         lease=timedelta(seconds=settings.webhook_lease_seconds))
    with unit_of_work(factory, read_only=True) as session:
        behind = lag(session).get(CONSUMER, 0)
    console.print(f"{stats.facts} facts read, {stats.sent} sent: {stats.succeeded} succeeded, "
                  f"{stats.failed} failed (retried later); {behind} facts not read yet")
