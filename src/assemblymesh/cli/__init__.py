"""Command line: ``assemblymesh``. Thin: parses arguments, calls ``home``, prints.

Errors are one line on stderr and exit status 1 (2 for malformed arguments, from click).
Commands that create something print its id as their last line, for scripts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from assemblymesh import i18n
from assemblymesh.cli import clicktext, helptext
from assemblymesh.errors import (
    AssemblyMeshError,
    IllegalMoveError,
    InviteRefused,
    RemoteError,
    StoreError,
    UsageError,
)
from assemblymesh.heard import store_problem
from assemblymesh.home import ALL_ADDRESSES, DEFAULT_PORT, Home, LocalAssembly, parse_address
from assemblymesh.i18n import N_, _, ngettext
from assemblymesh.model import (
    AssemblyState,
    Decision,
    Member,
    Proposal,
    Round,
    commands,
    library,
    queries,
)
from assemblymesh.model import rules as process
from assemblymesh.model.acts import MAX_TEXT_LEN, AdmitSupporterEffect
from assemblymesh.model.effect_text import (
    EFFECT_HELP,
    effect_as_text,
    parse_effect,
    role_id,
)
from assemblymesh.model.vocabulary import Words, capitalised
from assemblymesh.utc import parse_utc

POSITION_KINDS = {
    "consent": process.CONSENT,
    "concern": process.CONCERN,
    "stand-aside": process.STAND_ASIDE,
    "object": process.OBJECT,
}


def words_of(state: AssemblyState) -> Words:
    """The assembly's words in the language in use."""
    return Words(state.vocabulary)


def position_kind(state: AssemblyState, text: str) -> str:
    """The kind id ``text`` names: as the command line spells it, or the assembly's label."""
    if text in POSITION_KINDS:
        return POSITION_KINDS[text]
    found = words_of(state).find_kind(text, process.POSITION_KINDS)
    if found is None:
        words = words_of(state)
        kinds = ", ".join(
            sorted({*POSITION_KINDS, *(words.kind(k) for k in process.POSITION_KINDS)})
        )
        raise UsageError(
            _("{text!r} is not a position kind: give one of {kinds}").format(text=text, kinds=kinds)
        )
    return found


DAY_MS = process.DAY_MS


ENV_PASSPHRASE = "ASSEMBLYMESH_PASSPHRASE"
ENV_NEW_PASSPHRASE = "ASSEMBLYMESH_NEW_PASSPHRASE"


def ask_passphrase(prompt: str, env: str = ENV_PASSPHRASE, confirm: bool = False) -> str:
    """A passphrase from ``env``, else from the terminal (hidden, confirmed if new)."""
    given = os.environ.get(env)
    if given is not None:
        return given
    if not sys.stdin.isatty():
        raise UsageError(
            _("a passphrase is needed: type it on a terminal or set {variable}").format(
                variable=env
            )
        )
    again = _("Repeat for confirmation") if confirm else False
    text: str = click.prompt(_(prompt), hide_input=True, confirmation_prompt=again)
    return text


@dataclasses.dataclass
class Context:
    home: Home
    assembly: str | None
    plain: bool = False
    # The passphrase that opened this device's sealed key files, if they are: tried first
    # when the member key is sealed too (one passphrase for both is the usual case).
    passphrase: str | None = None

    @contextmanager
    def open(self, check: bool = True) -> Iterator[LocalAssembly]:
        """The assembly; unless ``check`` is off (sync, which can repair it), refused when
        its store cannot be this node's record. Asks for the passphrase of this device's
        key files if they are sealed."""
        if self.passphrase is None and self.home.keys_sealed(self.assembly):
            self.passphrase = ask_passphrase(N_("Passphrase of this device's keys"))
        local = self.home.open(self.assembly, passphrase=self.passphrase)
        try:
            problem = store_problem(local) if check else None
            if problem is not None:
                raise StoreError(problem)
            yield local
        finally:
            local.close()


def fail(message: str, code: int = 1) -> None:
    click.echo(_("error: {message}").format(message=message), err=True)
    sys.exit(code)


