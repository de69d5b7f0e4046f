"""Rewrite the README's configuration table from the Settings model, so the two cannot drift.

Usage: .venv/bin/python scripts/readme_settings.py  (tests/test_readme.py checks the result)
"""

import re
from pathlib import Path

from pydantic_core import PydanticUndefined

from daodian.kit.settings import PROJECT_ROOT, Settings

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- settings:start -->", "<!-- settings:end -->"


def default_of(field) -> str:
    value = field.default
    if value is PydanticUndefined or value is None:
        return "(unset)"
    text = str(value).replace(str(PROJECT_ROOT), ".")
    return f"`{text}`" if text else "(empty)"


def table() -> str:
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| `DAODIAN_{name.upper()}` | {default_of(field)} | {description} |")
    return "\n".join(rows)


def main() -> None:
    text = README.read_text(encoding="utf-8")
    block = f"{START}\n{table()}\n{END}"
    README.write_text(re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S),
                      encoding="utf-8")


if __name__ == "__main__":
    main()
