"""Periodic work: what runs when (periodic.py), the scheduler inside `daodian serve` that runs each job once per
period across processes (scheduler.py, with kit.leases), and `daodian jobs ...` for cron (cli.py)."""
