"""Manage the gettext catalogs: `python -m locales.catalog extract|update|init|compile|check|segments`.

extract   sources -> locales/safecheck.pot
update    .pot -> locales/<lang>/LC_MESSAGES/safecheck.po (creates en_GB's if missing)
init      start a new language's catalog from the .pot (`init cy`)
compile   every .po -> .mo in a temporary directory, with statistics (the shell compiles in memory)
check     exit 1, one line per problem, if a .po is incomplete, untranslated, fuzzy, stale, breaks a
          placeholder or the language's plural forms, or a message's first line in any language
          would give the service away on a phone's lock screen
segments  SMS encoding and segments of the default check-in's messages in every language (Markdown)
"""

from __future__ import annotations

import argparse
import gettext
import io
import re
import string
import sys
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

from flows.discretion import first_line_problems, thread_problems
from flows.i18n_extract import LABEL_COMMENT, optional

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "safecheck"
SOURCE_LOCALE = "en_GB"  # msgids are British English: an empty msgstr means "as written"
# Only deliberate marks; Babel's defaults would add _()... Np_(singular, plural) has plural forms.
KEYWORDS: dict[str, tuple[int, int] | None] = {"N_": None, "Np_": (1, 2)}
HEADER = (
    "# Survivor-facing messages of Safecheck.\n"
    "# Line 1 of a message is all a phone's notification preview shows: keep it neutral.\n"
    "#"
)
TRANSLATOR = "Safecheck engineering (machine-assisted draft)"
REVIEW_NOTE = (
    "# Translated by Safecheck engineering: a machine-assisted draft.\n"
    "# NOT YET REVIEWED: a native speaker must review every message before live use.\n"
    "#"
)
# Headers that change on every run; ignored when deciding whether a file really changed.
_DATE_HEADERS = (b'"POT-Creation-Date:', b'"PO-Revision-Date:')


def template_path(root: Path = ROOT) -> Path:
    return root / "locales" / f"{DOMAIN}.pot"


def po_path(locale: str, root: Path = ROOT) -> Path:
    return root / "locales" / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def locales(root: Path = ROOT) -> list[str]:
    """Every locale with a catalog directory, and always the source locale."""
    found = {p.parent.name for p in (root / "locales").glob("*/LC_MESSAGES")}
    return sorted(found | {SOURCE_LOCALE})


def _version() -> str:
    try:
        return metadata.version("safecheck")
    except metadata.PackageNotFoundError:
        return "dev"


