"""loancollect-rules-eu: the EU rule pack for the loancollect compliance engine.

:func:`loancollect_rules_eu.pack.pack` builds the configured :class:`RulePack`;
the plug-in registers it through the ``loancollect_register_rules`` hook.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
