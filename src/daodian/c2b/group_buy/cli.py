"""`daodian group-buys settle`: settle every group buy past its end (and resume any settle that crashed)."""

import typer
from rich.console import Console

from daodian.c2b.group_buy import service as group_buy
from daodian.kit.db import create_db_engine, make_session_factory
from daodian.kit.settings import get_settings

group_buys_app = typer.Typer(help="Tiered group buys.", no_args_is_help=True)
console = Console()


@group_buys_app.command("settle")
def settle_group_buys() -> None:
    """Fix each ended deal's tier, refund the differences (or everything below the minimum). Safe to run twice."""
    settings = get_settings()
    counts = group_buy.settle_due(make_session_factory(create_db_engine(settings)), settings)
    console.print(f"group buys: {counts or 'none due'}")
