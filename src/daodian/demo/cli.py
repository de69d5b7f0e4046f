"""`daodian demo`: the command around `build_demo_city` — progress bars, the summary and the logins table."""

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from daodian import migrate
from daodian.demo import images as demo_images
from daodian.demo.bulk import analyze
from daodian.demo.generate import (
    DEFAULT_CONSUMERS,
    DEFAULT_SEED,
    DEFAULT_STORES,
    DemoResult,
    build_demo_city,
    has_merchants,
)
from daodian.demo.history.closed_loop import DEFAULT_DAYS, HISTORY_STORES
from daodian.demo.history.planted import planted_pairs
from daodian.demo.layout import TooFewStores
from daodian.demo.live import couriers as live_couriers
from daodian.demo.live import deals as live_deals
from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work
from daodian.kit.errors import DomainError
from daodian.kit.settings import get_settings
from daodian.media.service import limits_of
from daodian.media.storage import storage_for
from daodian.mining.service import MiningRun, mine, precision_recall

console = Console()


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description:<26}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console)


class RichSteps:
    """One bar per step, each finished before the next starts."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar

    def step(self, label: str, total: int):
        task = self.bar.add_task(label, total=total)
        return lambda n: self.bar.advance(task, n)


def demo(
    stores: Annotated[int, typer.Option(min=1, help="Stores in the city (30 at least; 1000000 works).")] = DEFAULT_STORES,
    consumers: Annotated[int, typer.Option(min=0, help="Consumer accounts besides the demo logins.")] = DEFAULT_CONSUMERS,
    seed: Annotated[int, typer.Option(help="Same seed, same city.")] = DEFAULT_SEED,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing when any merchant exists.")] = False,
    history_days: Annotated[int, typer.Option(min=0, max=3650, help=(
        "Days of orders, vouchers, visits, bookings and reviews (0: none), at up to "
        f"{HISTORY_STORES:,} stores."))] = DEFAULT_DAYS,
    no_history: Annotated[bool, typer.Option("--no-history", help="The city only, no history.")] = False,
) -> None:
    """Load the demo city of Hangzhou: stores, services, products, consumers and demo logins."""
    settings = get_settings()
    engine = create_db_engine(settings)
    try:
        migrate.upgrade(settings, engine)  # a fresh database works too: the schema first (a no-op when current)
        with unit_of_work(make_session_factory(engine)) as session:
            if if_empty and has_merchants(session):
                console.print("The database already has merchants; no demo city loaded (--if-empty).")
                return
            with progress_bar() as bar:
                result = build_demo_city(session, stores=stores, consumers=consumers, seed=seed,
                                         progress=RichSteps(bar), history_days=0 if no_history else history_days)
        with unit_of_work(make_session_factory(engine)) as session:  # couriers and a provider on duty, near the chain
            fleet = live_couriers.seed(session, result.chain_merchant_id)
        with unit_of_work(make_session_factory(engine)) as session:  # illustrative photos, drawn (demo.images)
            photos = demo_images.add_photos(session, storage_for(settings), limits_of(settings), seed=seed)
        analyze(engine)
        if result.history_days:  # file the mined candidates and grade them against the planted links
            with unit_of_work(make_session_factory(engine)) as session:
                mined = mine(session)
            with unit_of_work(make_session_factory(engine)) as session:
                deals = live_deals.seed(session, result.chain_merchant_id)
    except TooFewStores as exc:
        raise typer.BadParameter(str(exc), param_hint="--stores") from exc
    except DomainError as exc:
        console.print(f"[red]{exc.message}[/]")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    show(result, engine.dialect.name)
    console.print(f"Drew {photos} illustrative photos of stores and products.")
    if fleet.logins:
        console.print("On duty near the chain's stores (courier page /courier, same password): " + ", ".join(
            f"{x.name} {x.phone}" for x in fleet.logins) + f"; at-home service item {fleet.at_home_item_id} "
            f"(/buy/item/{fleet.at_home_item_id}) sends the provider to the buyer.")
    if result.history_days:
        console.print(f"Mined {len(mined.rules)} product -> service rules from {result.history_days} days of history "
                      f"({mined.created} new candidate links for operators: GET /api/v1/admin/links?status=candidate).")
        report_precision_recall(mined)
        console.print(f"Running now: group buy {deals[0]} (/group-buys/{deals[0]}), "
                      f"pre-sale {deals[1]} (/presales/{deals[1]}).")


def show(result: DemoResult, backend: str) -> None:
    counts = Table(title=f"Demo city of Hangzhou (seed {result.seed}, {backend}, {result.seconds:.1f} s)")
    counts.add_column("table")
    counts.add_column("rows", justify="right")
    for table, rows in result.counts.items():
        counts.add_row(table, f"{rows:,}")
    console.print(counts)
    logins = Table(title="Demo logins (password for all: " + result.logins[0].password + ")")
    for column in ("role", "phone", "name"):
        logins.add_column(column)
    for login in result.logins:
        logins.add_row(login.role, login.phone, login.name)
    console.print(logins)
    console.print(f"The owner, manager and clerk work for the chain 驰安养车 (merchant {result.chain_merchant_id}).")


def report_precision_recall(run: MiningRun) -> None:
    planted = planted_pairs()
    precision, recall = precision_recall(run.pairs, planted)
    console.print(f"Against the demo's {len(planted)} planted links: precision {precision:.2f}, recall {recall:.2f}"
                  f" ({len(run.pairs & planted)} of {len(run.pairs)} mined rules were planted).")
    for product, service in sorted(planted - run.pairs):
        console.print(f"  missed: {product} -> {service}")
    for product, service in sorted(run.pairs - planted):
        console.print(f"  not planted: {product} -> {service}")
