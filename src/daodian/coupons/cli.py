"""`daodian coupons ...`: the expiry job."""

import typer
from rich.console import Console

from daodian.coupons import service as coupons
from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work
from daodian.kit.settings import get_settings

coupons_app = typer.Typer(help="Coupons.", no_args_is_help=True)
console = Console()


def _factory():
    return make_session_factory(create_db_engine(get_settings()))


@coupons_app.command("expire")
def expire_coupons() -> None:
    """Mark coupons past their validity expired. Safe to run twice."""
    with unit_of_work(_factory()) as session:
        count = coupons.expire_due(session)
    console.print(f"{count} coupons expired")
