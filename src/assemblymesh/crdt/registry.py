"""The document registry of a replica: the in-memory documents and their store ids.

One place maps document names ("shared" or a member id hex) to ``Document`` objects and to
the small integer ids the store uses, and applies updates from elsewhere to the engine with
the ``REMOTE`` origin, translating engine failures (panics included) into ``bad-update``.
"""

from __future__ import annotations

from assemblymesh.crdt.change import SHARED_DOC
from assemblymesh.crdt.document import SHARED, Document
from assemblymesh.crdt.store import Store
from assemblymesh.errors import RejectedChange, RejectReason

__all__ = ["LOCAL_ORIGIN", "REMOTE_ORIGIN", "Registry", "apply_update", "doc_field", "doc_name"]

LOCAL_ORIGIN = "assemblymesh:local"
REMOTE_ORIGIN = "assemblymesh:remote"


def doc_name(doc: bytes) -> str:
    """The name of the document a change's ``doc`` field designates."""
    return SHARED if doc == SHARED_DOC else doc.hex()


def doc_field(name: str) -> bytes:
    return SHARED_DOC if name == SHARED else bytes.fromhex(name)


class Registry:
    """Documents by name, and the store's ids for them."""

    def __init__(self, store: Store, client_id: int) -> None:
        self._store = store
        self._client_id = client_id
        self.docs: dict[str, Document] = {}
        self.reload_ids()

    def reload_ids(self) -> None:
        self.ids: dict[str, int] = self._store.load_docs()
        self.names: dict[int, str] = {i: n for n, i in self.ids.items()}

    def document(self, name: str) -> Document:
        doc = self.docs.get(name)
        if doc is None:
            doc = Document(name, self._client_id)
            self.docs[name] = doc
        return doc

    def by_id(self, doc_id: int) -> Document:
        return self.document(self.names[doc_id])

    def doc_id(self, name: str) -> int:
        """The store id of ``name``, added to the store if new (inside a write)."""
        doc_id = self.ids.get(name)
        if doc_id is None:
            doc_id = self._store.add_doc(name)
            self.ids[name] = doc_id
            self.names[doc_id] = name
        return doc_id


def apply_update(doc: Document, update: bytes) -> None:
    """Apply ``update`` from elsewhere; any engine failure is ``bad-update``."""
    engine = doc.engine_doc
    try:
        with engine.transaction(origin=REMOTE_ORIGIN):
            engine.apply_update(update)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # PanicException derives from BaseException only
        raise RejectedChange(RejectReason.BAD_UPDATE, "the CRDT update does not apply") from exc
