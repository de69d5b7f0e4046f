"""`daodian dispatch simulate` on a real MDRP instance, judged by the official evaluator run as a subprocess."""

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from daodian.cli import app
from daodian.dispatch.mdrp import read_instance
from daodian.dispatch.simulation import simulate
from daodian.kit.settings import PROJECT_ROOT

MDRP = PROJECT_ROOT.parent / "shared" / "datasets" / "mdrp"
SMALL = MDRP / "instances" / "0r50t100s1p100"  # 242 orders, the smallest size
needs_mdrp = pytest.mark.skipif(not SMALL.exists(), reason=f"data set not present at {SMALL}")


def official_verdict(instance: Path, solution: Path, out: Path) -> str:
    subprocess.run([sys.executable, str(MDRP / "compute_performance_summary.py"), f"instance_dir={instance}",
                    f"input_dir={solution}", f"output_dir={out}"], check=True, capture_output=True, timeout=300)
    return (out / "feasibility_check.txt").read_text().split()[-1]


@needs_mdrp
@pytest.mark.parametrize("policy", ["optimised", "greedy"])
def test_simulate_writes_a_solution_the_official_evaluator_finds_feasible(tmp_path, policy):
    result = CliRunner().invoke(app, ["dispatch", "simulate", str(SMALL), "--policy", policy,
                                      "--out", str(tmp_path / "solution")])
    assert result.exit_code == 0, result.output
    assert official_verdict(SMALL, tmp_path / "solution", tmp_path / "summary") == "FEASIBLE"
    performance = (tmp_path / "summary" / "solution_performance.txt").read_text()
    delivered = performance.splitlines()[0]
    assert delivered.startswith("number of orders delivered:") and delivered.endswith("out of 242")
    assert int(delivered.split()[4]) >= 235  # all but orders ready after the last shift (checked below)


@needs_mdrp
def test_the_replay_is_deterministic_and_assigns_each_order_once():
    instance = read_instance(SMALL)
    first, again = simulate(instance, "optimised"), simulate(instance, "optimised")
    assert first.assignments == again.assignments
    carried = [o for a in first.assignments for o in a.route.order_ids]
    assert len(carried) == len(set(carried))
    last_off = max(c.off_at for c in instance.couriers)
    orders = {o.id: o for o in instance.orders}
    for order_id in first.unassigned:  # only orders no courier could reach before the shifts end stay behind
        assert orders[order_id].ready_at > last_off - 30 * 60
    for a in first.assignments:
        assert len(a.route.order_ids) <= instance.params.capacity
        assert a.route.pickup_at >= max(orders[o].ready_at for o in a.route.order_ids)
        assert a.decided_at >= max(orders[o].placed_at for o in a.route.order_ids)


def test_simulate_refuses_a_folder_that_is_not_an_instance(tmp_path):
    result = CliRunner().invoke(app, ["dispatch", "simulate", str(tmp_path), "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "orders.txt" in result.output
