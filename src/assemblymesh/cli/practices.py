"""Where the command groups of each practice (funds, meetings, publications, ...) are added
to ``assemblymesh``: one line per module, so each practice's commands stay in their own file."""

from __future__ import annotations

import click


def register(main: click.Group) -> None:
    """Add every practice's command group to ``main``."""
    from assemblymesh.cli import funds, members, thread

    thread.register(main)  # round ask / react / answer
    members.register(main)
    funds.register(main)
