"""Publication files: what one assembly publishes for others (``docs/protocol.md`` §10).

A publication is a self-contained, signed file. Its *header* names the publishing assembly,
lists the ids of its items (each the hash of the item's bytes) and carries a proof that the
signing device writes for a member of that assembly: the founder's key and the nonce (which
hash to the assembly id), the invites and invite proofs from the founder down to the
publishing member, and the device's certificate. The device signs the header. Items copied
from another assembly's publication keep their bytes, hence their id, and the header names
the publications they came through (``via``); the file carries those earlier headers with
their signatures (``hops``), so every hop of the provenance is verified on import.

``seal`` writes a file, ``read_publication`` checks one completely and returns what it says,
or raises ``PublicationError`` with a one-line reason. Both are pure: no clock, no store.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import msgpack

from assemblymesh.crdt.identity import (
    ASSEMBLY_ID_SIZE,
    KEY_SIZE,
    SIGNATURE_SIZE,
    DeviceCertificate,
    InvalidSignature,
    Invite,
    SigningKey,
    assembly_id_for,
    verify,
    verify_invite_proof,
)
from assemblymesh.errors import PublicationError
from assemblymesh.i18n import N_, _, label
from assemblymesh.model.acts import MAX_LINE_LEN, MAX_PUBLICATION_BYTES, MAX_TEXT_LEN, text_problem
from assemblymesh.model.shapes import Shapes

MAGIC: Final = "assemblymesh/publication"
VERSION: Final = 1
SIGNATURE_CONTEXT: Final = b"assemblymesh/publication/v1\x00"
ITEM_ID_CONTEXT: Final = b"assemblymesh/published-item/v1\x00"
PUBLICATION_ID_CONTEXT: Final = b"assemblymesh/publication-id/v1\x00"
ID_SIZE: Final = 16
MAX_ITEMS: Final = 64
MAX_VIA: Final = 8  # hops of provenance an item may carry
MAX_HOPS: Final = 32  # earlier publications one file carries
MAX_CHAIN: Final = 64  # invites from the founder to the publisher
MAX_FIELDS_DEPTH: Final = 4
ADOPTION: Final = "adoption"  # the kind of an adoption note


def _bad(detail: str) -> PublicationError:
    return PublicationError(f"malformed: {detail}")


def packb(value: Any) -> bytes:
    """Canonical msgpack: map keys sorted, shortest forms, ``bin`` for bytes."""
    packed: bytes = msgpack.packb(_sorted(value), use_bin_type=True)
    return packed


def _sorted(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [_sorted(v) for v in value]
    return value


def _unpack(data: bytes, what: str) -> Any:
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=True, max_bin_len=len(data))
    except Exception as exc:  # msgpack raises several unrelated types on bad input
        raise _bad(f"the {what} does not decode") from exc


def item_id(data: bytes) -> bytes:
    return hashlib.blake2b(ITEM_ID_CONTEXT + data, digest_size=ID_SIZE).digest()


def publication_id(header: bytes) -> bytes:
    return hashlib.blake2b(PUBLICATION_ID_CONTEXT + header, digest_size=ID_SIZE).digest()


# --- items -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One published item: a ``kind`` (``decision``, ``proposal``, ``lesson``, ``experiment``,
    ``adoption``, and whatever kinds later versions add: ``fund_report``, ``minutes``,
    ``metric``, ...), a title, a body, and kind-specific ``fields`` of plain values."""

    kind: str
    title: str
    body: str = ""
    fields: Mapping[str, Any] = field(default_factory=dict)

    def encode(self) -> bytes:
        return packb({"kind": self.kind, "title": self.title, "body": self.body,
                      "fields": self.fields})  # fmt: skip

    @property
    def id(self) -> str:
        return item_id(self.encode()).hex()

    @classmethod
    def decode(cls, data: bytes) -> Item:
        raw = _unpack(data, "item")
        if not isinstance(raw, dict):
            raise _bad("an item is not a map")
        kind, title, body = raw.get("kind"), raw.get("title"), raw.get("body", "")
        fields = raw.get("fields", {})
        if not (isinstance(kind, str) and 0 < len(kind) <= 40 and kind.isascii()):
            raise _bad("an item has no kind")
        _check_text(title, "an item's title", line=True, required=True)
        _check_text(body, "an item's body", line=False)
        if not isinstance(fields, dict):
            raise _bad("an item's fields are not a map")
        _check_plain(fields, 0)
        assert isinstance(title, str) and isinstance(body, str)
        return cls(kind, title, body, fields)


