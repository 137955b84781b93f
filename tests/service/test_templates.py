"""Message templates: sandboxed, strict, validated at start-up, complete in both locales."""

from __future__ import annotations

import datetime as dt

import pytest

from loancollect.builtin.templates import load_templates
from loancollect.domain.decision import decide
from loancollect.domain.defaults import DEFAULT_POLICY, DEFAULT_STRATEGY
from loancollect.domain.strategy import Tone
from loancollect.errors import ConfigurationError
from loancollect.plugins import make_plugin_manager
from loancollect.registry import TemplateSpec
from loancollect.templates import (
    CONTEXT_KEYS,
    TemplateCatalog,
    TemplateKey,
    format_date,
    message_context,
    required_keys,
    sample_context,
)
from loancollect.testing import make_action, make_case, make_lender, make_loan

SHIPPED = {
    "sms": {
        "pre_due_reminder",
        "overdue_notice",
        "reminder",
        "firm_reminder",
        "arrangement_confirmation",
    },
    "email": {"overdue_notice", "firm_reminder", "arrangement_confirmation"},
    "letter": {"reminder", "final_notice", "legal_warning"},
    "phone": {"reminder", "firm_reminder"},
    "visit": {"visit_notice", "door_script"},
}
LOCALES = ("zh_CN", "en_US", "en_GB")


def _catalog(*specs: TemplateSpec, **kwargs) -> TemplateCatalog:
    return TemplateCatalog(specs, **kwargs)


def _spec(source: str, **overrides) -> TemplateSpec:
    fields = {"name": "t", "channel": "sms", "locale": "en_US", "source": source}
    fields.update(overrides)
    return TemplateSpec(**fields)


@pytest.fixture(scope="module")
def catalog() -> TemplateCatalog:
    return TemplateCatalog.from_plugins(make_plugin_manager())


def test_every_shipped_template_exists_in_every_locale(catalog):
    have = {(s.channel, s.name, s.locale) for s in catalog.specs}
    want = {(c, n, loc) for c, names in SHIPPED.items() for n in names for loc in LOCALES}
    assert have == want


def test_email_templates_have_subject_and_html(catalog):
    for spec in catalog.specs:
        if spec.channel == "email":
            assert spec.subject
            assert spec.html
        if spec.channel in ("letter", "visit"):
            assert spec.subject


def test_the_shipped_templates_validate_for_the_default_strategy(catalog):
    catalog.validate(required_keys(DEFAULT_STRATEGY.actions, LOCALES))


@pytest.mark.parametrize("locale", LOCALES)
def test_real_messages_state_amount_due_date_and_how_to_pay(catalog, locale):
    loan = make_loan()
    as_of = dt.date(2025, 4, 20)
    decision = decide(
        loan=loan,
        payments=[],
        case=make_case(stage="current", stage_since=None),
        as_of=as_of,
        policy=DEFAULT_POLICY,
        strategy=DEFAULT_STRATEGY,
    )
    lender = make_lender()
    assessment = decision.assessment
    oldest = assessment.oldest_unpaid_due_date
    assert oldest is not None
    for spec in catalog.specs:
        if spec.locale != locale:
            continue
        action = make_action(
            channel=spec.channel, template=spec.name, locale=locale, stage=decision.stage
        )
        context = message_context(loan, assessment, action, lender)
        message = catalog.render(action, context)
        for part in (message.text, message.html):
            if part is None:
                continue
            assert assessment.amount_due.format() in part, spec
            assert format_date(oldest, locale) in part, spec
            assert lender.how_to_pay.replace("'", "&#39;") in part or lender.how_to_pay in part


def test_a_pre_due_reminder_asks_for_the_next_installment(catalog):
    loan = make_loan(borrower=make_loan().borrower)
    as_of = dt.date(2025, 2, 10)
    decision = decide(
        loan=loan,
        payments=[],
        case=make_case(stage="current", stage_since=None),
        as_of=as_of,
        policy=DEFAULT_POLICY,
        strategy=DEFAULT_STRATEGY,
    )
    action = make_action(template="pre_due_reminder", locale="en_US", as_of=as_of)
    context = message_context(loan, decision.assessment, action, make_lender())
    first = loan.installments[0]
    assert context["amount_due"] == first.total.format()
    assert context["due_date"] == first.due_date.isoformat()
    text = catalog.render(action, context).text
    assert "February 15, 2025" in text


def test_the_context_has_exactly_the_documented_keys():
    loan = make_loan()
    decision = decide(
        loan=loan,
        payments=[],
        case=make_case(stage="current", stage_since=None),
        as_of=dt.date(2025, 4, 20),
        policy=DEFAULT_POLICY,
        strategy=DEFAULT_STRATEGY,
    )
    context = message_context(loan, decision.assessment, make_action(), make_lender())
    assert tuple(context) == CONTEXT_KEYS
    assert tuple(sample_context("en_US")) == CONTEXT_KEYS
    assert context["amount_due"].startswith("¥")
    assert context["reference"] == "L-1"


