"""The periodic jobs `daodian serve` runs by itself, and how often. Each is also a `daodian ...` command for cron,
and each is safe to run twice or beside another process running it."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from daodian.analytics.export import export_facts
from daodian.analytics.service import Analytics
from daodian.c2b.group_buy import service as group_buys
from daodian.c2b.presale import close as presales
from daodian.coupons import service as coupons
from daodian.delivery import dispatching
from daodian.kit.api import idempotency
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.kit.settings import Settings
from daodian.loyalty import tiers
from daodian.orders import service as orders
from daodian.payments import refunds

Work = Callable[[sessionmaker[Session], Settings], object]


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: timedelta
    work: Work


def _expire_coupons(factory: sessionmaker[Session], settings: Settings) -> int:
    with unit_of_work(factory) as session:
        return coupons.expire_due(session)


def _purge_keys(factory: sessionmaker[Session], settings: Settings) -> int:
    with unit_of_work(factory) as session:
        return idempotency.purge(session, settings)


def _evaluate_tiers(factory: sessionmaker[Session], settings: Settings):
    return tiers.evaluate_in_batches(lambda: unit_of_work(factory), now=utcnow(), window_days=tiers.DEFAULT_WINDOW_DAYS)


def _dispatch(factory: sessionmaker[Session], settings: Settings):
    """One rolling-horizon cycle over the city's waiting deliveries (daodian.delivery.dispatching)."""
    with unit_of_work(factory) as session:
        return dispatching.run_cycle(session, utcnow())


def _facts(factory: sessionmaker[Session], settings: Settings):
    """The export, then the job the dashboards read (segments, marts, operator reports)."""
    export_facts(factory, settings.facts_dir)
    return Analytics(settings).run_job(factory)


JOBS: tuple[PeriodicJob, ...] = (
    PeriodicJob("dispatch", timedelta(seconds=dispatching.CYCLE_S), _dispatch),
    PeriodicJob("expire-orders", timedelta(minutes=1), lambda f, s: orders.expire_due(f)),
    PeriodicJob("settle-group-buys", timedelta(minutes=1), group_buys.settle_due),
    PeriodicJob("close-presales", timedelta(minutes=1), presales.close_due),
    PeriodicJob("retry-refunds", timedelta(minutes=5), refunds.retry_pending),
    PeriodicJob("facts", timedelta(minutes=5), _facts),
    PeriodicJob("expire-coupons", timedelta(hours=1), _expire_coupons),
    PeriodicJob("purge-idempotency-keys", timedelta(hours=1), _purge_keys),
    PeriodicJob("evaluate-tiers", timedelta(days=1), _evaluate_tiers),
)