def _check_text(value: object, what: str, *, line: bool, required: bool = False) -> None:
    if not isinstance(value, str):
        raise _bad(f"{what} is not text")
    if required and not value.strip():
        raise _bad(f"{what} is empty")
    if len(value) > (MAX_LINE_LEN if line else MAX_TEXT_LEN):
        raise _bad(f"{what} is too long")
    problem = text_problem(value, line=line)
    if problem is not None:
        raise _bad(f"{what} {problem}")


def _check_plain(value: object, depth: int) -> None:
    """Fields hold text, integers, booleans, null, lists and maps, nested a little."""
    if depth > MAX_FIELDS_DEPTH:
        raise _bad("an item's fields nest too deep")
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise _bad("an item's field names are not text")
            _check_plain(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _check_plain(v, depth + 1)
    elif isinstance(value, str):
        _check_text(value, "an item's field", line=False)
    elif value is not None and not isinstance(value, (bool, int)):
        raise _bad("an item's fields hold something other than text, numbers and lists")


# --- attribution: who signed, for which assembly ----------------------------------------------


@dataclass(frozen=True)
class Attribution:
    """The proof that a device writes for a member who descends, invite by invite, from the
    founder of the assembly: ``chain`` holds (encoded invite, invite proof) per hop."""

    founder: bytes
    nonce: bytes
    chain: tuple[tuple[bytes, bytes], ...]
    certificate: DeviceCertificate

    def to_plain(self) -> dict[str, Any]:
        return {
            "founder": self.founder,
            "nonce": self.nonce,
            "chain": [[invite, proof] for invite, proof in self.chain],
            "cert": self.certificate.encode(),
        }

    @classmethod
    def from_plain(cls, raw: object) -> Attribution:
        if not isinstance(raw, dict):
            raise _bad("the proof of membership is missing")
        founder, nonce, chain = raw.get("founder"), raw.get("nonce"), raw.get("chain")
        if not (isinstance(founder, bytes) and len(founder) == KEY_SIZE):
            raise _bad("the founder's key is malformed")
        if not (isinstance(nonce, bytes) and 0 < len(nonce) <= 64):
            raise _bad("the assembly nonce is malformed")
        if not isinstance(chain, list) or len(chain) > MAX_CHAIN:
            raise _bad("the chain of invites is malformed")
        hops = []
        for hop in chain:
            if not (
                isinstance(hop, list) and len(hop) == 2 and all(isinstance(h, bytes) for h in hop)
            ):
                raise _bad("the chain of invites is malformed")
            hops.append((hop[0], hop[1]))
        cert = raw.get("cert")
        try:
            certificate = DeviceCertificate.decode(cert if isinstance(cert, bytes) else b"")
        except InvalidSignature as exc:
            raise _bad("the device certificate is malformed") from exc
        return cls(founder, nonce, tuple(hops), certificate)

    def verify(self, assembly: bytes) -> None:
        """Raise ``PublicationError`` unless this proves membership of ``assembly``."""
        if assembly_id_for(self.founder, self.nonce) != assembly:
            raise PublicationError("the publication's founder key does not make its assembly id")
        member = self.founder
        try:
            invites = [Invite.decode(invite) for invite, _ in self.chain]
            joiners = [i.inviter for i in invites[1:]] + [self.certificate.member]
            for invite, (_, proof), joiner in zip(invites, self.chain, joiners, strict=False):
                if invite.assembly != assembly or invite.inviter != member:
                    raise PublicationError("the chain of invites is broken")
                verify_invite_proof(invite, joiner, proof)
                member = joiner
            cert = self.certificate
            if cert.assembly != assembly or cert.member != member:
                raise PublicationError("the signing device is not certified by the chain's member")
            cert.verify()
        except InvalidSignature as exc:
            raise PublicationError("an invite or certificate of the proof does not verify") from exc


# --- headers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    """What a publisher signs."""

    assembly: bytes
    assembly_name: str
    created_ms: int
    title: str
    note: str
    publisher_name: str  # empty unless the publisher agreed to be named and chose to
    items: tuple[tuple[bytes, tuple[bytes, ...]], ...]  # (item id, via: publication ids)
    proof: Attribution

    def encode(self) -> bytes:
        return packb(
            {
                "v": VERSION,
                "assembly": self.assembly,
                "assembly_name": self.assembly_name,
                "created_ms": self.created_ms,
                "title": self.title,
                "note": self.note,
                "publisher": self.publisher_name,
                "items": [[i, list(via)] for i, via in self.items],
                "proof": self.proof.to_plain(),
            }
        )

    @property
    def member(self) -> bytes:
        return self.proof.certificate.member

    def via_of(self, item: bytes) -> tuple[bytes, ...] | None:
        for i, via in self.items:
            if i == item:
                return via
        return None


def _read_header(data: bytes, signature: bytes) -> Header:
    """A header whose proof and signature verify; ``PublicationError`` otherwise."""
    raw = _unpack(data, "header")
    if not isinstance(raw, dict) or raw.get("v") != VERSION:
        raise _bad(f"the header is not version {VERSION}")
    assembly, created = raw.get("assembly"), raw.get("created_ms")
    if not (isinstance(assembly, bytes) and len(assembly) == ASSEMBLY_ID_SIZE):
        raise _bad("the assembly id is malformed")
    if type(created) is not int or created < 0:
        raise _bad("the creation time is malformed")
    _check_text(raw.get("assembly_name"), "the assembly name", line=True, required=True)
    _check_text(raw.get("title"), "the title", line=True, required=True)
    _check_text(raw.get("note", ""), "the note", line=False)
    _check_text(raw.get("publisher", ""), "the publisher's name", line=True)
    header = Header(
        assembly, raw["assembly_name"], created, raw["title"], raw.get("note", ""),
        raw.get("publisher", ""), _read_item_list(raw.get("items")),
        Attribution.from_plain(raw.get("proof")),
    )  # fmt: skip
    if header.encode() != data:
        raise _bad("the header is not in its canonical form")
    header.proof.verify(assembly)
    try:
        verify(header.proof.certificate.device, SIGNATURE_CONTEXT, data, signature)
    except InvalidSignature as exc:
        raise PublicationError("the publication's signature does not verify: altered") from exc
    return header


def _read_item_list(raw: object) -> tuple[tuple[bytes, tuple[bytes, ...]], ...]:
    if not isinstance(raw, list) or not 0 < len(raw) <= MAX_ITEMS:
        raise _bad(f"a publication lists 1 to {MAX_ITEMS} items")
    out = []
    for entry in raw:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], list)):
            raise _bad("an item entry is malformed")
        ident, via = entry
        ids = [ident, *via]
        if len(via) > MAX_VIA or not all(isinstance(i, bytes) and len(i) == ID_SIZE for i in ids):
            raise _bad("an item entry is malformed")
        out.append((ident, tuple(via)))
    if len({i for i, _ in out}) != len(out):
        raise _bad("an item is listed twice")
    return tuple(out)


