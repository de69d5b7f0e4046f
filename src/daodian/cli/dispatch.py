"""`daodian dispatch simulate`: replay a Meal Delivery Routing Problem instance through the dispatch engine."""

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console

from daodian.dispatch.mdrp import MINUTE, read_instance, write_solution
from daodian.dispatch.simulation import simulate

dispatch_app = typer.Typer(help="The dispatch engine.", no_args_is_help=True)
console = Console()


@dispatch_app.command("simulate")
def simulate_command(
    instance_dir: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="An MDRP instance folder.")],
    out: Annotated[Path, typer.Option("--out", file_okay=False, help="Where the three solution files go.")],
    policy: Annotated[str, typer.Option(help="optimised or greedy.")] = "optimised",
) -> None:
    """Replay the instance on a simulated clock (its speed, service times and shifts) and write the solution
    files the official MDRP evaluator reads."""
    if policy not in ("optimised", "greedy"):
        raise typer.BadParameter("choose optimised or greedy", param_hint="--policy")
    for name in ("orders.txt", "restaurants.txt", "couriers.txt", "instance_parameters.txt"):
        if not (instance_dir / name).is_file():
            raise typer.BadParameter(f"{instance_dir} has no {name}", param_hint="INSTANCE_DIR")
    instance = read_instance(instance_dir)
    result = simulate(instance, policy)  # type: ignore[arg-type]
    write_solution(out, instance, result.assignments)
    orders = {order.id: order for order in instance.orders}
    click_to_door = np.array([(stop.service_at - orders[stop.order_ids[0]].placed_at) / MINUTE
                              for a in result.assignments for stop in a.route.stops[1:]])
    cycles_ms = np.array(result.cycle_seconds) * 1000
    console.print(f"{instance.name} {policy}: {click_to_door.size} of {len(instance.orders)} orders in "
                  f"{len(result.assignments)} routes, {len(result.unassigned)} left (no courier could take them)")
    if click_to_door.size:
        console.print(f"click-to-door mean {click_to_door.mean():.2f} min, p90 {np.percentile(click_to_door, 90):.0f}")
    if cycles_ms.size:
        console.print(f"decision per cycle p50 {np.percentile(cycles_ms, 50):.1f} ms, "
                      f"p99 {np.percentile(cycles_ms, 99):.1f} ms over {cycles_ms.size} cycles")
    console.print(f"solution files in {out}")
