"""Bundles (docs/protocol.md §7): round trips between real stores, and every corruption
refused with nothing changed."""

from __future__ import annotations

import io
import os
import random
import zlib
from collections.abc import Iterator
from pathlib import Path

import msgpack
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assemblymesh.cli import main
from assemblymesh.crdt.identity import DeviceCertificate, SigningKey
from assemblymesh.errors import BundleError
from assemblymesh.home import Home, LocalAssembly
from assemblymesh.model import commands
from assemblymesh.net import bundle as B
from tests.helpers import Clock, act_ids, exchange

CHUNK = B.CHUNK_SIZE + B.CHUNK_OVERHEAD


def identity(local: LocalAssembly) -> B.Identity:
    return local.bundle_identity()


def export(src: LocalAssembly, theirs: dict[bytes, tuple[int, bytes]] | None = None) -> bytes:
    out = io.BytesIO()
    B.write_bundle(out, identity(src), src.replica, src.clock(), theirs)
    return out.getvalue()


def vector_file(local: LocalAssembly) -> bytes:
    out = io.BytesIO()
    B.write_vector(out, identity(local), local.replica.vector(), local.clock())
    return out.getvalue()


def import_(dst: LocalAssembly, data: bytes) -> B.ImportSummary:
    secrets = [*(root.secret for root in dst.keyring().accept), dst.device_key]
    summary = B.import_bundle(io.BytesIO(data), dst.assembly_id, secrets, dst.replica)
    dst.keep_keys()  # as the node does after an import: a joiner's seal, once its join is in
    return summary


def state_of(local: LocalAssembly) -> tuple[bytes, int, int]:
    r = local.replica
    return r.digest(), r.change_count(), r.pending_count()


def refused(dst: LocalAssembly, data: bytes, match: str | None = None) -> str:
    before = state_of(dst)
    with pytest.raises(BundleError, match=match) as caught:
        import_(dst, data)
    assert state_of(dst) == before
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.fixture
def trio(tmp_path: Path) -> Iterator[tuple[LocalAssembly, LocalAssembly, LocalAssembly]]:
    """Amara and the two members she invited, in sync: each holds the assembly secret."""
    clock = Clock()
    amara = Home(tmp_path / "a", clock).create("R", "Amara", new_id=act_ids("a"))
    ben = Home(tmp_path / "b", clock).join(
        amara.issue_invite().encode(), "Ben", new_id=act_ids("b")
    )
    cleo = Home(tmp_path / "c", clock).join(
        amara.issue_invite().encode(), "Cleo", new_id=act_ids("c")
    )
    exchange(amara, ben, cleo)
    yield amara, ben, cleo
    for node in (amara, ben, cleo):
        node.close()


@pytest.fixture
def joiners(tmp_path: Path) -> Iterator[tuple[LocalAssembly, LocalAssembly, LocalAssembly]]:
    """Amara and two joiners that hold their join keys only: bundles are how they meet."""
    clock = Clock()
    amara = Home(tmp_path / "a", clock).create("R", "Amara", new_id=act_ids("a"))
    ben = Home(tmp_path / "b", clock).join(
        amara.issue_invite().encode(), "Ben", new_id=act_ids("b")
    )
    cleo = Home(tmp_path / "c", clock).join(
        amara.issue_invite().encode(), "Cleo", new_id=act_ids("c")
    )
    yield amara, ben, cleo
    for node in (amara, ben, cleo):
        node.close()


def test_round_trip_both_ways_and_twice(joiners: tuple[LocalAssembly, ...]) -> None:
    amara, ben, _ = joiners
    for i in range(5):
        amara.act(commands.propose, f"P{i}", "text")
    first = export(amara)
    summary = import_(ben, first)
    assert summary.applied == summary.changes == amara.replica.change_count()
    assert summary.signer is not None and summary.signer.device == amara.device_key.public
    # Ben's join travels back as a bundle made for Amara's vector: only what she lacks.
    back = export(ben, B.read_vector(io.BytesIO(vector_file(amara)), *keys(ben))[1])
    summary = import_(amara, back)
    assert summary.changes == summary.applied == 1
    # Amara's node sealed the secret to Ben's device; the next bundle brings it to him.
    import_(ben, export(amara, ben.replica.vector()))
    assert ben.epoch_view().held == 0
    assert amara.replica.digest() == ben.replica.digest()
    assert "Ben" in [m.name for m in amara.state().members.values()]
    again = import_(ben, first)
    assert (again.applied, again.duplicates, again.refused) == (0, again.changes, 0)


