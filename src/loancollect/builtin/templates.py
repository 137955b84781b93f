"""The shipped message templates (zh_CN, en_US and en_GB) for the default policy.

Files live in ``message_templates/<locale>/<channel>/``: ``<name>.txt`` is the
text body, ``<name>.subject.txt`` the subject (e-mail, letters, visit notices)
and ``<name>.html`` the HTML body (e-mail). Every message states the amount due,
the due date and how to pay; none mentions collection fees or threatens.

``en_GB`` is written for the UK's rules: British dates (``15 March 2025``) and
spelling, letters marked private and confidential, a referral to free debt advice
(MoneyHelper, a freephone number), and none of the US debt-collector disclosure. Its
templates declare ``{# jurisdictions: GB #}``, and no other country's template stands
in for a missing one (see :class:`~loancollect.templates.TemplateCatalog`).

================  ===============================================================
channel           templates
================  ===============================================================
sms               pre_due_reminder, overdue_notice, reminder, firm_reminder,
                  arrangement_confirmation
email             overdue_notice, firm_reminder, arrangement_confirmation
letter            reminder, final_notice, legal_warning
phone             reminder, firm_reminder (agent call scripts)
visit             visit_notice, door_script (the field agent's script)
================  ===============================================================
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

from loancollect.hookspecs import hookimpl
from loancollect.registry import TemplateSpec

__all__ = ["LOCALES", "TEMPLATE_PACKAGE", "load_templates", "loancollect_register_templates"]

TEMPLATE_PACKAGE = "loancollect.builtin"
LOCALES: tuple[str, ...] = ("en_GB", "en_US", "zh_CN")

_SUBJECT = ".subject.txt"


def _read(directory: Traversable, filename: str) -> str | None:
    item = directory / filename
    return item.read_text(encoding="utf-8") if item.is_file() else None


def load_templates(root: Traversable | None = None) -> list[TemplateSpec]:
    """Read every shipped template from ``root`` (default: the package's own files)."""
    base = root if root is not None else resources.files(TEMPLATE_PACKAGE) / "message_templates"
    specs = []
    for locale_dir in sorted(base.iterdir(), key=lambda t: t.name):
        if not locale_dir.is_dir():
            continue
        for channel_dir in sorted(locale_dir.iterdir(), key=lambda t: t.name):
            if not channel_dir.is_dir():
                continue
            for item in sorted(channel_dir.iterdir(), key=lambda t: t.name):
                name = item.name
                if not name.endswith(".txt") or name.endswith(_SUBJECT):
                    continue
                stem = name.removesuffix(".txt")
                subject = _read(channel_dir, stem + _SUBJECT)
                specs.append(
                    TemplateSpec(
                        name=stem,
                        channel=channel_dir.name,
                        locale=locale_dir.name,
                        source=item.read_text(encoding="utf-8"),
                        subject=subject.strip() if subject is not None else None,
                        html=_read(channel_dir, stem + ".html"),
                        description=f"built-in {channel_dir.name} template",
                    )
                )
    return specs


@hookimpl
def loancollect_register_templates() -> list[TemplateSpec]:
    """The shipped templates."""
    return load_templates()
