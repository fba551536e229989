"""Where the command groups of each practice (funds, meetings, publications, ...) are added
to ``assemblymesh``: one line per module, so each practice's commands stay in their own file."""

from __future__ import annotations

import click


def register(main: click.Group) -> None:
    """Add every practice's command group to ``main``."""
    from assemblymesh.cli import publish

    main.add_command(publish.publish)
    main.add_command(publish.publication)
