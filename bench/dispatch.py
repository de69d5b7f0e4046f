"""The dispatch engine on Grubhub's MDRP instances: the optimised policy against the greedy baseline, judged by
the official evaluator.

Every instance is replayed twice through the engine the server uses (`daodian.dispatch.simulation`), once per
policy; the solution files go to var/bench/dispatch/<instance>/<policy>/ and the official evaluator
(`compute_performance_summary.py`, imported from the data set's folder) checks them and computes the figures.
Printed per instance variant (the 24 size / schedule / speed / preparation variants, 7 seeds each) and overall,
the optimised figure beside the greedy one from the same run:

- feasible: instances the evaluator accepts;
- click-to-door mean and 90th percentile (minutes, over delivered orders), % within the target (40 min) and
  % beyond the maximum (90 min); orders delivered;
- orders per courier-hour (delivered orders / the shifts' hours), courier pay per order (the instance's pay
  rules: max(pay per order x orders, guaranteed pay per hour x shift) per courier, summed, / delivered);
- decision time per cycle (p50 / p99, wall time of each `plan` call) overall and on the largest instance.

Run (at most 2 processes, never beside another bench):

    flock /tmp/bench.lock .venv/bin/python bench/dispatch.py [--only '5o*'] [--processes 2]
"""

import argparse
import contextlib
import fnmatch
import importlib.util
import io
import os
import sys
import time
import traceback
from collections import defaultdict
from multiprocessing import Pool
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import BenchFailed, load_average, main_guard  # noqa: E402

from daodian.dispatch.mdrp import read_instance, write_solution  # noqa: E402
from daodian.dispatch.simulation import simulate  # noqa: E402

MDRP = ROOT.parent / "shared" / "datasets" / "mdrp"
POLICIES = ("optimised", "greedy")


