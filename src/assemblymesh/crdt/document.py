"""Typed views over pycrdt documents that hide the engine's traps from callers.

The traps (see the pycrdt notes): integers come back as floats, Text offsets are UTF-8 byte
offsets, a bad offset can raise ``PanicException`` (a ``BaseException``), and roots that
arrived by remote update read as ``None`` until typed. Here:

- values are checked on write: ``None``, ``bool``, ``int`` (|x| <= 2**53), ``str``, and lists
  and string-keyed dicts of those. Floats are refused, so every number read back is an int.
- text positions are code points (Python ``str`` indices), converted to UTF-8 offsets here.
- engine panics become ``UsageError`` (local misuse) at this boundary.
- a document can only be written inside ``Replica.transact``; anywhere else writes raise.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any, TypeAlias

import pycrdt

from assemblymesh.errors import UsageError

Value: TypeAlias = bool | int | str | list["Value"] | dict[str, "Value"] | None

__all__ = [
    "MAX_INT",
    "SHARED",
    "ArrayView",
    "Document",
    "MapView",
    "TextView",
    "Value",
    "check_value",
    "engine_guard",
    "is_panic",
    "normalize",
]

log = logging.getLogger(__name__)

MAX_INT = 2**53
SHARED = "shared"


def read_json(engine_type: Any, empty: Any) -> Any:
    """The whole type as Python data in one engine call (its JSON form). Reading element by
    element costs one engine walk per index (quadratic). A type the engine cannot read
    (whatever got into it) reads as ``empty``: it never raises out of the document layer."""
    try:
        text = str(engine_type)
        return json.loads(text) if text else empty
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # engine errors and panics, bad JSON, RecursionError
        log.warning("a document part cannot be read; it reads as empty")
        return empty


def is_panic(exc: BaseException) -> bool:
    """True for pyo3's ``PanicException``, which derives from ``BaseException`` only."""
    return type(exc).__name__ == "PanicException"


@contextlib.contextmanager
def engine_guard(action: str) -> Iterator[None]:
    """Translate engine panics and errors raised by a local operation into ``UsageError``."""
    try:
        yield
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except UsageError:
        raise
    except BaseException as exc:
        if is_panic(exc) or isinstance(exc, (ValueError, TypeError, RuntimeError)):
            raise UsageError(
                f"{action} failed: {str(exc).splitlines()[0] if str(exc) else exc!r}"
            ) from exc
        raise