def keys(local: LocalAssembly) -> tuple[bytes, bytes]:
    return local.assembly_id, local.secret


def test_any_order_with_overlaps_duplicates_and_stale_bundles(
    joiners: tuple[LocalAssembly, ...],
) -> None:
    amara, ben, cleo = joiners
    amara.act(commands.propose, "Shed", "Buy one")
    old_from_amara = export(amara)
    # Ben and Cleo get Amara's record in different ways, then all three write.
    import_(ben, old_from_amara)
    import_(cleo, old_from_amara)  # each joiner's join key is among the bundle's readers
    import_(amara, export(ben, amara.replica.vector()))
    import_(amara, export(cleo, amara.replica.vector()))
    # Amara's node sealed the secret to both joiners; they read it, then relay to each other.
    import_(ben, export(amara, ben.replica.vector()))
    import_(cleo, export(ben, cleo.replica.vector()))
    for node in (amara, ben, cleo):
        node.act(commands.propose, f"From {node.member_id[:4]}", "x")
    bundles = {n.member_id: export(n) for n in (amara, ben, cleo)}
    # Each imports the others' full bundles, in a different order, with the stale one too.
    for node, order in ((amara, (2, 1)), (ben, (0, 2)), (cleo, (1, 0))):
        for k in order:
            import_(node, list(bundles.values())[k])
        stale = import_(node, old_from_amara)
        assert stale.applied == 0 and stale.refused == 0
        assert stale.duplicates == stale.changes
    digests = {n.replica.digest() for n in (amara, ben, cleo)}
    assert len(digests) == 1
    assert len({n.replica.change_count() for n in (amara, ben, cleo)}) == 1
    # A partial bundle (for an old vector) overlaps what the target holds: duplicates only.
    partial = import_(cleo, export(amara, {}))
    assert partial.applied == 0 and partial.duplicates == partial.changes


def test_a_partial_bundle_then_the_rest(trio: tuple[LocalAssembly, ...]) -> None:
    amara, ben, _ = trio
    for i in range(3):
        amara.act(commands.propose, f"A{i}", "x")
    import_(ben, export(amara))
    marker = vector_file(ben)
    for i in range(4):
        amara.act(commands.propose, f"B{i}", "x")
    _, theirs = B.read_vector(io.BytesIO(marker), *keys(amara))
    rest = export(amara, theirs)
    summary = import_(ben, rest)
    assert summary.changes == summary.applied == 4
    assert not list(amara.replica.missing_for(ben.replica.vector()))


def test_an_empty_bundle_opens_and_changes_nothing(trio: tuple[LocalAssembly, ...]) -> None:
    amara, ben, _ = trio
    import_(ben, export(amara))
    before = state_of(ben)
    summary = import_(ben, export(amara, ben.replica.vector()))
    assert summary.changes == 0 and state_of(ben) == before


# --- refusals ---------------------------------------------------------------------------


@pytest.fixture
def big(trio: tuple[LocalAssembly, ...]) -> tuple[LocalAssembly, LocalAssembly, bytes]:
    """A bundle of several chunks (random, incompressible proposal bodies)."""
    amara, ben, _ = trio
    noise = random.Random(7)
    for i in range(8):
        amara.act(commands.propose, f"Long {i}", noise.randbytes(40_000).hex())
    data = export(amara)
    assert len(data) > 3 * CHUNK
    return amara, ben, data


def chunks(data: bytes) -> tuple[bytes, list[bytes]]:
    size = len(B._read_key_block(io.BytesIO(data))[0]) + B.STREAM_HEADER_SIZE
    head, rest = data[:size], data[size:]
    return head, [rest[i : i + CHUNK] for i in range(0, len(rest), CHUNK)]


