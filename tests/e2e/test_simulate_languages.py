"""A service offers Welsh and Urdu; survivors onboard and check in in them through `safecheck simulate`,
typing native digits and codewords in their own script, and the IDVA's alerts stay in English."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import Cli, Prepared, prepare

pytestmark = pytest.mark.e2e

CODEWORD_ALERT = {"type": "event", "event": "AlertRaised", "severity": "urgent", "reason": "codeword", "facts": []}


def enrol(cli: Cli, address: str) -> tuple[str, str]:
    out = cli.run("case", "enrol", "--idva", "1", "--address", address, "--intake", "standard").stdout
    ref, code = re.search(r"case (C-\w+)", out), re.search(r"activation code (\S+)", out)
    assert ref and code
    return ref.group(1), code.group(1)


def set_secrets(cli: Cli, ref: str, exit_word: str, codeword: str, pin: str) -> None:
    """Her words, chosen with her in person and typed on the IDVA's device: four lines on stdin."""
    cli.run("case", "set-secrets", ref, stdin=f"{exit_word}\n{codeword}\n{pin}\n\n")


def replies(lines: list[dict[str, object]]) -> list[str]:
    return [str(line["text"]) for line in lines if line["type"] == "reply"]


def events(lines: list[dict[str, object]], name: str) -> list[dict[str, object]]:
    return [line for line in lines if line.get("event") == name]


def set_up_service(cli: Cli) -> None:
    cli.run("init", "--service-name", "Test IDVA service")
    cli.run("practitioner", "add", "--name", "Ida Idva", "--role", "idva")
    cli.run("practitioner", "add", "--name", "Dan Duty", "--role", "duty")
    out = cli.run("service", "languages", "--enable", "cy,ur").stdout
    assert out.splitlines()[0] == "languages: en_GB, cy, ur (default en_GB)"


@pytest.fixture(scope="module")
def prepared_service(tmp_path_factory: pytest.TempPathFactory) -> Prepared[None]:
    return prepare(tmp_path_factory, set_up_service)


@pytest.fixture
def service(cli: Cli, prepared_service: Prepared[None]) -> Cli:
    """`cli` with its own copy of a service offering Welsh and Urdu (set up once by the CLI)."""
    prepared_service.copy_to(cli)
    return cli


def test_a_welsh_survivor_onboards_and_checks_in_in_welsh_and_the_codeword_alerts(service: Cli) -> None:
    cli = service
    ref, code = enrol(cli, "+447700900201")
    set_secrets(cli, ref, "bara brith", "tebot glas", "1234")
    onboarding = [code, "Cymraeg", "ie", "1 3", "ie"]
    lines = cli.json_lines("simulate", "--case", ref, "--json", stdin="\n".join(onboarding) + "\n")
    texts = replies(lines)
    assert texts[0].startswith("Hi, it's Alex.\nWhich language would you like?")  # the service default
    assert "2 Cymraeg" in texts[0] and "3 اردو" in texts[0]
    assert texts[1].startswith("Helo, Alex sydd yma. Diolch am drefnu hyn.")  # from here on, Welsh
    assert texts[-1].startswith("Dyna ni. Atebwch CYMORTH")
    assert events(lines, "LanguageChosen") == [{"type": "event", "event": "LanguageChosen", "language": "cy"}]
    assert events(lines, "OnboardingCompleted")

    cli.run("schedule", "set", ref, "daily@10:00")
    # "ydw" (I am) to "safe now?"; "na" to the two rotating questions and the call back.
    checkin = [
        "ie",
        "1234",
        "ydw",
        "ychydig",
        "Negeseuon neu alwadau",
        "dim un o'r rhain",
        "na",
        "na",
        "na",
        "Mae'r TEBOT GLÂS yma",
    ]
    lines = cli.json_lines(
        "simulate", "--case", ref, "--json", stdin="\n".join(checkin) + "\n", now="2026-11-23T10:00:30Z"
    )
    texts = replies(lines)
    assert texts[0] == "Helo, Alex sydd yma. Ydy nawr yn amser da am sgwrs fach?\n1 Ie\n2 Ddim nawr"
    assert texts[1] == "Diolch.\nAtebwch gyda'ch PIN."
    assert texts[-1] == "Diolch, dyna'r cyfan. Cymerwch ofal."
    assert events(lines, "AlertRaised") == [CODEWORD_ALERT]
    inbox = cli.json_lines("practitioner", "inbox", "1", "--json")
    assert any(f"[URGENT] Case {ref}: codeword" in str(m["text"]) for m in inbox)  # English for the IDVA

    shown = cli.json_lines("case", "show", ref, "--as", "1", "--json")[0]
    assert shown["language"] == "cy"  # the IDVA knows which language to call back in
    answers = {a["question"]: a for a in shown["checkins"][0]["answers"]}  # type: ignore[index]
    assert answers["safe_now"]["options"] == ["yes"] and answers["afraid"]["options"] == ["little"]
    assert answers["contact"]["options"] == ["remote"] and answers["incident"]["options"] == ["none"]
    assert answers["separation"]["options"] == ["no"] and answers["stalking"]["options"] == ["no"]
    assert answers["callback"]["options"] == ["no"]

    # Next day, "na" to "safe now?" ends the check-in at once: one neutral Welsh line, the urgent alert.
    checkin = ["ie", "1234", "na", "ychydig"]
    lines = cli.json_lines(
        "simulate", "--case", ref, "--json", stdin="\n".join(checkin) + "\n", now="2026-11-24T10:00:30Z"
    )
    texts = replies(lines)
    idle = "Diolch, wedi'i gael. Atebwch CYMORTH i weld yr opsiynau."  # "ychydig" answers nothing: it has ended
    assert texts[-2:] == ["Dim problem, siarad yn fuan.", idle]
    [alert] = events(lines, "AlertRaised")
    assert (alert["severity"], alert["reason"], alert["facts"]) == ("urgent", "risk_raised", ["not_safe_now"])


