"""`daodian import ...`: importers as commands, with a progress bar and the full list of rejected lines."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from daodian.importers.online_retail import count_lines as count_csv_lines
from daodian.importers.online_retail import import_online_retail
from daodian.importers.report import ImportReport
from daodian.importers.yelp import count_lines, import_yelp
from daodian.kit.db import create_db_engine, make_session_factory
from daodian.kit.errors import DomainError
from daodian.kit.settings import get_settings

import_app = typer.Typer(help="Import outside data sets (idempotent; bad lines are reported, never fatal).",
                         no_args_is_help=True)
console = Console()


@import_app.command("yelp")
def yelp(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="yelp_academic_dataset_business.json (one JSON object per line).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and count, then roll back.")] = False,
    fallback_category: Annotated[str | None, typer.Option(
        help="Leaf service category for businesses whose Yelp categories map to none (default: reject them).")] = None,
) -> None:
    """Import Yelp businesses as merchants and stores (external_ref yelp:<business_id>)."""
    engine = create_db_engine(get_settings())
    session = make_session_factory(engine)()
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console) as bar:
            task = bar.add_task(f"importing {path.name}", total=count_lines(path))
            report = import_yelp(session, path, fallback=fallback_category, dry_run=dry_run,
                                 on_progress=lambda n: bar.advance(task, n))
        if dry_run:
            session.rollback()
        else:
            session.commit()
    except DomainError as exc:
        session.rollback()
        console.print(f"[red]{exc.message}[/]")
        raise typer.Exit(1) from exc
    finally:
        session.close()
        engine.dispose()
    show(report)


@import_app.command("transactions")
def transactions(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="A transactions file, e.g. online_retail.csv.gz.")],
    format: Annotated[str, typer.Option("--format", help="The file's layout; supported: online-retail.")],
    merchant_name: Annotated[str, typer.Option(help="Name of the merchant the sales belong to.")] = "Online Retail (UK)",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and count, then roll back.")] = False,
) -> None:
    """Import offline transactions as one merchant's consumption records (cancellations as refunds)."""
    if format != "online-retail":
        raise typer.BadParameter("supported: online-retail", param_hint="--format")
    engine = create_db_engine(get_settings())
    session = make_session_factory(engine)()
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console) as bar:
            task = bar.add_task(f"reading {path.name}", total=count_csv_lines(path))
            report = import_online_retail(session, path, merchant_name=merchant_name,
                                          on_progress=lambda n: bar.advance(task, n))
        report.dry_run = dry_run
        if dry_run:
            session.rollback()
        else:
            session.commit()
    except DomainError as exc:
        session.rollback()
        console.print(f"[red]{exc.message}[/]")
        raise typer.Exit(1) from exc
    finally:
        session.close()
        engine.dispose()
    show(report, columns=("line", "invoice", "reason"), limit=50)


def show(report: ImportReport, *, columns: tuple[str, ...] = ("line", "business_id", "reason"),
         limit: int | None = None) -> None:
    if report.rejected:
        shown = report.rejected if limit is None else report.rejected[:limit]
        more = f", first {len(shown)}" if len(shown) < len(report.rejected) else ""
        table = Table(title=f"Rejected lines ({len(report.rejected)}{more})")
        for column in columns:
            table.add_column(column)
        for r in shown:
            table.add_row(str(r.line), r.ref or "-", r.reason)
        console.print(table)
        console.print("by reason: " + ", ".join(f"{code} {n}" for code, n in report.rejected_by_code().items()))
    verb = "would import" if report.dry_run else "imported"
    console.print(f"[green]{report.source}: {verb} {report.imported} of {report.lines} lines[/] — "
                  f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}, "
                  f"rejected {len(report.rejected)}" + (" (dry run, nothing written)" if report.dry_run else ""))