class Group(helptext.Group):
    """Turns every AssemblyMesh error into one line on stderr (and shows help in the chosen
    language)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AssemblyMeshError as exc:
            fail(str(exc))
        except click.UsageError as exc:
            # A mistyped option is bad input like any other: one line, naming where help is.
            where = exc.ctx.command_path if exc.ctx is not None else "assemblymesh"
            fail(
                _("{problem} (see '{command} --help')").format(
                    problem=exc.format_message(), command=where
                ),
                2,
            )
        except KeyboardInterrupt:
            fail(_("interrupted"), 130)
        except BrokenPipeError:
            # The reader went away (e.g. `| head`): stop quietly, as other tools do.
            sys.stderr.close()
            sys.exit(141)


def when(ms: int | None) -> str:
    """A moment for people, in the chosen language (English: ``2026-05-01 18:00 UTC``)."""
    if ms is None:
        return "-"
    return i18n.format_datetime(ms) + " UTC"


def short(ident: str) -> str:
    return ident[:8]


pass_ctx = click.make_pass_decorator(Context)


def show_version(ctx: click.Context) -> None:
    """``--version``: click's ``version_option`` words its line when the program starts,
    before the language is chosen; this one words it when asked."""
    from importlib.metadata import version

    click.echo(
        _("{program}, version {version}").format(
            program=ctx.find_root().info_name, version=version("assemblymesh")
        )
    )
    ctx.exit()


@click.group(cls=Group, invoke_without_command=True)
@click.option(
    "--home",
    "home_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="ASSEMBLYMESH_HOME",
    help="Where keys and the store live (default: the platform's user data directory).",
)
@click.option("--assembly", "assembly", help="Assembly id prefix (default: the default one).")
@click.option("--plain", is_flag=True, envvar="ASSEMBLYMESH_PLAIN",
              help="The UI without frames (easier for screen readers).")  # fmt: skip
@click.option(
    "--lang",
    envvar=helptext.LANG_ENV,
    is_eager=True,
    expose_value=False,
    callback=lambda _ctx, _param, value: i18n.set_language(value),
    help="Language of the messages, such as es or ar (default: from LANG).",
)
@click.option(
    "--version",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=lambda ctx, _param, value: show_version(ctx) if value else None,
    help="Show the version and exit.",
)
@click.pass_context
def main(ctx: click.Context, home_dir: Path | None, assembly: str | None, plain: bool) -> None:
    """AssemblyMesh: the record of an assembly that decides by consent, on every node.

    With no command, opens the terminal UI. --home and --lang (and --plain, for the UI) may
    also follow the command's name.
    """
    ctx.obj = Context(Home(home_dir), assembly, plain)
    if ctx.invoked_subcommand is None:
        # The bare command is ``tui``: let click parse its options (and their environment
        # variables) as if it had been named.
        tui.main(args=[], standalone_mode=False, obj=ctx.obj)


# --- assembly lifecycle ---------------------------------------------------------------


@main.command()
@click.option("--name", required=True, help="The assembly's name.")
@click.option("--member-name", required=True, help="Your name in the assembly.")
@click.option("--charter", default="", help="What the assembly is for, in a few lines.")
@click.option("--cooling-off-hours", type=click.IntRange(0), default=72, show_default=True)
@click.option("--quorum", type=click.IntRange(1), default=1, show_default=True)
@click.option("--review-days", type=click.IntRange(1), default=180, show_default=True)
@click.option(
    "--block-threshold",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="How many members' objections block a decision (1: any reasoned objection).",
)
@pass_ctx
def init(
    ctx: Context,
    name: str,
    member_name: str,
    charter: str,
    cooling_off_hours: int,
    quorum: int,
    review_days: int,
    block_threshold: int,
) -> None:
    """Found a new assembly; you become its first member and facilitator."""
    from assemblymesh.model.state import Rules

    rules = Rules(cooling_off_hours * 3600 * 1000, quorum, review_days * DAY_MS, block_threshold)
    local = ctx.home.create(name, member_name, charter, rules)
    try:
        click.echo(
            _("Founded {name!r}. You are {member}, its facilitator.").format(
                name=name, member=member_name
            )
        )
        seal_new_member_key(local)
        click.echo(local.assembly_id.hex())
    finally:
        local.close()


def seal_new_member_key(local: LocalAssembly) -> None:
    """Seal a new member key at once, under the passphrase typed on the terminal or given
    in ASSEMBLYMESH_PASSPHRASE: a thief of this device then cannot sign as the member (mint
    a device, revoke one, invite). With no terminal and no passphrase, or an empty one, the
    key stays plain, and the command says so and how to seal it later."""
    passphrase = os.environ.get(ENV_PASSPHRASE)
    if passphrase is None and sys.stdin.isatty():
        passphrase = click.prompt(
            _("Passphrase for your member key (asked to pair, revoke or invite; empty: none)"),
            default="", show_default=False, hide_input=True,
            confirmation_prompt=_("Repeat for confirmation"),
        )  # fmt: skip
    if passphrase:
        local.protect_member_key(passphrase)
        click.echo(_("Your member key is sealed under the passphrase on this device."))
    else:
        click.echo(
            _(
                "Your member key lies unsealed on this device: whoever takes it can act as you."
                " Seal it with 'assemblymesh key protect'."
            )
        )


F = TypeVar("F", bound=Callable[..., Any])


def invite_options(f: F) -> F:
    """``--valid-days``, ``--hint`` and ``--qr/--no-qr``, for either kind of invite."""
    f = click.option("--qr/--no-qr", default=None,
                     help="Show a QR code (default: on a terminal).")(f)  # fmt: skip
    f = click.option("--hint", "hints", multiple=True,
                     help="HOST:PORT where joiners can reach you.")(f)  # fmt: skip
    return click.option("--valid-days", type=click.IntRange(1, 365), default=7, show_default=True)(
        f
    )


def issue_invite_code(
    ctx: Context,
    valid_days: int,
    hints: tuple[str, ...],
    qr: bool | None,
    kind: str,
    claim: str | None = None,
) -> str:
    """Issue a one-time invite of ``kind`` (claiming the membership of a member without a
    device, if ``claim`` names one) and show its QR code if asked (by default on a
    terminal); returns the code, which the caller prints as its last line."""
    from assemblymesh.cli.devices import unlock

    with ctx.open() as local:
        unlock(local, ctx)  # an invite is signed by the member key
        issued = local.issue_invite(
            hints or local.default_invite_hints(), valid_days * DAY_MS, kind, claim
        )
        code = issued.encode()
    if qr if qr is not None else sys.stdout.isatty():
        import segno

        segno.make(code, error="L").terminal(compact=True)
    return code


@main.command()
@invite_options
@pass_ctx
def invite(ctx: Context, valid_days: int, hints: tuple[str, ...], qr: bool | None) -> None:
    """Issue a one-time member invite; prints the code as the last line."""
    code = issue_invite_code(ctx, valid_days, hints, qr, process.MEMBER_INVITE)
    click.echo(
        ngettext(
            "One-time invite, valid {days} day. Give this code to one person:",
            "One-time invite, valid {days} days. Give this code to one person:",
            valid_days,
        ).format(days=valid_days)
    )
    click.echo(code)


WAY_OUT = N_(
    "ask for a new code and run 'assemblymesh join CODE --member-name NAME --new-code',"
    " or 'assemblymesh leave'"
)


@main.command()
@click.argument("code")
@click.option("--member-name", required=True, help="Your name in the assembly.")
@click.option("--new-code", is_flag=True, help="Replace a join of this assembly that was refused.")
@pass_ctx
def join(ctx: Context, code: str, member_name: str, new_code: bool) -> None:
    """Join an assembly with an invite code, then run 'serve' or 'sync' to receive it."""
    local = ctx.home.join(code, member_name, replace=new_code)
    try:
        click.echo(
            _(
                "Join written: you are a member once a member's node admits it. Run"
                " 'assemblymesh sync' (the code's addresses) or 'serve' to receive the assembly."
            )
        )
        seal_new_member_key(local)
        click.echo(local.assembly_id.hex())
    finally:
        local.close()


@main.command()
@pass_ctx
def leave(ctx: Context) -> None:
    """Remove a join that was not admitted (a refused invite): its keys and its store."""
    aid = ctx.home.leave(ctx.assembly)
    click.echo(
        _("Left: nothing of assembly {assembly} is kept on this node.").format(
            assembly=aid.hex()[:12]
        )
    )


# --- proposals and rounds -------------------------------------------------------------


def body_options(help_text: str) -> Callable[[F], F]:
    """``--body TEXT`` (``-`` reads standard input) or ``--body-file PATH``."""

    def add(f: F) -> F:
        f = click.option(
            "--body-file",
            type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
            help="Read the text from this file (- for standard input).",
        )(f)
        return click.option("--body", help=help_text)(f)

    return add


def read_body(body: str | None, body_file: Path | None) -> str:
    """The text given with --body or --body-file, checked against the model's limit."""
    if (body is None) == (body_file is None):
        raise UsageError(_("give the text with --body TEXT, --body - (stdin) or --body-file PATH"))
    if body == "-" or (body_file is not None and str(body_file) == "-"):
        text = sys.stdin.read()
    elif body_file is not None:
        try:
            text = body_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(
                _("cannot read {path}: {problem}").format(path=body_file, problem=exc)
            ) from exc
    else:
        assert body is not None
        text = body
    if len(text) > MAX_TEXT_LEN:
        raise UsageError(
            _("the text is {length} characters; the limit is {limit}").format(
                length=i18n.format_number(len(text)), limit=i18n.format_number(MAX_TEXT_LEN)
            )
        )
    return text


@main.command()
@click.option("--title", required=True)
@body_options(N_("The proposal's text (- reads standard input)."))
@click.option("--effect", "effects", multiple=True, help=EFFECT_HELP)
@pass_ctx
def propose(
    ctx: Context, title: str, body: str | None, body_file: Path | None, effects: tuple[str, ...]
) -> None:
    """Put a proposal to the assembly; prints its id."""
    text = read_body(body, body_file)
    with ctx.open() as local:
        state = local.state()
        parsed = [parse_effect(state, e) for e in effects]
        act = local.act(commands.propose, title, text, parsed)
    click.echo(act.ref)


@main.command()
@click.argument("proposal")
@body_options(N_("The full new text (- reads standard input)."))
@click.option("--note", default="", help="What changed and why.")
@pass_ctx
def amend(ctx: Context, proposal: str, body: str | None, body_file: Path | None, note: str) -> None:
    """Amend a proposal: a new version (a new round can then be opened on it)."""
    text = read_body(body, body_file)
    with ctx.open() as local:
        local.act(commands.amend, proposal, text, note)
        state = local.state()
        p = state.find_proposal(proposal)
    click.echo(
        _("{proposal} is now at version {version}").format(proposal=p.id, version=p.latest.number)
    )


@main.command()
@click.argument("proposal")
@pass_ctx
def withdraw(ctx: Context, proposal: str) -> None:
    """Withdraw your own proposal."""
    with ctx.open() as local:
        local.act(commands.withdraw, proposal)
    click.echo(_("withdrawn"))


@main.command()
@click.argument("proposal")
@click.option("--reason", required=True)
@pass_ctx
def reject(ctx: Context, proposal: str, reason: str) -> None:
    """Facilitator: record that the assembly rejected a returned proposal."""
    with ctx.open() as local:
        local.act(commands.reject, proposal, reason)
    click.echo(_("rejected"))


@main.group(name="round")
def round_() -> None:
    """Consent rounds: open, advance, close; ask, react and answer in a round's thread."""


