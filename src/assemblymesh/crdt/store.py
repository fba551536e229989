"""The SQLite store of one assembly on one node (ARCHITECTURE §5).

Tables (format version 1):

- ``meta``        key/value: format version, assembly id, this node's member and device keys
- ``devices``     every device seen: public key, its member, certificate, head (seq, hash),
                  and whether it equivocated
- ``docs``        document names (member id hex or "shared") to small integer ids
- ``changes``     the append-only change log, the source of truth; one row per applied change
- ``pending``     changes that arrived before their ``prev``; durable, not yet applied
- ``evidence``    conflicting changes of an equivocating device, kept as proof
- ``checkpoints`` per document: full state and the device heads it covers (fast open)

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

STORE_FORMAT = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS devices (
    id INTEGER PRIMARY KEY,
    device BLOB NOT NULL UNIQUE,
    member BLOB NOT NULL,
    cert BLOB NOT NULL,
    head_seq INTEGER NOT NULL,
    head_hash BLOB NOT NULL,
    equivocated INTEGER NOT NULL DEFAULT 0
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


@dataclass(slots=True)
class DeviceRow:
    id: int
    device: bytes
    member: bytes
    cert: bytes
    head_seq: int
    head_hash: bytes
    equivocated: bool


def _translate(exc: sqlite3.Error, path: Path) -> StoreError:
    text = str(exc)
    if "disk is full" in text or "disk I/O" in text:
        return StoreError(f"store {path}: disk full or failing; nothing was written")
    if "locked" in text or "busy" in text:
        return StoreError(f"store {path} is busy (another process holds it); try again")
    if "not a database" in text or "malformed" in text:
        return StoreError(f"store {path} is corrupt: {text}")
    return StoreError(f"store {path}: {text}")


class Store:
    """Low-level access to one assembly's SQLite file. Used only by ``Replica``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA busy_timeout = 10000")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > STORE_FORMAT:
                raise StoreFormatError(
                    f"store {path} has format {version}; this AssemblyMesh reads up to"
                    f" {STORE_FORMAT}: upgrade AssemblyMesh"
                )
            if version == 0:
                with self.write():
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version = {STORE_FORMAT}")
        except sqlite3.Error as exc:
            raise _translate(exc, path) from exc
        except OSError as exc:
            raise StoreError(f"cannot open store {path}: {exc.strerror}") from exc
        self._in_write = False

    # --- transactions -------------------------------------------------------------------

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        """One durable write transaction; rolled back entirely on any error."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise _translate(exc, self.path) from exc
            raise

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
            "SELECT id, device, member, cert, head_seq, head_hash, equivocated FROM devices"
        ).fetchall()
        return [DeviceRow(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in rows]

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

    def mark_equivocated(self, device_id: int) -> None:
        self._db.execute("UPDATE devices SET equivocated = 1 WHERE id = ?", (device_id,))

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

    def add_pending(self, rows: list[tuple[bytes, int, bytes, bytes]]) -> None:
        """Rows of (device, seq, hash, data)."""
        self._db.executemany(
            "INSERT OR IGNORE INTO pending (device, seq, hash, data) VALUES (?,?,?,?)", rows
        )

    def pending_for(self, device: bytes) -> list[bytes]:
        return [
            bytes(r[0])
            for r in self._db.execute(
                "SELECT data FROM pending WHERE device = ? ORDER BY seq", (device,)
            )
        ]

    def pending_devices(self) -> set[bytes]:
        return {bytes(r[0]) for r in self._db.execute("SELECT DISTINCT device FROM pending")}

    def count_pending(self) -> int:
        value: int = self._db.execute("SELECT count(*) FROM pending").fetchone()[0]
        return value

    def drop_pending(self, rows: Iterable[tuple[bytes, int, bytes]]) -> None:
        self._db.executemany(
            "DELETE FROM pending WHERE device = ? AND seq = ? AND hash = ?", list(rows)
        )

    def add_evidence(self, rows: list[tuple[bytes, int, bytes, bytes]]) -> None:
        self._db.executemany(
            "INSERT OR IGNORE INTO evidence (device, seq, hash, data) VALUES (?,?,?,?)", rows
        )

    def evidence(self) -> list[tuple[bytes, int, bytes]]:
        return [
            (bytes(r[0]), r[1], bytes(r[2]))
            for r in self._db.execute("SELECT device, seq, data FROM evidence ORDER BY device, seq")
        ]

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