# --- the whole file ------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """An earlier publication an item came through: who published it, as it says."""

    publication: str  # hex id
    assembly: str  # hex id
    assembly_name: str
    created_ms: int


@dataclass(frozen=True)
class PublishedItem:
    id: str  # hex
    item: Item
    via: tuple[Source, ...]  # origin first; empty: first published here
    origin_assembly: str  # hex: who first published it
    origin_name: str
    adopts: str | None = None  # an adoption note: the id of the item its assembly adopted
    adopts_from: str | None = None  # ... first published by this assembly (hex)


@dataclass(frozen=True)
class Publication:
    """A verified publication, and the bytes it came in (to carry it on)."""

    id: str  # hex
    header: Header
    items: tuple[PublishedItem, ...]
    data: bytes  # the whole file
    header_bytes: bytes
    signature: bytes
    item_bytes: Mapping[str, bytes]  # item id hex -> bytes
    hops: Mapping[bytes, tuple[bytes, bytes]]  # publication id -> (header, signature)

    @property
    def assembly(self) -> str:
        return self.header.assembly.hex()


def seal(
    header: Header,
    items: Sequence[bytes],
    hops: Mapping[bytes, tuple[bytes, bytes]],
    device_key: SigningKey,
) -> bytes:
    """The publication file of ``header`` (signed here by ``device_key``), its items' bytes
    (in the header's order) and the earlier publications their provenance names."""
    data = header.encode()
    signature = device_key.sign(SIGNATURE_CONTEXT, data)
    body = [
        MAGIC,
        VERSION,
        data,
        signature,
        list(items),
        [list(h) for _, h in sorted(hops.items())],
    ]
    packed = packb(body)
    if len(packed) > MAX_PUBLICATION_BYTES:
        raise PublicationError(
            f"the publication would take {len(packed):,} bytes; the limit is"
            f" {MAX_PUBLICATION_BYTES:,}: publish fewer items"
        )
    return packed