def deadline_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--deadline "YYYY-MM-DD HH:MM"`` (UTC) or ``--deadline-hours N`` (from now)."""
    f = click.option(
        "--deadline-hours",
        type=int,
        default=None,
        help="Closing time N hours from now (informational: a facilitator still closes).",
    )(f)
    return click.option(
        "--deadline",
        default=None,
        metavar="'YYYY-MM-DD HH:MM'",
        help="Closing time in UTC (informational: a facilitator still closes).",
    )(f)


def parse_deadline(text: str | None, hours: int | None, now_ms: int) -> int | None:
    """The deadline in ms that ``--deadline`` or ``--deadline-hours`` gives (None: neither)."""
    if text is not None and hours is not None:
        raise UsageError(_("give --deadline or --deadline-hours, not both"))
    if hours is not None:
        return now_ms + hours * 3_600_000
    if text is None:
        return None
    ms = parse_utc(text)
    if ms is None:
        raise UsageError(
            _("--deadline {text!r} is not like '2026-05-01 18:00' (UTC)").format(text=text)
        )
    return ms


@round_.command(name="open")
@click.argument("proposal")
@click.option("--version", type=int, default=None, help="Version (default: the latest).")
@deadline_options
@pass_ctx
def round_open(
    ctx: Context,
    proposal: str,
    version: int | None,
    deadline: str | None,
    deadline_hours: int | None,
) -> None:
    """Facilitator: open a consent round on a proposal; prints the round id."""
    with ctx.open() as local:
        at = parse_deadline(deadline, deadline_hours, local.clock())
        act = local.act(commands.open_round, proposal, version, at)
    click.echo(act.ref)


@round_.command(name="advance")
@click.argument("round_ref", metavar="ROUND")
@deadline_options
@pass_ctx
def round_advance(
    ctx: Context, round_ref: str, deadline: str | None, deadline_hours: int | None
) -> None:
    """Facilitator: move a round to its next phase (and set a new closing time, if given)."""
    with ctx.open() as local:
        at = parse_deadline(deadline, deadline_hours, local.clock())
        local.act(commands.advance_round, round_ref, at)
        state = local.state()
        phase = state.find_round(round_ref).phase
    click.echo(_("phase: {phase}").format(phase=words_of(state).phase(phase)))


@round_.command(name="close")
@click.argument("round_ref", metavar="ROUND")
@click.option("--yes", is_flag=True, help="Close even if not every member has been heard.")
@click.option("--statement", default="", help="What was decided and why; kept with the decision.")
@pass_ctx
def round_close(ctx: Context, round_ref: str, yes: bool, statement: str) -> None:
    """Facilitator: close a round; prints the outcome.

    Refused while members have no position yet (or nothing of theirs has reached this node
    since the round's last phase change), unless --yes is given.
    """
    from assemblymesh.heard import unheard

    with ctx.open() as local:
        before = local.state()
        r = before.find_round(round_ref)
        missing = unheard(local, before, r)
        if missing and not yes and r.phase != process.CLOSED:
            raise UsageError(
                _("not everyone has been heard: {missing} (--yes closes)").format(
                    missing=missing.describe()
                )
            )
        local.act(commands.close_round, round_ref, statement)
        state = local.state()
        r = state.find_round(round_ref)
    proposal = state.proposals[r.proposal]
    words = words_of(state)
    click.echo(
        _("outcome: {outcome} ({proposal} is now {state})").format(
            outcome=r.outcome, proposal=words.term("proposal"), state=proposal.state
        )
    )
    if r.decision is not None:
        d = state.decisions[r.decision]
        click.echo(
            _("takes effect {effective}; review by {review}").format(
                effective=when(d.effective_ts), review=when(d.review_ts)
            )
        )
    for objection in r.objections:
        name = state.members[objection.member].name if objection.member in state.members else "?"
        click.echo(
            _("{objection} from {name}: {reason}").format(
                objection=words.term("objection"), name=name, reason=objection.reason
            )
        )


@main.command()
@click.argument("round_ref", metavar="ROUND")
@click.argument("kind", metavar="KIND")
@click.option("--reason", default="", help="Why (required for object).")
@click.option("--for", "for_member", help="Facilitator: record for a member without a device.")
@pass_ctx
def position(ctx: Context, round_ref: str, kind: str, reason: str, for_member: str | None) -> None:
    """State your position in a round (you may change it until the round closes).

    KIND: consent, concern, stand-aside or object, or the assembly's word for one."""
    with ctx.open() as local:
        state = local.state()
        member = None
        if for_member is not None:
            member = state.find_member(for_member).id
        chosen = position_kind(state, kind)
        local.act(commands.position, round_ref, chosen, reason, member)
    label = words_of(state).kind(chosen)
    if member:
        click.echo(_("{kind} recorded (provisional until confirmed)").format(kind=label))
    else:
        click.echo(_("{kind} recorded").format(kind=label))


@main.group()
def role() -> None:
    """Roles with terms: facilitator, note-taker, steward."""


@role.command(name="grant")
@click.argument("member")
@click.argument("role_name", metavar="ROLE")
@click.option("--term-days", type=click.IntRange(1, 730), default=90, show_default=True)
@pass_ctx
def role_grant(ctx: Context, member: str, role_name: str, term_days: int) -> None:
    """Founder, while founding: grant a role for a term. Afterwards roles change by a
    decision: propose one with --effect grant-role:MEMBER:ROLE:DAYS."""
    with ctx.open() as local:
        state = local.state()
        m = state.find_member(member)
        term_end = local.clock() + term_days * DAY_MS
        role_ = _role_named(state, role_name)
        effect = f"grant-role:{m.name}:{role_name}:{term_days}"
        with _role_by_decision(
            _("{member} as {role}").format(member=m.name, role=role_name), effect
        ):
            local.act(commands.grant_role, m.id, role_, term_end)
    click.echo(
        _("{role} granted until {end}").format(role=words_of(state).role(role_), end=when(term_end))
    )


def _role_named(state: AssemblyState, text: str) -> str:
    """The role ``text`` names (a usual one, or the assembly's own by id or label)."""
    try:
        return role_id(state, text)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


@contextmanager
def _role_by_decision(title: str, effect: str) -> Iterator[None]:
    """A role move refused for want of a decision says how to get one, as a command."""
    try:
        yield
    except IllegalMoveError as exc:
        if exc.rule != process.ROLE_BY_DECISION:
            raise
        raise UsageError(
            _(
                "roles change by a decision now (rule: {rule}): propose one, then run a"
                ' round on it: assemblymesh propose --title "{title}" --body "{why}"'
                ' --effect "{effect}"'
            ).format(rule=exc.rule, title=title, why=_("Why"), effect=effect)
        ) from exc


@role.command(name="end")
@click.argument("member")
@click.argument("role_name", metavar="ROLE")
@pass_ctx
def role_end(ctx: Context, member: str, role_name: str) -> None:
    """Step down from your own role (or, founder while founding, end another's). Otherwise
    a role ends by a decision: propose one with --effect end-role:MEMBER:ROLE."""
    with ctx.open() as local:
        state = local.state()
        m = state.find_member(member)
        role_ = _role_named(state, role_name)
        effect = f"end-role:{m.name}:{role_name}"
        with _role_by_decision(
            _("{member} steps down as {role}").format(member=m.name, role=role_name), effect
        ):
            local.act(commands.end_role, m.id, role_)
    click.echo(_("{role} ended").format(role=words_of(state).role(role_)))


# --- supporters -----------------------------------------------------------------------


@main.group()
def supporter() -> None:
    """Supporters: allies from outside who propose and advise, but never block, count
    towards quorum or hold a role, and take part only while the assembly gives them
    standing (by decision)."""


@supporter.command(name="invite")
@invite_options
@pass_ctx
def supporter_invite(
    ctx: Context, valid_days: int, hints: tuple[str, ...], qr: bool | None
) -> None:
    """Issue a one-time supporter invite; prints the code as the last line."""
    code = issue_invite_code(ctx, valid_days, hints, qr, process.SUPPORTER_INVITE)
    click.echo(
        ngettext(
            "One-time SUPPORTER invite, valid {days} day.",
            "One-time SUPPORTER invite, valid {days} days.",
            valid_days,
        ).format(days=valid_days)
    )
    click.echo(
        _(
            "Whoever joins with it is a supporter, not a member: they may propose and state"
            " positions, which are advisory (no veto, not counted for quorum), and hold no role."
        )
    )
    click.echo(
        _(
            "They take part only once the assembly gives them standing by a decision."
            " When they have joined and synced, propose it:"
        )
    )
    click.echo(
        '  assemblymesh propose --title "{title}" --body "{why}"'
        " --effect admit-supporter:NAME:YYYY-MM-DD".format(
            title=_("Standing for NAME"), why=_("Why")
        )
    )
    click.echo("  " + _("(the same: assemblymesh supporter extend NAME YYYY-MM-DD)"))
    click.echo(_("Give this code to one person:"))
    click.echo(code)


@supporter.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def supporter_list(ctx: Context, as_json: bool) -> None:
    """Every supporter: standing, who invited them, the proposals they put."""
    with ctx.open() as local:
        data = supporters_data(local.state())
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    if not data:
        click.echo(_("No supporters. Invite one with 'assemblymesh supporter invite'."))
    for line in supporter_lines(data):
        click.echo(line)


@supporter.command(name="end")
@click.argument("name")
@click.option("--title", default=None, help="The proposal's title.")
@click.option("--body", default=None, help="Why (default: a sentence saying what it does).")
@pass_ctx
def supporter_end(ctx: Context, name: str, title: str | None, body: str | None) -> None:
    """Propose to end a supporter's standing; prints the proposal's id. The assembly ends
    it by decision: once adopted and past cooling-off, their devices are refused."""
    with ctx.open() as local:
        state = local.state()
        s = state.find_supporter(name)
        if s.standing_until is not None and state.now_ms >= s.standing_until:
            raise UsageError(
                _("{name}'s standing already ended on {date}").format(
                    name=s.name, date=day(s.standing_until)
                )
            )
        effect = parse_effect(state, f"end-supporter:{s.id}")
        text = (
            body
            if body is not None
            else _("End {name}'s standing as a supporter.").format(name=s.name)
        )
        title = title or _("End {name}'s standing").format(name=s.name)
        act = local.act(commands.propose, title, text, [effect])
    click.echo(
        _("Proposed to end {name}'s standing: it ends if the assembly adopts it.").format(
            name=s.name
        )
    )
    click.echo(act.ref)


@supporter.command(name="extend")
@click.argument("name")
@click.argument("until", metavar="YYYY-MM-DD", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--title", default=None, help="The proposal's title.")
@click.option("--body", default=None, help="Why (default: a sentence saying what it does).")
@pass_ctx
def supporter_extend(
    ctx: Context, name: str, until: dt.datetime, title: str | None, body: str | None
) -> None:
    """Propose to give a supporter standing until a date (or to extend it); prints the
    proposal's id. Standing comes only by a decision of the assembly."""
    date = until.strftime("%Y-%m-%d")
    with ctx.open() as local:
        state = local.state()
        s = state.find_supporter(name)
        effect = parse_effect(state, f"admit-supporter:{s.id}:{date}")
        assert isinstance(effect, AdmitSupporterEffect)
        if effect.until <= state.now_ms:
            raise UsageError(
                _("{date} has passed: standing must last until a later date").format(date=date)
            )
        text = (
            body
            if body is not None
            else _("{name} has standing as a supporter until {date}.").format(
                name=s.name, date=date
            )
        )
        title = title or _("Standing for {name} until {date}").format(name=s.name, date=date)
        act = local.act(commands.propose, title, text, [effect])
    click.echo(
        _("Proposed standing for {name} until {date}: it holds if the assembly adopts it.").format(
            name=s.name, date=day(effect.until)
        )
    )
    click.echo(act.ref)


# --- reading --------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, frozenset, set)):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return value


def changed_since_close(state: AssemblyState) -> list[dict[str, Any]]:
    """Closes that are no longer the whole story: rounds whose outcome is not the one the
    facilitator announced (positions from members out of range arrived afterwards), and
    decisions that late objections reached. Derived from the record, so every node agrees."""
    changed = [_outcome_changed(state, r) for r in state.rounds.values() if r.changed_since_close]
    for d in state.decisions.values():
        if not d.late_objections:
            continue
        p = state.proposals.get(d.proposal)
        changed.append(
            {
                "kind": "late-objection",
                "decision": d.id,
                "proposal": d.proposal,
                "title": p.title if p is not None else d.proposal[:8],
                "status": d.status,
                "objectors": [
                    state.members[o.member].name if o.member in state.members else o.member[:8]
                    for o in d.late_objections
                ],
                "since": max(o.ts for o in d.late_objections),
            }
        )
    return sorted(changed, key=lambda c: (c["since"], c["proposal"]))


def _outcome_changed(state: AssemblyState, r: Round) -> dict[str, Any]:
    p = state.proposals.get(r.proposal)
    return {
        "kind": "out-of-range",
        "round": r.id,
        "decision": r.decision,
        "proposal": r.proposal,
        "title": p.title if p is not None else r.proposal[:8],
        "announced": r.announced,
        "outcome": r.outcome,
        "since": r.closed_ts,
    }


def status_data(local: LocalAssembly, state: AssemblyState) -> dict[str, Any]:
    record = local.record_summary()
    return {
        "assembly": {
            "id": local.assembly_id.hex(),
            "name": state.assembly.name if state.assembly else None,
            "charter": state.assembly.charter if state.assembly else None,
            "rules": _plain(state.assembly.rules) if state.assembly else None,
            "rule_history": _plain(state.rule_history),
        },
        "me": {
            "member": local.member_id,
            "device": local.device_id,
            "admitted": state.is_member(local.member_id),
            "invite_refused": local.invite_refusal(),
        },
        "members": _members_data(state),
        "supporters": supporters_data(state),
        "proposals": [_proposal_data(state, p) for p in state.proposals.values()],
        "rounds": [_round_data(state, r) for r in state.rounds.values()],
        "waiting_for_you": _waiting_data(state, local.member_id),
        "decisions": [_decision_data(state, d) for d in state.decisions.values()],
        "reviews_due": [d.id for d in state.reviews_due()],
        "effects": _plain(state.effect_log),
        "changed_since_close": changed_since_close(state),
        "library": library.as_data(state),
        "meeting": _meeting_status(state),
        **_practices_data(state),
        "epochs": _epochs_data(local, state),
        "metrics": _metrics_summary(state),
        "vocabulary": vocabulary_data(state),
        "digest": record.digest,
        "changes": record.changes,
        "pending": record.pending,
    }


def vocabulary_data(state: AssemblyState) -> dict[str, Any]:
    """The assembly's words in the language in use (term id -> label), what its decisions
    named in each language, its own roles and the shape of the rounds it opens now."""
    v = state.vocabulary
    return {
        "language": i18n.language(),
        "labels": words_of(state).as_data(),
        "decided": {lang: dict(labels) for lang, labels in v.labels.items()},
        "roles": {
            r.id: {"label": r.label, "max_term_days": r.max_term_days, "decision": r.decision}
            for r in v.roles.values()
        },
        "phases": list(v.shape.phases),
        "kinds": list(v.shape.kinds),
        "reasoned": list(v.shape.reasoned),
    }


def _meeting_status(state: AssemblyState) -> dict[str, Any] | None:
    from assemblymesh.cli.meetings import status_meeting

    return status_meeting(state)


def _practices_data(state: AssemblyState) -> dict[str, Any]:
    """What each practice adds to ``status --json``."""
    from assemblymesh.cli import funds

    return {
        "funds": funds.funds_data(state),
        "partnerships": funds.partnerships_data(state),
        "readiness": funds.readiness_data(state),
    }


def _epochs_data(local: LocalAssembly, state: AssemblyState) -> dict[str, Any]:
    from assemblymesh.cli.epochs import epochs_data

    return epochs_data(local, state)


def _metrics_summary(state: AssemblyState) -> dict[str, Any]:
    from assemblymesh.cli.metrics import metrics_summary

    return metrics_summary(state)


def day(ms: int) -> str:
    """A day for people, in the chosen language (English: ``2026-05-01``)."""
    return i18n.format_date(ms)


def standing_of(m: Member, now_ms: int) -> str:
    """A supporter's standing: ``none`` (not given yet), ``active``, ``ended`` or ``removed``."""
    if m.is_removed(now_ms):
        return "removed"
    if m.standing_until is None:
        return "none"
    return "active" if now_ms < m.standing_until else "ended"


def supporters_data(state: AssemblyState) -> list[dict[str, Any]]:
    """Every supporter, with its standing, who invited it and the proposals it put."""
    now = state.now_ms
    out = []
    for m in state.supporters():
        inviter = state.members.get(m.invited_by) if m.invited_by else None
        out.append(
            {
                "id": m.id,
                "name": m.name,
                "joined": m.joined_ts,
                "standing": standing_of(m, now),
                "standing_until": m.standing_until,
                "invited_by": m.invited_by,
                "invited_by_name": inviter.name if inviter is not None else None,
                "proposals": [
                    {"id": p.id, "title": p.title, "state": p.state}
                    for p in state.proposals.values()
                    if p.author == m.id
                ],
            }
        )
    return out


STANDING_TEXT: dict[str, Callable[[int | None], str]] = {
    "none": lambda _until: _("no standing yet"),
    "active": lambda until: _("standing until {date}").format(date=day(until or 0)),
    "ended": lambda until: _("standing ended {date}").format(date=day(until or 0)),
    "removed": lambda _until: _("removed by a decision"),
}


def supporter_lines(supporters: list[dict[str, Any]]) -> list[str]:
    """``supporters_data`` for people: one line each, then one per proposal they put."""
    lines = []
    for s in supporters:
        standing = STANDING_TEXT[s["standing"]](s["standing_until"])
        inviter = s["invited_by_name"] or short(s["invited_by"] or "?")
        count = len(s["proposals"])
        put = (
            ngettext("{count} proposal", "{count} proposals", count).format(count=count)
            if count
            else _("no proposals")
        )
        said = _("{standing}; invited by {inviter}; {proposals}").format(
            standing=standing, inviter=inviter, proposals=put
        )
        lines.append(f"  {s['name']:<20} {short(s['id'])}  {said}")
        lines += [f"      {short(p['id'])}  {p['state']:<16} {p['title']}" for p in s["proposals"]]
    return lines


def _members_data(state: AssemblyState) -> list[dict[str, Any]]:
    now = state.now_ms
    words = words_of(state)
    return [
        {
            "id": m.id,
            "name": m.name,
            "roles": list(m.active_roles(now)),
            "role_labels": [words.role(r) for r in m.active_roles(now)],
            "founder": m.is_founder,
            "joined": m.joined_ts,
            "supporter": m.supporter,
            "standing_until": m.standing_until,
            "removed": m.removed_ts,
            # Takes part without a device: a facilitator records for them.
            "deviceless": m.deviceless,
        }
        for m in state.members.values()
        if m.current  # a claimed deviceless membership is its claimant's now
    ]


def _proposal_data(state: AssemblyState, p: Proposal) -> dict[str, Any]:
    return {
        "id": p.id,
        "title": p.title,
        "state": p.state,
        "author": p.author,
        "by_supporter": p.by_supporter,
        "version": p.latest.number,
        "body": p.latest.body,
        "effects": [e.to_doc() for e in p.latest.effects],
        # As typed after --effect: what the decision does, in the words of the command line.
        "effects_text": [effect_as_text(state, e) for e in p.latest.effects],
        "rounds": list(p.rounds),
        "decision": p.decision,
    }


def _decision_data(state: AssemblyState, d: Decision) -> dict[str, Any]:
    """A decision as ``_plain`` gives it, with its proposal's title."""
    p = state.proposals.get(d.proposal)
    return {**_plain(d), "title": p.title if p is not None else None}


def _waiting_data(state: AssemblyState, member: str) -> list[dict[str, Any]]:
    """The rounds waiting for ``member``'s position, with whether their deadline is near."""
    return [
        {
            "round": r.id,
            "proposal": r.proposal,
            "title": state.proposals[r.proposal].title,
            "deadline": r.deadline,
            "deadline_near": queries.deadline_near(r, state.now_ms),
        }
        for r in queries.rounds_waiting_for(state, member)
    ]


def _round_data(state: AssemblyState, r: Round) -> dict[str, Any]:
    from assemblymesh.show import thread_data

    waiting = queries.waiting_on(state, r)
    words = words_of(state)
    return {
        "id": r.id,
        "proposal": r.proposal,
        "version": r.version,
        "phase": r.phase,
        "phase_label": words.phase(r.phase),
        "phases": list(r.shape.phases),
        "kinds": list(r.shape.kinds),
        "facilitator": r.facilitator,
        "outcome": r.outcome,
        "deadline": r.deadline,
        "waiting_on": list(waiting),
        "waiting_on_names": [state.members[m].name for m in waiting],
        "positions": {
            m: {
                "kind": p.kind,
                "kind_label": words.kind(p.kind),
                "reason": p.reason,
                "provisional": p.provisional,
                "late": p.late,
            }
            for m, p in r.positions.items()
        },
        "thread": thread_data(state, r),
    }


def _echo_participants(data: dict[str, Any]) -> None:
    """Members with their roles, then supporters as a class of their own."""
    people = [m for m in data["members"] if not m["supporter"]]
    members = [m for m in people if m["removed"] is None]
    click.echo("\n" + _("Members ({count}):").format(count=len(members)))
    for m in members:
        roles = ", ".join(m["role_labels"]) or "-"
        device = "  " + _("(no device: a facilitator records for them)") if m["deviceless"] else ""
        click.echo(f"  {m['name']:<20} {short(m['id'])}  {roles}{device}")
    removed = [m for m in people if m["removed"] is not None]
    if removed:
        # Their acts before the removal stay in the record; their devices are refused.
        click.echo("\n" + _("Removed by a decision ({count}):").format(count=len(removed)))
        for m in removed:
            since = _("since {date}").format(date=day(m["removed"]))
            click.echo(f"  {m['name']:<20} {short(m['id'])}  {since}")
    if data["supporters"]:
        click.echo(
            "\n"
            + _("Supporters ({count}, advisory: no veto, no quorum):").format(
                count=len(data["supporters"])
            )
        )
        for line in supporter_lines(data["supporters"]):
            click.echo(line)


def _echo_round_extra(r: dict[str, Any]) -> None:
    """An open round's closing time and who has not stated a position."""
    if r["deadline"] is not None:
        click.echo(
            " " * 12
            + _("deadline: {when} (a facilitator closes the round)").format(
                when=when(r["deadline"])
            )
        )
    if r["waiting_on_names"]:
        names = ", ".join(r["waiting_on_names"])
        click.echo(" " * 12 + _("no position yet: {names}").format(names=names))


def waiting_lines(waiting: list[dict[str, Any]], now_ms: int) -> list[str]:
    """ "Waiting for you (N): ..." and a reminder for each deadline passed or near."""
    if not waiting:
        return []
    titles = ", ".join(w["title"] for w in waiting)
    lines = [_("Waiting for you ({count}): {titles}").format(count=len(waiting), titles=titles)]
    for w in waiting:
        if w["deadline_near"]:
            deadline = deadline_text(w["deadline"], now_ms)
            lines.append(
                "  "
                + _("Reminder: {deadline} for {title!r}").format(
                    deadline=deadline, title=w["title"]
                )
            )
    return lines


def deadline_text(deadline: int, now_ms: int) -> str:
    """'deadline passed 2026-05-01 18:00 UTC' or 'deadline in 5 h (...)'."""
    if deadline <= now_ms:
        return _("deadline passed {when}").format(when=when(deadline))
    hours = -(-(deadline - now_ms) // 3_600_000)
    return _("deadline in {hours} h ({when})").format(hours=hours, when=when(deadline))


def _echo_record(data: dict[str, Any], words: Words) -> None:
    """Proposals with what their decisions would do, open rounds, decisions and reviews."""
    heading = _("{proposals} ({count}):")
    click.echo(
        "\n" + heading.format(proposals=words.title("proposals"), count=len(data["proposals"]))
    )
    for p in data["proposals"]:
        click.echo(f"  {short(p['id'])}  {p['state']:<16} v{p['version']}  {p['title']}")
        for effect in p["effects_text"]:
            click.echo(" " * 12 + _("does: {effect}").format(effect=effect))
    open_rounds = [r for r in data["rounds"] if r["phase"] != process.CLOSED]
    titles = {p["id"]: p["title"] for p in data["proposals"]}
    heading = _("Open {rounds} ({count}):")
    click.echo(
        "\n" + capitalised(heading.format(rounds=words.term("rounds"), count=len(open_rounds)))
    )
    for r in open_rounds:
        about = _("on {proposal}  positions: {count}").format(
            proposal=short(r["proposal"]) + " " + titles.get(r["proposal"], ""),
            count=len(r["positions"]),
        )
        click.echo(f"  {short(r['id'])}  {r['phase_label']:<10} {about}")
        _echo_round_extra(r)
    click.echo("\n" + _("Decisions ({count}):").format(count=len(data["decisions"])))
    for d in data["decisions"]:
        due = "  " + _("DUE FOR REVIEW: round open PID") if d["id"] in data["reviews_due"] else ""
        dates = _("effective {effective}  review {review}").format(
            effective=when(d["effective_ts"]), review=when(d["review_ts"])
        )
        click.echo(f"  {short(d['id'])}  {d['status']:<12} {dates}{due}")
        _echo_decided(d)


def _echo_decided(d: dict[str, Any]) -> None:
    """Under a decision: its proposal's title and the statement written at close."""
    title = d["title"] or _("(proposal not yet received)")
    click.echo(" " * 12 + _("on: {title}").format(title=title))
    label = _("statement:") + " "
    for number, line in enumerate(d["statement"].splitlines()):
        click.echo(" " * 12 + (label if number == 0 else " " * len(label)) + line)


def _echo_practices(data: dict[str, Any]) -> None:
    """Funds, partnerships and the readiness report, in a few lines each."""
    from assemblymesh.cli import funds

    if data["funds"]:
        click.echo("\n" + _("Funds ({count}):").format(count=len(data["funds"])))
        for d in data["funds"]:
            for line in funds.fund_lines(d):
                click.echo(f"  {line}")
    if data["partnerships"]:
        click.echo("\n" + _("Partnerships ({count}):").format(count=len(data["partnerships"])))
        for d in data["partnerships"]:
            click.echo(f"  {funds.partnership_lines(d)[0]}")
    findings = data["readiness"]["findings"]
    if findings:
        readiness = ngettext(
            "Readiness: {count} thing would be left without a member if the supporters"
            " withdrew ('assemblymesh readiness')",
            "Readiness: {count} things would be left without a member if the supporters"
            " withdrew ('assemblymesh readiness')",
            len(findings),
        )
        click.echo("\n" + readiness.format(count=len(findings)))


def _echo_head(data: dict[str, Any], state: AssemblyState) -> None:
    """The assembly's name, whether this member is in, what waits for them, and the rules."""
    a = data["assembly"]
    name = a["name"] or _("(not yet received: sync with a member)")
    click.echo(f"{name}  [{a['id'][:12]}]")
    if data["me"]["invite_refused"] is not None:
        click.echo(
            _("Your invite was refused: {why}; {way_out}.").format(
                why=_(data["me"]["invite_refused"]), way_out=_(WAY_OUT)
            )
        )
    elif not data["me"]["admitted"]:
        click.echo(_("You are not admitted yet: sync with a member to complete your join."))
    for line in waiting_lines(data["waiting_for_you"], state.now_ms):
        click.echo(line)
    from assemblymesh.cli.meetings import status_line

    meeting_line = status_line(state)
    if meeting_line is not None:
        click.echo(meeting_line)
    rules = a["rules"]
    if rules is not None:
        click.echo(
            _(
                "Rules: cooling-off {hours} h, quorum {quorum}, review after {days} days,"
                " block threshold {threshold}"
            ).format(
                hours=rules["cooling_off_ms"] // 3_600_000,
                quorum=rules["quorum"],
                days=rules["review_period_ms"] // DAY_MS,
                threshold=rules["block_threshold"],
            )
        )


def _echo_changed_since_close(changed: list[dict[str, Any]]) -> None:
    """Closes that positions from members out of range changed; decisions a late objection
    returned, or that stand despite one."""
    if changed:
        click.echo("\n" + _("Changed since close ({count}):").format(count=len(changed)))
        for c in changed:
            if c["kind"] == "out-of-range":
                said = _(
                    "{proposal}  {title}: closed as {announced}, now {outcome}: positions "
                    "from members out of range arrived after the close ({when})"
                ).format(
                    proposal=short(c["proposal"]),
                    title=c["title"],
                    announced=c["announced"],
                    outcome=c["outcome"],
                    when=when(c["since"]),
                )
                click.echo(f"  {said}")
                continue
            what = (
                _("{title}: returned after a late objection from {names} ({when})")
                if c["status"] == process.DECISION_RETURNED
                else _("{title}: still stands after a late objection from {names} ({when})")
            )
            said = what.format(
                title=c["title"], names=", ".join(c["objectors"]), when=when(c["since"])
            )
            click.echo(f"  {short(c['proposal'])}  {said}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def status(ctx: Context, as_json: bool) -> None:
    """Members, roles, proposals, rounds, decisions and the sync digest."""
    with ctx.open() as local:
        state = local.state()
        data = status_data(local, state)
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    _echo_head(data, state)
    _echo_participants(data)
    _echo_record(data, words_of(state))
    _echo_changed_since_close(data["changed_since_close"])
    _echo_practices(data)
    click.echo(
        "\n"
        + _("{changes} changes, digest {digest}").format(
            changes=data["changes"], digest=data["digest"][:16]
        )
    )


@main.command()
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def show(ctx: Context, ref: str, as_json: bool) -> None:
    """One proposal, round or decision in full, by a unique id prefix.

    A proposal with every version and its rounds; a round with every position and its
    outcome; a decision with its dates, the statement written at close and its effects.
    """
    from assemblymesh.show import find_item, item_data, item_lines

    with ctx.open() as local:
        state = local.state()
    _kind, item = find_item(state, ref)
    data = item_data(state, item)
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    for line in item_lines(data, words_of(state)):
        click.echo(line)


@main.command()
@click.option("--all", "show_all", is_flag=True, help="Also list acts the rules ignored.")
@pass_ctx
def log(ctx: Context, show_all: bool) -> None:
    """The audit trail: who did what, when (every act is signed and verified)."""
    with ctx.open() as local:
        state = local.state()
    names = {m.id: m.name for m in state.members.values()}
    # Acts, and what each decision's effects did when it took effect, in time order.
    entries = sorted([*state.audit, *state.effect_log], key=lambda e: e.ts)
    for entry in entries:
        if not entry.accepted and not show_all and not entry.act_type.startswith("effect:"):
            continue
        who = names.get(entry.member, short(entry.member))
        line = f"{when(entry.ts)}  {who:<16} {entry.act_type:<14} {entry.summary}"
        if not entry.accepted:
            marker = _("waits: {rule}") if entry.waiting else _("ignored: {rule}")
            line += "  [" + marker.format(rule=entry.rule) + "]"
        click.echo(line)


@main.command()
@pass_ctx
def rules(ctx: Context) -> None:
    """The rules in force (they govern rounds opened from now) and how they changed."""
    with ctx.open() as local:
        state = local.state()
    if state.assembly is None:
        raise UsageError(_("the assembly is not here yet: sync with a member"))
    r = state.assembly.rules
    hours = r.cooling_off_ms // 3_600_000
    days = r.review_period_ms // DAY_MS
    order = (
        _("most supported first")
        if r.agenda_order == process.ORDER_BY_SUPPORT
        else _("oldest first")
    )
    rows = [
        (_("cooling-off"), ngettext("{count} hour", "{count} hours", hours).format(count=hours)),
        (_("quorum"), str(r.quorum)),
        (_("review period"), ngettext("{count} day", "{count} days", days).format(count=days)),
        (_("block threshold"), str(r.block_threshold)),
        (
            _("meeting quorum"),
            ngettext("{count} member present", "{count} members present", r.meeting_quorum).format(
                count=r.meeting_quorum
            ),
        ),
        (_("agenda order"), order),
        (
            _("absence lookback"),
            ngettext("{count} meeting", "{count} meetings", r.absence_lookback).format(
                count=r.absence_lookback
            ),
        ),
    ]
    rows += _shape_rows(state)
    width = max(16, *(len(label) for label, _value in rows))
    for label, value in rows:
        click.echo(f"{label:<{width}} {value}")
    for change in state.rule_history:
        decision = _("(decision {decision})").format(decision=short(change.decision))
        click.echo(f"{when(change.ts)}  {change.rule}: {change.old} -> {change.new}  {decision}")


def _shape_rows(state: AssemblyState) -> list[tuple[str, str]]:
    """The phases and position kinds of rounds opened now, and the assembly's own roles."""
    words = words_of(state)
    shape = state.vocabulary.shape
    kinds = _("{kinds} (with a reason: {reasoned})").format(
        kinds=", ".join(words.kind(k) for k in shape.kinds),
        reasoned=", ".join(words.kind(k) for k in shape.reasoned),
    )
    rows = [
        (_("phases"), ", ".join(words.phase(p) for p in shape.phases)),
        (_("position kinds"), kinds),
    ]
    for role in state.vocabulary.roles.values():
        rows.append((
            _("own role"),
            _("{label} ({id}), terms of at most {days} days").format(
                label=words.role(role.id), id=role.id, days=role.max_term_days
            ),
        ))  # fmt: skip
    return rows


# --- the user interface ---------------------------------------------------------------


@main.command()
@click.option("--offline", is_flag=True, envvar="ASSEMBLYMESH_OFFLINE",
              help="Do not run the network node (work offline; sync later).")  # fmt: skip
@click.option("--no-mdns", is_flag=True, envvar="ASSEMBLYMESH_NO_MDNS",
              help="Do not advertise or browse on the LAN.")  # fmt: skip
@click.option("--plain", is_flag=True, envvar="ASSEMBLYMESH_PLAIN",
              help="Plain layout without frames (easier for screen readers).")  # fmt: skip
@click.option("--listen", default=None,
              help="HOST:PORT for the node beside the UI (default 0.0.0.0:7361).")  # fmt: skip
@pass_ctx
def tui(ctx: Context, offline: bool, no_mdns: bool, plain: bool, listen: str | None) -> None:
    """Open the terminal UI on the default assembly, with the network node beside it."""
    # Imported here: the UI pulls in Textual, which the other commands do not need.
    from assemblymesh.live import run

    listen_at = parse_address(listen, DEFAULT_PORT) if listen else ("0.0.0.0", DEFAULT_PORT)
    run(
        ctx.home,
        ctx.assembly,
        network=not offline,
        mdns=not no_mdns,
        plain=plain or ctx.plain,
        listen=listen_at,
    )


@main.command()
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the demo assembly in this directory instead of a temporary one.",
)
@click.option("--plain", is_flag=True, envvar="ASSEMBLYMESH_PLAIN",
              help="Plain layout without frames (easier for screen readers).")  # fmt: skip
@click.pass_context
def demo(ctx: click.Context, keep: Path | None, plain: bool) -> None:
    """Open a disposable assembly filled with a realistic meeting and simulated peers."""
    from assemblymesh.tui.demo import run_demo

    obj = ctx.find_object(Context)
    run_demo(keep, plain=plain or (obj is not None and obj.plain))


# --- the network ----------------------------------------------------------------------


def _addresses(values: tuple[str, ...], default_port: int) -> list[tuple[str, int]]:
    return [parse_address(v, default_port) for v in values]


def _log_to_stderr(verbose: bool) -> None:
    import logging

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )


@main.command()
@click.option(
    "--listen",
    default=None,
    help="HOST:PORT to listen on (default: every address, IPv6 and IPv4, port 7361).",
)
@click.option("--peer", "peers", multiple=True, help="HOST:PORT of a static peer (repeatable).")
@click.option("--no-mdns", is_flag=True, help="Do not advertise or browse on the LAN.")
@click.option("-v", "--verbose", is_flag=True)
@pass_ctx
def serve(
    ctx: Context, listen: str | None, peers: tuple[str, ...], no_mdns: bool, verbose: bool
) -> None:
    """Run this node: accept peers, dial peers, sync and gossip until Ctrl-C or SIGTERM."""
    import asyncio

    _log_to_stderr(verbose)
    listen_at = parse_address(listen, DEFAULT_PORT) if listen else (ALL_ADDRESSES, DEFAULT_PORT)
    static = _addresses(peers, DEFAULT_PORT)
    from assemblymesh.servelock import serving

    with ctx.open() as local, serving(local.directory):
        # The node also dials the address book's candidates (gossip capped, aged out).
        asyncio.run(local.serve(listen_at, static, not no_mdns))


@main.command(name="sync")
@click.option(
    "--peer", "peers", multiple=True, help="HOST:PORT (default: invite hints and peers met before)."
)
@click.option("--timeout", type=click.FloatRange(0.1), default=60.0, show_default=True)
@click.option("-v", "--verbose", is_flag=True)
@pass_ctx
def sync_command(ctx: Context, peers: tuple[str, ...], timeout: float, verbose: bool) -> None:
    """Sync once with a peer and exit with a summary."""
    if verbose:
        _log_to_stderr(verbose)
    with ctx.open(check=False) as local:
        targets = _addresses(peers, DEFAULT_PORT) or local.known_addresses()
        if not targets:
            raise UsageError(_("no peer to sync with: give --peer HOST:PORT"))
        failures = []
        for host, port in targets:
            try:
                summary = local.sync_once(host, port, timeout)
            except InviteRefused as exc:
                raise RemoteError(f"{host}:{port}: {exc.text}: {_(WAY_OUT)}") from exc
            except AssemblyMeshError as exc:
                # One line per address, then the next one: never a traceback.
                failures.append(f"{host}:{port}: {exc}")
                continue
            state = local.state()
            click.echo(
                _(
                    "synced with {peer}: sent {sent}, received {received}"
                    " ({new} new, {refused} refused), {size} bytes"
                ).format(
                    peer=f"{host}:{port}",
                    sent=summary.sent,
                    received=summary.received,
                    new=summary.applied,
                    refused=summary.rejected,
                    size=summary.bytes_sent + summary.bytes_received,
                )
            )
            if not state.is_member(local.member_id):
                click.echo(_("not admitted yet: the assembly has not received your join"))
            click.echo(_("digest {digest}").format(digest=local.record_summary().digest))
            return
    raise RemoteError("; ".join(failures))


@main.command()
@click.option("--nodes", type=click.IntRange(2, 10), default=5, show_default=True)
@click.option("--steps", type=click.IntRange(1, 5000), default=80, show_default=True)
@click.option("--topology", type=click.Choice(["line", "ring", "mesh"]), default="line",
              show_default=True)  # fmt: skip
@click.option("--seed", type=int, default=1, show_default=True)
def simulate(nodes: int, steps: int, topology: str, seed: int) -> None:
    """Simulate a meeting on a partitioned network: does every node end with the same
    record and the same outcomes? (Disposable assemblies; nothing touches your home.)"""
    from assemblymesh.sim.scenario import run_scenario

    report = run_scenario(nodes, steps, seed, topology)
    network = " ".join(report.events) or _("no partitions")
    click.echo(_("network: {events}").format(events=network))
    click.echo(
        _(
            "{acts} acts written, {refused} refused on the spot,"
            " {ignored} ignored by the rules once partitions healed"
        ).format(acts=report.acts, refused=report.refused, ignored=report.ignored)
    )
    for name, digest in report.nodes.items():
        states = sorted(report.outcomes[name].values())
        summary = ", ".join(f"{states.count(s)} {s}" for s in sorted(set(states)))
        node = _("record {digest}  proposals: {outcomes}").format(
            digest=digest.hex()[:16], outcomes=summary or _("none")
        )
        click.echo(f"  {name:<8} {node}")
    if not report.converged:
        raise AssemblyMeshError(_("the nodes did NOT converge"))
    click.echo(_("converged: every node holds the same record and the same outcomes"))


# --- sneakernet: bundles on a USB stick, and the offline install kit ------------------


@contextmanager
def _progress(length: int, label: str) -> Iterator[Any]:
    """A progress bar on stderr when it is a terminal; otherwise a callback that does nothing."""
    if length <= 0 or not sys.stderr.isatty():
        yield lambda n: None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield bar.update


def _write_atomically(path: Path, write: Any) -> Any:
    """Write ``path`` through a temporary file beside it: a failure leaves no half file."""
    import os

    part = path.with_name(path.name + ".part")
    try:
        with part.open("wb") as out:
            result = write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, path)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise UsageError(
            _("cannot write {path}: {problem}").format(path=path, problem=exc.strerror or exc)
        ) from exc
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return result


@contextmanager
def _io_errors(path: Path) -> Iterator[None]:
    """A failing disk or stick (or a full spool) is one line, like every other error."""
    try:
        yield
    except OSError as exc:
        raise UsageError(
            _("cannot read {path}: {problem}").format(path=path, problem=exc.strerror or exc)
        ) from exc


def _open_input(path: Path) -> Any:
    try:
        return path.open("rb")
    except OSError as exc:
        raise UsageError(
            _("cannot read {path}: {problem}").format(path=path, problem=exc.strerror or exc)
        ) from exc


@main.group()
def bundle() -> None:
    """Carry changes between nodes that never meet: files on a USB stick."""


@bundle.command(name="export")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--for",
    "vector_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A vector file from the recipient ('bundle vector'): export only what it lacks.",
)
@pass_ctx
def bundle_export(ctx: Context, path: Path, vector_path: Path | None) -> None:
    """Write this node's changes (or only what the recipient lacks) to FILE."""
    with ctx.open() as local:
        theirs: dict[bytes, tuple[int, bytes]] = {}
        if vector_path is not None:
            with _open_input(vector_path) as source, _io_errors(vector_path):
                theirs = local.read_vector_file(source)
        total = local.bundle_size(theirs)
        if total == 0:
            click.echo(
                _("nothing to export: the recipient already holds all {count} changes here").format(
                    count=local.record_summary().changes
                )
            )
            return
        with _progress(total, _("exporting")) as tick:
            summary = _write_atomically(path, lambda out: local.write_bundle(out, theirs, tick))
    click.echo(
        _(
            "wrote {changes} changes in {batches} batches to {path}"
            " ({size} bytes, encrypted and signed)"
        ).format(changes=summary.changes, batches=summary.batches, path=path, size=summary.size)
    )


