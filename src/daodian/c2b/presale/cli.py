"""`daodian presales close`: close every pre-sale past its closing time (safe to run twice)."""

import typer
from rich.console import Console

from daodian.c2b.presale import close as presale_close
from daodian.kit.db import create_db_engine, make_session_factory
from daodian.kit.settings import get_settings

presales_app = typer.Typer(help="Pre-sales by vote.", no_args_is_help=True)
console = Console()


@presales_app.command("close")
def close_presales() -> None:
    """Count paid deposits; winners get balance orders, losers their deposits back in full."""
    settings = get_settings()
    counts = presale_close.close_due(make_session_factory(create_db_engine(settings)), settings)
    console.print(f"pre-sales: {counts}")
