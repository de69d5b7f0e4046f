"""In Debian's Chromium, issue 17 part 8, at phone, tablet and desktop sizes: on a fresh demo city served with
its periodic jobs on (what `make run` does: `daodian demo`, then `daodian serve`) and no facts exported by hand,
the merchant's dashboards and the operator's analytics fill by themselves within one period of the facts job."""

import json
import time

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from daodian.accounts.models import StaffMembership, User
from daodian.cli import app as cli
from daodian.jobs.periodic import JOBS
from daodian.kit.db import unit_of_work
from daodian.kit.settings import get_settings
from tests.support.browser_pages import logged_in_page, shoot
from tests.support.databases import drop_database, prepare_database
from tests.support.live_server import LiveServer
from tests.support.viewports import SIZES
from tests.web.browser_support import BROWSER_MARKS

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

PASSWORD = "daodian-demo"  # the demo logins' password (daodian demo)
OPERATOR, OWNER = "13800000001", "13800000002"
PERIOD_S = next(job for job in JOBS if job.name == "facts").every.total_seconds()


@pytest.fixture(scope="module")
def served(backend, tmp_path_factory):
    """A demo city of its own, served by a server whose scheduler runs the periodic jobs; nothing exported yet."""
    settings = prepare_database(backend, "daodian_test_jobs_story", tmp_path_factory.mktemp("jobs17"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAODIAN_DATABASE_URL", settings.database_url)
        patch.setenv("DAODIAN_FACTS_DIR", str(settings.facts_dir))
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(cli, ["demo", "--stores", "40", "--consumers", "400"])
            assert result.exit_code == 0, result.output
        finally:
            get_settings.cache_clear()
    assert not any(settings.facts_dir.glob("**/*.parquet")), "the demo exported facts by itself"
    server = LiveServer(settings.model_copy(update={"periodic_jobs": True}))
    assert server.settings.runs_periodic_jobs
    with unit_of_work(server.session_factory, read_only=True) as db:
        server.chain = db.scalar(select(StaffMembership.merchant_id).join(User, User.id == StaffMembership.user_id)
                                 .where(User.phone == OWNER))
    server.start()
    server.deadline = time.monotonic() + PERIOD_S  # the first run is seconds after start-up, then every period
    yield server
    server.stop()
    drop_database(settings)


def _filled(page, url: str, deadline: float) -> None:
    """Reload the dashboard until the facts job has filled it; fail once the period is over."""
    while True:
        page.goto(url)
        if page.get_by_test_id("no-data").count() == 0:
            return
        assert time.monotonic() < deadline, f"still empty {PERIOD_S:.0f} s after start-up: the facts job did not run"
        page.wait_for_timeout(2_000)


@pytest.mark.parametrize("size", SIZES)
def test_the_dashboards_fill_by_themselves_within_one_job_period(browser, served, size):
    context, page = logged_in_page(browser, served.url, OWNER, size, password=PASSWORD, lands_on="/merchant")
    try:
        _filled(page, f"{served.url}/merchant/{served.chain}/analytics", served.deadline)
        data = json.loads(page.locator("#analytics-data").text_content())
        for report in ("sales", "stores", "segments"):
            shown = [r for r in data["reports"][report]["rows"] if not r.get("suppressed")]
            assert shown, f"{report}: nothing shown after the job ran"
        for chart in ("sales", "stores", "segments"):
            expect(page.get_by_test_id(f"chart-{chart}").locator("canvas").first).to_be_visible()
        shoot(page, f"merchant-analytics-by-the-job-{size}")
    finally:
        context.close()

    context, page = logged_in_page(browser, served.url, OPERATOR, size, password=PASSWORD, lands_on="/admin")
    try:
        page.goto(f"{served.url}/admin/analytics")
        expect(page.get_by_test_id("merchant-totals").locator("td.price").first).to_be_visible()
        expect(page.get_by_test_id("chart-months").locator("canvas").first).to_be_visible()
        shoot(page, f"operator-analytics-by-the-job-{size}")
    finally:
        context.close()
