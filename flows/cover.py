"""Cover themes: the same check-in dressed as an ordinary exchange (a salon booking, a friend catching up).

A theme rewords every question and option of one question set and changes nothing else: the same
ids, option keys and signals, so a cover check-in yields exactly the signals and alerts of a direct
one. She learns the key in person, from the card the workspace prints (`key`). Every text of a
theme must pass the over-the-shoulder lint on its whole body, in every language it has: someone who
reads the whole thread sees only a booking or a chat.

Themes are English first. A theme carries other languages inline (`text = { en_GB = "...", cy =
"..." }`) and cover mode is offered in a language once all of a theme's texts have it there or in
the catalogs (`offered`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any

from flows.answers import ambiguous_phrases
from flows.discretion import thread_problems
from flows.questionset import Question, QuestionSet
from safety.lexicon import AUTONYMS, SOURCE_LANGUAGE

THEMES_DIR = "questionsets/cover"
Lookup = Callable[[str, str], str | None]  # (language, msgid) -> a catalog's translation, or None


class CoverThemeError(ValueError):
    """A theme file is wrong; one line naming the theme, the question and the fix."""


@dataclass(frozen=True)
class Text:
    """A theme's text: the English msgid and its inline translations."""

    en: str
    inline: Mapping[str, str] = field(default_factory=dict, hash=False)

    def get(self, language: str, lookup: Lookup | None = None) -> str | None:
        if language == SOURCE_LANGUAGE:
            return self.en
        return self.inline.get(language) or (lookup(language, self.en) if lookup else None)


@dataclass(frozen=True)
class CoverTheme:
    name: str  # as stored on the case: "salon"
    title: str  # for staff: "A salon booking"
    questionset: str  # the id of the question set it rewords
    pin_prompt: Text  # how it asks for her PIN
    ended_line: Text  # the neutral line when she ends a check-in quietly ("not safe right now")
    texts: Mapping[str, Text] = field(hash=False)  # question id -> its cover text
    labels: Mapping[str, Mapping[str, Text]] = field(hash=False)  # question id -> option key -> label

    def all_texts(self) -> list[tuple[str, Text]]:
        """(where, text) for everything the theme sends, for checks."""
        found = [("pin_prompt", self.pin_prompt), ("ended_line", self.ended_line)]
        for qid, text in self.texts.items():
            found.append((f"question {qid!r}", text))
            found += [(f"question {qid!r}, option {key!r}", label) for key, label in self.labels[qid].items()]
        return found

    def languages(self, lookup: Lookup | None = None) -> tuple[str, ...]:
        """The languages every text of the theme has."""
        return tuple(
            language for language in AUTONYMS if all(t.get(language, lookup) for _, t in self.all_texts())
        )


@dataclass(frozen=True)
class KeyLine:
    """One line of the printed key: a cover question and what it means, option by option."""

    cover: str
    meaning: str
    options: tuple[tuple[str, str], ...]  # (cover label, what it means)


def _text(raw: Any, where: str) -> Text:
    if isinstance(raw, str) and raw.strip():
        return Text(raw)
    if isinstance(raw, dict) and isinstance(raw.get(SOURCE_LANGUAGE), str):
        inline = {k: v for k, v in raw.items() if k != SOURCE_LANGUAGE}
        for language, value in inline.items():
            if language not in AUTONYMS or not isinstance(value, str) or not value.strip():
                raise CoverThemeError(f"{where}: {language!r} must be a known language with a non-empty text")
        return Text(raw[SOURCE_LANGUAGE], inline)
    raise CoverThemeError(f"{where}: must be a text, or a table of languages with {SOURCE_LANGUAGE}")


