"""The README's promises: the two commands, and a configuration table that lists every setting."""

import re
from pathlib import Path

from daodian.kit.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_readme_documents_every_setting():
    documented = set(re.findall(r"`(DAODIAN_[A-Z0-9_]+)`", README))
    expected = {f"DAODIAN_{name.upper()}" for name in Settings.model_fields}
    assert expected - documented == set(), "add these settings to the README's configuration table"
    assert documented - expected - {"DAODIAN_TEST_DB", "DAODIAN_TEST_POSTGRES_URL"} == set(), "stale settings"


def test_readme_shows_the_two_commands():
    blocks = re.findall(r"```(?:sh|bash)?\n(.*?)```", README, flags=re.S)
    assert any(line.strip() == "make run" for block in blocks for line in block.splitlines())
    assert any(line.strip() == "make test" for block in blocks for line in block.splitlines())