def test_an_urdu_survivor_uses_urdu_digits_an_urdu_codeword_and_the_exit_word(service: Cli) -> None:
    cli = service
    ref, code = enrol(cli, "+447700900202")
    # Extended Arabic-Indic digits (Urdu keyboards) for the options, and for the PIN set in person.
    set_secrets(cli, ref, "آم", "نیلی کیتلی", "۱۲۳۴")  # typed in person on an Urdu keyboard
    onboarding = [code, "۳", "ہاں", "۱ ۳", "ہاں"]
    lines = cli.json_lines("simulate", "--case", ref, "--json", stdin="\n".join(onboarding) + "\n")
    texts = replies(lines)
    assert texts[1].startswith("ہیلو، میں Alex ہوں۔")
    assert texts[-1].startswith("سب تیار ہے۔")
    assert events(lines, "LanguageChosen") == [{"type": "event", "event": "LanguageChosen", "language": "ur"}]
    assert events(lines, "OnboardingCompleted")

    cli.run("schedule", "set", ref, "daily@10:00")
    # The PIN in Arabic-Indic digits this time; the codeword typed on an Arabic keyboard (ي, ك)
    # inside the answer to a multi question, with right-to-left marks around it.
    checkin = ["۱", "١٢٣٤", "ہاں", "تھوڑا", "۲ اور ۳", "\u200f۱ نيلي كيتلي\u200f", "نہیں", "نہیں", "نہیں", "کچھ نہیں"]
    lines = cli.json_lines(
        "simulate", "--case", ref, "--json", stdin="\n".join(checkin) + "\n", now="2026-11-23T10:00:30Z"
    )
    texts = replies(lines)
    assert texts[0] == "ہیلو، میں Alex ہوں۔ کیا ابھی تھوڑی بات ہو سکتی ہے؟\n1 ہاں\n2 ابھی نہیں"
    assert texts[1] == "شکریہ۔\nبراہ کرم اپنا PIN لکھیں۔"
    assert texts[-1] == "شکریہ، بس اتنا ہی۔ اپنا خیال رکھیں۔"
    assert events(lines, "AlertRaised") == [CODEWORD_ALERT]
    assert not events(lines, "PinFailedTwice")
    shown = cli.json_lines("case", "show", ref, "--as", "1", "--json")[0]
    answers = {a["question"]: a for a in shown["checkins"][0]["answers"]}  # type: ignore[index]
    assert answers["safe_now"]["options"] == ["yes"] and answers["afraid"]["options"] == ["little"]
    assert answers["contact"]["options"] == ["remote", "in_person"]
    assert answers["incident"]["options"] == ["none"]  # the answer around the codeword still counts
    assert answers["separation"]["options"] == ["no"] and answers["stalking"]["options"] == ["no"]
    assert answers["callback"]["options"] == ["no"]
    assert answers["anything_else"]["text"] is None

    # The exit word, in Urdu script with a direction mark, ends the chat at once.
    lines = cli.json_lines("simulate", "--case", ref, "--json", stdin="\u200fآم\n", now="2026-11-24T10:00:30Z")
    assert events(lines, "QuickExitUsed")


