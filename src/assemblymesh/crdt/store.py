"""The SQLite store of one assembly on one node (ARCHITECTURE §5).

Tables (format version 2; docs/protocol.md §8):

- ``meta``        key/value: assembly id, this node's device key, ``validated`` (the store's
                  changes passed the structural check of format 2)
- ``devices``     every accepted device: public key, its member, certificate, head (seq,
                  hash), whether it equivocated, and its fork point (first seq with two
                  signed changes; 0 if none)
- ``docs``        document names (member id hex or "shared") to small integer ids
- ``changes``     the append-only change log, the source of truth; one row per applied change
- ``act_log``     per applied member-document change: the values it appends (msgpack list)
- ``pending``     changes that arrived before their ``prev``; durable, not yet applied, with
                  the time they were received (expiry)
- ``evidence``    conflicting changes of an equivocating device, kept as proof
- ``quarantine``  stored changes a later check refused: kept, never applied nor sent
- ``checkpoints`` per document: full state and the device heads it covers (fast open)

Format 1 is migrated in place on open (columns, tables and indexes added; no change lost);
the replica then validates the old changes once (``meta.validated``).

WAL journal, ``synchronous=FULL``: a write is acknowledged only when it is on disk. Every
write is one ``BEGIN IMMEDIATE`` transaction, which also serialises writers across the
processes that share a home (the node, the CLI, the UI).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import msgpack

from assemblymesh.errors import StoreError, StoreFormatError
from assemblymesh.i18n import _

STORE_FORMAT = 2

_V1_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS devices (
    id INTEGER PRIMARY KEY,
    device BLOB NOT NULL UNIQUE,
    member BLOB NOT NULL,
    cert BLOB NOT NULL,
    head_seq INTEGER NOT NULL,
    head_hash BLOB NOT NULL,
    equivocated INTEGER NOT NULL DEFAULT 0,
    fork_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS docs (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS changes (
    device_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    doc_id INTEGER NOT NULL,
    hash BLOB NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (device_id, seq)
);
CREATE TABLE IF NOT EXISTS pending (
    device BLOB NOT NULL,
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL,
    data BLOB NOT NULL,
    received_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (device, seq, hash)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS evidence (
    device BLOB NOT NULL,
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (device, seq, hash)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
    doc_id INTEGER PRIMARY KEY,
    state BLOB NOT NULL,
    vector BLOB NOT NULL
);
"""

_V2_ADDED = """
CREATE TABLE IF NOT EXISTS act_log (
    device_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    doc_id INTEGER NOT NULL,
    acts BLOB NOT NULL,
    PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS quarantine (
    device BLOB NOT NULL,
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL,
    data BLOB NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (device, seq, hash)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pending_received ON pending (received_ms);
"""

_V1_TO_V2 = [
    "ALTER TABLE devices ADD COLUMN fork_seq INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE pending ADD COLUMN received_ms INTEGER NOT NULL DEFAULT 0",
    "UPDATE pending SET received_ms = CAST(strftime('%s', 'now') AS INTEGER) * 1000",
    "UPDATE devices SET fork_seq = coalesce((SELECT min(e.seq) FROM evidence e"
    " WHERE e.device = devices.device), 1) WHERE equivocated = 1",
]
_SCHEMA = _V1_SCHEMA + _V2_ADDED


@dataclass(slots=True)
class DeviceRow:
    id: int
    device: bytes
    member: bytes
    cert: bytes
    head_seq: int
    head_hash: bytes
    equivocated: bool
    fork_seq: int = 0


def _translate(exc: sqlite3.Error, path: Path) -> StoreError:
    text = str(exc)
    if "disk is full" in text or "disk I/O" in text:
        return StoreError(
            _("store {path}: disk full or failing; nothing was written").format(path=path)
        )
    if "locked" in text or "busy" in text:
        return StoreError(
            _("store {path} is busy (another process holds it); try again").format(path=path)
        )
    if "not a database" in text or "malformed" in text:
        return StoreError(_("store {path} is corrupt: {text}").format(path=path, text=text))
    return StoreError(_("store {path}: {text}").format(path=path, text=text))