@bundle.command(name="vector")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
def bundle_vector(ctx: Context, path: Path) -> None:
    """Write what this node holds (its version vector) to FILE, for the courier to carry
    to a node that will 'bundle export --for FILE'."""
    with ctx.open() as local:
        size = _write_atomically(path, local.write_vector_file)
        count = local.record_summary().changes
    click.echo(
        _(
            "wrote the vector of {count} changes to {path} ({size} bytes, encrypted and signed)"
        ).format(count=count, path=path, size=size)
    )


@bundle.command(name="import")
@click.argument(
    "path", metavar="FILE", type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@pass_ctx
def bundle_import(ctx: Context, path: Path) -> None:
    """Check FILE completely, then ingest its changes with the network's rules."""
    import tempfile

    with ctx.open() as local, _open_input(path) as source, _io_errors(path):
        size = path.stat().st_size
        with tempfile.TemporaryFile(dir=local.directory) as spool:
            with _progress(size, _("checking")) as tick:
                verified = local.verify_bundle(source, spool, tick)
            with _progress(verified.changes, _("importing")) as tick:
                summary = local.import_bundle(verified, tick)
        signer = verified.signer
        click.echo(
            _(
                "bundle from device {device} of member {member}, made {when}: {changes} changes"
            ).format(
                device=short(signer.device.hex()),
                member=short(signer.member.hex()),
                when=when(signer.created_ms),
                changes=summary.changes,
            )
        )
        if summary.applied == 0 and summary.duplicates == summary.changes:
            click.echo(
                _("nothing new: all {count} changes are already here").format(count=summary.changes)
            )
        else:
            click.echo(
                _(
                    "applied {applied}, already here {duplicates},"
                    " waiting for earlier changes {buffered}, refused {refused}"
                ).format(
                    applied=summary.applied,
                    duplicates=summary.duplicates,
                    buffered=summary.buffered,
                    refused=summary.refused,
                )
            )
            for reason, count in sorted(summary.rejected.items()):
                click.echo(
                    "  " + _("refused ({reason}): {count}").format(reason=reason, count=count)
                )
            for detail in summary.details:
                click.echo(f"    {detail}")
        record = local.record_summary()
        click.echo(
            _("{changes} changes here, digest {digest}").format(
                changes=record.changes, digest=record.digest
            )
        )


@main.group()
def kit() -> None:
    """The offline install kit: AssemblyMesh and its dependencies on a USB stick."""


@kit.command(name="build")
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--platform",
    "arches",
    multiple=True,
    type=click.Choice(["x86_64", "aarch64"]),
    help="Linux architecture to include (repeatable; default: x86_64 and aarch64).",
)
@click.option(
    "--python",
    "pythons",
    multiple=True,
    help="Python version to include, like 3.12 (repeatable; default: 3.11, 3.12, 3.13).",
)
@click.option("--current", is_flag=True, help="Only this machine's platform and Python.")
@click.option("--glibc", default="2.28", show_default=True, help="Oldest glibc to support.")
@click.option(
    "--source",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The AssemblyMesh source tree (default: the one this program runs from).",
)
def kit_build(
    directory: Path,
    arches: tuple[str, ...],
    pythons: tuple[str, ...],
    current: bool,
    glibc: str,
    source: Path | None,
) -> None:
    """Write the wheels of AssemblyMesh and every dependency, checksums, a README and an
    install.sh to DIR (needs the package index; installing from the kit needs nothing)."""
    from assemblymesh import kit as kits

    if current:
        if arches or pythons:
            raise UsageError(_("--current cannot be combined with --platform or --python"))
        wanted = [kits.current_target()]
    else:
        wanted = kits.targets(arches or kits.ARCHES, pythons or kits.PYTHONS)
    report = kits.build_kit(
        directory, wanted, source=source, glibc=glibc, log=lambda line: click.echo(line, err=True)
    )
    for target in report.included:
        click.echo(_("included {target}").format(target=target.name))
    for name, why in report.skipped.items():
        click.echo(_("left out {target}: {why}").format(target=name, why=why))
    click.echo(
        _("{count} wheels; install with: sh {script}").format(
            count=len(report.wheels), script=directory / "install.sh"
        )
    )


