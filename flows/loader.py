"""Load a question set from TOML and refuse, in one clear line, anything the engine cannot run."""

from __future__ import annotations

import re
import string
import tomllib
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from flows.answers import ambiguous_phrases
from flows.discretion import first_line_problems
from flows.questionset import END, Option, OptionAction, Question, QuestionKind, QuestionSet, Rotation
from safety import signals
from safety.lexicon import AUTONYMS, SOURCE_LANGUAGE
from safety.normalise import normalise

# (language, msgid) -> the catalog's translation, or None when it has none.
Lookup = Callable[[str, str], str | None]

DEFAULT_RESOURCE = "questionsets/standard.toml"
MAX_OPTIONS = 9  # one digit each: "10" would read as "1" and "0" on some keypads and in our parser
PLACEHOLDERS = frozenset({"sender"})

_ID = re.compile(r"[a-z][a-z0-9_]*\Z")
_SET_FIELDS = {"id": True, "version": True, "start": True, "questions": True, "rotation": False}  # -> required
_ROTATION_FIELDS = {"after": True, "within": True}
_QUESTION_FIELDS = {
    "id": True,
    "kind": True,
    "text": True,
    "next": False,
    "sensitive": False,
    "options": False,
    "rotates": False,
}
_OPTION_FIELDS = {
    "key": True,
    "label": True,
    "words": False,
    "signals": False,
    "next": False,
    "action": False,
    "exclusive": False,
}


class QuestionSetError(ValueError):
    """A question set file is wrong; the message names the file, the question and the fix."""


def _fail(where: str, problem: str) -> QuestionSetError:
    # One line, whatever a value held: a newline would split a log line or a CLI error.
    return QuestionSetError(f"{where}: {problem}".replace("\n", "\\n"))


def _fields(table: Mapping[str, Any], allowed: Mapping[str, bool], where: str) -> None:
    for name in table:
        if name not in allowed:
            raise _fail(where, f"unknown field {name!r} (expected one of: {', '.join(allowed)})")
    for name, required in allowed.items():
        if required and name not in table:
            raise _fail(where, f"missing field {name!r}")


def _str(table: Mapping[str, Any], name: str, where: str, default: str = "") -> str:
    value = table.get(name, default)
    if not isinstance(value, str):
        raise _fail(where, f"{name!r} must be a string, not {value!r}")
    return value


def _bool(table: Mapping[str, Any], name: str, where: str) -> bool:
    value = table.get(name, False)
    if not isinstance(value, bool):
        raise _fail(where, f"{name!r} must be true or false, not {value!r}")
    return value


def _strs(table: Mapping[str, Any], name: str, where: str) -> tuple[str, ...]:
    value = table.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _fail(where, f"{name!r} must be a list of strings, not {value!r}")
    return tuple(value)


def _ident(table: Mapping[str, Any], name: str, where: str) -> str:
    value = _str(table, name, where)
    if not _ID.match(value):
        raise _fail(where, f"{name} {value!r} must be lower-case letters, digits and _ (a letter first)")
    return value


def _localised(table: Mapping[str, Any], name: str, where: str) -> tuple[str, dict[str, str]]:
    """A text or label: a string (a msgid; other languages come from the catalogs), or a table of
    languages, `en_GB` required: `text = { en_GB = "...", cy = "..." }` or `[questions.text]`."""
    value = table.get(name)
    if isinstance(value, str):
        return value, {}
    if not isinstance(value, dict):
        raise _fail(where, f"{name!r} must be a string or a table of languages, not {value!r}")
    for language, text in value.items():
        if language not in AUTONYMS:
            raise _fail(where, f"{name} has unknown language {language!r} (known: {', '.join(AUTONYMS)})")
        if not isinstance(text, str) or not text.strip():
            raise _fail(where, f"{name}.{language} must be a non-empty string")
    if SOURCE_LANGUAGE not in value:
        raise _fail(where, f"{name} needs an {SOURCE_LANGUAGE} entry: it is the text the others translate")
    inline = {language: text for language, text in value.items() if language != SOURCE_LANGUAGE}
    return value[SOURCE_LANGUAGE], inline


