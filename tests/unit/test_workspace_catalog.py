"""locales/workspace.pot holds every workspace word a fresh extraction finds, so translators see them all."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.web import extract_words
from bot.web.extract_words import ROOT, TEMPLATE


def test_the_committed_template_is_current() -> None:
    assert extract_words.current(), "locales/workspace.pot is out of date: run python -m bot.web.extract_words"


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(
        ROOT / "bot" / "web", tmp_path / "bot" / "web", ignore=shutil.ignore_patterns("static", "__pycache__")
    )
    (tmp_path / "locales").mkdir()
    shutil.copy(ROOT / TEMPLATE, tmp_path / TEMPLATE)
    return tmp_path


def test_a_new_word_without_regenerating_is_caught(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    assert extract_words.current(root)
    page = root / "bot" / "web" / "new_page.py"
    page.write_text('from bot.web.words import _\n\n\ndef notice() -> str:\n    return _("A brand-new notice.")\n')
    assert not extract_words.current(root)
    assert extract_words.write(root).endswith("messages")
    assert extract_words.current(root)
    assert 'msgid "A brand-new notice."' in (root / TEMPLATE).read_text(encoding="utf-8")


def test_a_new_template_word_is_caught_too(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "bot" / "web" / "templates" / "new.html").write_text('<p>{{ _("A word only a template says") }}</p>\n')
    assert not extract_words.current(root)


def test_only_the_dates_may_differ(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    path = root / TEMPLATE
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "POT-Creation-Date: ", "POT-Creation-Date: 1999-01-01 00:00+0000 was "
        ),
        encoding="utf-8",
    )
    assert extract_words.current(root)
