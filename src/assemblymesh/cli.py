"""Command line: ``assemblymesh``."""

from __future__ import annotations

import click


@click.group(invoke_without_command=True)
def main() -> None:
    """AssemblyMesh."""
