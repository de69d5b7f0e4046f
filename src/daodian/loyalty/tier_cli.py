"""`daodian tiers evaluate`: the scheduled tier upgrades and downgrades."""

from datetime import UTC, datetime

import typer
from rich.console import Console

from daodian.kit.clock import utcnow
from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work
from daodian.kit.settings import get_settings
from daodian.loyalty import tiers

tiers_app = typer.Typer(help="Member tiers.", no_args_is_help=True)
console = Console()


def _factory():
    return make_session_factory(create_db_engine(get_settings()))


@tiers_app.command("evaluate")
def evaluate(window_days: int = typer.Option(tiers.DEFAULT_WINDOW_DAYS, min=1, max=3650,
                                             help="How far back spend and points count."),
             now: datetime | None = typer.Option(None, help="Evaluate as of this time (UTC; default: now).")) -> None:
    """Recompute every member's rolling spend and points, then assign the best tier. Safe to rerun.

    Works in batches of memberships, one transaction each: stopped half-way, rerun with the same --now."""
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    factory = _factory()
    result = tiers.evaluate_in_batches(lambda: unit_of_work(factory), now=now or utcnow(), window_days=window_days)
    console.print(f"{result.memberships} memberships evaluated: {result.created} new, {result.upgraded} upgraded, "
                  f"{result.downgraded} downgraded")