def parse_theme(text: str, source: str) -> CoverTheme:
    """Parse a theme file; it is checked against its question set by `apply` and `check`."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CoverThemeError(f"{source}: TOML syntax error: {error}") from None
    for name in ("theme", "title", "questionset", "pin_prompt", "ended_line", "questions"):
        if name not in raw:
            raise CoverThemeError(f"{source}: missing field {name!r}")
    texts: dict[str, Text] = {}
    labels: dict[str, dict[str, Text]] = {}
    for qid, table in raw["questions"].items():
        where = f"{source}: question {qid!r}"
        if not isinstance(table, dict) or "text" not in table:
            raise CoverThemeError(f"{where}: needs a text")
        texts[qid] = _text(table["text"], where)
        options = table.get("options", {})
        labels[qid] = {key: _text(label, f"{where}, option {key!r}") for key, label in options.items()}
    return CoverTheme(
        name=str(raw["theme"]),
        title=str(raw["title"]),
        questionset=str(raw["questionset"]),
        pin_prompt=_text(raw["pin_prompt"], f"{source}: pin_prompt"),
        ended_line=_text(raw["ended_line"], f"{source}: ended_line"),
        texts=texts,
        labels=labels,
    )


def check(theme: CoverTheme, qs: QuestionSet, source: str) -> None:
    """Refuse, in one line, a theme that misses or adds a question or option of `qs`, or whose words
    would give anything away to someone reading the whole thread."""
    if theme.questionset != qs.id:
        raise CoverThemeError(f"{source}: rewords question set {theme.questionset!r}, not {qs.id!r}")
    for question in qs.questions:
        where = f"{source}: question {question.id!r}"
        if question.id not in theme.texts:
            raise CoverThemeError(f"{where}: missing; a theme rewords every question")
        keys = {o.key for o in question.options}
        if set(theme.labels[question.id]) != keys:
            raise CoverThemeError(f"{where}: options must be exactly {', '.join(sorted(keys)) or 'none'}")
    extra = set(theme.texts) - {q.id for q in qs.questions}
    if extra:
        raise CoverThemeError(f"{source}: question {sorted(extra)[0]!r} is not in {qs.id!r}")
    for where, text in theme.all_texts():
        for language in (SOURCE_LANGUAGE, *text.inline):
            problems = thread_problems(text.get(language) or "", language)
            if problems:
                raise CoverThemeError(f"{source}: {where} ({language}): {problems[0]}")
    covered = apply(qs, theme)
    for question in covered.questions:
        for language in theme.languages():
            clashes = ambiguous_phrases(question, language)
            if clashes:
                where = f"{source}: question {question.id!r}"
                raise CoverThemeError(f"{where}: ambiguous reply in {language}: {clashes[0]}")


def apply(qs: QuestionSet, theme: CoverTheme) -> QuestionSet:
    """`qs` with the theme's words: same ids, option keys, signals, actions and paths."""

    def cover(question: Question) -> Question:
        text = theme.texts[question.id]
        options = tuple(
            replace(o, label=theme.labels[question.id][o.key].en, labels=theme.labels[question.id][o.key].inline,
                    words=())  # her direct words ("knife") would not be typed in a chat about a booking
            for o in question.options
        )
        return replace(question, text=text.en, texts=text.inline, options=options)

    return replace(qs, questions=tuple(cover(q) for q in qs.questions))


@cache
def themes() -> Mapping[str, CoverTheme]:
    """The shipped themes by name, each checked against the default question set."""
    from flows.loader import load_default  # the loader imports the lint this module shares

    default = load_default()
    found: dict[str, CoverTheme] = {}
    for entry in sorted(resources.files("flows").joinpath(THEMES_DIR).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            source = f"flows/{THEMES_DIR}/{entry.name}"
            theme = parse_theme(entry.read_text(encoding="utf-8"), source)
            check(theme, default, source)
            found[theme.name] = theme
    return found


def offered(qs: QuestionSet, language: str, lookup: Lookup | None = None) -> tuple[CoverTheme, ...]:
    """The themes that reword `qs` and are translated into `language`: where cover mode may be chosen."""
    return tuple(t for t in themes().values() if t.questionset == qs.id and language in t.languages(lookup))


def key(
    theme: CoverTheme, qs: QuestionSet, language: str, translate: Callable[[str, str], str], sender: str = "Alex"
) -> tuple[KeyLine, ...]:
    """The key she is given in person: each cover question and option beside what it means."""

    def cover(text: Text) -> str:
        return (text.inline.get(language) or translate(language, text.en)).format(sender=sender)

    def meaning(question: Question) -> str:
        # The direct text's last line is the question itself ("Thanks. First one:" is only a lead-in).
        return translate(language, question.text).format(sender=sender).strip().splitlines()[-1]

    return tuple(
        KeyLine(
            cover=cover(theme.texts[q.id]).replace("\n", " "),
            meaning=meaning(q),
            options=tuple((cover(theme.labels[q.id][o.key]), translate(language, o.label)) for o in q.options),
        )
        for q in qs.questions
    )


def theme_for(mode: str, name: str | None, qs: QuestionSet) -> CoverTheme | None:
    """The theme a case in `mode` reads `qs` through; None in direct mode.

    A cover case whose theme is gone, or does not reword her service's question set, must not fall
    back to direct questions in her thread: this raises CoverThemeError (one line) instead.
    """
    if mode != "cover":
        return None
    return _checked(name or "", qs)


@cache
def _checked(name: str, qs: QuestionSet) -> CoverTheme:
    theme = themes().get(name)
    if theme is None:
        raise CoverThemeError(f"cover theme {name!r} is not installed (have: {', '.join(themes())})")
    check(theme, qs, f"cover theme {name!r}")
    return theme
