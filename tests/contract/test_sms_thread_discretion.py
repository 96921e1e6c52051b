"""The issue's test of done: a whole SMS thread, read from top to bottom on her phone in any language and
mode, shows nothing that reveals the service or her secrets.

Through the real pipeline, the real twilio client and the fake Twilio: her words set in person, set-up by
text in her language, a check-in with her PIN, HELP (with the service's own line), PAUSE, RESUME and her
exit word. Every body Twilio was asked to send her is linted: the check-in questions in direct mode on
their first line (she chose plain questions, knowing the thread stays readable), everything else, and
every question in cover mode, on its whole body, with the service's name refused too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import commands
from bot.app import App
from bot.commands import case_mode, signposting
from bot.i18n import to_message
from flows import cover
from flows.checkin import PIN_Q
from flows.discretion import first_line_problems, thread_problems
from flows.model import Reply
from safety.lexicon import AUTONYMS
from tests.fakes.sms_harness import sms_world

ADDRESS = "+447700900777"
SERVICE_NAME = "Test service"  # the sms_world's service; its name must never reach her phone
HELP_LINE = "Text Jo on 07700 900456 any weekday."
SECRETS = {"exit_word": "mango", "codeword": "red kite", "pin": "97531864", "duress_pin": ""}
MODES = [(language, "direct") for language in AUTONYMS] + [("en_GB", theme) for theme in ("salon", "catch_up")]


def question_texts(app: App, language: str, theme: str | None) -> list[str]:
    """The check-in questions and the PIN prompt as her phone shows them (before their options)."""
    qs = app.questionset(None)
    prompt = PIN_Q.text
    if theme is not None:
        chosen = cover.themes()[theme]
        qs, prompt = cover.apply(qs, chosen), chosen.pin_prompt.en
    texts = [q.texts.get(language, q.text) for q in qs.questions] + [prompt]
    render = app.catalogs.render
    return [render(to_message(Reply(t, {"sender": "Alex"})), language, "Europe/London").text for t in texts]


@pytest.mark.parametrize(("language", "mode"), MODES)
async def test_her_whole_sms_thread_gives_nothing_away(tmp_path: Path, language: str, mode: str) -> None:
    async with sms_world(tmp_path) as w:
        await commands.set_languages(w.app, w.service_id, enable=",".join(AUTONYMS))
        await signposting.set_help_line(w.app, w.service_id, HELP_LINE)
        ref, code = await w.enrol(ADDRESS)
        if mode != "direct":
            await case_mode.set_mode(w.app, w.service_id, ref, "cover", mode, actor="test")
        await commands.set_secrets(w.app, w.service_id, ref, SECRETS)

        await w.say(ADDRESS, code)
        await w.say(ADDRESS, language)  # the language step, by its code
        for line in ("YES", "1 2 3", "1"):
            await w.say(ADDRESS, line)
        await commands.checkin_now(w.app, w.service_id, ref)
        await w.deliver()
        for line in ("1", SECRETS["pin"], "1", "1", "1", "1", "1", "1", "1", "SKIP", "HELP", "PAUSE", "RESUME"):
            await w.say(ADDRESS, line)
        await w.say(ADDRESS, SECRETS["exit_word"])
        thread = [m.body for m in w.fake.to(ADDRESS)]

        questions = question_texts(w.app, language, None if mode == "direct" else mode)
        assert len(thread) >= 20 and any(body.startswith(tuple(questions)) for body in thread)
        assert HELP_LINE in thread
        for body in thread:
            for secret in ("mango", "red kite", "97531864"):
                assert secret not in body.lower(), body
            if mode == "direct" and body.startswith(tuple(questions)):
                assert first_line_problems(body, language) == [], body
            else:
                assert thread_problems(body, language, extra=(SERVICE_NAME,)) == [], body
