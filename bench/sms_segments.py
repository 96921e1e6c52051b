"""What every default survivor message costs by SMS: GSM-7 or UCS-2, and how many segments.

    .venv/bin/python -m bench.sms_segments [--language en_GB] [--all]

Prints a Markdown table (docs/sms.md has the en_GB one). A message in UCS-2 holds 70 characters
(67 a part), in GSM-7 160 (153 a part): one curly quote or emoji costs more than a long sentence.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from datetime import UTC, datetime

from bot.channels.segments import Segments, segments
from bot.i18n import Catalogs, to_message
from flows import replies as R
from flows.loader import load_default
from flows.model import Reply
from flows.onboarding import STEPS
from flows.questionset import Question

SAMPLE = {"sender": "Alex", "count": 3, "until": datetime(2026, 11, 26, 10, 0, tzinfo=UTC)}


def _ask(catalogs: Catalogs, question: Question, language: str) -> str:
    reply = Reply(
        question.texts.get(language, question.text),
        {"sender": SAMPLE["sender"]},
        tuple(o.labels.get(language, o.label) for o in question.options),
    )
    return catalogs.render(to_message(reply), language, "Europe/London").text


def default_messages(catalogs: Catalogs, language: str) -> Iterator[tuple[str, str]]:
    """(name, rendered text) of every default survivor message as the phone shows it: the check-in
    questions and the onboarding steps with their numbered options, then every other fixed reply."""
    questions = [*load_default().questions, *STEPS.values()]
    for question in questions:
        yield question.id, _ask(catalogs, question, language)
    asked = {q.text for q in questions} | {o.label for q in questions for o in q.options}
    for name, value in vars(R).items():
        if name.startswith("_") or not name.isupper() or value in asked or value == R.AS_WRITTEN:
            continue  # AS_WRITTEN carries the service's own line, not a default message
        if isinstance(value, str):
            reply = Reply(value, {k: v for k, v in SAMPLE.items() if "{" + k + "}" in value})
        elif isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value):
            reply = Reply(value[0], dict(SAMPLE), plural=value[1])
        else:
            continue
        yield name.lower(), catalogs.render(to_message(reply), language, "Europe/London").text


def table(catalogs: Catalogs, languages: list[str]) -> Iterator[str]:
    yield "| language | message | encoding | characters | segments |"
    yield "|---|---|---|---|---|"
    for language in languages:
        for name, text in default_messages(catalogs, language):
            cost: Segments = segments(text)
            yield f"| {language} | {name} | {cost.encoding} | {cost.chars} | {cost.count} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--language", default="en_GB")
    parser.add_argument("--all", action="store_true", help="every language with a catalog")
    args = parser.parse_args()
    catalogs = Catalogs()
    for line in table(catalogs, catalogs.languages if args.all else [args.language]):
        print(line)


if __name__ == "__main__":
    main()
