"""``python -m loancollect``: the same as the ``loancollect`` command."""

from loancollect.cli import main

main()
