"""Every word the workspace shows goes through gettext (bot/web/words.py), so a catalogue can translate it.

A pseudo-locale wraps every translated message in ⟦…⟧; the main pages are then fetched over real HTTP
from a real SQLite file, and every visible text (and the labels a screen reader reads) must be inside ⟦…⟧,
except the data the test seeded (names, references, dates, numbers, the service's name).
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.web import words
from tests.conftest import World
from tests.integration.conftest import scalar
from tests.integration.test_escalation import raise_codeword
from tests.webtools import login, person, post_form, workspace

OPEN, CLOSE = "⟦", "⟧"


class Pseudo(gettext.NullTranslations):
    """A pseudo-locale: every message comes back wrapped, so an unwrapped word stands out."""

    def gettext(self, message: str) -> str:
        return f"{OPEN}{message}{CLOSE}"

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return f"{OPEN}{msgid1 if n == 1 else msgid2}{CLOSE}"


@pytest.fixture
def pseudo() -> Iterator[None]:
    saved = words.TRANSLATIONS
    words.TRANSLATIONS = Pseudo()
    try:
        yield
    finally:
        words.TRANSLATIONS = saved


# The data this test seeded, which no catalogue translates. Kept small on purpose.
SEEDED = (
    r"C-[A-Za-z0-9]+",  # case references
    r"S-\d+",  # share references
    r"\b(?:Test service|Test Survivor|Safecheck|Ida|Dan|Meg|Ivy|meg|ida)\b",
    r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d\b",
    r"\d\d (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d UTC",
    r"\bEurope/London\b",
    r"\((?:[a-z]{2}|en_GB)\)|\b(?:en_GB|simulator|inbox)\b",  # language codes, channel ids
    # Languages by their own names, as a speaker looks for them: never translated.
    r"العربية|Cymraeg|English|ਪੰਜਾਬੀ|Polski|Română|اردو",
    # Consent purposes and the wording's version, as recorded.
    r"\b(?:checkins|missed_alerts|2026-11-v1)\b",
    # The alert's reason: bot/alert_text.reason_words, the one wording every channel uses (not yet in gettext).
    r"\bcodeword\b",
)
_SEEDED = re.compile("|".join(SEEDED))
_WRAPPED = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
AUDIT_ACTION = re.compile(r"(<tr>\s*<td>[^<]*</td><td>[^<]*</td><td>)[^<]*(</td>)")
_LETTER = re.compile(r"[^\W\d_]")
# Read by a screen reader or shown by the browser, so they are words too.
_SPOKEN = ("aria-label", "title", "placeholder", "alt")
# Not words of the interface: a <time> shows a date, <code> a code as recorded (e.g. an audit action),
# a <textarea> the text being edited (e.g. a question set's TOML).
# An element marked translate="no" is data too (the HTML attribute that says so).
_DATA_TAGS = ("script", "style", "time", "code", "textarea")
_INLINE = ("a", "span", "strong", "em", "b", "i", "abbr", "small", "time", "code")


class _Texts(HTMLParser):
    """The page's texts, a block at a time: a message may hold an inline element (e.g. a <time>)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._block: list[str] = []
        self._hidden: list[str] = []

    def _flush(self) -> None:
        self.texts.append("".join(self._block))
        self._block = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if self._hidden or tag in _DATA_TAGS or named.get("translate") == "no":
            self._hidden.append(tag)
            return
        if tag not in _INLINE:
            self._flush()
        self.texts.extend(value for name, value in attrs if name in _SPOKEN and value)
        if tag == "input" and named.get("type") in ("submit", "button"):
            self.texts.append(named.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if self._hidden:
            if tag == self._hidden[-1]:
                self._hidden.pop()
            return
        if tag not in _INLINE:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._block.append(data)


def unwrapped(html: str) -> list[str]:
    """The visible texts with letters that are neither translated nor seeded data."""
    parser = _Texts()
    parser.feed(html)
    found = []
    for text in parser.texts:
        rest = text
        while (shorter := _WRAPPED.sub(" ", rest)) != rest:  # innermost first: a message may hold another
            rest = shorter
        rest = _SEEDED.sub(" ", rest)
        if _LETTER.search(rest):
            found.append(" ".join(text.split()))
    return found


async def _page(client: TestClient[web.Request, web.Application], path: str) -> str:
    resp = await client.get(path)
    assert resp.status == 200, (path, resp.status)
    return await resp.text()


async def test_every_word_on_the_main_pages_goes_through_gettext(world: World, pseudo: None) -> None:
    alert_id = await raise_codeword(world)
    ref = str(await scalar(world.app, "SELECT ref FROM cases ORDER BY id LIMIT 1"))
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    # Not /manage/reports or /manage/shares: their tables come from the report model (safety/report_tables.py
    # and the report builders), whose words are not in gettext yet.
    pages: dict[str, str] = {}
    async with workspace(world) as client:
        pages["/login"] = await _page(client, "/login")
        wrong = await post_form(client, "/login", {"login": "meg", "password": "not it"})
        pages["/login (wrong password)"] = await wrong.text()
        await login(client, world, meg)
        for path in (
            "/alerts",
            f"/alerts/{alert_id}",
            "/cases",
            f"/cases/{ref}",
            "/manage",
            "/manage/practitioners",
            "/manage/service",
            "/manage/rota",
            "/manage/questions",
            "/manage/partners",
            "/manage/overrides",
            "/manage/purges",
            "/account",
            "/audit",
        ):
            pages[path] = await _page(client, path)
    async with workspace(world) as client:
        await login(client, world, ida)
        for path in ("/cases/new", f"/cases/{ref}", f"/cases/{ref}/dash", f"/cases/{ref}/marac"):
            pages[f"{path} (idva)"] = await _page(client, path)
        bad = await post_form(
            client,
            "/cases/new",
            {
                "idva": "x",
                "channel": "nowhere",
                "address": "not a number",
                "intake": "x",
                "language": "xx",
                "timezone": "Nowhere/Nope",
                "windows": "zz",
                "autodelete": "x",
            },
        )
        pages["/cases/new (with errors)"] = await bad.text()
    # The log's action codes are shown as recorded (the log's own vocabulary, not words to translate).
    pages["/audit"] = AUDIT_ACTION.sub(r"\1\2", pages["/audit"])
    missed = {path: texts for path, html in pages.items() if (texts := unwrapped(html))}
    assert missed == {}, "\n".join(f"{path}: {texts}" for path, texts in missed.items())


def test_the_check_finds_an_unwrapped_word() -> None:
    html = (
        "<p>⟦Hello⟧ C-AB12</p><p title='Hi'>⟦⟦Case⟧ 3⟧</p><p>⟦set on <time>Mon 23 Nov 2026 09:00</time>⟧</p>"
        "<select><option translate='no'>case_viewed</option><option>Any</option></select><p>Tue 24</p>"
    )
    assert unwrapped(html) == ["Hi", "Any", "Tue 24"]
