"""One organisation's folder: it changes what a person reads, and the check holds it to its country.

The two shipped examples (an NHS trust, a Swedish region) must pass
`companion content check` and really change the words: otherwise an
operator copying them would find their name, controller and crisis
services missing only when a person reads the screen.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.checks import check_folder
from bot.cli import app
from bot.content import DEFAULT_CONTENT_DIR, load_catalog, read_documents
from bot.organisation import read_organisation
from bot.services.notice import description, privacy_notice
from bot.settings import Settings
from flows.catalog import Catalog
from flows.crisis.check import check_crisis

EXAMPLES = Path(__file__).parent.parent / "deploy" / "organisations"
NHS = EXAMPLES / "example-nhs-trust"
REGION = EXAMPLES / "example-swedish-region"


def _card(catalog: Catalog, language: str) -> str:
    card = catalog.extra[f"crisis/{language}.yaml"]["card"]
    assert isinstance(card, str)
    return card


@pytest.mark.parametrize("folder", [NHS, REGION], ids=["nhs-trust", "swedish-region"])
def test_each_example_passes_the_content_check(folder: Path) -> None:
    assert [str(problem) for problem in check_folder(DEFAULT_CONTENT_DIR, folder)] == []


@pytest.mark.parametrize("folder", [NHS, REGION], ids=["nhs-trust", "swedish-region"])
def test_each_example_changes_what_a_person_reads(folder: Path) -> None:
    shipped = load_catalog(DEFAULT_CONTENT_DIR)
    theirs = load_catalog(DEFAULT_CONTENT_DIR, folder)
    organisation = read_organisation(folder)
    assert organisation.local_services is not None
    for language in ("en", "sv"):
        notice = privacy_notice(theirs.ui, language)
        assert organisation.data_controller[language] in notice[1]
        assert organisation.lawful_basis[language] in notice[1]
        assert organisation.retention[language] in notice[2]
        assert notice != privacy_notice(shipped.ui, language)
        assert description(theirs.ui, language) != description(shipped.ui, language)
        # Local services come first: after the opening words, before any national number.
        card = _card(theirs, language)
        local = organisation.local_services[language]
        assert local in card and local not in _card(shipped, language)
        assert card.index(local) < min(card.index(number) for number in ("112", "999") if number in card)


def test_a_region_can_leave_out_the_other_countrys_numbers() -> None:
    card = _card(load_catalog(DEFAULT_CONTENT_DIR, REGION), "sv")
    assert "999" not in card and "116 123" not in card
    assert all(number in card for number in ("112", "1177", "90101"))


def test_the_country_decides_which_numbers_the_card_must_give(tmp_path: Path) -> None:
    folder = tmp_path / "region"
    shutil.copytree(REGION, folder)
    settings = folder / "organisation.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("country: SE", "country: GB"), encoding="utf-8")
    problems = [str(problem) for problem in check_folder(DEFAULT_CONTENT_DIR, folder)]
    assert any("the card must give the number 999" in problem for problem in problems), problems
    assert not any("number 112" in problem for problem in problems), problems


def test_without_an_organisation_every_number_of_both_countries_is_required() -> None:
    documents = read_documents(DEFAULT_CONTENT_DIR)
    swedish = read_documents(REGION / "content", require_flows=False).extra["crisis/sv.yaml"]
    documents.extra["crisis/sv.yaml"] = {**documents.extra["crisis/sv.yaml"], **swedish}
    problems = [str(problem) for problem in check_crisis(Catalog.build(documents))]
    assert any("crisis/sv.yaml" in problem and "number 999" in problem for problem in problems), problems


def test_a_wrong_organisation_file_is_one_plain_problem(tmp_path: Path) -> None:
    (tmp_path / "organisation.yaml").write_text("name: {en: Example}\ncountry: NO\n", encoding="utf-8")
    problems = [str(problem) for problem in check_folder(DEFAULT_CONTENT_DIR, tmp_path)]
    assert len(problems) == 1 and "organisation.yaml" in problems[0], problems
    empty = tmp_path / "empty"
    empty.mkdir()
    assert any("cannot be read" in str(problem) for problem in check_folder(DEFAULT_CONTENT_DIR, empty))


def test_an_organisation_text_is_checked_like_every_other(tmp_path: Path) -> None:
    folder = tmp_path / "trust"
    shutil.copytree(NHS, folder)
    settings = folder / "organisation.yaml"
    hard = "Processing is undertaken pursuant to Article 6(1)(e) and Article 9(2)(h) of the UK General Data Protection Regulation notwithstanding."
    text = settings.read_text(encoding="utf-8")
    settings.write_text(
        text.replace(
            '"the Trust\'s public task of giving health care. Your answers are health data, kept for your care."',
            f'"{hard}"',
        ),
        encoding="utf-8",
    )
    assert hard in settings.read_text(encoding="utf-8")
    assert check_folder(DEFAULT_CONTENT_DIR, folder) != []


def test_the_organisation_fills_the_settings_the_environment_left(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("COMPANION_DEFAULT_LANGUAGE", "COMPANION_DEFAULT_TIMEZONE", "COMPANION_FHIR_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COMPANION_ORG_DIR", str(REGION))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.default_language, settings.default_timezone) == ("sv", "Europe/Stockholm")
    assert settings.fhir_base_url == "https://fhir.exempel.regionen.se"
    monkeypatch.setenv("COMPANION_DEFAULT_LANGUAGE", "en")
    assert Settings(_env_file=None).default_language == "en"  # type: ignore[call-arg]


def test_org_option_of_the_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COMPANION_ORG_DIR", str(NHS))  # so that the end of the test takes it away again
    monkeypatch.delenv("COMPANION_ORG_DIR")
    done = CliRunner().invoke(app, ["--org", str(REGION), "content", "check"])
    assert done.exit_code == 0, done.output
    assert os.environ["COMPANION_ORG_DIR"] == str(REGION.resolve())
    monkeypatch.delenv("COMPANION_ORG_DIR")
    broken = tmp_path / "broken"
    shutil.copytree(REGION, broken)
    (broken / "organisation.yaml").write_text("country: SE\n", encoding="utf-8")
    failed = CliRunner().invoke(app, ["--org", str(broken), "content", "check"])
    assert failed.exit_code == 1 and "organisation.yaml" in failed.output
    missing = CliRunner().invoke(app, ["--org", str(tmp_path / "nowhere"), "content", "check"])
    assert missing.exit_code == 2