def _check_placeholders(text: str, name: str, where: str) -> None:
    try:
        fields = [(f, spec, conv) for _, f, spec, conv in string.Formatter().parse(text) if f is not None]
    except ValueError:
        raise _fail(where, f"{name} has an unmatched brace; write {{{{ or }}}} for a literal one") from None
    for field, spec, conversion in fields:
        if field not in PLACEHOLDERS or spec or conversion:
            written = field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise _fail(where, f"{name} has placeholder {{{written}}}; only a plain {{sender}} is filled in")


def _option(table: Any, number: int, kind: QuestionKind, where: str) -> Option:
    if not isinstance(table, dict):
        raise _fail(where, f"option #{number} must be a [[questions.options]] table")
    if "key" not in table:
        raise _fail(f"{where}, option #{number}", "missing field 'key'")
    key = _ident(table, "key", f"{where}, option #{number}")
    where = f"{where}, option {key!r}"
    if not table.get("label"):
        raise _fail(where, 'option without label: add label = "..." (the text shown to the survivor)')
    _fields(table, _OPTION_FIELDS, where)
    label, labels = _localised(table, "label", where)
    _check_placeholders(label, "label", where)
    for language, text in labels.items():
        _check_placeholders(text, f"label.{language}", where)
    words: list[str] = []
    for word in _strs(table, "words", where):
        folded = normalise(word)
        if not folded:
            raise _fail(where, f"word {word!r} has no letters or digits, so no reply could match it")
        if folded not in words:
            words.append(folded)
    names = _strs(table, "signals", where)
    for name in names:
        if not signals.is_known(name):
            raise _fail(where, f"unknown signal {name!r} (the known signals are listed in safety/signals.py)")
    next_step = table.get("next")
    if next_step is not None and not isinstance(next_step, str):
        raise _fail(where, f"'next' must be a string, not {next_step!r}")
    action_name = _str(table, "action", where, OptionAction.NONE.value)
    try:
        action = OptionAction(action_name)
    except ValueError:
        choices = ", ".join(a.value for a in OptionAction)
        raise _fail(where, f"bad action {action_name!r} (use one of: {choices})") from None
    if action is not OptionAction.NONE and kind is QuestionKind.MULTI:
        raise _fail(where, f"action {action.value!r} cannot be on a multi question: it could be picked with others")
    exclusive = _bool(table, "exclusive", where)
    if exclusive and kind is not QuestionKind.MULTI:
        raise _fail(where, "'exclusive' only means something on a multi question")
    return Option(key, label, tuple(words), names, next_step, action, exclusive, labels)


