"""The workspace's words into locales/workspace.pot: `python -m bot.web.extract_words [--check]`.

The practitioners' interface (bot/web: its Python and its Jinja2 templates) has its own gettext domain,
"workspace"; the survivor's messages are the "safecheck" domain (`python -m locales.catalog`).
Extraction finds `_()`, `N_()` and `ngettext()` in Python, and `_()`/`gettext()`/`ngettext()` and
`{% trans %}` in templates. `--check` exits 1 if the committed template is out of date.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import write_po

from bot.web.words import DOMAIN

ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATE = Path("locales") / f"{DOMAIN}.pot"
# bot/web only: the workspace's own words (safety/ and flows/ labels with N_ belong to "safecheck").
METHODS = [
    ("bot/web/**.py", "python"),
    ("bot/web/templates/**.html", "jinja2.ext:babel_extract"),
]
OPTIONS = {"bot/web/templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}}
KEYWORDS: dict[str, tuple[int, ...] | None] = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
HEADER = "# The practitioners' workspace: its words in British English (msgids), for translators.\n#"
_DATE_HEADERS = (b'"POT-Creation-Date:', b'"PO-Revision-Date:')


def extract(root: Path = ROOT) -> Catalog:
    catalog = Catalog(project="Safecheck workspace", header_comment=HEADER, charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(root), METHODS, OPTIONS, keywords=KEYWORDS, comment_tags=("Translators:",)
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def render(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    # No line numbers and sorted: moving code does not rewrite the file.
    write_po(buffer, catalog, width=100, include_lineno=False, sort_output=True)
    return buffer.getvalue()


def without_dates(content: bytes) -> bytes:
    return b"\n".join(line for line in content.splitlines() if not line.startswith(_DATE_HEADERS))


def current(root: Path = ROOT) -> bool:
    """Whether the committed template holds exactly what a fresh extraction finds (dates aside)."""
    path = root / TEMPLATE
    return path.exists() and without_dates(path.read_bytes()) == without_dates(render(extract(root)))


def write(root: Path = ROOT) -> str:
    catalog = extract(root)
    content = render(catalog)
    path = root / TEMPLATE
    count = sum(1 for message in catalog if message.id)
    if path.exists() and without_dates(path.read_bytes()) == without_dates(content):
        return f"{TEMPLATE}: {count} messages (unchanged)"
    path.write_bytes(content)
    return f"{TEMPLATE}: {count} messages"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.web.extract_words", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if locales/workspace.pot is out of date")
    args = parser.parse_args(argv)
    if args.check:
        if current():
            return 0
        print(f"{TEMPLATE} is out of date: run python -m bot.web.extract_words", file=sys.stderr)
        return 1
    print(write())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
