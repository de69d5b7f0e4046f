"""The `daodian` command: server, migrations, demo city, importers and batch jobs."""

import os
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from daodian import bootstrap, migrate
from daodian.accounts import service as accounts
from daodian.accounts.schemas import normalize_phone
from daodian.analytics.cli import facts_app
from daodian.c2b.group_buy.cli import group_buys_app
from daodian.c2b.presale.cli import presales_app
from daodian.cli.dispatch import dispatch_app
from daodian.cli.linkage import linkage_app
from daodian.cli.serving import UVICORN_OPTIONS
from daodian.coupons.cli import coupons_app
from daodian.demo.cli import demo as demo_command
from daodian.importers.cli import import_app
from daodian.jobs.cli import jobs_app
from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work
from daodian.kit.ops import logs
from daodian.kit.settings import get_settings
from daodian.loyalty.cli import points_app
from daodian.loyalty.tier_cli import tiers_app
from daodian.webhooks.cli import webhooks_app

GRACEFUL_SHUTDOWN_SECONDS = 30  # in-flight requests may finish this long after SIGTERM

bootstrap.wire()  # every command runs units of work that raise domain events

app = typer.Typer(help="daodian (到店): O2O platform", no_args_is_help=True, pretty_exceptions_show_locals=False)
db_app = typer.Typer(help="Database schema and reference data.", no_args_is_help=True)
users_app = typer.Typer(help="Accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(import_app, name="import")
app.command("demo")(demo_command)
app.add_typer(jobs_app, name="jobs")
app.add_typer(facts_app, name="facts")
app.add_typer(points_app, name="points")
app.add_typer(tiers_app, name="tiers")
app.add_typer(coupons_app, name="coupons")
app.add_typer(group_buys_app, name="group-buys")
app.add_typer(presales_app, name="presales")
app.add_typer(linkage_app, name="linkage")
app.add_typer(dispatch_app, name="dispatch")
app.add_typer(webhooks_app, name="webhooks")
console = Console()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Overrides DAODIAN_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Overrides DAODIAN_PORT.")] = None,
    workers: Annotated[int | None, typer.Option(help="Overrides DAODIAN_WORKERS.")] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    access_log: Annotated[bool, typer.Option(help="A log line per request.")] = True,
) -> None:
    """Serve the API and the pages. On SIGTERM the server stops taking connections and finishes the requests in
    flight (up to 30 s) before it exits. Several workers share what start-up imported (cli.prefork)."""
    settings = get_settings()
    processes = workers or settings.workers
    host, port = host or settings.host, port or settings.port
    if processes > 1:
        from daodian.cli.prefork import serve_forked  # gunicorn: only this command needs it

        if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:  # not started as `daodian serve` (daodian.launch)
            console.print("[yellow]/metrics will count this worker's requests only: start with `daodian serve`[/]")
        serve_forked(host, port, processes, GRACEFUL_SHUTDOWN_SECONDS, log_level, access_log)
        return
    uvicorn.run("daodian.asgi:app", host=host, port=port, **UVICORN_OPTIONS, access_log=access_log,
                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS, log_config=logs.logging_config(log_level.upper()))


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "heads") -> None:
    """Apply migrations and sync the category trees."""
    settings = get_settings()
    engine = create_db_engine(settings)
    changed = migrate.upgrade(settings, engine, revision)
    console.print(f"[green]Database at {revision}[/] ({engine.dialect.name}); reference rows changed: {changed}")


@users_app.command("create-operator")
def create_operator(
    phone: Annotated[str, typer.Option(prompt=True)],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    name: Annotated[str, typer.Option()] = "Operator",
) -> None:
    """Create a platform operator account."""
    if len(password) < 8:
        raise typer.BadParameter("at least 8 characters", param_hint="--password")
    try:
        phone = normalize_phone(phone)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--phone") from exc
    with unit_of_work(make_session_factory(create_db_engine(get_settings()))) as session:
        user = accounts.register(session, phone=phone, password=password, display_name=name, is_operator=True)
    console.print(f"[green]Operator {user.id} created[/] for {phone}")