def _question(table: Any, number: int, seen: set[str], where: str) -> Question:
    if not isinstance(table, dict):
        raise _fail(where, f"question #{number} must be a [[questions]] table")
    if "id" not in table:
        raise _fail(f"{where}: question #{number}", "missing field 'id'")
    question_id = _ident(table, "id", f"{where}: question #{number}")
    where = f"{where}: question {question_id!r}"
    _fields(table, _QUESTION_FIELDS, where)
    if question_id == END:
        raise _fail(where, f"{END!r} is reserved for finishing the check-in; choose another id")
    if question_id in seen:
        raise _fail(where, "duplicate question id")
    seen.add(question_id)
    kind_name = _str(table, "kind", where)
    try:
        kind = QuestionKind(kind_name)
    except ValueError:
        raise _fail(where, f"bad kind {kind_name!r} (use choice, multi or text)") from None
    text, texts = _localised(table, "text", where)
    if not text.strip():
        raise _fail(where, "text is empty")
    for language, localised in ((SOURCE_LANGUAGE, text), *texts.items()):
        name = "text" if language == SOURCE_LANGUAGE else f"text.{language}"
        _check_placeholders(localised, name, where)
        problems = first_line_problems(localised, language)
        if problems:
            raise _fail(where, f"{name}: {problems[0]}; keep line 1 neutral and put the question on line 2 (\\n)")
    raw_options = table.get("options", [])
    if not isinstance(raw_options, list):
        raise _fail(where, "'options' must be [[questions.options]] tables")
    if kind is QuestionKind.TEXT and raw_options:
        raise _fail(where, 'a text question cannot have options; use kind = "choice" or remove them')
    if kind is not QuestionKind.TEXT and not raw_options:
        raise _fail(where, f"missing option: a {kind.value} question needs a [[questions.options]] table")
    if len(raw_options) > MAX_OPTIONS:
        raise _fail(where, f"{len(raw_options)} options; at most {MAX_OPTIONS}, so each is one digit")
    options = tuple(_option(raw, n, kind, where) for n, raw in enumerate(raw_options, start=1))
    keys = [option.key for option in options]
    for key in keys:
        if keys.count(key) > 1:
            raise _fail(f"{where}, option {key!r}", "duplicate option key")
    question = Question(
        id=question_id,
        kind=kind,
        text=text,
        options=options,
        next=_str(table, "next", where, END),
        sensitive=_bool(table, "sensitive", where),
        texts=texts,
        rotates=_bool(table, "rotates", where),
    )
    if question.rotates and ("next" in table or any(o.next for o in options)):
        raise _fail(where, "a rotating question cannot set 'next': after it come the other rotating questions")
    for language in (SOURCE_LANGUAGE, *sorted({lang for o in options for lang in o.labels})):
        clashes = ambiguous_phrases(question, language)
        if clashes:
            suffix = "" if language == SOURCE_LANGUAGE else f" in {language}"
            raise _fail(where, f"ambiguous reply{suffix}: {clashes[0]}")
    return question


def _successors(question: Question, qs: QuestionSet) -> list[tuple[str, str]]:
    """Return (where, next step) for the question and each option that sets its own next.

    Rotating questions come after the rotation's `after` question and lead back to its `next`.
    """
    rotation = qs.rotation
    if question.rotates and rotation is not None:
        return [(" (rotation)", qs.question(rotation.after).next)]
    steps = [("", question.next)]
    steps += [(f", option {o.key!r}", o.next) for o in question.options if o.next is not None]
    if rotation is not None and question.id == rotation.after:
        steps += [(" (rotation)", q.id) for q in qs.rotating]
    return steps


def _rotation(raw: Any, questions: tuple[Question, ...], source: str) -> Rotation | None:
    rotating = [q.id for q in questions if q.rotates]
    if raw is None:
        if rotating:
            raise _fail(f"{source}: question {rotating[0]!r}", "rotates = true needs a [rotation] table")
        return None
    where = f"{source}: [rotation]"
    if not isinstance(raw, dict):
        raise _fail(where, "must be a table with 'after' and 'within'")
    _fields(raw, _ROTATION_FIELDS, where)
    after = _str(raw, "after", where)
    within = raw["within"]
    by_id = {q.id: q for q in questions}
    if after not in by_id or by_id[after].rotates:
        raise _fail(where, f"after {after!r} must be the id of a question that does not rotate")
    if isinstance(within, bool) or not isinstance(within, int) or within < 1:
        raise _fail(where, f"'within' must be a whole number of check-ins from 1, not {within!r}")
    if not rotating:
        raise _fail(where, "no question has rotates = true")
    return Rotation(after, within)


