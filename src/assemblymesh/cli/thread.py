"""``round ask``, ``round react`` and ``round answer``: a round's thread of clarifying
questions, reactions and answers, from the command line (``show ROUND`` prints it)."""

from __future__ import annotations

from pathlib import Path

import click

from assemblymesh.cli import Context, body_options, pass_ctx, read_body
from assemblymesh.errors import UsageError
from assemblymesh.i18n import N_, _, ngettext
from assemblymesh.model import commands
from assemblymesh.model import rules as process

FOR_HELP = N_("Facilitator: record it for this member (one who speaks without a device).")
# What ``_post`` says once a comment of each kind is recorded.
RECORDED = {
    process.QUESTION: N_("question recorded"),
    process.REACTION: N_("reaction recorded"),
    process.ANSWER: N_("answer recorded"),
}
RECORDED_FOR = {
    process.QUESTION: N_("question recorded for someone else, marked as recorded by you"),
    process.REACTION: N_("reaction recorded for someone else, marked as recorded by you"),
    process.ANSWER: N_("answer recorded for someone else, marked as recorded by you"),
}


def _post(
    ctx: Context,
    round_ref: str,
    kind: str,
    text: str,
    parent: str | None,
    for_member: str | None,
) -> None:
    with ctx.open() as local:
        posted = local.act(commands.comment, round_ref, kind, text, parent, for_member)
        entry = local.state().comments.get(posted.ref)
    if entry is not None and entry.proxy:
        click.echo(_(RECORDED_FOR[kind]))
    else:
        click.echo(_(RECORDED[kind]))
    click.echo(posted.ref)


def _text(text: str | None, body: str | None, body_file: Path | None) -> str:
    """The text as an argument, or with --body / --body-file (``-``: standard input)."""
    if text is not None:
        if body is not None or body_file is not None:
            raise UsageError(_("give the text once: as an argument or with --body"))
        return read_body(text, None)
    return read_body(body, body_file)


@click.command(name="ask")
@click.argument("round_ref", metavar="ROUND")
@click.argument("text", required=False)
@body_options(N_("The question (- reads standard input)."))
@click.option("--for", "for_member", help=FOR_HELP)
@pass_ctx
def ask(
    ctx: Context,
    round_ref: str,
    text: str | None,
    body: str | None,
    body_file: Path | None,
    for_member: str | None,
) -> None:
    """Ask a clarifying question on a round (questions and reactions phases); prints its id,
    by which an answer names it."""
    _post(ctx, round_ref, process.QUESTION, _text(text, body, body_file), None, for_member)


@click.command(name="react")
@click.argument("round_ref", metavar="ROUND")
@click.argument("text", required=False)
@body_options(N_("The reaction (- reads standard input)."))
@click.option("--for", "for_member", help=FOR_HELP)
@pass_ctx
def react(
    ctx: Context,
    round_ref: str,
    text: str | None,
    body: str | None,
    body_file: Path | None,
    for_member: str | None,
) -> None:
    """Give a reaction to a round's proposal (questions and reactions phases)."""
    _post(ctx, round_ref, process.REACTION, _text(text, body, body_file), None, for_member)


@click.command(name="answer")
@click.argument("question", metavar="QUESTION")
@click.argument("text", required=False)
@body_options(N_("The answer (- reads standard input)."))
@click.option("--for", "for_member", help=FOR_HELP)
@pass_ctx
def answer(
    ctx: Context,
    question: str,
    text: str | None,
    body: str | None,
    body_file: Path | None,
    for_member: str | None,
) -> None:
    """Answer a question (by its id, or a unique prefix) until its round closes."""
    with ctx.open() as local:
        state = local.state()
    hits = [c for ref, c in state.comments.items() if ref.startswith(question.strip().lower())]
    round_ref = hits[0].round if len(hits) == 1 else ""
    if not round_ref:
        if not hits:
            raise UsageError(
                _("no question with an id starting {prefix!r} (see 'show ROUND')").format(
                    prefix=question
                )
            )
        raise UsageError(
            ngettext(
                "{count} comment with an id starting {prefix!r} (see 'show ROUND')",
                "{count} comments with an id starting {prefix!r} (see 'show ROUND')",
                len(hits),
            ).format(count=len(hits), prefix=question)
        )
    body_text = _text(text, body, body_file)
    _post(ctx, round_ref, process.ANSWER, body_text, hits[0].ref, for_member)


def register(main: click.Group) -> None:
    group = main.commands["round"]
    assert isinstance(group, click.Group)
    for command in (ask, react, answer):
        group.add_command(command)