# --- options accepted after a command's name too ----------------------------------------


def _set_home(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    obj = ctx.find_object(Context)
    if value is not None and obj is not None:
        obj.home = Home(value)


def _set_language(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        i18n.set_language(value)


def _home_after_every_command(group: click.Group) -> None:
    """``assemblymesh status --home DIR`` as well as ``assemblymesh --home DIR status``,
    and the same for ``--lang`` (which groups take too: ``round --lang es --help``)."""
    for command in group.commands.values():
        if isinstance(command, click.Group):
            _home_after_every_command(command)
        elif command.name not in ("demo", "simulate"):  # they make their own homes
            command.params.append(
                click.Option(
                    ["--home"],
                    type=click.Path(file_okay=False, path_type=Path),
                    expose_value=False,
                    callback=_set_home,
                    help="Where keys and the store live (as before the command).",
                )
            )
        command.params.append(
            click.Option(
                ["--lang"],
                is_eager=True,
                expose_value=False,
                callback=_set_language,
                help="Language of the messages (as before the command).",
            )
        )


# Each practice's commands live in a module of their own beside this one and register on
# ``main`` when imported here (the imports sit last: they need ``main`` and ``Context``).
from assemblymesh.cli import practices  # noqa: E402

practices.register(main)
_home_after_every_command(main)
helptext.translate_help_everywhere(main)
clicktext.route_click_messages()
