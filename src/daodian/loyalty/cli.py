"""`daodian points ...`: reconciliation and the expiry job."""

import typer
from rich.console import Console

from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work
from daodian.kit.settings import get_settings
from daodian.loyalty import points

points_app = typer.Typer(help="The points ledger.", no_args_is_help=True)
console = Console()


def _factory():
    return make_session_factory(create_db_engine(get_settings()))


@points_app.command("reconcile")
def reconcile() -> None:
    """Compare every cached balance with the sum of its ledger entries; exit 1 on any difference."""
    with unit_of_work(_factory(), read_only=True) as session:
        result = points.reconcile(session)
    for d in result.differences:
        console.print(f"[red]account {d.account_id}[/] ({d.kind} {d.owner_key}): cached {d.cached}, "
                      f"ledger {d.ledger}, difference {d.cached - d.ledger}")
    if result.unbalanced_transactions:
        console.print(f"[red]unbalanced transactions:[/] {result.unbalanced_transactions}")
    if result.ledger_total != 0:
        console.print(f"[red]ledger total {result.ledger_total}[/] (must be 0)")
    console.print(f"{result.accounts} accounts, {len(result.differences)} differences, "
                  f"ledger total {result.ledger_total}")
    if not result.clean:
        raise typer.Exit(1)


@points_app.command("expire")
def expire() -> None:
    """Expire earned points past their date (first in, first out). Safe to run twice."""
    with unit_of_work(_factory()) as session:
        count = points.expire_all(session)
    console.print(f"points expired for {count} consumers")
