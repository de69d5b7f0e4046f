"""What every browser story does the same way: a zh-CN page at one of the three sizes, logging in through the
login form, and saving a screenshot under var/screenshots/ (not committed)."""

import re

from daodian.kit.settings import PROJECT_ROOT
from tests.factories import PASSWORD
from tests.support.viewports import SIZES, touch

SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"


def new_page(browser, size: str, timeout_ms: int = 15_000, **options):
    """A fresh context (no cookies) at `size` ("phone", "tablet" or "desktop"), and a page in it."""
    context = browser.new_context(locale="zh-CN", viewport=SIZES[size], has_touch=touch(size), **options)
    context.set_default_timeout(timeout_ms)
    return context, context.new_page()


def log_in(page, base_url: str, phone: str, *, password: str = PASSWORD, next_path: str | None = None,
           lands_on: str | None = None) -> None:
    """Log in through the form; wait until the browser has left the login page (for `lands_on`, or `next_path`,
    when given: until it is exactly there)."""
    from playwright.sync_api import expect

    page.goto(f"{base_url}/login" + (f"?next={next_path}" if next_path else ""))
    page.get_by_test_id("login-phone").fill(phone)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    if target := lands_on or next_path:
        expect(page).to_have_url(f"{base_url}{target}")
    else:
        page.wait_for_url(re.compile(r"^(?!.*/login).*$"))


def logged_in_page(browser, base_url: str, phone: str, size: str, *, password: str = PASSWORD,
                   next_path: str | None = None, lands_on: str | None = None, **context_options):
    """`new_page` then `log_in`: (context, page); the caller closes the context."""
    context, page = new_page(browser, size, **context_options)
    try:
        log_in(page, base_url, phone, password=password, next_path=next_path, lands_on=lands_on)
    except BaseException:
        context.close()
        raise
    return context, page


def shoot(page, name: str) -> None:
    """The page as it is now, whole, under var/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