def test_a_survivor_switches_language_with_the_language_command(service: Cli) -> None:
    cli = service
    ref, code = enrol(cli, "+447700900203")
    lines = cli.json_lines("simulate", "--case", ref, "--json", stdin=f"{code}\n1\nLANGUAGE\n٣\nHELP\n")
    _, consent, listed, switched, consent_again, helped, consent_after_help = replies(lines)
    assert consent.startswith("Hi, it's Alex. Thanks for setting this up.")
    assert listed.startswith("Which language would you like?")
    assert switched == "ٹھیک ہے، اب سے ہم اردو میں لکھیں گے۔"
    assert consent_again.startswith("ہیلو، میں Alex ہوں۔")  # the open question, asked again in Urdu
    assert helped.startswith("اختیارات:")  # HELP now answers in Urdu
    assert consent_after_help == consent_again


def test_service_languages_refuses_unknown_and_default_removal_in_one_line(service: Cli) -> None:
    cli = service
    bad = cli.run("service", "languages", "--enable", "fr", ok=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "no catalog for language 'fr'" in bad.stderr
    cli.run("service", "languages", "--default", "cy")
    gone = cli.run("service", "languages", "--disable", "cy", ok=False)
    assert gone.returncode == 2 and "cy is the default language" in gone.stderr
    listing = cli.json_lines("service", "languages", "--json")[0]
    assert listing["default"] == "cy"
    enabled = [row["code"] for row in listing["languages"] if row["enabled"]]  # type: ignore[union-attr]
    assert enabled == ["cy", "en_GB", "ur"]
    ref, _ = enrol(cli, "+447700900204")  # a new case starts in the service's default
    [row] = [row for row in cli.json_lines("case", "list", "--json") if row["ref"] == ref]
    assert row["language"] == "cy"
    # A wrong code gets the very line an unknown sender gets, not a Welsh one that would reveal the case.
    wrong = cli.json_lines("simulate", "--case", ref, "--json", stdin="NOT-THE-CODE\n")
    assert replies(wrong) == ["Sorry, this number does not accept replies."]
    refused = cli.run("case", "enrol", "--idva", "1", "--address", "+447700900205", "--intake", "standard",
                      "--language", "pl", ok=False)
    assert refused.returncode == 2 and "language 'pl' is not enabled here" in refused.stderr



ENGLISH_ONLY = """
id = "own"
version = 1
start = "ok"

[[questions]]
id = "ok"
kind = "choice"
text = "Hi, it's {sender}.\\nAll OK today?"

  [[questions.options]]
  key = "yes"
  label = "Yes"

  [[questions.options]]
  key = "no"
  label = "Not really"
  signals = ["fear_little"]
"""

BILINGUAL = """
id = "own"
version = 1
start = "ok"

[[questions]]
id = "ok"
kind = "choice"

  [questions.text]
  en_GB = "Hi, it's {sender}.\\nAll OK today?"
  cy = "Helo, {sender} sydd yma.\\nPopeth yn iawn?"
  ur = "ہیلو، میں {sender} ہوں۔\\nسب ٹھیک ہے؟"

  [[questions.options]]
  key = "yes"
  label = "Yes"

  [[questions.options]]
  key = "no"
  label = { en_GB = "Not really", cy = "Ddim wir", ur = "زیادہ نہیں" }
  signals = ["fear_little"]
"""


def test_a_question_set_must_carry_every_enabled_language(service: Cli) -> None:
    cli = service
    (cli.folder / "own.toml").write_text(ENGLISH_ONLY, encoding="utf-8")
    refused = cli.run("service", "set", "--questionset", "own.toml", ok=False)
    assert refused.returncode == 2
    assert refused.stderr == (
        "safecheck: error: own.toml: question 'ok': no cy text: add text.cy to it or translate it in the catalogs\n"
    )
    (cli.folder / "own.toml").write_text(BILINGUAL, encoding="utf-8")
    assert cli.run("service", "set", "--questionset", "own.toml").stdout.strip() == "updated questionset"
    # With the set in place, enabling a language it lacks is refused the same way, and nothing changes.
    refused = cli.run("service", "languages", "--enable", "pl", ok=False)
    assert refused.returncode == 2 and "question set 'own': question 'ok': no pl text" in refused.stderr
    listing = cli.json_lines("service", "languages", "--json")[0]
    assert [r["code"] for r in listing["languages"] if r["enabled"]] == ["cy", "en_GB", "ur"]  # type: ignore[union-attr]
