"""`daodian jobs ...`: batch jobs, run by cron (or any scheduler) against the configured database."""

import typer
from rich.console import Console

from daodian.delivery import dispatching
from daodian.kit.api import idempotency
from daodian.kit.clock import utcnow
from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work
from daodian.kit.ops.metrics import run_job
from daodian.kit.settings import get_settings
from daodian.orders import service as orders
from daodian.payments import refunds

jobs_app = typer.Typer(help="Batch jobs (safe to run at any time, and concurrently with the server).",
                       no_args_is_help=True)
console = Console()


def _factory():
    return make_session_factory(create_db_engine(get_settings()))


@jobs_app.command("expire-orders")
def expire_orders() -> None:
    """Expire unpaid orders past their payment deadline and give their stock back (run every minute)."""
    count = run_job("expire-orders", lambda: orders.expire_due(_factory()))
    console.print(f"[green]{count} orders expired[/]")


@jobs_app.command("purge-idempotency-keys")
def purge_idempotency_keys() -> None:
    """Delete idempotency keys older than DAODIAN_IDEMPOTENCY_RETENTION_HOURS (run hourly)."""
    settings = get_settings()
    count = run_job("purge-idempotency-keys", lambda: _purge_keys(settings))
    console.print(f"[green]{count} idempotency keys purged[/]")


@jobs_app.command("retry-refunds")
def retry_refunds() -> None:
    """Ask the providers again about refunds still pending (unknown outcome, or PROCESSING)."""
    counts = run_job("retry-refunds", lambda: refunds.retry_pending(_factory(), get_settings()))
    console.print(f"[green]pending refunds re-sent[/]: {counts or 'none'}")


@jobs_app.command("dispatch")
def dispatch(policy: str = typer.Option("optimised", help="optimised (rolling horizon) or greedy (nearest idle).")) -> None:
    """One dispatch cycle: assign the waiting deliveries to couriers on duty (the server runs one every 10 s)."""
    if policy not in ("optimised", "greedy"):
        raise typer.BadParameter("optimised or greedy", param_hint="--policy")

    def cycle():
        with unit_of_work(_factory()) as session:
            return dispatching.run_cycle(session, utcnow(), policy)

    result = run_job("dispatch", cycle)
    console.print(f"[green]{result.assigned} deliveries assigned[/] "
                  f"({result.open_deliveries} waiting, {result.available_couriers} couriers on duty)")


def _purge_keys(settings) -> int:
    with unit_of_work(_factory()) as session:
        return idempotency.purge(session, settings)