def test_truncation_anywhere_is_refused(big: tuple[LocalAssembly, LocalAssembly, bytes]) -> None:
    _, ben, data = big
    head, parts = chunks(data)
    for k in range(1, len(parts)):  # exactly at each chunk boundary
        message = refused(ben, head + b"".join(parts[:k]), "truncated")
        assert f"after chunk {k}" in message
    for cut in (0, 1, 23, 24, 25, 100, CHUNK, len(data) - 1, len(data) - 16):
        refused(ben, data[:cut])
    refused(ben, b"", "too short")


def test_reordered_repeated_or_dropped_chunks_are_refused(
    big: tuple[LocalAssembly, LocalAssembly, bytes],
) -> None:
    _, ben, data = big
    head, p = chunks(data)
    refused(ben, head + p[0] + p[2] + p[1] + b"".join(p[3:]), "chunk 1 does not authenticate")
    refused(ben, head + p[0] + p[1] + p[1] + b"".join(p[2:]), "chunk 2 does not authenticate")
    refused(ben, head + p[0] + b"".join(p[2:]), "chunk 1 does not authenticate")
    refused(ben, head + b"".join(p[1:]), "first chunk")
    refused(ben, data + b"\x00", f"chunk {len(p) - 1} does not authenticate")  # a longer last chunk
    refused(ben, data + p[-1])


def test_flipped_bits_are_refused(big: tuple[LocalAssembly, LocalAssembly, bytes]) -> None:
    _, ben, data = big
    for at in (0, 23, 24, 30, CHUNK, CHUNK + 24, 2 * CHUNK + 100, len(data) - 1):
        flipped = bytearray(data)
        flipped[at] ^= 0x10
        refused(ben, bytes(flipped))


def test_another_assemblys_bundle_is_refused(
    trio: tuple[LocalAssembly, ...], tmp_path: Path
) -> None:
    amara, ben, _ = trio
    other = Home(tmp_path / "x", Clock()).create("Other", "Xena", new_id=act_ids("e"))
    try:
        message = refused(ben, export(other), "made for another assembly")
        assert "does not open" in message
        # Sealed with this assembly's secret, but the header names the other assembly.
        forged = B.Identity(other.assembly_id, ben.secret, other.device_key, other.certificate)
        out = io.BytesIO()
        B.write_bundle(out, forged, other.replica, 0)
        refused(ben, out.getvalue(), "bundle is for another assembly")
        # This assembly in the header, a certificate for the other one.
        forged = B.Identity(ben.assembly_id, ben.secret, other.device_key, other.certificate)
        out = io.BytesIO()
        B.write_bundle(out, forged, amara.replica, 0)
        refused(ben, out.getvalue(), "device certified for another assembly")
    finally:
        other.close()


def test_a_bad_signature_or_forged_certificate_is_refused(
    trio: tuple[LocalAssembly, ...],
) -> None:
    amara, ben, _ = trio
    amara.act(commands.propose, "Shed", "Buy one")
    # Signed by another key than the one its certificate names.
    thief = B.Identity(amara.assembly_id, amara.secret, SigningKey.generate(), amara.certificate)
    out = io.BytesIO()
    B.write_bundle(out, thief, amara.replica, 0)
    refused(ben, out.getvalue(), "signature does not verify")
    # A certificate no member signed.
    cert = amara.certificate
    forged_cert = DeviceCertificate(
        cert.assembly, cert.member, cert.device, cert.issued_ms + 1, cert.signature
    )
    forged = B.Identity(amara.assembly_id, amara.secret, amara.device_key, forged_cert)
    out = io.BytesIO()
    B.write_bundle(out, forged, amara.replica, 0)
    refused(ben, out.getvalue(), "certificate is malformed or forged")