def read_publication(data: bytes) -> Publication:
    """Check a publication file completely; ``PublicationError`` (one line) if it fails."""
    try:
        return _read_cached(bytes(data))
    except PublicationError as exc:
        raise PublicationError(f"publication refused: {exc.detail}") from None


@functools.lru_cache(maxsize=300)  # more than a library holds
def _read_cached(data: bytes) -> Publication:
    header_bytes, signature, items, hops = _read_envelope(data)
    header = _read_header(header_bytes, signature)
    verified_hops = _read_hops(hops)
    if len(items) != len(header.items) or not all(isinstance(i, bytes) for i in items):
        raise PublicationError("the publication's items do not match its header: altered")
    published = []
    item_bytes = {}
    for (ident, via), blob in zip(header.items, items, strict=True):
        if item_id(blob) != ident:
            raise PublicationError("an item does not match its signed id: altered")
        published.append(_published(ident, via, Item.decode(blob), header, verified_hops))
        item_bytes[ident.hex()] = blob
    return Publication(
        publication_id(header_bytes).hex(), header, tuple(published), data, header_bytes,
        signature, item_bytes, {k: v[1] for k, v in verified_hops.items()},
    )  # fmt: skip


def _read_envelope(data: bytes) -> tuple[bytes, bytes, list[Any], list[Any]]:
    """The file's parts: header, signature, items, earlier publications (unchecked)."""
    if len(data) > MAX_PUBLICATION_BYTES:
        raise _bad(f"it is larger than {MAX_PUBLICATION_BYTES:,} bytes")
    raw = _unpack(data, "file")
    if not (isinstance(raw, list) and len(raw) == 6 and raw[0] == MAGIC):
        raise PublicationError("it is not an AssemblyMesh publication file")
    _, version, header_bytes, signature, items, hops = raw
    if version != VERSION:
        raise _bad(f"version {version!r} is not supported")
    if not (isinstance(header_bytes, bytes) and _is_signature(signature)):
        raise _bad("the header or signature is malformed")
    if not (isinstance(items, list) and isinstance(hops, list) and len(hops) <= MAX_HOPS):
        raise _bad("the items or earlier publications are malformed")
    if packb(raw) != data:
        raise _bad("the file is not in its canonical form")
    return header_bytes, signature, items, hops


