"""Question sets load from TOML, and every broken file is refused in one line naming the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.discretion import first_line_problems
from flows.loader import QuestionSetError, load_default, load_questionset, parse_questionset
from flows.questionset import END, OptionAction, QuestionKind
from safety import signals

BASE = """\
id = "mini"
version = 1
start = "q1"

[[questions]]
id = "q1"
kind = "choice"
text = "Hello.\\nHow are things?"
next = "q2"

  [[questions.options]]
  key = "yes"
  label = "Fine"

  [[questions.options]]
  key = "no"
  label = "Not great"

[[questions]]
id = "q2"
kind = "multi"
text = "Next one:\\nWhich of these?"
next = "q3"

  [[questions.options]]
  key = "none"
  label = "None of these"
  exclusive = true

  [[questions.options]]
  key = "calls"
  label = "Calls"
  signals = ["contact_remote"]

[[questions]]
id = "q3"
kind = "text"
text = "Last one.\\nAnything else?"
"""

OPTION_Q2 = '  [[questions.options]]\n  key = "calls"\n  label = "Calls"\n  signals = ["contact_remote"]\n'


def broken(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


def test_the_minimal_fixture_is_valid() -> None:
    qs = parse_questionset(BASE, "mini.toml")
    assert [q.id for q in qs.questions] == ["q1", "q2", "q3"]


def test_the_default_question_set_loads_with_every_question_reachable() -> None:
    qs = load_default()
    assert (qs.id, qs.version, qs.start) == ("standard", 2, "safe_to_talk")
    assert [q.id for q in qs.questions] == [
        "safe_to_talk",
        "safe_now",
        "afraid",
        "contact",
        "incident",
        "separation",
        "stalking",
        "escalation",
        "controlling",
        "sexual",
        "child_contact",
        "pregnancy",
        "mood",
        "money_isolation",
        "others_feared",
        "callback",
        "anything_else",
    ]
    assert [q.id for q in qs.rotating] == [q.id for q in qs.questions[5:15]]
    assert qs.rotation is not None and (qs.rotation.after, qs.rotation.within) == ("incident", 5)
    assert qs.question("anything_else").kind is QuestionKind.TEXT
    assert qs.question("anything_else").next == END


def test_the_default_set_defers_when_it_is_not_a_good_time() -> None:
    option = load_default().question("safe_to_talk").options[1]
    assert (option.key, option.label, option.action) == ("no", "Not now", OptionAction.DEFER)


def test_the_default_set_ends_when_she_is_not_safe_right_now() -> None:
    option = load_default().question("safe_now").options[1]
    assert (option.key, option.label, option.action) == ("no", "No", OptionAction.END)
    assert option.signals == ("not_safe_now",)
    others = [o for q in load_default().questions for o in q.options if o.action is OptionAction.END]
    assert others == [option]


def test_the_default_set_records_only_known_signals() -> None:
    recorded = {s for q in load_default().questions for o in q.options for s in o.signals}
    assert all(signals.is_known(name) for name in recorded)
    assert {"not_safe_now", "choking", "threats_to_kill", "weapons", "callback_urgent"} <= recorded
    assert {"lives_with_them", "other_incident", "stalking", "self_harm_thoughts", "sexual_abuse"} <= recorded


def test_the_default_set_keeps_every_first_line_discreet() -> None:
    for question in load_default().questions:
        assert first_line_problems(question.text) == [], question.id
        assert "\n" in question.text or question.id == "safe_to_talk", question.id


def test_option_words_are_normalised_on_load() -> None:
    text = broken('  label = "Calls"\n', '  label = "Calls"\n  words = ["  Phone-CALLS ", "phone calls"]\n')
    option = parse_questionset(text, "mini.toml").question("q2").options[1]
    assert option.words == ("phone calls",)


BROKEN = [
    (
        "toml_syntax_error_gives_line_and_column",
        broken("version = 1", "version = "),
        ["TOML syntax error", "line 2"],
    ),
    ("missing_top_level_field", broken('start = "q1"\n', ""), ["missing field 'start'"]),
    (
        "unknown_top_level_field",
        broken("version = 1\n", "version = 1\nauthor = 'x'\n"),
        ["unknown field 'author'"],
    ),
    ("bad_version", broken("version = 1", "version = 0"), ["'version'"]),
    ("missing_question_field", broken('kind = "choice"\n', ""), ["question 'q1'", "missing field 'kind'"]),
    ("missing_question_id", broken('id = "q1"\n', ""), ["question #1", "missing field 'id'"]),
    (
        "unknown_question_field",
        broken('next = "q2"\n', 'next = "q2"\ncolour = "red"\n'),
        ["question 'q1'", "unknown field 'colour'"],
    ),
    ("bad_kind", broken('kind = "choice"', 'kind = "radio"'), ["question 'q1'", "bad kind 'radio'"]),
    ("duplicate_question_id", broken('id = "q3"', 'id = "q1"'), ["question 'q1'", "duplicate question id"]),
    ("reserved_question_id", broken('id = "q3"', 'id = "end"'), ["question 'end'", "reserved"]),
    ("bad_question_id", broken('id = "q3"', 'id = "Q 3"'), ["question #3", "id 'Q 3'", "lower-case"]),
    (
        "duplicate_option_key",
        broken('key = "no"', 'key = "yes"'),
        ["question 'q1', option 'yes'", "duplicate option key"],
    ),
    ("unknown_start", broken('start = "q1"', 'start = "hello"'), ["mini.toml", "start 'hello'"]),
    (
        "unknown_next_step",
        broken('next = "q2"', 'next = "q9"'),
        ["question 'q1'", "unknown next step 'q9'"],
    ),
    (
        "unknown_next_step_of_an_option",
        broken('  label = "Not great"\n', '  label = "Not great"\n  next = "nowhere"\n'),
        ["question 'q1', option 'no'", "unknown next step 'nowhere'"],
    ),
    (
        "choice_question_without_options",
        BASE.replace('  [[questions.options]]\n  key = "yes"\n  label = "Fine"\n\n', "").replace(
            '  [[questions.options]]\n  key = "no"\n  label = "Not great"\n', ""
        ),
        ["question 'q1'", "missing option"],
    ),
    (
        "text_question_with_options",
        BASE + '\n  [[questions.options]]\n  key = "x"\n  label = "X"\n',
        ["question 'q3'", "text question cannot have options"],
    ),
    (
        "option_without_label",
        broken('  label = "Not great"\n', ""),
        ["question 'q1', option 'no'", "without label"],
    ),
    (
        "option_with_empty_label",
        broken('label = "Not great"', 'label = ""'),
        ["option 'no'", "without label"],
    ),
    (
        "option_key_not_a_string",
        broken('key = "no"', "key = 2"),
        ["question 'q1', option #2", "'key' must be a string"],
    ),
    ("option_without_key", broken('  key = "no"\n', ""), ["question 'q1', option #2", "missing field 'key'"]),
    (
        "unreachable_question",
        broken('next = "q3"', 'next = "end"'),
        ["question 'q3'", "unreachable question", "start 'q1'"],
    ),
    (
        "unknown_signal",
        broken('signals = ["contact_remote"]', 'signals = ["contact_remotely"]'),
        ["question 'q2', option 'calls'", "unknown signal 'contact_remotely'"],
    ),
    (
        "defer_on_a_multi_question",
        broken('  label = "Calls"\n', '  label = "Calls"\n  action = "defer"\n'),
        ["question 'q2', option 'calls'", "'defer'", "multi"],
    ),
    (
        "bad_action",
        broken('  label = "Fine"\n', '  label = "Fine"\n  action = "jump"\n'),
        ["bad action 'jump'"],
    ),
    (
        "exclusive_on_a_choice_question",
        broken('  label = "Fine"\n', '  label = "Fine"\n  exclusive = true\n'),
        ["question 'q1', option 'yes'", "'exclusive'"],
    ),
    (
        "more_than_nine_options",
        broken(
            OPTION_Q2,
            "".join(f'  [[questions.options]]\n  key = "o{n}"\n  label = "Option {n}"\n\n' for n in range(9)),
        ),
        ["question 'q2'", "10 options", "at most 9"],
    ),
    (
        "placeholder_other_than_sender",
        broken('text = "Hello.\\nHow are things?"', 'text = "Hello {name}.\\nHow are things?"'),
        ["question 'q1'", "placeholder {name}", "only a plain {sender}"],
    ),
    (
        "placeholder_with_a_format_spec",
        broken('text = "Hello.\\nHow are things?"', 'text = "Hello {sender!r}.\\nHow are things?"'),
        ["question 'q1'", "placeholder {sender!r}", "only a plain {sender}"],
    ),
    (
        "unmatched_brace",
        broken('text = "Hello.\\nHow are things?"', 'text = "Hello {sender.\\nHow are things?"'),
        ["question 'q1'", "unmatched brace"],
    ),
    (
        "placeholder_in_a_label",
        broken('label = "Fine"', 'label = "Fine {mood}"'),
        ["question 'q1', option 'yes'", "placeholder {mood}"],
    ),
    (
        "revealing_first_line",
        broken('text = "Hello.\\nHow are things?"', 'text = "Are you safe?"'),
        ["question 'q1'", "first line contains 'safe'", "line 2"],
    ),
    (
        "empty_text",
        broken('text = "Hello.\\nHow are things?"', 'text = "  "'),
        ["question 'q1'", "text is empty"],
    ),
    (
        "loop_between_questions",
        broken('  label = "Calls"\n', '  label = "Calls"\n  next = "q1"\n'),
        ["loop", "q1 -> q2 -> q1"],
    ),
    (
        "word_that_picks_two_options",
        broken('  label = "Not great"\n', '  label = "Not great"\n  words = ["fine"]\n'),
        ["question 'q1'", "ambiguous reply", "'fine'", "'yes' and 'no'"],
    ),
    (
        "word_with_no_letters",
        broken('  label = "Not great"\n', '  label = "Not great"\n  words = ["?!"]\n'),
        ["option 'no'", "no letters or digits"],
    ),
    (
        "words_not_a_list",
        broken('  label = "Not great"\n', '  label = "Not great"\n  words = "meh"\n'),
        ["'words'"],
    ),
    ("sensitive_not_a_bool", broken('next = "q2"\n', 'next = "q2"\nsensitive = "yes"\n'), ["'sensitive'"]),
    ("no_questions", BASE.split("[[questions]]")[0] + "questions = []\n", ["'questions'"]),
]


@pytest.mark.parametrize(("text", "fragments"), [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN])
def test_a_broken_question_set_is_refused_in_one_line_naming_the_problem(text: str, fragments: list[str]) -> None:
    with pytest.raises(QuestionSetError) as caught:
        parse_questionset(text, "mini.toml")
    message = str(caught.value)
    assert message.startswith("mini.toml")
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_a_question_set_error_is_a_value_error() -> None:
    assert issubclass(QuestionSetError, ValueError)


def test_a_question_set_file_loads_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "mini.toml"
    path.write_text(BASE, encoding="utf-8")
    assert load_questionset(path).id == "mini"


def test_a_missing_file_is_one_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(QuestionSetError, match=r"absent\.toml: cannot read it"):
        load_questionset(path)


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes(BASE.encode("utf-8").replace(b"Fine", b"Caf\xe9"))
    with pytest.raises(QuestionSetError, match=r"latin\.toml: not UTF-8"):
        load_questionset(path)
