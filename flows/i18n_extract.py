"""Babel extractors: every question text and option label of a question-set TOML is a msgid, and so is
every text of a cover theme (optional to translate: cover mode is offered in a language once a whole
theme is translated)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

# Labels are shown after a question, as numbered options or buttons, never as a message's
# first line; the catalog check uses this comment to hold only whole messages to the
# over-the-shoulder rule.
LABEL_COMMENT = "option label"

COVER_COMMENT = "cover theme"
# A cover theme's texts are optional in every catalog: the catalog check and the untranslated count
# skip a msgid found only in the themes' folder.
COVER_FOLDER = "flows/questionsets/cover/"

_ASSIGNMENT = re.compile(r"^\s*(text|label)\s*=")


def optional(locations: Collection[tuple[str, int | None]]) -> bool:
    """Whether a msgid found at these locations comes only from cover themes (its translation is optional)."""
    return bool(locations) and all(filename.startswith(COVER_FOLDER) for filename, _ in locations)


def _messages(data: Mapping[str, Any]) -> Iterator[tuple[str, list[str]]]:
    """Yield (msgid, translator comments) in file order: each text, then its options' labels."""
    questions = data.get("questions", [])
    for question in questions if isinstance(questions, list) else []:
        if not isinstance(question, dict):
            continue
        where = f"question {question.get('id', '?')}"
        if isinstance(question.get("text"), str):
            yield question["text"], [f"{where}. Line 1 is all a phone preview shows: keep it neutral."]
        options = question.get("options", [])
        for option in options if isinstance(options, list) else []:
            if isinstance(option, dict) and isinstance(option.get("label"), str):
                yield option["label"], [f"{LABEL_COMMENT}, {where}"]


def _load(fileobj: IO[bytes], options: Mapping[str, Any], what: str) -> tuple[str, dict[str, Any]]:
    """The file's text and its TOML; a syntax error is one line naming the file."""
    text = fileobj.read().decode(options.get("encoding", "utf-8"))
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        name = getattr(fileobj, "name", what)
        raise ValueError(f"{name}: TOML syntax error: {error}") from None


def extract_questionset(
    fileobj: IO[bytes],
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Yield (line, funcname, msgid, comments) for Babel; funcname is empty (no keyword applies)."""
    text, data = _load(fileobj, options, "question set")
    messages = list(_messages(data))
    # tomllib keeps no positions. In the usual layout each text/label sits on its own line in
    # file order, so pair them up; otherwise report line 0 rather than a wrong line.
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if _ASSIGNMENT.match(line)]
    if len(lines) != len(messages):
        lines = [0] * len(messages)
    for lineno, (message, comments) in zip(lines, messages, strict=True):
        if message:
            yield lineno, "", message, comments


def _theme_messages(data: Mapping[str, Any]) -> Iterator[tuple[str, list[str]]]:
    """Yield (msgid, comments) for each text of a cover theme, in file order."""
    name = data.get("theme", "?")
    lead = f"{COVER_COMMENT} {name} (optional: offered in a language once all of it is translated)"
    whole = "every word passes the over-the-shoulder lint, not only line 1"
    for key in ("pin_prompt", "ended_line"):
        if isinstance(data.get(key), str):
            yield data[key], [f"{lead}; {key}; {whole}"]
    questions = data.get("questions", {})
    for qid, table in (questions.items() if isinstance(questions, dict) else ()):
        if not isinstance(table, dict):
            continue
        if isinstance(table.get("text"), str):
            yield table["text"], [f"{lead}; question {qid}; {whole}"]
        options = table.get("options", {})
        for key, label in (options.items() if isinstance(options, dict) else ()):
            if isinstance(label, str):
                yield label, [f"{LABEL_COMMENT}, {lead}; question {qid}, option {key}"]


def extract_cover_theme(
    fileobj: IO[bytes],
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Yield (line, funcname, msgid, comments) for Babel from a cover theme (line 0: inline tables)."""
    _, data = _load(fileobj, options, "cover theme")
    for message, comments in _theme_messages(data):
        if message:
            yield 0, "", message, comments