class Store:
    """Low-level access to one assembly's SQLite file. Used only by ``Replica``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.in_write = False
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA busy_timeout = 10000")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > STORE_FORMAT:
                raise StoreFormatError(
                    _(
                        "store {path} has format {version}; this AssemblyMesh reads "
                        "up to {store_format}: upgrade AssemblyMesh"
                    ).format(path=path, version=version, store_format=STORE_FORMAT)
                )
            self.migrated = version == 1
            if version in (0, 1):
                self._create(version)
        except sqlite3.Error as exc:
            raise _translate(exc, path) from exc
        except OSError as exc:
            raise StoreError(
                _("cannot open store {path}: {strerror}").format(path=path, strerror=exc.strerror)
            ) from exc

    def _create(self, version: int) -> None:
        """A new store, or a format-1 store migrated in place (in one transaction)."""
        with self.write():
            for statement in _V1_TO_V2 if version == 1 else []:
                self._db.execute(statement)
            for statement in (_SCHEMA if version == 0 else _V2_ADDED).split(";"):
                if statement.strip():
                    self._db.execute(statement)
            if version == 0:
                self.set_meta("validated", b"2")
            self._db.execute(f"PRAGMA user_version = {STORE_FORMAT}")

    # --- transactions -------------------------------------------------------------------

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        """One durable write transaction; rolled back entirely on any error."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc
        self.in_write = True
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise _translate(exc, self.path) from exc
            raise
        finally:
            self.in_write = False

    def data_version(self) -> int:
        """Changes whenever another connection commits (cheap change detection)."""
        value: int = self._db.execute("PRAGMA data_version").fetchone()[0]
        return value

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()

    # --- meta ---------------------------------------------------------------------------

    def get_meta(self, key: str) -> bytes | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def set_meta(self, key: str, value: bytes) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # --- devices and docs ---------------------------------------------------------------

    def load_devices(self) -> list[DeviceRow]:
        rows = self._db.execute(
            "SELECT id, device, member, cert, head_seq, head_hash, equivocated, fork_seq"
            " FROM devices"
        ).fetchall()
        return [DeviceRow(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7]) for r in rows]

    def add_device(self, device: bytes, member: bytes, cert: bytes) -> int:
        cur = self._db.execute(
            "INSERT INTO devices (device, member, cert, head_seq, head_hash) VALUES (?,?,?,0,x'')",
            (device, member, cert),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def set_heads(self, heads: Iterable[tuple[int, bytes, int]]) -> None:
        self._db.executemany(
            "UPDATE devices SET head_seq = ?, head_hash = ? WHERE id = ?",
            [(seq, h, device_id) for device_id, h, seq in heads],
        )

    def mark_equivocated(self, device_id: int, fork_seq: int) -> None:
        self._db.execute(
            "UPDATE devices SET equivocated = 1, fork_seq = ? WHERE id = ?", (fork_seq, device_id)
        )

    def load_docs(self) -> dict[str, int]:
        return {name: i for i, name in self._db.execute("SELECT id, name FROM docs")}

    def add_doc(self, name: str) -> int:
        cur = self._db.execute("INSERT INTO docs (name) VALUES (?)", (name,))
        assert cur.lastrowid is not None
        return cur.lastrowid

    # --- changes ------------------------------------------------------------------------

    def insert_changes(self, rows: list[tuple[int, int, int, bytes, bytes]]) -> None:
        """Rows of (device_id, seq, doc_id, hash, data)."""
        self._db.executemany(
            "INSERT INTO changes (device_id, seq, doc_id, hash, data) VALUES (?,?,?,?,?)", rows
        )

    def hash_at(self, device_id: int, seq: int) -> bytes | None:
        row = self._db.execute(
            "SELECT hash FROM changes WHERE device_id = ? AND seq = ?", (device_id, seq)
        ).fetchone()
        return None if row is None else bytes(row[0])

    def change_at(self, device_id: int, seq: int) -> bytes | None:
        row = self._db.execute(
            "SELECT data FROM changes WHERE device_id = ? AND seq = ?", (device_id, seq)
        ).fetchone()
        return None if row is None else bytes(row[0])

    def changes_after(self, device_id: int, seq: int) -> Iterator[tuple[int, int, bytes, bytes]]:
        """(seq, doc_id, hash, data) of a device's changes after ``seq``, in chain order."""
        cur = self._db.execute(
            "SELECT seq, doc_id, hash, data FROM changes WHERE device_id = ? AND seq > ?"
            " ORDER BY seq",
            (device_id, seq),
        )
        yield from cur

    def count_changes(self) -> int:
        value: int = self._db.execute("SELECT count(*) FROM changes").fetchone()[0]
        return value

    # --- pending and evidence -----------------------------------------------------------

    def add_pending(self, rows: list[tuple[bytes, int, bytes, bytes]], received_ms: int) -> None:
        """Rows of (device, seq, hash, data)."""
        self._db.executemany(
            "INSERT OR REPLACE INTO pending (device, seq, hash, data, received_ms)"
            " VALUES (?,?,?,?,?)",
            [(*row, received_ms) for row in rows],
        )

    def pending_range(self, device: bytes, after: int, last: int) -> list[bytes]:
        """A device's pending changes with ``after < seq <= last``, in seq order (index)."""
        return [
            bytes(r[0])
            for r in self._db.execute(
                "SELECT data FROM pending WHERE device = ? AND seq > ? AND seq <= ? ORDER BY seq",
                (device, after, last),
            )
        ]

    def pending_devices(self) -> set[bytes]:
        return {bytes(r[0]) for r in self._db.execute("SELECT DISTINCT device FROM pending")}

    def count_pending(self, device: bytes | None = None) -> int:
        if device is None:
            row = self._db.execute("SELECT count(*) FROM pending").fetchone()
        else:
            row = self._db.execute("SELECT count(*) FROM pending WHERE device = ?", (device,))
            row = row.fetchone()
        value: int = row[0]
        return value

    def pending_bytes(self) -> int:
        value: int = self._db.execute(
            "SELECT coalesce(sum(length(data)), 0) FROM pending"
        ).fetchone()[0]
        return value

    def expire_pending(self, before_ms: int) -> int:
        """Drop pending changes received before ``before_ms``; how many were dropped."""
        cur = self._db.execute("DELETE FROM pending WHERE received_ms < ?", (before_ms,))
        return cur.rowcount

    def drop_pending(self, rows: Iterable[tuple[bytes, int, bytes]]) -> int:
        """Delete these pending changes; how many were there."""
        cur = self._db.executemany(
            "DELETE FROM pending WHERE device = ? AND seq = ? AND hash = ?", list(rows)
        )
        return cur.rowcount

    def add_evidence(self, rows: list[tuple[bytes, int, bytes, bytes]]) -> None:
        self._db.executemany(
            "INSERT OR IGNORE INTO evidence (device, seq, hash, data) VALUES (?,?,?,?)", rows
        )

    def evidence(self) -> list[tuple[bytes, int, bytes]]:
        return [
            (bytes(r[0]), r[1], bytes(r[2]))
            for r in self._db.execute("SELECT device, seq, data FROM evidence ORDER BY device, seq")
        ]

    def evidence_of(self, device: bytes) -> list[bytes]:
        return [
            bytes(r[0])
            for r in self._db.execute(
                "SELECT data FROM evidence WHERE device = ? ORDER BY seq, hash", (device,)
            )
        ]

    def evidence_data(self) -> list[tuple[bytes, int, bytes]]:
        """(device, seq, data) of every piece of evidence, in order."""
        return [
            (bytes(r[0]), r[1], bytes(r[2]))
            for r in self._db.execute(
                "SELECT device, seq, data FROM evidence ORDER BY device, seq, hash"
            )
        ]

    # --- quarantine and the act log -----------------------------------------------------

    def quarantine(self, device_id: int, device: bytes, from_seq: int, reason: str) -> int:
        """Move a device's changes at seq >= ``from_seq`` out of the log into quarantine;
        the head goes back to ``from_seq - 1``. Returns how many were moved."""
        rows = self._db.execute(
            "SELECT seq, hash, data FROM changes WHERE device_id = ? AND seq >= ?",
            (device_id, from_seq),
        ).fetchall()
        self._db.executemany(
            "INSERT OR IGNORE INTO quarantine (device, seq, hash, data, reason) VALUES (?,?,?,?,?)",
            [(device, r[0], r[1], r[2], reason) for r in rows],
        )
        self._db.execute(
            "DELETE FROM changes WHERE device_id = ? AND seq >= ?", (device_id, from_seq)
        )
        self._db.execute(
            "DELETE FROM act_log WHERE device_id = ? AND seq >= ?", (device_id, from_seq)
        )
        head = self.hash_at(device_id, from_seq - 1) or b""
        self.set_heads([(device_id, head, from_seq - 1 if head else 0)])
        return len(rows)

    def count_quarantine(self) -> int:
        value: int = self._db.execute("SELECT count(*) FROM quarantine").fetchone()[0]
        return value

    def drop_checkpoints(self) -> None:
        self._db.execute("DELETE FROM checkpoints")

    def add_acts(self, rows: list[tuple[int, int, int, bytes]]) -> None:
        """Rows of (device_id, seq, doc_id, msgpack list of values)."""
        self._db.executemany(
            "INSERT OR REPLACE INTO act_log (device_id, seq, doc_id, acts) VALUES (?,?,?,?)", rows
        )

    def load_acts(self) -> Iterator[tuple[int, int, int, bytes]]:
        """(device_id, seq, doc_id, values) of the whole act log, by device and seq."""
        yield from self._db.execute(
            "SELECT device_id, seq, doc_id, acts FROM act_log ORDER BY device_id, seq"
        )

    def all_changes(self) -> Iterator[tuple[int, int, int, bytes, bytes]]:
        """(device_id, seq, doc_id, hash, data) of the whole log, by device and seq."""
        yield from self._db.execute(
            "SELECT device_id, seq, doc_id, hash, data FROM changes ORDER BY device_id, seq"
        ).fetchall()

    # --- checkpoints --------------------------------------------------------------------

    def load_checkpoints(self) -> dict[int, tuple[bytes, dict[int, int]]]:
        result: dict[int, tuple[bytes, dict[int, int]]] = {}
        for doc_id, state, vector in self._db.execute(
            "SELECT doc_id, state, vector FROM checkpoints"
        ):
            heads = msgpack.unpackb(vector, strict_map_key=False)
            result[doc_id] = (bytes(state), {int(k): int(v) for k, v in heads.items()})
        return result

    def save_checkpoint(self, doc_id: int, state: bytes, heads: dict[int, int]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO checkpoints (doc_id, state, vector) VALUES (?,?,?)",
            (doc_id, state, msgpack.packb(heads)),
        )
