"""A refusal in the words of the person who was refused.

The fold words each refusal in English (``IllegalMoveError.detail``), and that English is
what the audit keeps on every node. A command refused on this node shows the same refusal
in the chosen language: the detail is matched against the shapes below, one for each
refusal the rule book words, and said again through the catalogue with the same values.
A detail no shape matches is shown as it is.
"""

from __future__ import annotations

from typing import Final

from assemblymesh.errors import IllegalMoveError
from assemblymesh.i18n import N_, _
from assemblymesh.model.shapes import Shapes

# The details of the refusals raised in model/, their values as fields; keep in step with
# them (a detail that no longer matches is shown in English, never lost).
REFUSALS: Final = (
    N_("unknown act type {act_type}"),
    N_("epoch {number} does not follow the current epoch {current}"),
    N_("no rotation of the secret is due"),
    N_("epoch {number} is not the current epoch {current}"),
    N_("the check is not epoch {number}'s"),
    N_("device {device} was revoked before this change of it"),
    N_("the deadline is earlier than the round's open time"),
    N_("act id {id} was already used"),
    N_("the assembly's genesis act is not here yet"),
    N_("{member} is not a member"),
    N_("{name} was removed by a decision"),
    N_("{name} has no standing now"),
    N_("{name} is a supporter: supporters propose and advise"),
    N_("{name} is not a facilitator now"),
    N_("no proposal {ref}"),
    N_("no round {ref}"),
    N_("{member} is no member without a device"),
    N_("{name}'s membership was already claimed"),
    N_("{what} must end in the future"),
    N_("{what} may run at most {days} days"),
    N_("roles change by a decision: propose one with a grant_role or end_role effect"),
    N_("{member} is not a participant"),
    N_("{name} is {kind}"),
    N_("{name} is a supporter"),
    N_("{name} is not {role} now"),
    N_("{rule} must be at least {minimum}"),
    N_("a standing must end after it begins"),
    N_("the assembly id is not this member's"),
    N_("the assembly was already created"),
    N_("invite {key} is already known"),
    N_("the invite expires before it is made"),
    N_("{member} is already a member"),
    N_("inviter {inviter} is not a member"),
    N_("the invite had expired"),
    N_("invite {key} already admitted someone"),
    N_("the invite is for another assembly"),
    N_("two member keys claim invite {key}; it waits for its inviter's admit"),
    N_("the inviter admitted another join with invite {key}"),
    N_("only the inviter admits its invite's join"),
    N_("only the author or a facilitator amends"),
    N_("only the author withdraws a proposal"),
    N_("version {version} is not the latest ({latest})"),
    N_("the round is in {phase}; it cannot go to {to}"),
    N_("an objection must give its reason"),
    N_("{name} gave their own position"),
    N_("{name} has a later position"),
    N_("round {round} is closed"),
    N_("decision {decision} took effect before this objection"),
    N_("round {round} was already closed by {name}"),
    N_("the certificate is not the member key's for this device"),
    N_("the revocation is not signed by the member's key"),
    N_("device {device} is already revoked"),
    N_("{name} is not a member who counts"),
    N_("a claim invite is a member invite"),
    N_("the invite is malformed"),
    N_("the invite or its proof does not verify"),
    N_("no admitted join {ref}"),
    N_("an adopted decision reopens when due for review"),
    N_("{name} is a supporter: only members by proxy"),
    N_("{name} takes no part now"),
    N_("a lengthen_fund effect must be the only effect of its proposal"),
    N_("no fund {ref}"),
    N_("no partnership {ref}"),
    N_("an open fund is named {name}"),
    N_("{name} is not a supporter"),
    N_("the dissolution date has passed"),
    N_("a fund lives at most {years} years"),
    N_("a fund that gives its balance names to whom"),
    N_("fund {name} dissolved on {date}"),
    N_("no pledge of this participant to {name}"),
    N_("the pledge to {name} is already {state}"),
    N_("only the current steward of {name} disburses"),
    N_(
        "{amount} {unit} is above the threshold of {threshold}:"
        " it needs a decision with a disburse effect"
    ),
    N_("{amount} {unit} is more than the balance of {balance}"),
    N_("lengthen_fund needs a later date"),
    N_("the new date is too far off"),
    N_(
        "shorten_fund only brings the date forward;"
        " lengthening needs its own decision with a lengthen_fund effect"
    ),
    N_("this publication is this assembly's own"),
    N_("publication {publication} is already in the library"),
    N_("the library holds {count} publications"),
    N_("item {origin} is not in the library"),
    N_("{member} is not this meeting's facilitator ({facilitator})"),
    N_("no meeting {ref}"),
    N_("no agenda item {ref}{where}"),
    N_("the meeting is {state}: no {what}"),
    N_("{what} only while the meeting sits (it is {state})"),
    N_("a proposal item, and only a proposal item, names a proposal"),
    N_("an agenda item needs a title"),
    N_("{member} already supports it"),
    N_("in a reflection meeting the members' support orders the agenda"),
    N_("a reorder names each item once"),
    N_("the meeting is {state}: no outcomes"),
    N_("no decision {decision}"),
    N_("{who} is already in the queue"),
    N_("{who} has no hand up"),
    N_("{member} steps back in this meeting: others in the queue speak first"),
    N_("a recorded turn names who spoke"),
    N_("{supporter} is not an outside supporter"),
    N_("the meeting is {state}: no minutes"),
    N_("{note_taker} takes this meeting's notes"),
    N_("the hash is not the hash of the text"),
    N_("the {role}, {member}, is {who}"),
    N_(
        "{name} facilitated most of the last meetings: they step back and"
        " cannot be the {role} of an absence meeting"
    ),
    N_("{present} members present; the meeting quorum is {need}"),
    N_("the document does not belong to a member key"),
    N_("the sunset has passed"),
    N_("{name} transfers no skill {skill}"),
    N_("{skill} is to be learnt by another member: they confirm it"),
    N_("{skill} was already confirmed"),
    N_("renew_partnership needs a later sunset"),
    N_("{name} has ended"),
    N_(
        "shorten_partnership only brings the sunset forward;"
        " renewing needs a decision with a renew_partnership effect"
    ),
    N_("a round in phase {phase} allows no {type}"),
    N_("a {kind} belongs to the {allowed} phase; the round is in {phase}"),
    N_("a proposal that is {state} allows no {event}"),
    N_("a meeting that is {state} cannot be {to}"),
    N_("a decision that is {status} allows no {event}"),
    N_("an answer names the question it answers"),
    N_("{parent} is not a question of this round"),
    N_("a {kind} answers nothing: no parent"),
    # The assembly's own words and the shape of its rounds (model.vocabulary).
    N_("a round must have its positions phase (positions)"),
    N_("a blocking position kind ({kind}) must exist"),
    N_("the blocking kind ({kind}) must give a reason"),
    N_("phases go in their order (questions, reactions, positions), once"),
    N_("a kind that gives a reason must exist"),
    N_("the assembly has no role {role}"),
    N_("a term as {role} runs at most {days} days"),
    N_("{role} is already a term of the assembly"),
    N_("an assembly has at most {count} own roles"),
    N_("no term {term} to name"),
    N_("round {round} takes no {kind} (it takes {kinds})"),
    N_("a position of kind {kind} must give its reason"),
)
_REFUSALS = Shapes(REFUSALS)
# How model.publication begins the reason a file is refused for.
PUBLICATION_REFUSED: Final = "publication refused: "


def in_words(detail: str) -> str:
    """``detail`` in the chosen language (the values it names are kept as they are)."""
    # An import of a publication that does not verify is refused with the file's reason.
    if detail.startswith(PUBLICATION_REFUSED):
        from assemblymesh.model.publication import in_words as publication_in_words

        return publication_in_words(detail)
    return _REFUSALS.in_words(detail)


def refusal_line(error: IllegalMoveError) -> str:
    """The one line a refused command shows: the detail in words, then the rule's name."""
    return _("{detail} (rule: {rule})").format(detail=in_words(error.detail), rule=error.rule)