def check_value(value: object, path: str = "value") -> None:
    """Refuse values the document layer cannot round-trip exactly."""
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        if -MAX_INT <= value <= MAX_INT:
            return
        raise UsageError(f"{path}: integer {value} is outside +-2**53")
    if isinstance(value, float):
        raise UsageError(f"{path}: floats are not stored (use an integer, e.g. cents)")
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            check_value(item, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise UsageError(f"{path}: dict keys must be strings")
            check_value(item, f"{path}.{key}")
        return
    raise UsageError(f"{path}: {type(value).__name__} cannot be stored")


def normalize(value: Any) -> Any:
    """Undo the engine's conversions: integral floats back to int, tuples to lists."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    if isinstance(value, bytearray):
        return bytes(value)
    return value


class Document:
    """One CRDT document of an assembly: a member's document or the shared one.

    ``name`` is ``"shared"`` or the member id (hex of the member key).
    """

    def __init__(self, name: str, client_id: int) -> None:
        self.name = name
        self._doc: pycrdt.Doc[Any] = pycrdt.Doc(client_id=client_id)
        self._writable = False
        # How many changes this replica applied to the document since it was loaded: a
        # cheap "did anything change?" for readers (a deletion leaves the state vector alone).
        self.revision = 0

    @property
    def engine_doc(self) -> pycrdt.Doc[Any]:
        """The underlying pycrdt document, for the crdt package only."""
        return self._doc

    def _root(self, key: str, kind: type[Any]) -> Any:
        with engine_guard(f"opening {kind.__name__.lower()} {key!r}"):
            return self._doc.get(key, type=kind)

    def text(self, key: str) -> TextView:
        return TextView(self, self._root(key, pycrdt.Text))

    def map(self, key: str) -> MapView:
        return MapView(self, self._root(key, pycrdt.Map))

    def array(self, key: str) -> ArrayView:
        return ArrayView(self, self._root(key, pycrdt.Array))

    def state_vector(self) -> bytes:
        return self._doc.get_state()

    def full_state(self) -> bytes:
        """The whole document as one update (what a checkpoint stores)."""
        return self._doc.get_update()

    def _check_writable(self) -> None:
        if not self._writable:
            raise UsageError(
                f"document {self.name[:16]} can only be written inside Replica.transact()"
            )


class _View:
    __slots__ = ("_owner", "_type")

    def __init__(self, owner: Document, engine_type: Any) -> None:
        self._owner = owner
        self._type = engine_type


class TextView(_View):
    """A collaborative text; positions are code points."""

    def __str__(self) -> str:
        try:
            return str(self._type)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:
            log.warning("a text cannot be read; it reads as empty")
            return ""

    def __len__(self) -> int:
        return len(str(self._type))

    def _offset(self, index: int) -> tuple[str, int]:
        current = str(self._type)
        if not 0 <= index <= len(current):
            raise UsageError(f"text position {index} is outside 0..{len(current)}")
        return current, len(current[:index].encode("utf-8"))

    def insert(self, index: int, text: str) -> None:
        self._owner._check_writable()
        _, offset = self._offset(index)
        with engine_guard("text insert"):
            self._type.insert(offset, text)

    def delete(self, index: int, length: int) -> None:
        self._owner._check_writable()
        current, start = self._offset(index)
        if length < 0 or index + length > len(current):
            raise UsageError(f"text range {index}+{length} is outside 0..{len(current)}")
        end = start + len(current[index : index + length].encode("utf-8"))
        with engine_guard("text delete"):
            del self._type[start:end]


class MapView(_View):
    """A map from string keys to values, nested maps, texts or arrays."""

    def get(self, key: str, default: Any = None) -> Any:
        value = self._type.get(key)
        if value is None:
            return default
        if isinstance(value, pycrdt.Map):
            return MapView(self._owner, value)
        if isinstance(value, pycrdt.Text):
            return TextView(self._owner, value)
        if isinstance(value, pycrdt.Array):
            return ArrayView(self._owner, value)
        return normalize(value)

    def __contains__(self, key: str) -> bool:
        return key in self._type

    def __len__(self) -> int:
        return len(self._type)

    def keys(self) -> list[str]:
        return sorted(self._type.keys())

    def set(self, key: str, value: Value) -> None:
        self._owner._check_writable()
        check_value(value, key)
        with engine_guard("map set"):
            self._type[key] = value

    def delete(self, key: str) -> None:
        self._owner._check_writable()
        with engine_guard("map delete"):
            del self._type[key]

    def _child(self, key: str, kind: type[Any]) -> Any:
        current = self._type.get(key)
        if isinstance(current, kind):
            return current
        self._owner._check_writable()
        with engine_guard("map child"):
            self._type[key] = kind()
            return self._type[key]

    def child_map(self, key: str) -> MapView:
        """The nested map at ``key``, created (inside a transaction) if absent."""
        return MapView(self._owner, self._child(key, pycrdt.Map))

    def child_text(self, key: str) -> TextView:
        return TextView(self._owner, self._child(key, pycrdt.Text))

    def to_py(self) -> dict[str, Any]:
        value = read_json(self._type, {})
        result: dict[str, Any] = normalize(value) if isinstance(value, dict) else {}
        return result


class ArrayView(_View):
    """A list of values; appended items are immutable."""

    def __len__(self) -> int:
        return len(self._type)

    def __getitem__(self, index: int) -> Any:
        return normalize(self._type[index])

    def append(self, value: Value) -> None:
        self._owner._check_writable()
        check_value(value)
        with engine_guard("array append"):
            self._type.append(value)

    def to_py(self) -> list[Any]:
        value = read_json(self._type, [])
        result: list[Any] = normalize(value) if isinstance(value, list) else []
        return result