def extract(root: Path = ROOT) -> Catalog:
    """Extract a fresh template catalog from the sources named in babel.cfg."""
    with (root / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config, str(root / "babel.cfg"))  # type: ignore[no-untyped-call]
    catalog = Catalog(project="Safecheck", version=_version(), header_comment=HEADER, charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(root), method_map, options_map, keywords=KEYWORDS, comment_tags=("Translators:",)
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _messages(catalog: Catalog) -> Iterator[Message]:
    """The catalog's messages without its header entry."""
    return (message for message in catalog if message.id)


def _render(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    # No line numbers: they would rewrite the whole file whenever code above a msgid moves.
    write_po(buffer, catalog, width=100, include_lineno=False)
    return buffer.getvalue()


def _without_dates(content: bytes) -> bytes:
    return b"\n".join(line for line in content.splitlines() if not line.startswith(_DATE_HEADERS))


def _write(path: Path, catalog: Catalog) -> bool:
    """Write `catalog` to `path` unless only its dates would change; return whether it was written."""
    content = _render(catalog)
    if path.exists() and _without_dates(path.read_bytes()) == _without_dates(content):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return True


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fileobj:
        return read_po(fileobj, locale=locale, domain=DOMAIN)


def write_template(root: Path = ROOT) -> str:
    """Extract the sources into the .pot; return a one-line report."""
    catalog = extract(root)
    written = _write(template_path(root), catalog)
    count = sum(1 for _ in _messages(catalog))
    return f"{template_path(root).relative_to(root)}: {count} messages{'' if written else ' (unchanged)'}"


def update(root: Path = ROOT) -> list[str]:
    """Merge the .pot into every locale's .po (creating the source locale's); return reports."""
    template = _read(template_path(root))
    reports = []
    for locale in locales(root):
        path = po_path(locale, root)
        if path.exists():
            catalog = _read(path, locale)
        else:
            catalog = _read(template_path(root), locale)
            catalog.revision_date = datetime.now(UTC)
            catalog.fuzzy = False
        source = locale == SOURCE_LOCALE
        # Fuzzy guesses help a translator; in the source locale they would only copy an empty
        # msgstr and block `check` until someone cleared the flag.
        catalog.update(template, no_fuzzy_matching=source)
        for message in _messages(catalog):
            if message.fuzzy and optional(message.locations):
                # A guess at an optional cover text would only block `check`: a theme is translated
                # on purpose, whole, or not at all.
                message.string = ""
                message.flags.discard("fuzzy")
        if source:
            # An obsolete empty msgstr holds nothing worth keeping; a written override does.
            for key, message in list(catalog.obsolete.items()):
                if not message.string:
                    del catalog.obsolete[key]
        written = _write(path, catalog)
        reports.append(f"{path.relative_to(root)}: {'updated' if written else 'unchanged'}")
    return reports


_PERCENT = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[sdifr]")


def _placeholders(text: str) -> set[str] | None:
    """The names of the {x} and %(x)s placeholders in `text`; None if its braces are unbalanced."""
    try:
        braces = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return None  # unbalanced braces
    return braces | {f"%({name})" for name in _PERCENT.findall(text)}


def _texts(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _short(msgid: str | Iterable[str]) -> str:
    """The msgid's first line, shortened: enough to find it, short enough for one line."""
    texts = _texts(msgid)
    line = texts[0].splitlines()[0] if texts and texts[0] else ""
    return repr(line if len(line) <= 50 else line[:47] + "...")


def _only_a_label(message: Message) -> bool:
    """Whether the msgid is only ever a question set's option label, never a message of its own.

    Labels follow a question's text, so they are never the line a notification preview shows.
    """
    return (
        bool(message.auto_comments)
        and all(comment.startswith(LABEL_COMMENT) for comment in message.auto_comments)
        and all(filename.endswith(".toml") for filename, _ in message.locations)
    )


def _same_rule(written: str, expected: str) -> bool:
    """Whether two plural expressions give every count the same form (spellings differ between Babel versions)."""
    try:
        ours, theirs = gettext.c2py(written), gettext.c2py(expected)
    except (ValueError, SyntaxError):
        return False
    return all(ours(n) == theirs(n) for n in range(1000))


def _po_problems(path: Path, locale: str, fresh: Catalog, root: Path) -> Iterator[str]:
    name = path.relative_to(root)
    if not path.exists():
        yield f"{name}: missing; run `python -m locales.catalog update`"
        return
    catalog = _read(path, locale)
    if catalog.fuzzy:
        yield f"{name}: header is marked fuzzy, so the whole catalog would be skipped; remove the flag"
    expected = get_plural(locale)
    if catalog.num_plurals != expected.num_plurals:
        yield (
            f"{name}: Plural-Forms has nplurals={catalog.num_plurals}, but {locale} has "
            f"{expected.num_plurals} ({expected.plural_forms})"
        )
    elif not _same_rule(catalog.plural_expr, expected.plural_expr):
        yield (
            f"{name}: Plural-Forms rule differs from {locale}'s (numbers would get the wrong form): "
            f"use {expected.plural_forms}"
        )
    source = locale == SOURCE_LOCALE
    if not source and (not catalog.last_translator or "FULL NAME" in catalog.last_translator):
        yield f"{name}: header names no Last-Translator; say who translated it"
    for message in _messages(fresh):
        if catalog.get(message.id, message.context) is None:
            yield f"{name}: missing msgid {_short(message.id)}; run `python -m locales.catalog update`"
    for message in _messages(catalog):
        where = f"{name}: msgid {_short(message.id)}"
        if fresh.get(message.id, message.context) is None:
            yield f"{where} is no longer in the sources; run `python -m locales.catalog update`"
        if message.fuzzy:
            yield f"{where} is fuzzy; check the translation and remove the flag"
        origin = fresh.get(message.id, message.context) or message
        if optional(origin.locations):
            # A cover theme's text: optional, but a translation must pass on its whole body.
            for text in _texts(message.string):
                for problem in thread_problems(text, locale)[:1] if text else ():
                    yield f"{where}: {problem}"
        elif not source and not all(_texts(message.string)):
            yield f"{where} is not translated into {locale}"
        wanted: set[str] | None = set()
        for msgid in _texts(message.id):
            found = _placeholders(msgid)
            wanted = None if found is None or wanted is None else wanted | found
        for text in _texts(message.string):
            if text and _placeholders(text) != wanted:
                got = sorted(_placeholders(text) or ())
                yield f"{where}: msgstr placeholders {got} differ from the msgid's {sorted(wanted or ())}"
        if not source and not _only_a_label(fresh.get(message.id, message.context) or message):
            for text in _texts(message.string):
                for problem in first_line_problems(text, locale) if text else ():
                    yield f"{where}: {locale} msgstr: {problem}"
    for message in catalog.obsolete.values():
        yield f"{name}: obsolete msgid {_short(message.id)}; delete the #~ entry"
    for message, errors in catalog.check():
        for error in errors:
            yield f"{name}: msgid {_short(message.id)}: {error}"


def problems(root: Path = ROOT) -> list[str]:
    """Everything wrong with the catalogs against a fresh extraction, one line each."""
    fresh = extract(root)
    found: list[str] = []
    template = template_path(root)
    fresh_ids = {m.id for m in _messages(fresh)}
    if not template.exists() or {m.id for m in _messages(_read(template))} != fresh_ids:
        found.append(f"{template.relative_to(root)} is out of date; run `python -m locales.catalog extract`")
    for message in _messages(fresh):
        if not _only_a_label(message):
            origin = message.locations[0][0] if message.locations else "?"
            for problem in first_line_problems(_texts(message.id)[0]):
                found.append(f"{origin}: msgid {_short(message.id)}: {problem}")
    if root == ROOT:  # the project itself ships a catalog for every language survivors can choose
        from safety.lexicon import AUTONYMS

        for locale in sorted(set(AUTONYMS) - set(locales(root))):
            where = po_path(locale, root).relative_to(root)
            found.append(f"{where}: missing; run `python -m locales.catalog init {locale}`")
    for locale in locales(root):
        found += _po_problems(po_path(locale, root), locale, fresh, root)
    return found


def init_locale(locale: str, root: Path = ROOT) -> str:
    """Start `locale`'s catalog from the .pot, with the translator and review note in its header."""
    path = po_path(locale, root)
    if path.exists():
        raise ValueError(f"{path.relative_to(root)} exists already; use `update`")
    get_plural(locale)  # raises for a locale Babel does not know
    catalog = _read(template_path(root), locale)
    catalog.locale = locale  # type: ignore[assignment]
    catalog.header_comment = HEADER + "\n" + REVIEW_NOTE
    catalog.last_translator = TRANSLATOR
    catalog.language_team = f"{locale} <none yet>"
    catalog.revision_date = datetime.now(UTC)
    catalog.fuzzy = False
    _write(path, catalog)
    return f"{path.relative_to(root)}: created; translate every msgstr, then run `check`"


def compile_all(out_dir: Path, root: Path = ROOT) -> tuple[list[str], list[str]]:
    """Compile every .po into `out_dir`; return (statistics lines, problems)."""
    stats: list[str] = []
    errors: list[str] = []
    for locale in locales(root):
        path = po_path(locale, root)
        if not path.exists():
            errors.append(f"{path.relative_to(root)}: missing; run `python -m locales.catalog update`")
            continue
        catalog = _read(path, locale)
        for message, message_errors in catalog.check():
            errors += [f"{path.relative_to(root)}: msgid {_short(message.id)}: {e}" for e in message_errors]
        messages = list(_messages(catalog))
        translated = sum(1 for m in messages if all(_texts(m.string)) and not m.fuzzy)
        fuzzy = sum(1 for m in messages if m.fuzzy)
        target = out_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as fileobj:
            write_mo(fileobj, catalog)
        fallback = " (msgid used as written)" if locale == SOURCE_LOCALE else ""
        left = [m for m in messages if not (all(_texts(m.string)) or m.fuzzy)]
        cover_left = sum(1 for m in left if optional(m.locations))
        stats.append(
            f"{locale}: {len(messages)} messages, {translated} translated, {fuzzy} fuzzy, "
            f"{len(left) - cover_left} untranslated{fallback}, {cover_left} optional cover-theme texts untranslated"
        )
    return stats, errors


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(prog="python -m locales.catalog", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("extract", help="extract msgids from the sources into locales/safecheck.pot")
    commands.add_parser("update", help="merge locales/safecheck.pot into every locale's .po")
    compile_parser = commands.add_parser("compile", help="compile every .po and print statistics")
    compile_parser.add_argument("--dir", type=Path, help="write .mo files here (default: a temporary directory)")
    compile_parser.add_argument("--statistics", action="store_true", help="print statistics (always on)")
    init_parser = commands.add_parser("init", help="start a new language's catalog from the .pot")
    init_parser.add_argument("locale", help="e.g. cy, pl, ro, pa, ur, ar")
    commands.add_parser("check", help="fail, one line per problem, unless every catalog is complete")
    commands.add_parser("segments", help="print the SMS segment table of the default check-in (Markdown)")
    args = parser.parse_args(argv)
    try:
        if args.command == "extract":
            print(write_template(root))
            return 0
        if args.command == "update":
            print("\n".join(update(root)))
            return 0
        if args.command == "init":
            print(init_locale(args.locale, root))
            return 0
        if args.command == "segments":
            from locales.segments import segment_table  # needs the app's catalogs, only for this

            print(segment_table())
            return 0
        if args.command == "compile":
            with tempfile.TemporaryDirectory() as scratch:
                stats, errors = compile_all(args.dir or Path(scratch), root)
            print("\n".join(stats))
            if errors:
                print("\n".join(errors), file=sys.stderr)
            return 1 if errors else 0
        found = problems(root)
        if found:
            print("\n".join(found), file=sys.stderr)
            return 1
        print(f"catalogs ok: {', '.join(locales(root))}")
        return 0
    except (OSError, ValueError) as error:  # a broken source file or catalog: one line, no traceback
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
