"""Message templates: a catalog of sandboxed Jinja2 templates, validated at start-up.

Templates come from the ``loancollect_register_templates`` hook as
:class:`~loancollect.registry.TemplateSpec` records. A :class:`TemplateCatalog`
compiles them in Jinja2's immutable sandbox with ``StrictUndefined``, so a
template can neither reach Python internals (``{{ ''.__class__ }}``) nor use a
variable the engine does not supply. HTML parts are autoescaped.

:meth:`TemplateCatalog.validate` is meant for start-up: it checks that every
template the strategy needs exists and renders every template with a sample
context, so a missing template or an undefined variable is a
:class:`~loancollect.errors.ConfigurationError` before the first message, not
at send time. It also checks that each message states the amount due, the due
date and how to pay.

The variables a template may use are :data:`CONTEXT_KEYS`, built by
:func:`message_context`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import jinja2
import pluggy
from jinja2.sandbox import ImmutableSandboxedEnvironment

from loancollect.domain.errors import ConfigurationError
from loancollect.domain.loans import Loan
from loancollect.domain.money import Money
from loancollect.domain.overdue import Assessment, InstallmentStatus
from loancollect.domain.strategy import ActionRule, PlannedAction, Tone
from loancollect.ports import RenderedMessage, Statement, StatementLine
from loancollect.registry import TemplateSpec, rule_packs, template_specs

__all__ = [
    "CONTEXT_KEYS",
    "ESSENTIALS",
    "LenderInfo",
    "TemplateCatalog",
    "TemplateKey",
    "format_date",
    "message_context",
    "required_keys",
    "sample_context",
    "statement_of_account",
]

CONTEXT_KEYS: tuple[str, ...] = (
    "borrower_name",
    "loan_id",
    "reference",
    "currency",
    "amount_due",
    "overdue_amount",
    "penalty",
    "payoff_amount",
    "due_date",
    "due_date_local",
    "dpd",
    "as_of",
    "as_of_local",
    "lender_name",
    "lender_phone",
    "lender_address",
    "lender_licence",
    "how_to_pay",
    "stage",
    "channel",
    "locale",
    "tone",
)
"""Every variable :func:`message_context` supplies to templates."""

ESSENTIALS: tuple[str, ...] = ("amount_due", "due_date", "how_to_pay")
"""What every message must state; ``due_date`` is satisfied by ``due_date_local`` too."""


@attrs.frozen(kw_only=True)
class LenderInfo:
    """Who the messages come from and how to pay them.

    :param name: the lender's name as the borrower knows it.
    :param phone: a number the borrower can call.
    :param how_to_pay: one sentence on how to pay (account, app, counter), quoting
        the loan reference where that matters.
    :param address: postal address, for letters.
    :param licence: the lender's licence or regulator line (``Authorised and regulated
        by ...``), for the templates that print it.
    """

    name: str
    phone: str
    how_to_pay: str
    address: str = ""
    licence: str = ""


@attrs.frozen
class TemplateKey:
    """What a strategy needs: a template ``name`` for a ``channel`` in a ``locale``."""

    name: str
    channel: str
    locale: str

    def __str__(self) -> str:
        return f"{self.channel}/{self.name}/{self.locale}"


def required_keys(rules: Iterable[ActionRule], locales: Iterable[str]) -> set[TemplateKey]:
    """The templates a strategy's action rules need in ``locales``.

    Each rule needs its template for its channel and for every fallback channel.
    """
    wanted = tuple(locales)
    return {
        TemplateKey(rule.template, channel, locale)
        for rule in rules
        for channel in (rule.channel, *rule.fallbacks)
        for locale in wanted
    }


_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def format_date(day: dt.date, locale: str) -> str:
    """``day`` written for ``locale``.

    ``2025年3月15日`` (Chinese), ``March 15, 2025`` (US English), ``15 March 2025``
    (every other English: British, Irish, Australian …), else ISO.
    """
    if locale.startswith("zh"):
        return f"{day.year}年{day.month}月{day.day}日"
    if locale == "en_US":
        return f"{_MONTHS_EN[day.month - 1]} {day.day}, {day.year}"
    if locale.startswith("en"):
        return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"
    return day.isoformat()


def _amount_and_date(assessment: Assessment) -> tuple[Money, dt.date]:
    """What the message asks for, and by when.

    Overdue or due today: what brings the loan current, and the oldest unpaid due
    date. Otherwise (a reminder before the due date): the next installment's
    outstanding amount and its due date.
    """
    due = assessment.amount_due
    if due.is_positive() or assessment.next_due_date is None:
        day = assessment.oldest_unpaid_due_date or assessment.next_due_date or assessment.as_of
        return due, day
    upcoming = next(
        (s for s in assessment.installments if s.due_date == assessment.next_due_date), None
    )
    amount = upcoming.total if upcoming is not None else due
    return amount, assessment.next_due_date


def message_context(
    loan: Loan,
    assessment: Assessment,
    action: PlannedAction,
    lender: LenderInfo,
    extra: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """The template variables for ``action`` on ``loan`` (see :data:`CONTEXT_KEYS`).

    Amounts are formatted with :meth:`Money.format` (``¥1,234.56``); ``due_date``
    and ``as_of`` are ISO, ``due_date_local`` and ``as_of_local`` written for the
    action's locale (:func:`format_date`). ``penalty`` is
    penalty and compound interest together. ``extra`` adds variables (arrangement
    details, agent name); it may not replace the standard ones.
    """
    amount, day = _amount_and_date(assessment)
    context: dict[str, Any] = {
        "borrower_name": loan.borrower.name,
        "loan_id": loan.id,
        "reference": loan.id,
        "currency": loan.currency,
        "amount_due": amount.format(),
        "overdue_amount": assessment.overdue_amount.format(),
        "penalty": (assessment.penalty + assessment.compound_interest).format(),
        "payoff_amount": assessment.payoff_amount.format(),
        "due_date": day.isoformat(),
        "due_date_local": format_date(day, action.locale),
        "dpd": assessment.dpd,
        "as_of": assessment.as_of.isoformat(),
        "as_of_local": format_date(assessment.as_of, action.locale),
        "lender_name": lender.name,
        "lender_phone": lender.phone,
        "lender_address": lender.address,
        "lender_licence": lender.licence,
        "how_to_pay": lender.how_to_pay,
        "stage": action.stage,
        "channel": action.channel,
        "locale": action.locale,
        "tone": action.tone.value,
    }
    for key, value in (extra or {}).items():
        if key in context:
            raise ConfigurationError(
                f"extra template variable {key!r} would replace a standard one"
            )
        context[key] = value
    return context


_ARREARS = (InstallmentStatus.OVERDUE, InstallmentStatus.PARTLY_PAID, InstallmentStatus.DUE_TODAY)


def statement_of_account(loan: Loan, assessment: Assessment, lender: LenderInfo) -> Statement:
    """The statement of account for ``loan`` on ``assessment.as_of``.

    Lists the installments past due or due today that are not paid, with the
    totals and the amount and date a message asks for (the same values as
    :func:`message_context`), the lender's details and how to pay.
    """
    amount, day = _amount_and_date(assessment)
    lines = tuple(
        StatementLine(
            number=s.number,
            due_date=s.due_date,
            status=s.status.value,
            principal=s.principal.format(),
            interest=s.interest.format(),
            fees=s.fees.format(),
            penalty=(s.penalty + s.compound).format(),
            paid=s.paid.format(),
            outstanding=s.total.format(),
        )
        for s in assessment.installments
        if s.status in _ARREARS
    )
    return Statement(
        reference=loan.id,
        as_of=assessment.as_of,
        currency=loan.currency,
        lines=lines,
        overdue_amount=assessment.overdue_amount.format(),
        penalty=(assessment.penalty + assessment.compound_interest).format(),
        amount_due=amount.format(),
        payoff_amount=assessment.payoff_amount.format(),
        due_date=day,
        dpd=assessment.dpd,
        how_to_pay=lender.how_to_pay,
        lender_name=lender.name,
        lender_phone=lender.phone,
        lender_address=lender.address,
        borrower_name=loan.borrower.name,
    )


def _country(locale: str) -> str:
    """The country of a locale: ``GB`` for ``en_GB`` (``""`` for a bare language)."""
    return locale.partition("_")[2].split(".", 1)[0].split("@", 1)[0].upper()


def sample_context(locale: str, channel: str = "sms", stage: str = "early") -> dict[str, Any]:
    """A context with every standard variable, for validation and previews."""
    day = dt.date(2025, 3, 15)
    zh = locale.startswith("zh")
    return {
        "borrower_name": "张伟" if zh else "Alex Sample",
        "loan_id": "LOAN-SAMPLE-0001",
        "reference": "LOAN-SAMPLE-0001",
        "currency": "CNY",
        "amount_due": "¥1,234.56",
        "overdue_amount": "¥1,200.00",
        "penalty": "¥34.56",
        "payoff_amount": "¥9,876.54",
        "due_date": day.isoformat(),
        "due_date_local": format_date(day, locale),
        "dpd": 12,
        "as_of": "2025-03-27",
        "as_of_local": format_date(dt.date(2025, 3, 27), locale),
        "lender_name": "示例银行" if zh else "Sample Bank",
        "lender_phone": "400-000-0000",
        "lender_address": "上海市示例路1号" if zh else "1 Sample Road, Shanghai",
        "lender_licence": "LICENCE-SAMPLE",
        "how_to_pay": "HOW-TO-PAY-SAMPLE",
        "stage": stage,
        "channel": channel,
        "locale": locale,
        "tone": "reminder",
    }


@attrs.frozen
class _Compiled:
    spec: TemplateSpec
    text: jinja2.Template
    subject: jinja2.Template | None
    html: jinja2.Template | None


_OTHER_TEMPLATES: tuple[tuple[type[jinja2.nodes.Node], str], ...] = (
    (jinja2.nodes.Extends, "extends"),
    (jinja2.nodes.Include, "include"),
    (jinja2.nodes.Import, "import"),
    (jinja2.nodes.FromImport, "from ... import"),
)


def _refuse_other_templates(
    spec: TemplateSpec, part: str, source: str, env: jinja2.Environment
) -> None:
    """Refuse ``{% extends %}``, ``{% include %}`` and ``{% import %}``.

    A message template stands alone: the sandbox has no loader, so these could
    only fail at send time (or, with a loader, read other files). They are
    refused when the catalog is built.
    """
    if not isinstance(source, str):
        raise ConfigurationError(
            f"template {_label(spec)}: the {part} part must be text, got {type(source).__name__}"
        )
    if "\x00" in source:
        raise ConfigurationError(f"template {_label(spec)}: the {part} part contains a NUL byte")
    try:
        tree = env.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigurationError(
            f"template {_label(spec)}: syntax error on line {exc.lineno}: {exc.message}"
        ) from exc
    for node_type, tag in _OTHER_TEMPLATES:
        for node in tree.find_all(node_type):
            raise ConfigurationError(
                f"template {_label(spec)}: {{% {tag} %}} on line {node.lineno} of the {part} "
                "part is not allowed: a message template stands alone (no extends, include "
                "or import)"
            )


def _label(spec: TemplateSpec) -> str:
    label = f"{spec.channel}/{spec.name}/{spec.locale}"
    if spec.stage is not None:
        label += f" (stage {spec.stage})"
    if spec.tone is not None:
        label += f" (tone {spec.tone.value})"
    return label


class TemplateCatalog:
    """Compiled templates, looked up by name, channel, locale, stage and tone.

    :param specs: the registered templates (duplicates are refused by
        :func:`loancollect.registry.collect`; here a later one would win).
    :param fallback_locale: used when neither the borrower's locale nor another
        locale of the same language has the template (``None``: no further
        fallback, a missing template is an error).
    :param jurisdictions: the countries (ISO 3166 alpha-2) whose rules are installed,
        e.g. ``{"CN", "GB", "US"}``. A locale's country (``GB`` in ``en_GB``) in this
        set has its own required content (the UK's free-debt-advice referral, the US
        debt-collector disclosure), so its templates never fall back to another
        country's locale, nor another country's to it: ``en_GB`` does not borrow the
        ``en_US`` text, and a missing ``en_GB`` template is a missing template.
    :raises ConfigurationError: if a template does not compile.
    """

    def __init__(
        self,
        specs: Iterable[TemplateSpec],
        *,
        fallback_locale: str | None = None,
        jurisdictions: Iterable[str] = (),
    ):
        self.fallback_locale = fallback_locale
        self.jurisdictions = frozenset(j.split("-", 1)[0].upper() for j in jurisdictions)
        self._text_env = ImmutableSandboxedEnvironment(
            undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False
        )
        self._html_env = ImmutableSandboxedEnvironment(
            undefined=jinja2.StrictUndefined, autoescape=True
        )
        self._templates: dict[tuple[str, str, str, str | None, Tone | None], _Compiled] = {}
        for spec in specs:
            self._templates[spec.key] = self._compile(spec)
        languages: dict[str, set[str]] = {}
        for key in self._templates:
            languages.setdefault(key[2].split("_", 1)[0], set()).add(key[2])
        self._languages = {lang: tuple(sorted(locs)) for lang, locs in languages.items()}

    @classmethod
    def from_plugins(
        cls, pm: pluggy.PluginManager, *, fallback_locale: str | None = None
    ) -> TemplateCatalog:
        """A catalog of every template registered through the plug-in manager.

        The jurisdictions of the registered rule packs keep each covered country's
        templates to itself (see the ``jurisdictions`` parameter).
        """
        covered = [j for pack in rule_packs(pm).values() for j in pack.jurisdictions]
        return cls(template_specs(pm), fallback_locale=fallback_locale, jurisdictions=covered)

    def may_fall_back(self, locale: str, other: str) -> bool:
        """Whether a template of ``other`` may stand in for one of ``locale``.

        Always within one country; across countries only when neither country has
        installed rules (and so neither has required content of its own).
        """
        mine, theirs = _country(locale), _country(other)
        if mine == theirs:
            return True
        return mine not in self.jurisdictions and theirs not in self.jurisdictions

    def _compile(self, spec: TemplateSpec) -> _Compiled:
        for part, source, env in (
            ("text", spec.source, self._text_env),
            ("subject", spec.subject, self._text_env),
            ("html", spec.html, self._html_env),
        ):
            if source is not None:
                _refuse_other_templates(spec, part, source, env)
        try:
            return _Compiled(
                spec,
                self._text_env.from_string(spec.source),
                None if spec.subject is None else self._text_env.from_string(spec.subject),
                None if spec.html is None else self._html_env.from_string(spec.html),
            )
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigurationError(
                f"template {_label(spec)}: syntax error on line {exc.lineno}: {exc.message}"
            ) from exc

    @property
    def specs(self) -> tuple[TemplateSpec, ...]:
        """Every template in the catalog."""
        return tuple(c.spec for c in self._templates.values())

    def _find(
        self, name: str, channel: str, locale: str, stage: str | None, tone: Tone | None
    ) -> _Compiled | None:
        # The borrower's locale, then another of the same language (en_GB -> en_US),
        # then the configured fallback.
        language = locale.split("_", 1)[0]
        locales = [locale, *(x for x in self._languages.get(language, ()) if x != locale)]
        if self.fallback_locale is not None and self.fallback_locale not in locales:
            locales.append(self.fallback_locale)
        for loc in locales:
            if not self.may_fall_back(locale, loc):
                continue
            for st, tn in ((stage, tone), (stage, None), (None, tone), (None, None)):
                found = self._templates.get((name, channel, loc, st, tn))
                if found is not None:
                    return found
        return None

    def find(
        self,
        name: str,
        channel: str,
        locale: str,
        *,
        stage: str | None = None,
        tone: Tone | None = None,
    ) -> TemplateSpec | None:
        """The most specific template for the key, or ``None``.

        Order: exact stage and tone, stage only, tone only, neither; in the locale,
        then in other locales of the same language, then in the fallback locale; a
        locale of another country only as :meth:`may_fall_back` allows.
        """
        found = self._find(name, channel, locale, stage, tone)
        return None if found is None else found.spec

    def validate(
        self,
        required: Iterable[TemplateKey] = (),
        *,
        essentials: Iterable[str] = ESSENTIALS,
        extra_sample: Mapping[str, object] | None = None,
    ) -> None:
        """Check the catalog at start-up.

        - every key in ``required`` has a template (see :func:`required_keys`);
        - every template renders with :func:`sample_context` (plus ``extra_sample``
          for host-specific variables) without an undefined variable or a
          sandbox violation;
        - every rendered text (and HTML part) states each of ``essentials``.

        All problems are reported together.

        :raises ConfigurationError: listing every problem found.
        """
        problems: list[str] = []
        for key in sorted(required, key=str):
            if self._find(key.name, key.channel, key.locale, None, None) is None:
                problems.append(f"missing template {key}" + self._why_not_borrowed(key))
        wanted = tuple(essentials)
        for compiled in self._templates.values():
            spec = compiled.spec
            context = sample_context(spec.locale, spec.channel, spec.stage or "early")
            context.update(extra_sample or {})
            try:
                parts = self._render_parts(compiled, context)
            except ConfigurationError as exc:
                problems.append(str(exc))
                continue
            for part_name, text in parts.items():
                if part_name == "subject" or text is None:
                    continue
                for essential in wanted:
                    values = [str(context[essential])]
                    if essential == "due_date":
                        values.append(str(context["due_date_local"]))
                    if not any(v in text for v in values):
                        problems.append(
                            f"template {_label(spec)}: the {part_name} part does not state "
                            f"{essential!r}"
                        )
        if problems:
            raise ConfigurationError(
                "message templates are not usable:\n  " + "\n  ".join(problems)
            )

    def _why_not_borrowed(self, key: TemplateKey) -> str:
        """Why another country's template of the same name was not used, if one exists."""
        language = key.locale.split("_", 1)[0]
        refused = sorted(
            {
                loc
                for (name, channel, loc, _, _) in self._templates
                if (name, channel) == (key.name, key.channel)
                and (loc.split("_", 1)[0] == language or loc == self.fallback_locale)
                and not self.may_fall_back(key.locale, loc)
            }
        )
        if not refused:
            return ""
        return (
            f" ({', '.join(refused)} not used: another country's required content; "
            f"add the {key.locale} template)"
        )

    def _render_parts(
        self, compiled: _Compiled, context: Mapping[str, object]
    ) -> dict[str, str | None]:
        try:
            return {
                "text": compiled.text.render(context).strip(),
                "subject": None
                if compiled.subject is None
                else " ".join(compiled.subject.render(context).split()),
                "html": None if compiled.html is None else compiled.html.render(context),
            }
        except jinja2.UndefinedError as exc:
            raise ConfigurationError(
                f"template {_label(compiled.spec)}: undefined variable: {exc.message}"
            ) from exc
        except jinja2.exceptions.SecurityError as exc:
            raise ConfigurationError(
                f"template {_label(compiled.spec)}: not allowed in the sandbox: {exc}"
            ) from exc
        except jinja2.TemplateError as exc:
            raise ConfigurationError(f"template {_label(compiled.spec)}: {exc}") from exc
        except (ArithmeticError, LookupError, TypeError, ValueError) as exc:
            # e.g. {{ 1 / 0 }} or {{ "%d" % "x" }}: the template's own fault
            raise ConfigurationError(
                f"template {_label(compiled.spec)}: {type(exc).__name__}: {exc}"
            ) from exc

    def render(self, action: PlannedAction, context: Mapping[str, object]) -> RenderedMessage:
        """Render the template of ``action`` with ``context`` (see :func:`message_context`).

        :raises ConfigurationError: for a missing template or undefined variable
            (which :meth:`validate` reports at start-up).
        """
        compiled = self._find(
            action.template, action.channel, action.locale, action.stage, action.tone
        )
        if compiled is None:
            key = TemplateKey(action.template, action.channel, action.locale)
            raise ConfigurationError(f"missing template {key}")
        parts = self._render_parts(compiled, context)
        text = parts["text"] or ""
        return RenderedMessage(
            template=action.template,
            channel=action.channel,
            locale=compiled.spec.locale,
            text=text,
            subject=parts["subject"],
            html=parts["html"],
        )

    def __len__(self) -> int:
        return len(self._templates)

    def __repr__(self) -> str:
        return f"TemplateCatalog({len(self._templates)} templates)"