def test_a_signer_the_governance_refuses_is_refused(trio: tuple[LocalAssembly, ...]) -> None:
    amara, ben, _ = trio
    data = export(amara)
    before = state_of(ben)
    with pytest.raises(BundleError, match="not accepted: revoked"):
        B.import_bundle(
            io.BytesIO(data), *keys(ben), ben.replica, authorize=lambda signer: "revoked"
        )
    assert state_of(ben) == before


def test_a_vector_file_is_not_a_bundle_and_back(trio: tuple[LocalAssembly, ...]) -> None:
    amara, ben, _ = trio
    refused(ben, vector_file(amara), "version vector file, not a bundle")
    with pytest.raises(BundleError, match="bundle of changes, not a version vector"):
        B.read_vector(io.BytesIO(export(amara)), *keys(amara))
    data = bytearray(vector_file(amara))
    data[40] ^= 1
    with pytest.raises(BundleError):
        B.read_vector(io.BytesIO(bytes(data)), *keys(amara))


def test_changes_ingest_refuses_are_reported_not_applied(
    trio: tuple[LocalAssembly, ...], tmp_path: Path
) -> None:
    """A well-formed bundle whose changes fail ingest: the replica's own rules decide."""
    amara, ben, _ = trio
    other = Home(tmp_path / "x", Clock()).create("Other", "Xena", new_id=act_ids("e"))
    try:
        # The other assembly's changes, rebuilt under this assembly: their signatures fail.
        disguised = B.Identity(ben.assembly_id, ben.secret, amara.device_key, amara.certificate)
        out = io.BytesIO()
        B.write_bundle(out, disguised, other.replica, 0)
        before = state_of(ben)
        summary = import_(ben, out.getvalue())
        assert summary.applied == 0 and summary.refused == summary.changes > 0
        assert set(summary.rejected) <= {"bad-signature", "bad-chain"}
        assert state_of(ben) == before
    finally:
        other.close()


@pytest.fixture(scope="module")
def fragile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalAssembly, bytes]]:
    root = tmp_path_factory.mktemp("fragile")
    clock = Clock()
    amara = Home(root / "a", clock).create("R", "Amara", new_id=act_ids("a"))
    ben = Home(root / "b", clock).join(amara.issue_invite().encode(), "Ben", new_id=act_ids("b"))
    noise = random.Random(11)
    for i in range(4):
        amara.act(commands.propose, f"Long {i}", noise.randbytes(40_000).hex())
    data = export(amara)
    amara.close()
    yield ben, data
    ben.close()


