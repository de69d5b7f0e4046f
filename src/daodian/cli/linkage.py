"""`daodian linkage mine`: propose product -> service links from the closed loop, with their figures."""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from daodian.demo.cli import report_precision_recall
from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work
from daodian.kit.settings import get_settings
from daodian.mining import rules as mining
from daodian.mining.service import DEFAULT_THRESHOLDS, DEFAULT_WINDOW_DAYS, MiningRun, mine

linkage_app = typer.Typer(help="Product -> service links.", no_args_is_help=True)
console = Console()
Fraction = Annotated[float, typer.Option(min=0.0, max=1.0)]


@linkage_app.command("mine")
def mine_command(
    window_days: Annotated[int, typer.Option(min=0, max=3650, help="A consumption counts this long after the purchase.")]
    = DEFAULT_WINDOW_DAYS,
    min_support: Fraction = DEFAULT_THRESHOLDS.min_support,
    min_confidence: Fraction = DEFAULT_THRESHOLDS.min_confidence,
    min_lift: Annotated[float, typer.Option(min=0.0)] = DEFAULT_THRESHOLDS.min_lift,
    min_pairs: Annotated[int, typer.Option(min=1, help="People behind a rule, at least.")] = DEFAULT_THRESHOLDS.min_pairs,
    report_against_demo: Annotated[bool, typer.Option(
        "--report-against-demo", help="Print precision and recall against the demo city's planted links.")] = False,
) -> None:
    """Mine "bought X, then consumed Y within the window" rules and file them as mined candidate links."""
    thresholds = mining.Thresholds(min_support, min_confidence, min_lift, min_pairs)
    engine = create_db_engine(get_settings())
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            run = mine(session, window_days=window_days, thresholds=thresholds)
    finally:
        engine.dispose()
    show(run, window_days, report_against_demo)


def show(run: MiningRun, window_days: int, against_demo: bool) -> None:
    table = Table(title=f"Mined rules (window {window_days} days; {run.people:,} people, {run.purchases:,} purchases, "
                        f"{run.consumptions:,} consumptions, {run.candidate_pairs:,} purchase->consumption pairs)")
    for column in ("product category", "service category", "people", "bought", "consumed", "support", "confidence",
                   "lift"):
        table.add_column(column, justify="left" if "category" in column else "right")
    for r in run.rules.itertuples(index=False):
        table.add_row(r.antecedent, r.consequent, f"{r.pair_count:,}", f"{r.antecedent_count:,}",
                      f"{r.consequent_count:,}", f"{r.support:.4f}", f"{r.confidence:.3f}", f"{r.lift:.2f}")
    console.print(table)
    console.print(f"Candidates: {run.created} new, {run.updated} refreshed, {run.withdrawn} withdrawn; "
                  f"{len(run.already_curated)} rules match curated links already.")
    if against_demo:
        report_precision_recall(run)


