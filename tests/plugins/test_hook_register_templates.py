"""loancollect_register_templates: message templates into the catalog."""

from __future__ import annotations

import pytest

from loancollect.domain.strategy import Tone
from loancollect.errors import ConfigurationError
from loancollect.hookspecs import hookimpl
from loancollect.registry import TemplateSpec, template_specs
from loancollect.templates import TemplateCatalog, TemplateKey, sample_context
from loancollect.testing import make_action


def test_the_example_template_validates_and_renders(plugin_manager, register, example):
    register(example("loancollect_register_templates"), "thanks")
    catalog = TemplateCatalog.from_plugins(plugin_manager)
    catalog.validate([TemplateKey("thank_you", "sms", "en_US")])
    action = make_action(template="thank_you", locale="en_US")
    message = catalog.render(action, sample_context("en_US"))
    assert message.text.startswith("Thank you, Alex Sample.")


def test_replacing_a_built_in_key_names_both_providers(plugin_manager, register):
    class Clash:
        @hookimpl
        def loancollect_register_templates(self):
            return [
                TemplateSpec(
                    name="overdue_notice", channel="sms", locale="en_US", source="{{ amount_due }}"
                )
            ]

    register(Clash(), "clash")
    with pytest.raises(ConfigurationError) as info:
        template_specs(plugin_manager)
    message = str(info.value)
    assert "template key 'sms/overdue_notice/en_US'" in message
    assert "'loancollect.builtin.templates' (loancollect" in message
    assert "'undo-clash'" in message


def test_a_stage_or_tone_variant_is_more_specific_and_wins(plugin_manager, register):
    class Variant:
        @hookimpl
        def loancollect_register_templates(self):
            return [
                TemplateSpec(
                    name="overdue_notice",
                    channel="sms",
                    locale="en_US",
                    stage="legal",
                    tone=Tone.FIRM,
                    source="LEGAL {{ amount_due }} {{ due_date }} {{ how_to_pay }}",
                )
            ]

    register(Variant(), "variant")
    catalog = TemplateCatalog.from_plugins(plugin_manager)
    catalog.validate()
    legal = make_action(locale="en_US", stage="legal", tone=Tone.FIRM)
    early = make_action(locale="en_US", stage="early", tone=Tone.FIRM)
    assert catalog.render(legal, sample_context("en_US")).text.startswith("LEGAL")
    assert not catalog.render(early, sample_context("en_US")).text.startswith("LEGAL")
