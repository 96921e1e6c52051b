"""The en_GB catalog matches the sources, compiles, and keeps every message's first line discreet."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po
from babel.support import Translations

from flows import cover
from flows.discretion import first_line_problems
from flows.i18n_extract import LABEL_COMMENT, extract_questionset
from flows.loader import load_default
from locales import catalog

STANDARD = catalog.ROOT / "flows" / "questionsets" / "standard.toml"


def test_the_en_gb_catalog_is_complete_against_a_fresh_extraction() -> None:
    assert catalog.problems() == []


def test_every_message_passes_the_over_the_shoulder_test() -> None:
    fresh = catalog.extract()
    messages = [m for m in fresh if m.id and not catalog._only_a_label(m)]
    assert messages
    for message in messages:
        assert first_line_problems(str(message.id)) == [], message.id


def test_option_labels_are_the_only_msgids_spared_the_first_line_rule() -> None:
    spared = {m.id for m in catalog.extract() if m.id and catalog._only_a_label(m)}
    labels = {o.label for q in load_default().questions for o in q.options}
    labels |= {label.en for theme in cover.themes().values() for q in theme.labels.values() for label in q.values()}
    assert spared <= labels
    assert "Threats to kill" in spared  # shown after its question, never as a first line


def test_the_catalogs_compile_with_babel_without_errors(tmp_path: Path) -> None:
    stats, errors = catalog.compile_all(tmp_path)
    assert errors == []
    assert [line.split(":")[0] for line in stats] == ["ar", "cy", "en_GB", "pa", "pl", "ro", "ur"]
    translations = Translations.load(str(tmp_path), ["en_GB"], catalog.DOMAIN)
    assert isinstance(translations, Translations)  # a missing locale would give NullTranslations
    question = load_default().question("safe_now").text
    assert translations.gettext(question) == question  # an empty en_GB msgstr means "as written"
    welsh = Translations.load(str(tmp_path), ["cy"], catalog.DOMAIN)
    assert isinstance(welsh, Translations)
    assert welsh.gettext(question) == "Diolch. Y cyntaf:\nYdych chi'n ddiogel ar hyn o bryd?"


def test_the_extractor_finds_every_question_text_and_option_label() -> None:
    with STANDARD.open("rb") as fileobj:
        found = list(extract_questionset(fileobj, ["N_"], [], {}))
    msgids = [msgid for _, _, msgid, _ in found]
    qs = load_default()
    for question in qs.questions:
        assert question.text in msgids
        for option in question.options:
            assert option.label in msgids
    lines = STANDARD.read_text(encoding="utf-8").splitlines()
    for lineno, funcname, msgid, comments in found:
        assert funcname == ""
        assert lines[lineno - 1].lstrip().startswith(("text =", "label ="))
        assert msgid.splitlines()[0] in lines[lineno - 1]
        if lines[lineno - 1].lstrip().startswith("label"):
            assert comments[0].startswith(LABEL_COMMENT)


def test_the_extractor_names_a_file_with_broken_toml() -> None:
    fileobj = io.BytesIO(b"questions = [")
    fileobj.name = "broken.toml"
    with pytest.raises(ValueError, match=r"broken\.toml: TOML syntax error"):
        list(extract_questionset(fileobj, [], [], {}))


# ---- the check itself, on a small project of its own ----


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "babel.cfg").write_text("[python: app/**.py]\nkeywords = N_\n", encoding="utf-8")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "texts.py").write_text(
        'HELLO = N_("Hello {name}.\\nHow are things?")\nBYE = N_("Bye.")\n', encoding="utf-8"
    )
    (tmp_path / "locales").mkdir()
    catalog.write_template(tmp_path)
    catalog.update(tmp_path)
    return tmp_path


def edit_po(root: Path, change: str) -> None:
    path = catalog.po_path("en_GB", root)
    with path.open("rb") as fileobj:
        po = read_po(fileobj, locale="en_GB")
    if change == "fuzzy":
        po["Bye."].flags.add("fuzzy")
    elif change == "placeholder":
        po["Hello {name}.\nHow are things?"].string = "Hello {nom}.\nHow are things?"
    elif change == "obsolete":
        po.obsolete["Old."] = Message("Old.", "Old text")
    elif change == "missing":
        po.delete("Bye.")
    buffer = io.BytesIO()
    write_po(buffer, po)
    path.write_bytes(buffer.getvalue())


def test_a_fresh_project_catalog_has_no_problems(project: Path) -> None:
    assert catalog.problems(project) == []


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ("fuzzy", "'Bye.' is fuzzy"),
        ("placeholder", "msgstr placeholders ['nom'] differ"),
        ("obsolete", "obsolete msgid 'Old.'"),
        ("missing", "missing msgid 'Bye.'"),
    ],
)
def test_the_check_fails_one_line_per_problem(project: Path, change: str, fragment: str) -> None:
    edit_po(project, change)
    found = catalog.problems(project)
    assert len(found) == 1
    assert fragment in found[0]
    assert found[0].startswith("locales/en_GB/LC_MESSAGES/safecheck.po")


def test_the_check_fails_when_the_sources_gain_a_msgid(project: Path) -> None:
    with (project / "app" / "texts.py").open("a", encoding="utf-8") as source:
        source.write('NEW = N_("Brand new.")\n')
    found = catalog.problems(project)
    assert any("safecheck.pot is out of date" in line for line in found)
    assert any("missing msgid 'Brand new.'" in line for line in found)


def test_the_check_fails_when_a_first_line_gives_the_service_away(project: Path) -> None:
    with (project / "app" / "texts.py").open("a", encoding="utf-8") as source:
        source.write('BAD = N_("Your IDVA says hello")\n')
    catalog.write_template(project)
    catalog.update(project)
    assert catalog.problems(project) == [
        "app/texts.py: msgid 'Your IDVA says hello': first line contains 'idva', "
        "which a phone's notification preview shows"
    ]


def test_update_drops_en_gb_entries_that_left_the_sources_and_keeps_dates_still(project: Path) -> None:
    before = catalog.po_path("en_GB", project).read_bytes()
    assert catalog.update(project) == ["locales/en_GB/LC_MESSAGES/safecheck.po: unchanged"]
    assert catalog.po_path("en_GB", project).read_bytes() == before
    (project / "app" / "texts.py").write_text('BYE = N_("Bye.")\n', encoding="utf-8")
    catalog.write_template(project)
    catalog.update(project)
    assert catalog.problems(project) == []


def test_the_command_line_reports_problems_with_exit_status_one(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert catalog.main(["check"], root=project) == 0
    edit_po(project, "fuzzy")
    assert catalog.main(["check"], root=project) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "is fuzzy" in err[0]


# ---- a translated catalog: the same check, plus what only translations can get wrong ----


@pytest.fixture
def welsh(project: Path) -> Path:
    """The small project with a complete Welsh catalog."""
    catalog.init_locale("cy", project)
    path = catalog.po_path("cy", project)
    with path.open("rb") as fileobj:
        po = read_po(fileobj, locale="cy")
    po["Hello {name}.\nHow are things?"].string = "Helo {name}.\nSut mae pethau?"
    po["Bye."].string = "Hwyl."
    catalog._write(path, po)  # as the tool writes catalogs (no wrapping of the header's note)
    return project


def _read_po(path: Path) -> Catalog:
    with path.open("rb") as fileobj:
        return read_po(fileobj)


def set_plural_forms(path: Path, forms: str) -> None:
    """Put another Plural-Forms header in a catalog (the writer may wrap it over several lines)."""
    text = path.read_text(encoding="utf-8")
    changed = re.sub(r'"Plural-Forms:.*?\\n"\n', lambda _: f'"Plural-Forms: {forms}\\n"\n', text, count=1, flags=re.S)
    assert changed != text
    path.write_text(changed, encoding="utf-8")


def edit_welsh(root: Path, msgid: str, msgstr: str) -> None:
    path = catalog.po_path("cy", root)
    with path.open("rb") as fileobj:
        po = read_po(fileobj, locale="cy")
    po[msgid].string = msgstr
    catalog._write(path, po)


def test_init_writes_the_translator_and_the_review_note(welsh: Path) -> None:
    text = catalog.po_path("cy", welsh).read_text(encoding="utf-8")
    assert "NOT YET REVIEWED: a native speaker must review every message before live use." in text
    assert '"Last-Translator: Safecheck engineering (machine-assisted draft)\\n"' in text
    assert _read_po(catalog.po_path("cy", welsh)).plural_forms == get_plural("cy").plural_forms
    assert catalog.problems(welsh) == []


@pytest.mark.parametrize(
    ("msgid", "msgstr", "fragment"),
    [
        ("Bye.", "", "'Bye.' is not translated into cy"),
        ("Hello {name}.\nHow are things?", "Helo {enw}.\nSut mae?", "msgstr placeholders ['enw'] differ"),
        ("Hello {name}.\nHow are things?", "Helo %(name)s.\nSut mae?", "msgstr placeholders ['%(name)']"),
        ("Bye.", "Neges gan yr heddlu", "cy msgstr: first line contains 'heddlu'"),
        ("Bye.", "Ydych chi'n ddiogel?", "first line contains 'ddiogel'"),  # a mutated form
    ],
)
def test_the_check_catches_what_a_translation_gets_wrong(welsh: Path, msgid: str, msgstr: str, fragment: str) -> None:
    edit_welsh(welsh, msgid, msgstr)
    found = catalog.problems(welsh)
    assert len(found) == 1 and fragment in found[0], found
    assert found[0].startswith("locales/cy/LC_MESSAGES/safecheck.po")


def test_the_check_catches_a_wrong_plural_forms_header(welsh: Path) -> None:
    set_plural_forms(catalog.po_path("cy", welsh), "nplurals=2; plural=(n != 1);")
    found = catalog.problems(welsh)
    assert any("Plural-Forms has nplurals=2, but cy has 6" in line for line in found), found


def test_the_check_catches_plural_forms_that_map_numbers_to_the_wrong_form(welsh: Path) -> None:
    # Same number of forms, another rule: what Babel 2.18 wrote for Arabic before CLDR moved 11-99.
    set_plural_forms(catalog.po_path("cy", welsh), "nplurals=6; plural=(n==1 ? 1 : n==2 ? 2 : 0);")
    found = catalog.problems(welsh)
    assert any("Plural-Forms rule differs from cy's" in line for line in found), found


def test_init_refuses_an_existing_catalog(welsh: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert catalog.main(["init", "cy"], root=welsh) == 1
    assert "exists already" in capsys.readouterr().err


def test_compile_statistics_and_segments_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert catalog.main(["compile", "--statistics"]) == 0
    stats = capsys.readouterr().out.splitlines()
    for language in ("ar", "cy", "pa", "pl", "ro", "ur"):
        [line] = [line for line in stats if line.startswith(f"{language}: ")]
        assert " 0 fuzzy, 0 untranslated, " in line and line.endswith(" optional cover-theme texts untranslated"), line
    assert catalog.main(["segments"]) == 0
    table = capsys.readouterr().out
    assert table.startswith("| language | encoding |")
    assert "| ur اردو | UCS-2 |" in table and "| en_GB English | GSM-7 |" in table
