"""Translations through Babel. Message ids are English; zh-CN is the default language of pages.

Catalogs are the `.po` files under daodian/locale, compiled in memory at start-up, so there is no
build step that a fresh checkout could miss.
"""

from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("zh_CN", "en")
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

current_locale: ContextVar[str] = ContextVar("current_locale", default="zh_CN")


@cache
def translations(locale: str) -> NullTranslations:
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def gettext(message: str) -> str:
    return translations(current_locale.get()).ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale.get()).ungettext(singular, plural, n)


def pick_locale(requested: str | None, default: str) -> str:
    return requested if requested in LOCALES else default
