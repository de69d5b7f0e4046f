"""Every message the code and templates use has a zh-CN translation (and an entry in the English catalog).

Extraction uses babel.cfg, the same configuration as `pybabel extract -F babel.cfg`.
"""

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from daodian.kit.i18n import LOCALE_DIR

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "daodian"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@pytest.fixture(scope="module")
def extracted() -> dict[str, str]:
    """msgid -> where it was first found."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(PACKAGE, method_map, options_map):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def _catalog(locale: str):
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=locale)


def test_extraction_finds_the_page_texts(extracted):
    assert {"Opening hours", "next day", "Friday", "Phone number or password is wrong."} <= set(extracted)


def test_every_message_has_a_zh_cn_translation(extracted):
    catalog = _catalog("zh_CN")
    missing = {msgid: where for msgid, where in extracted.items()
               if msgid not in catalog or not catalog[msgid].string or catalog[msgid].fuzzy}
    assert not missing, "add these to src/daodian/locale/zh_CN/LC_MESSAGES/messages.po:\n" + "\n".join(
        f"  {where}: {msgid!r}" for msgid, where in sorted(missing.items(), key=lambda kv: kv[1]))


def test_translations_keep_their_placeholders():
    catalog = _catalog("zh_CN")
    broken = [m.id for m in catalog if m.id and set(PLACEHOLDER.findall(m.id)) != set(PLACEHOLDER.findall(m.string))]
    assert not broken
    assert not [problem for problem in catalog.check()]


def test_the_english_catalog_lists_every_message_too(extracted):
    catalog = _catalog("en")
    assert not [msgid for msgid in extracted if msgid not in catalog]
