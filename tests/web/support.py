"""Helpers for page tests: log a browser-like client in with a cookie, read CSRF tokens and hours back."""

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from daodian.accounts import service as accounts
from daodian.accounts.dependencies import SESSION_COOKIE
from daodian.accounts.models import User
from daodian.merchants.models import Store

_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')
_ROW_KEY = re.compile(r'name="weekday-([a-z0-9]+)" value="(\d)"')


def log_in(client: TestClient, db: Session, user: User) -> None:
    token, _ = accounts.open_session(db, user, kind="cookie", days=1)
    client.cookies.set(SESSION_COOKIE, token)


def english(client: TestClient) -> None:
    client.cookies.set("daodian_lang", "en")


def csrf_from(client: TestClient, path: str = "/login") -> str:
    response = client.get(path)
    match = _CSRF.search(response.text)
    assert match, f"no CSRF token on {path} ({response.status_code})"
    return match.group(1)


def hours_form(csrf: str, rows: list[tuple[int, str, str, bool]], closed_dates: str = "") -> dict[str, str]:
    """A posted hours form: one (weekday, opens, closes, next_day) per row."""
    form = {"csrf_token": csrf, "closed_dates": closed_dates}
    for index, (weekday, opens, closes, next_day) in enumerate(rows):
        key = f"r{index}"
        form |= {f"weekday-{key}": str(weekday), f"opens-{key}": opens, f"closes-{key}": closes}
        if next_day:
            form[f"next_day-{key}"] = "1"
    return form


def row_keys(html: str) -> list[tuple[str, int]]:
    """(key, weekday) of every hours row on an edit page, in page order."""
    return [(key, int(weekday)) for key, weekday in _ROW_KEY.findall(html)]


def stored_hours(db: Session, store: Store) -> list[list[int]]:
    db.expire_all()
    return [list(i) for i in db.get(Store, store.id).hours]


def day_cell(html: str, weekday: int) -> str:
    """The text of one weekday's row in a store page's hours table."""
    match = re.search(rf'data-testid="hours-day-{weekday}">(.*?)</tr>', html, re.S)
    assert match, f"no hours row for weekday {weekday}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()