@settings(
    max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(data=st.data())
def test_random_cuts_and_flips_are_all_refused(
    fragile: tuple[LocalAssembly, bytes], data: st.DataObject
) -> None:
    ben, bundle = fragile
    n = len(bundle)
    if data.draw(st.booleans(), label="cut"):
        damaged = bundle[: data.draw(st.integers(0, n - 1), label="length")]
    else:
        at = data.draw(st.integers(0, n - 1), label="at")
        bit = data.draw(st.integers(0, 7), label="bit")
        damaged = bundle[:at] + bytes([bundle[at] ^ (1 << bit)]) + bundle[at + 1 :]
    refused(ben, damaged)


# --- the command line -------------------------------------------------------------------


def run(home: Path, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(main, ["--home", str(home), *args], catch_exceptions=False)
    assert result.exit_code == code, result.output + result.stderr
    return result


def test_cli_round_trip_through_a_stick(tmp_path: Path) -> None:
    a, b, stick = tmp_path / "amara", tmp_path / "ben", tmp_path / "stick"
    stick.mkdir()
    run(a, "init", "--name", "Riverside", "--member-name", "Amara")
    code = run(a, "invite", "--no-qr", "--hint", "127.0.0.1:1").stdout.strip().splitlines()[-1]
    run(b, "join", code, "--member-name", "Ben")
    run(a, "propose", "--title", "Shed", "--body", "Buy one")
    out = run(a, "bundle", "export", str(stick / "a.bundle")).stdout
    assert "wrote 4 changes" in out  # genesis, the seal of epoch 0, the invite, the proposal
    result = run(b, "bundle", "import", str(stick / "a.bundle"))
    assert "applied 4, already here 0" in result.stdout
    assert result.stderr == ""  # no progress bar when stderr is not a terminal
    again = run(b, "bundle", "import", str(stick / "a.bundle")).stdout
    assert "nothing new: all 4 changes are already here" in again
    # The way back: Amara's vector goes to Ben, Ben's bundle (his join) comes back.
    assert "wrote the vector" in run(a, "bundle", "vector", str(stick / "a.vector")).stdout
    out = run(b, "bundle", "export", str(stick / "b.bundle"), "--for", str(stick / "a.vector"))
    assert "wrote 1 changes" in out.stdout
    assert "applied 1" in run(a, "bundle", "import", str(stick / "b.bundle")).stdout
    # Amara's node sealed the secret to Ben's device; that seal goes back to him.
    run(b, "bundle", "vector", str(stick / "b.vector"))
    out = run(a, "bundle", "export", str(stick / "a2.bundle"), "--for", str(stick / "b.vector"))
    assert "wrote 1 changes" in out.stdout
    assert "applied 1" in run(b, "bundle", "import", str(stick / "a2.bundle")).stdout
    status = run(a, "status").stdout
    assert "Ben" in status
    digest = status.strip().splitlines()[-1].split()[-1]
    assert digest in run(b, "status").stdout
    # Nothing left to carry: export says so and writes nothing.
    run(a, "bundle", "vector", str(stick / "a.vector"))
    out = run(b, "bundle", "export", str(stick / "none"), "--for", str(stick / "a.vector"))
    assert "nothing to export" in out.stdout and not (stick / "none").exists()
    assert not list(stick.glob("*.part"))


def test_cli_refuses_a_damaged_bundle_in_one_line(tmp_path: Path) -> None:
    a, b = tmp_path / "amara", tmp_path / "ben"
    run(a, "init", "--name", "Riverside", "--member-name", "Amara")
    code = run(a, "invite", "--no-qr", "--hint", "127.0.0.1:1").stdout.strip().splitlines()[-1]
    run(b, "join", code, "--member-name", "Ben")
    path = tmp_path / "a.bundle"
    run(a, "bundle", "export", str(path))
    path.write_bytes(path.read_bytes()[:-1])
    before = run(b, "status", "--json").stdout
    result = run(b, "bundle", "import", str(path), code=1)
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: bundle")
    assert run(b, "status", "--json").stdout == before
    result = run(b, "bundle", "import", str(tmp_path / "missing"), code=2)
    # A vector file of another assembly: refused, and no bundle is written.
    run(tmp_path / "xena", "init", "--name", "Other", "--member-name", "Xena")
    run(tmp_path / "xena", "bundle", "vector", str(tmp_path / "x.vector"))
    result = run(a, "bundle", "export", str(tmp_path / "out"), "--for", str(tmp_path / "x.vector"),
                 code=1)  # fmt: skip
    assert "made for another assembly" in result.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.part").exists()


def test_a_full_last_chunk_then_more_bytes_is_refused() -> None:
    key = B.bundle_key(bytes(32))
    out = io.BytesIO()
    writer = B._SealedWriter(out, [key])
    writer.write(bytes(B.CHUNK_SIZE))
    writer.close()
    sealed = out.getvalue()
    assert len(sealed) == 1 + 1 + B.WRAPPED_SIZE + B.STREAM_HEADER_SIZE + CHUNK
    reader = B._SealedReader(io.BytesIO(sealed), B.Openers((key,)))
    assert reader.read(B.CHUNK_SIZE) == bytes(B.CHUNK_SIZE) and reader.at_end()
    reader = B._SealedReader(io.BytesIO(sealed + b"\x00"), B.Openers((key,)))
    with pytest.raises(BundleError, match="bytes follow its final chunk"):
        reader.read(1)


def _stderr_on_a_terminal(args: list[str]) -> tuple[int, str]:
    """Run ``args`` with stderr on a pseudo-terminal; return the status and what it showed."""
    import pty
    import subprocess

    master, slave = pty.openpty()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    shown = b""
    while True:
        try:
            block = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not block:
            break
        shown += block
    os.close(master)
    return process.wait(timeout=120), shown.decode(errors="replace")


def test_progress_is_shown_on_a_terminal(trio: tuple[LocalAssembly, ...], tmp_path: Path) -> None:
    import sys

    amara, ben, _ = trio
    for i in range(20):
        amara.act(commands.propose, f"P{i}", "x")
    path = tmp_path / "a.bundle"
    path.write_bytes(export(amara))
    home = str(ben.directory.parent.parent)
    ben.close()
    program = [sys.executable, "-m", "assemblymesh", "--home", home, "bundle"]
    status, shown = _stderr_on_a_terminal([*program, "import", str(path)])
    assert status == 0, shown
    assert "checking" in shown and "importing" in shown and "100%" in shown
    status, shown = _stderr_on_a_terminal([*program, "export", str(tmp_path / "b.bundle")])
    assert status == 0 and "exporting" in shown


def test_cli_refuses_a_bundle_from_a_stranger_who_holds_the_secret(tmp_path: Path) -> None:
    """A device certified by a member key the assembly never admitted, with no invite."""
    a = tmp_path / "amara"
    run(a, "init", "--name", "Riverside", "--member-name", "Amara")
    amara = Home(a).open()
    try:
        stranger, device = SigningKey.generate(), SigningKey.generate()
        cert = DeviceCertificate.issue(stranger, amara.assembly_id, device.public, 0)
        out = io.BytesIO()
        B.write_bundle(out, B.Identity(amara.assembly_id, amara.secret, device, cert),
                       amara.replica, 0)  # fmt: skip
    finally:
        amara.close()
    path = tmp_path / "s.bundle"
    path.write_bytes(out.getvalue())
    result = run(a, "bundle", "import", str(path), code=1)
    assert "not accepted: not a member of this assembly" in result.stderr


def crafted(local: LocalAssembly, records: list[tuple[bytes, bytes]], changes: int) -> bytes:
    """A correctly sealed and signed file with whatever records the test wants."""
    out = io.BytesIO()
    writer = B._RecordWriter(B._SealedWriter(out, [B.bundle_key(local.secret)]))
    for kind, body in records:
        writer.record(kind, body)
    writer.end(local.device_key, changes)
    return out.getvalue()


def test_signed_files_with_bad_contents_are_refused(trio: tuple[LocalAssembly, ...]) -> None:
    amara, ben, _ = trio
    header = B._header(identity(amara), B.KIND_BUNDLE, 0, 1)
    amara.act(commands.propose, "New", "")  # a change Ben lacks
    good = B.BatchEncoder().encode(list(amara.replica.missing_for(ben.replica.vector()))[:1])
    cases = [
        ([(B.RECORD_HEADER, header), (B.RECORD_BATCH, b"not zlib")], 1, "batch 0"),
        ([(B.RECORD_HEADER, header), (B.RECORD_BATCH, good)], 2, "end says 2"),
        ([(B.RECORD_HEADER, header)], 1, "holds 0"),
        ([(B.RECORD_HEADER, header), (B.RECORD_VECTOR, msgpack.packb([]))], 1, "unexpected V"),
        ([(B.RECORD_BATCH, good)], 1, "does not start with a header"),
        ([(b"Z", b"")], 1, "unknown record type"),
        ([(B.RECORD_HEADER, b"\xc1")], 1, "unreadable header"),
        ([(B.RECORD_HEADER, msgpack.packb({"v": 2}))], 1, "version 2 is not supported"),
        ([(B.RECORD_HEADER, B._header(identity(amara), B.KIND_BUNDLE, 0, None))], 0,
         "bad change count"),
    ]  # fmt: skip
    for records, changes, match in cases:
        refused(ben, crafted(amara, records, changes), match)
    refused(ben, crafted(amara, [(B.RECORD_HEADER, header), (B.RECORD_BATCH, good)], 1)[:-40])
    summary = import_(ben, crafted(amara, [(B.RECORD_HEADER, header), (B.RECORD_BATCH, good)], 1))
    assert summary.applied == 1


def _compressed(value: object) -> bytes:
    return zlib.compress(value if isinstance(value, bytes) else msgpack.packb(value))


_VALUES = st.recursive(
    st.none() | st.integers(-(2**63), 2**64 - 1) | st.binary(max_size=40),
    lambda inner: st.lists(inner, max_size=9),
    max_leaves=30,
)


@settings(
    max_examples=100,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(body=st.one_of(st.binary(max_size=300), st.binary(max_size=300).map(_compressed),
                      _VALUES.map(_compressed)))  # fmt: skip
def test_signed_garbage_batches_never_crash(
    fragile: tuple[LocalAssembly, bytes], body: bytes
) -> None:
    """Validly sealed and signed, but the batch is nonsense: a one-line refusal, no crash."""
    ben, _ = fragile
    header = B._header(identity(ben), B.KIND_BUNDLE, 0, 0)
    refused(ben, crafted(ben, [(B.RECORD_HEADER, header), (B.RECORD_BATCH, body)], 0))


def _entry_kinds(data: bytes) -> list[int]:
    kinds, at = [], 1
    for _ in range(data[0]):
        kinds.append(data[at])
        at += 1 + (72 if data[at] == 1 else 80)
    return kinds


def test_the_file_is_what_protocol_md_says(big: tuple[LocalAssembly, LocalAssembly, bytes]) -> None:
    """An independent reading of §7, from the spec's constants, of a multi-chunk bundle."""
    import hashlib
    import struct

    import nacl.bindings as sodium
    import nacl.signing

    amara, _, data = big
    key = hashlib.blake2b(
        b"assemblymesh/bundle-key/v1\x00", key=amara.secret, digest_size=32
    ).digest()
    # The key block: the file key wrapped under the bundle key of the current epoch first.
    assert data[1] == 0x01
    nonce, wrapped = data[2:26], data[26 : 26 + 48]
    file_key = sodium.crypto_secretbox_open(wrapped, nonce, key)
    prefix = 1 + sum(1 + (72 if k == 1 else 80) for k in _entry_kinds(data))
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    header = data[prefix : prefix + 24]
    sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, header, file_key)
    plain, tags, pos = b"", [], prefix + 24
    while pos < len(data):
        sealed = data[pos : pos + 65_553]
        chunk, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(
            state, sealed, b"assemblymesh/bundle-chunk/v1\x00"
        )
        assert len(chunk) == 65_536 or pos + len(sealed) == len(data)
        plain, pos = plain + chunk, pos + len(sealed)
        tags.append(tag)
    assert tags[-1] == 3 and set(tags[:-1]) == {0} and len(tags) > 3
    records, at = [], 0
    while at < len(plain):
        kind, length = struct.unpack_from(">cI", plain, at)
        records.append((kind, plain[at + 5 : at + 5 + length], plain[at : at + 5 + length]))
        at += 5 + length
    assert [r[0] for r in records] == [b"H"] + [b"B"] * (len(records) - 2) + [b"E"]
    header = msgpack.unpackb(records[0][1])
    assert header["v"] == 1 and header["kind"] == "bundle"
    assert header["assembly"] == amara.assembly_id and header["cert"] == amara.certificate.encode()
    changes, signature = msgpack.unpackb(records[-1][1])
    assert changes == header["changes"] == amara.replica.change_count()
    running = hashlib.blake2b(b"assemblymesh/bundle-hash/v1\x00", digest_size=64)
    for _, _, whole in records[:-1]:
        running.update(whole)
    nacl.signing.VerifyKey(amara.device_key.public).verify(
        b"assemblymesh/bundle/v1\x00" + data[: prefix + 24] + running.digest(), signature
    )
    decoder = B.BatchDecoder(amara.assembly_id)
    # The same changes (bodies, hence hashes); signatures only where §5.3 keeps them.
    carried = [c.hash for _, body, _ in records[1:-1] for c in decoder.decode(body)]
    assert sorted(carried) == sorted(c.hash for c in amara.replica.missing_for({}))
