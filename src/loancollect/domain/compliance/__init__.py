"""The compliance engine: is this collection contact lawful, now?

Pure functions over frozen records. :func:`check` evaluates a proposed contact
against the rules of one or more :class:`RulePack` objects and returns a
:class:`Verdict` (allowed, blocked, or rescheduled to the earliest allowed instant).
"""

from loancollect.domain.compliance.pack import RulePack

__all__ = ["RulePack"]