def official_evaluator(path: Path):
    spec = importlib.util.spec_from_file_location("compute_performance_summary", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_one(job: tuple[Path, str, Path, Path]) -> dict:
    instance_dir, policy, out_root, evaluator_path = job
    try:
        instance = read_instance(instance_dir)
        started = time.perf_counter()
        result = simulate(instance, policy)
        replay_s = time.perf_counter() - started
        solution = out_root / instance.name / policy
        write_solution(solution, instance, result.assignments)
        evaluator = official_evaluator(evaluator_path)
        summary = solution / "evaluation"
        summary.mkdir(exist_ok=True)
        with contextlib.redirect_stdout(io.StringIO()):
            feasible, delivered, total_pay, _, orders, couriers = evaluator.compute_performance_summary(
                str(instance_dir), str(solution), str(summary))
        return {
            "instance": instance.name, "policy": policy, "feasible": bool(feasible), "orders": len(instance.orders),
            "delivered": int(delivered), "click_to_door": orders["click-to-door"].to_numpy(dtype=float),
            "target": instance.params.target_click_to_door_s / 60, "maximum": instance.params.max_click_to_door_s / 60,
            "courier_hours": float(couriers["shift_duration"].sum()) / 60, "pay": float(total_pay),
            "cycles": np.array(result.cycle_seconds), "replay_s": replay_s,
        }
    except Exception as exc:  # the parent fails the run loudly with the worker's traceback
        raise RuntimeError(f"{instance_dir.name} {policy}: {traceback.format_exc()}") from exc


def figures(runs: list[dict]) -> dict:
    ctd = np.concatenate([r["click_to_door"] for r in runs])
    cycles = np.concatenate([r["cycles"] for r in runs])
    delivered = sum(r["delivered"] for r in runs)
    target, maximum = runs[0]["target"], runs[0]["maximum"]
    return {
        "feasible": sum(r["feasible"] for r in runs), "instances": len(runs),
        "delivered": delivered, "orders": sum(r["orders"] for r in runs),
        "mean": ctd.mean(), "p90": np.percentile(ctd, 90),
        "within": 100 * (ctd <= target).mean(), "beyond": 100 * (ctd > maximum).mean(),
        "per_hour": delivered / sum(r["courier_hours"] for r in runs),
        "pay": sum(r["pay"] for r in runs) / delivered,
        "p50_ms": 1000 * np.percentile(cycles, 50), "p99_ms": 1000 * np.percentile(cycles, 99),
    }


def line(label: str, f: dict) -> str:
    return (f"{label:<22} {f['feasible']:>3}/{f['instances']:<3} {f['delivered']:>6}/{f['orders']:<6} "
            f"{f['mean']:6.2f} {f['p90']:5.0f} {f['within']:6.1f} {f['beyond']:6.2f} {f['per_hour']:6.3f} "
            f"{f['pay']:6.2f} {f['p50_ms']:7.1f} {f['p99_ms']:7.1f}")


HEADER = (f"{'':<22} {'feasible':>7} {'delivered':>13} {'ctd':>6} {'p90':>5} {'<=40%':>6} {'>90%':>6} "
          f"{'ord/h':>6} {'pay/o':>6} {'p50 ms':>7} {'p99 ms':>7}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=Path, default=MDRP / "instances")
    parser.add_argument("--evaluator", type=Path, default=MDRP / "compute_performance_summary.py")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "dispatch")
    parser.add_argument("--only", default="*", help="glob on instance names")
    parser.add_argument("--processes", type=int, default=2, choices=(1, 2))
    args = parser.parse_args()
    folders = sorted(p for p in args.instances.iterdir() if p.is_dir() and fnmatch.fnmatch(p.name, args.only))
    if not folders:
        raise BenchFailed(f"no instance matches {args.only!r} in {args.instances}")
    size = {p.name: sum(1 for _ in (p / "orders.txt").open()) for p in folders}
    jobs = [(p, policy, args.out, args.evaluator) for p in sorted(folders, key=lambda p: -size[p.name])
            for policy in POLICIES]  # the largest first: the two processes finish together
    print(f"{len(folders)} instances x {len(POLICIES)} policies, {args.processes} processes; {load_average()}",
          flush=True)
    started = time.perf_counter()
    runs: list[dict] = []
    with Pool(args.processes) as pool:
        try:
            for run in pool.imap_unordered(run_one, jobs):
                runs.append(run)
                if not run["feasible"]:
                    print(f"INFEASIBLE by the official evaluator: {run['instance']} {run['policy']}", flush=True)
        except RuntimeError as exc:
            raise BenchFailed(str(exc)) from exc
    by_variant: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for run in runs:
        by_variant[(run["instance"][1:], run["policy"])].append(run)
    print(f"\nper variant (7 seeds each; greedy, the anchor, under each optimised line); {load_average()}")
    print(HEADER)
    for variant in sorted({v for v, _ in by_variant}):
        for policy in POLICIES:
            print(line(f"{variant} {policy[:3]}", figures(by_variant[(variant, policy)])))
    print("\noverall")
    print(HEADER)
    overall = {policy: figures([r for r in runs if r["policy"] == policy]) for policy in POLICIES}
    for policy in POLICIES:
        print(line(f"all {policy}", overall[policy]))
    largest = max(size, key=lambda name: (size[name], name))
    for policy in POLICIES:
        print(line(f"{largest} {policy[:3]}", figures([r for r in runs if r["instance"] == largest
                                                         and r["policy"] == policy])))
    opt, greedy = overall["optimised"], overall["greedy"]
    per_instance = [np.mean(a["click_to_door"]) / np.mean(b["click_to_door"])
                    for a in runs if a["policy"] == "optimised"
                    for b in runs if b["policy"] == "greedy" and b["instance"] == a["instance"]]
    print(f"\nclick-to-door mean: optimised {opt['mean']:.2f} min vs greedy {greedy['mean']:.2f} min: "
          f"{100 * (1 - opt['mean'] / greedy['mean']):.1f} % lower over all delivered orders; per instance the "
          f"optimised mean is {100 * (1 - np.mean(per_instance)):.1f} % lower on average "
          f"(better on {sum(x < 1 for x in per_instance)} of {len(per_instance)})")
    print(f"orders per courier-hour: optimised {opt['per_hour']:.3f} vs greedy {greedy['per_hour']:.3f}; "
          f"feasible {opt['feasible']}/{opt['instances']} and {greedy['feasible']}/{greedy['instances']}")
    print(f"wall {time.perf_counter() - started:.0f} s, {args.processes} processes, cpu count {os.cpu_count()}; "
          f"{load_average()}")


if __name__ == "__main__":
    main_guard(main)
