"""`daodian facts ...`: export the outbox to Parquet, run the analytics job, show where the export is."""

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from daodian.analytics.export import BATCH_SIZE, Manifest, export_facts, pending
from daodian.analytics.service import Analytics
from daodian.kit.db import create_db_engine, make_session_factory
from daodian.kit.settings import get_settings

facts_app = typer.Typer(help="The closed loop's facts: Parquet export and analytics jobs.", no_args_is_help=True)
console = Console()

FactsDir = Annotated[Path | None, typer.Option(help="Overrides DAODIAN_FACTS_DIR.")]


@facts_app.command("export")
def export(facts_dir: FactsDir = None,
           batch_size: Annotated[int, typer.Option(min=1, max=1_000_000)] = BATCH_SIZE) -> None:
    """Append facts not exported yet to the Parquet (resumable; running it twice adds nothing twice)."""
    settings = get_settings()
    target = facts_dir or settings.facts_dir
    engine = create_db_engine(settings)
    factory = make_session_factory(engine)
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console) as bar:
            task = bar.add_task(f"exporting to {target}", total=pending(factory, target))
            report = export_facts(factory, target, batch_size=batch_size, on_progress=lambda n: bar.advance(task, n))
    finally:
        engine.dispose()
    console.print(f"[green]{report.facts} facts[/] ({report.lines} lines) in {report.files} files, "
                  f"{report.seconds:.1f} s, {report.facts_per_second:,.0f} facts/s; watermark {report.watermark}"
                  + (f"; removed {report.orphans_removed} files of an interrupted run" if report.orphans_removed else ""))


@facts_app.command("status")
def status(facts_dir: FactsDir = None) -> None:
    """The export's watermark, and the facts waiting for the next export."""
    settings = get_settings()
    target = facts_dir or settings.facts_dir
    engine = create_db_engine(settings)
    try:
        waiting = pending(make_session_factory(engine), target)
    finally:
        engine.dispose()
    manifest = Manifest.read(target)
    console.print(f"{target}: watermark {manifest.watermark}, {manifest.facts} facts, {manifest.lines} lines, "
                  f"updated {manifest.updated_at or 'never'}; {waiting} facts pending")


@facts_app.command("job")
def job(engine: Annotated[str | None, typer.Option(help="duckdb or spark (default DAODIAN_ANALYTICS_ENGINE).")] = None,
        facts_dir: FactsDir = None,
        as_of: Annotated[str | None, typer.Option(help="Segments as of this day, YYYY-MM-DD (default today).")] = None,
        ) -> None:
    """Compute every member's RFM segment (stored for marketing) and the operator reports; print timings."""
    settings = get_settings()
    if facts_dir:
        settings = settings.model_copy(update={"facts_dir": facts_dir})
    db = create_db_engine(settings)
    analytics = Analytics(settings, engine=engine)
    table = Table(title=f"analytics job on {analytics.engine_kind}")
    for column in ("step", "seconds", "rows"):
        table.add_column(column)
    try:
        timings = analytics.run_job(make_session_factory(db), as_of=date.fromisoformat(as_of) if as_of else None,
                                    on_step=lambda step, s, n: table.add_row(step, f"{s:.2f}", str(n)))
    finally:
        db.dispose()
    table.add_row("total", f"{sum(timings.values()):.2f}", "")
    console.print(table)
