"""British borrowers get British text: UK dates and wording, the referral to free debt
advice, letters marked private and confidential, and nothing US-only. A locale whose
country has installed rules never borrows another country's text."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from loancollect import registry
from loancollect.builtin.compliance import lint_catalog, template_jurisdictions, template_tags
from loancollect.builtin.templates import load_templates
from loancollect.errors import ConfigurationError
from loancollect.plugins import make_plugin_manager
from loancollect.templates import TemplateCatalog, TemplateKey, format_date, sample_context
from loancollect.testing import make_action

US_ONLY = re.compile(r"debt collector|attempt to collect|installment|Regulation F|FDCPA", re.I)
US_DATE = re.compile(
    r"\b(January|February|March|April|May|June|July|August|September|"
    r"October|November|December) \d{1,2}, \d{4}"
)


@pytest.fixture(scope="module")
def catalog() -> TemplateCatalog:
    return TemplateCatalog.from_plugins(make_plugin_manager(load_entrypoints=True))


def gb_specs() -> list:
    return [s for s in load_templates() if s.locale == "en_GB"]


def rendered_parts(catalog: TemplateCatalog, spec) -> list[str]:
    action = make_action(template=spec.name, channel=spec.channel, locale="en_GB")
    context = sample_context("en_GB", spec.channel)
    message = catalog.render(action, context)
    return [p for p in (message.text, message.subject, message.html) if p]


def test_every_en_gb_template_renders_uk_dates_and_no_us_only_text(catalog) -> None:
    specs = gb_specs()
    assert len(specs) == len([s for s in load_templates() if s.locale == "en_US"])
    for spec in specs:
        for part in rendered_parts(catalog, spec):
            assert not US_ONLY.search(part), (spec.channel, spec.name, US_ONLY.search(part))
            assert not US_DATE.search(part), (spec.channel, spec.name)
        text = rendered_parts(catalog, spec)[0]
        if "due_date_local" in spec.source:
            assert "15 March 2025" in text, (spec.channel, spec.name)


def test_every_en_gb_message_refers_to_free_debt_advice(catalog) -> None:
    for spec in gb_specs():
        text = rendered_parts(catalog, spec)[0]
        assert "moneyhelper.org.uk" in text, (spec.channel, spec.name)
        assert "debt_advice_referral" in template_tags(spec)
        assert "debt_collector_disclosure" not in template_tags(spec)
        assert "mini_miranda" not in template_tags(spec)


def test_en_gb_letters_are_private_and_confidential_with_one_date_format(catalog) -> None:
    for spec in gb_specs():
        if spec.channel != "letter":
            continue
        text = rendered_parts(catalog, spec)[0]
        assert text.startswith("PRIVATE AND CONFIDENTIAL")
        assert "Date: 27 March 2025" in text
        assert not re.search(r"\d{4}-\d{2}-\d{2}", text), spec.name  # no ISO date beside it


def test_en_gb_templates_are_written_for_the_uk_and_pass_every_uk_pack() -> None:
    pm = make_plugin_manager(load_entrypoints=True)
    packs = registry.rule_packs(pm).values()
    assert any("GB" in p.jurisdictions for p in packs)
    for spec in gb_specs():
        assert template_jurisdictions(spec) == {"GB"}
    lint_catalog(packs, load_templates())  # US packs do not judge texts written for GB


def test_a_covered_country_never_borrows_another_country_s_text() -> None:
    specs = [s for s in load_templates() if s.locale != "en_GB"]
    catalog = TemplateCatalog(specs, fallback_locale="en_US", jurisdictions=["GB", "US"])
    assert catalog.find("reminder", "sms", "en_GB") is None
    with pytest.raises(ConfigurationError, match=r"sms/reminder/en_GB \(en_US not used"):
        catalog.validate([TemplateKey("reminder", "sms", "en_GB")])
    with pytest.raises(ConfigurationError, match="missing template"):
        catalog.render(make_action(locale="en_GB"), sample_context("en_GB"))


def test_nor_does_another_country_borrow_a_covered_country_s_text() -> None:
    specs = [s for s in load_templates() if s.locale == "en_GB"]
    catalog = TemplateCatalog(specs, jurisdictions=["GB"])
    assert catalog.find("reminder", "sms", "en_AU") is None
    assert catalog.find("reminder", "sms", "en_GB") is not None


def test_countries_without_rules_may_share_a_text() -> None:
    specs = [s for s in load_templates() if s.locale == "en_GB"]
    relabelled = [type(s)(**{**_fields(s), "locale": "en_NZ"}) for s in specs]
    catalog = TemplateCatalog(relabelled, jurisdictions=["GB", "US"])
    found = catalog.find("reminder", "sms", "en_AU")
    assert found is not None
    assert found.locale == "en_NZ"


def _fields(spec) -> dict:
    import attrs

    return attrs.asdict(spec, recurse=False)


@pytest.mark.parametrize("day", [dt.date(2025, 1, 1), dt.date(2025, 6, 3), dt.date(2024, 12, 31)])
def test_british_dates_put_the_day_first(day: dt.date) -> None:
    assert format_date(day, "en_GB") == f"{day.day} {day:%B} {day.year}"
