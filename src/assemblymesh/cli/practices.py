"""Where the command groups of each practice (funds, meetings, publications, ...) are added
to ``assemblymesh``: one line per module, so each practice's commands stay in their own file."""

from __future__ import annotations

import click


def register(main: click.Group) -> None:
    """Add every practice's command group to ``main``."""
    from assemblymesh.cli import devices, funds, members, metrics, thread
    from assemblymesh.cli.epochs import epochs
    from assemblymesh.cli.meetings import meeting
    from assemblymesh.cli.publish import publication, publish

    main.add_command(devices.device)
    main.add_command(devices.key)
    thread.register(main)  # round ask / react / answer
    members.register(main)
    funds.register(main)
    main.add_command(epochs)
    main.add_command(meeting)
    main.add_command(metrics.metrics_command)
    main.add_command(metrics.report_command)
    main.add_command(publish)
    main.add_command(publication)