def test_extra_variables_may_not_replace_standard_ones():
    loan = make_loan()
    decision = decide(
        loan=loan,
        payments=[],
        case=make_case(stage="current", stage_since=None),
        as_of=dt.date(2025, 4, 20),
        policy=DEFAULT_POLICY,
        strategy=DEFAULT_STRATEGY,
    )
    args = (loan, decision.assessment, make_action(), make_lender())
    assert message_context(*args, extra={"agent": "Li"})["agent"] == "Li"
    with pytest.raises(ConfigurationError, match="amount_due"):
        message_context(*args, extra={"amount_due": "0"})


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ amount_due.__class__.__init__.__globals__ }}",
        "{{ '{0.__class__}'.format(amount_due) }}",
    ],
)
def test_the_sandbox_blocks_python_internals(source):
    catalog = _catalog(_spec(source + " {{ amount_due }} {{ due_date }} {{ how_to_pay }}"))
    with pytest.raises(ConfigurationError):
        catalog.validate()


def test_a_missing_variable_is_a_configuration_error_at_validate_time():
    catalog = _catalog(_spec("{{ amount_due }} {{ due_date }} {{ how_to_pay }} {{ agent_name }}"))
    with pytest.raises(ConfigurationError, match=r"sms/t/en_US: undefined variable.*agent_name"):
        catalog.validate()
    catalog.validate(extra_sample={"agent_name": "Li"})


def test_a_missing_template_is_a_configuration_error_at_validate_time(catalog):
    with pytest.raises(ConfigurationError, match="missing template sms/overdue_notice/fr_FR"):
        catalog.validate([TemplateKey("overdue_notice", "sms", "fr_FR")])
    with pytest.raises(ConfigurationError, match="missing template"):
        catalog.render(make_action(locale="fr_FR"), sample_context("fr_FR"))


def test_a_fallback_locale_covers_a_missing_one():
    catalog = TemplateCatalog(load_templates(), fallback_locale="en_US")
    catalog.validate([TemplateKey("overdue_notice", "sms", "fr_FR")])
    message = catalog.render(make_action(locale="fr_FR"), sample_context("fr_FR"))
    assert message.locale == "en_US"


def test_a_locale_falls_back_to_another_of_its_language():
    # No rule pack installed (no jurisdictions given): nothing stops the fallback.
    catalog = TemplateCatalog(load_templates())  # no configured fallback
    message = catalog.render(make_action(locale="en_AU"), sample_context("en_AU"))
    assert message.locale == "en_GB"
    catalog.validate([TemplateKey("overdue_notice", "sms", "en_AU")])
    with pytest.raises(ConfigurationError, match="missing template"):
        catalog.render(make_action(locale="fr_FR"), sample_context("fr_FR"))


def test_a_message_that_omits_an_essential_is_refused():
    catalog = _catalog(_spec("Please pay {{ amount_due }}."))
    with pytest.raises(ConfigurationError) as info:
        catalog.validate()
    assert "does not state 'due_date'" in str(info.value)
    assert "does not state 'how_to_pay'" in str(info.value)
    catalog.validate(essentials=("amount_due",))


def test_a_syntax_error_names_the_template():
    with pytest.raises(ConfigurationError, match=r"sms/t/en_US: syntax error on line 1"):
        _catalog(_spec("{{ amount_due "))


def test_html_is_autoescaped_and_text_is_not():
    spec = _spec(
        "{{ how_to_pay }} {{ amount_due }} {{ due_date }}",
        channel="email",
        subject="Loan {{ reference }}",
        html="<p>{{ how_to_pay }} {{ amount_due }} {{ due_date }}</p>",
    )
    catalog = _catalog(spec)
    context = {**sample_context("en_US"), "how_to_pay": "<b>app</b>"}
    message = catalog.render(make_action(channel="email", template="t", locale="en_US"), context)
    assert "<b>app</b>" in message.text
    assert message.html is not None
    assert "&lt;b&gt;app&lt;/b&gt;" in message.html
    assert message.subject == "Loan LOAN-SAMPLE-0001"


def test_most_specific_variant_wins():
    base = _spec("BASE {{ amount_due }} {{ due_date }} {{ how_to_pay }}")
    firm = _spec("FIRM {{ amount_due }} {{ due_date }} {{ how_to_pay }}", tone=Tone.FIRM)
    catalog = _catalog(base, firm)
    context = sample_context("en_US")
    assert catalog.render(make_action(template="t", locale="en_US"), context).text[:4] == "BASE"
    firm_action = make_action(template="t", locale="en_US", tone=Tone.FIRM)
    assert catalog.render(firm_action, context).text[:4] == "FIRM"
    assert catalog.find("t", "sms", "en_US", tone=Tone.FIRM) == firm


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("zh_CN", "2025年3月5日"),
        ("en_US", "March 5, 2025"),
        ("en_GB", "5 March 2025"),
        ("de_DE", "2025-03-05"),
    ],
)
def test_dates_are_written_for_the_locale(locale, expected):
    assert format_date(dt.date(2025, 3, 5), locale) == expected


def test_shipped_wording_has_no_fees_or_threats(catalog):
    banned = ("collection fee", "催收费", "arrest", "逮捕", "jail", "坐牢", "police", "公安")
    for spec in catalog.specs:
        text = " ".join(filter(None, (spec.source, spec.subject, spec.html))).lower()
        for word in banned:
            assert word not in text, (spec.channel, spec.name, spec.locale, word)