def _check_graph(qs: QuestionSet, source: str) -> None:
    by_id = {q.id: q for q in qs.questions}
    if qs.start not in by_id:
        raise _fail(source, f"start {qs.start!r} is not a question id (have: {', '.join(by_id)})")
    if by_id[qs.start].rotates:
        raise _fail(source, f"start {qs.start!r} cannot be a rotating question")
    for q in qs.questions:
        for where, step in _successors(q, qs):
            if step != END and step not in by_id:
                problem = f"unknown next step {step!r} (use a question id or 'end')"
                raise _fail(f"{source}: question {q.id!r}{where}", problem)
    reached = {qs.start}
    queue = deque([qs.start])
    while queue:
        for _, step in _successors(by_id[queue.popleft()], qs):
            if step != END and step not in reached:
                reached.add(step)
                queue.append(step)
    for q in qs.questions:
        if q.id not in reached:
            problem = f"unreachable question: no path leads to it from start {qs.start!r}"
            raise _fail(f"{source}: question {q.id!r}", problem)
    # A loop would keep a survivor answering for ever; every path must reach 'end'.
    done: set[str] = set()

    def visit(question_id: str, path: list[str]) -> None:
        if question_id in path:
            loop = " -> ".join([*path[path.index(question_id) :], question_id])
            raise _fail(f"{source}: question {question_id!r}", f"loop ({loop}); every path must reach 'end'")
        if question_id in done or question_id == END:
            return
        for _, step in _successors(by_id[question_id], qs):
            visit(step, [*path, question_id])
        done.add(question_id)

    visit(qs.start, [])


def parse_questionset(text: str, source: str) -> QuestionSet:
    """Parse and validate a question set; `source` names it in errors."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _fail(source, f"TOML syntax error: {error}") from None
    _fields(raw, _SET_FIELDS, source)
    set_id = _ident(raw, "id", source)
    version = raw["version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _fail(source, f"'version' must be a whole number from 1, not {version!r}")
    start = _str(raw, "start", source)
    raw_questions = raw["questions"]
    if not isinstance(raw_questions, list) or not raw_questions:
        raise _fail(source, "'questions' must be one or more [[questions]] tables")
    seen: set[str] = set()
    questions = tuple(_question(q, n, seen, source) for n, q in enumerate(raw_questions, start=1))
    rotation = _rotation(raw.get("rotation"), questions, source)
    qs = QuestionSet(id=set_id, version=version, start=start, questions=questions, rotation=rotation)
    _check_graph(qs, source)
    return qs


def check_languages(qs: QuestionSet, languages: Iterable[str], lookup: Lookup, source: str) -> None:
    """Refuse a question set that lacks a text or label in one of `languages`, one line naming the
    question and the language. A text is there if the set has it inline or the catalogs translate it."""

    def has(language: str, msgid: str, inline: Mapping[str, str]) -> str | None:
        if language == SOURCE_LANGUAGE or language in inline:
            return inline.get(language, msgid)
        return lookup(language, msgid)

    for language in languages:
        for question in qs.questions:
            where = f"{source}: question {question.id!r}"
            if has(language, question.text, question.texts) is None:
                raise _fail(where, f"no {language} text: add text.{language} to it or translate it in the catalogs")
            for option in question.options:
                if has(language, option.label, option.labels) is None:
                    problem = f"no {language} label: add label.{language} to it or translate it in the catalogs"
                    raise _fail(f"{where}, option {option.key!r}", problem)
            text = question.texts.get(language) or lookup(language, question.text) or question.text
            problems = first_line_problems(text, language)
            if problems:
                raise _fail(where, f"{language} text: {problems[0]}")

            def translated(lang: str, msgid: str) -> str:
                return lookup(lang, msgid) or msgid

            clashes = ambiguous_phrases(question, language, translated)
            if clashes:
                raise _fail(where, f"ambiguous reply in {language}: {clashes[0]}")


def load_questionset(path: Path) -> QuestionSet:
    """Read and validate the question set in the TOML file at `path`."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _fail(str(path), "not UTF-8 text; save the file as UTF-8") from None
    except OSError as error:
        raise _fail(str(path), f"cannot read it ({error.strerror or error})") from None
    return parse_questionset(text, str(path))


@cache
def load_default() -> QuestionSet:
    """Return the packaged default check-in question set."""
    text = resources.files("flows").joinpath(DEFAULT_RESOURCE).read_text(encoding="utf-8")
    return parse_questionset(text, f"flows/{DEFAULT_RESOURCE}")