def _is_signature(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == SIGNATURE_SIZE


def _read_hops(hops: list[Any]) -> dict[bytes, tuple[Header, tuple[bytes, bytes]]]:
    out: dict[bytes, tuple[Header, tuple[bytes, bytes]]] = {}
    for hop in hops:
        if not (isinstance(hop, list) and len(hop) == 2 and isinstance(hop[0], bytes)):
            raise _bad("an earlier publication is malformed")
        if not _is_signature(hop[1]):
            raise _bad("an earlier publication's signature is malformed")
        try:
            header = _read_header(hop[0], hop[1])
        except PublicationError as exc:
            raise PublicationError(f"an earlier publication it names: {exc.detail}") from exc
        out[publication_id(hop[0])] = (header, (hop[0], hop[1]))
    return out


def _published(
    ident: bytes,
    via: tuple[bytes, ...],
    item: Item,
    header: Header,
    hops: Mapping[bytes, tuple[Header, tuple[bytes, bytes]]],
) -> PublishedItem:
    """The item with its provenance checked: every publication in ``via`` is here, signed,
    and lists the item with the provenance before it."""
    sources = []
    for n, pub in enumerate(via):
        hop = hops.get(pub)
        if hop is None or hop[0].via_of(ident) != via[:n]:
            raise PublicationError("an item's chain of provenance is broken")
        h = hop[0]
        sources.append(Source(pub.hex(), h.assembly.hex(), h.assembly_name, h.created_ms))
    origin = sources[0] if sources else None
    adopts = adopts_from = None
    if item.kind == ADOPTION:
        adopts, adopts_from = _adoption_origin(item, hops)
    return PublishedItem(
        ident.hex(),
        item,
        tuple(sources),
        origin.assembly if origin else header.assembly.hex(),
        origin.assembly_name if origin else header.assembly_name,
        adopts,
        adopts_from,
    )


def _adoption_origin(
    item: Item, hops: Mapping[bytes, tuple[Header, tuple[bytes, bytes]]]
) -> tuple[str, str]:
    """An adoption note names the item adopted and the publication it came in, which the
    file carries: who first published the adopted item is then verified, not claimed."""
    origin, pub = item.fields.get("origin_item"), item.fields.get("origin_publication")
    try:
        origin_id, pub_id = bytes.fromhex(str(origin)), bytes.fromhex(str(pub))
    except ValueError as exc:
        raise _bad("an adoption note does not name what it adopted") from exc
    hop = hops.get(pub_id)
    via = hop[0].via_of(origin_id) if hop is not None else None
    if hop is None or via is None:
        raise PublicationError("an adoption note's origin publication is not in the file")
    first = hops.get(via[0]) if via else hop
    if first is None:
        raise PublicationError("an adoption note's origin is not in the file")
    return origin_id.hex(), first[0].assembly.hex()


# --- the refusals in words ------------------------------------------------------------------------

# A file refused here is refused in English (the fold keeps it as an import's refusal on every
# node); a person reads it in the chosen language through these shapes. Keep them in step with
# the details above: a detail no shape matches is shown as it is.
REFUSAL_PREFIXES: Final = (
    N_("publication refused: {detail}"),
    N_("malformed: {detail}"),
    N_("an earlier publication it names: {detail}"),
)
# What a text check names, and what it may find wrong with it.
CHECKED_TEXTS: Final[Mapping[str, str]] = {
    "the assembly name": N_("the assembly name"),
    "the title": N_("the title"),
    "the note": N_("the note"),
    "the publisher's name": N_("the publisher's name"),
    "an item's title": N_("an item's title"),
    "an item's body": N_("an item's body"),
    "an item's field": N_("an item's field"),
}
TEXT_PROBLEMS: Final = Shapes((
    N_("{what} is not text"),
    N_("{what} is empty"),
    N_("{what} is too long"),
    N_("{what} contains the direction control {code}"),
    N_("{what} contains the control character {code}"),
))  # fmt: skip
PUBLICATION_PROBLEMS: Final = Shapes((
    N_("the item does not decode"),
    N_("the header does not decode"),
    N_("the file does not decode"),
    N_("an item is not a map"),
    N_("an item has no kind"),
    N_("an item's fields are not a map"),
    N_("an item's fields nest too deep"),
    N_("an item's field names are not text"),
    N_("an item's fields hold something other than text, numbers and lists"),
    N_("the proof of membership is missing"),
    N_("the founder's key is malformed"),
    N_("the assembly nonce is malformed"),
    N_("the chain of invites is malformed"),
    N_("the device certificate is malformed"),
    N_("the publication's founder key does not make its assembly id"),
    N_("the chain of invites is broken"),
    N_("the signing device is not certified by the chain's member"),
    N_("an invite or certificate of the proof does not verify"),
    N_("the header is not version {version}"),
    N_("the assembly id is malformed"),
    N_("the creation time is malformed"),
    N_("the header is not in its canonical form"),
    N_("the publication's signature does not verify: altered"),
    N_("a publication lists 1 to {count} items"),
    N_("an item entry is malformed"),
    N_("an item is listed twice"),
    N_("the publication would take {size} bytes; the limit is {limit}: publish fewer items"),
    N_("the publication's items do not match its header: altered"),
    N_("an item does not match its signed id: altered"),
    N_("it is larger than {size} bytes"),
    N_("it is not an AssemblyMesh publication file"),
    N_("version {version} is not supported"),
    N_("the header or signature is malformed"),
    N_("the items or earlier publications are malformed"),
    N_("the file is not in its canonical form"),
    N_("an earlier publication is malformed"),
    N_("an earlier publication's signature is malformed"),
    N_("an item's chain of provenance is broken"),
    N_("an adoption note does not name what it adopted"),
    N_("an adoption note's origin publication is not in the file"),
    N_("an adoption note's origin is not in the file"),
))  # fmt: skip


def in_words(detail: str) -> str:
    """Why a publication was refused (``PublicationError``'s English detail), in the chosen
    language; the values it names are kept as they are."""
    for shape in REFUSAL_PREFIXES:
        head = shape.split("{detail}")[0]
        if detail.startswith(head):
            return _(shape).format(detail=in_words(detail[len(head) :]))
    if any(detail.startswith(what + " ") for what in CHECKED_TEXTS):
        return TEXT_PROBLEMS.in_words(detail, _checked_text)
    return PUBLICATION_PROBLEMS.in_words(detail)


def _checked_text(field: str, value: str) -> str:
    return label(CHECKED_TEXTS, value) if field == "what" else value


__all__ = [
    "ADOPTION",
    "Attribution",
    "Header",
    "Item",
    "Publication",
    "PublishedItem",
    "Source",
    "in_words",
    "item_id",
    "packb",
    "publication_id",
    "read_publication",
    "seal",
]
