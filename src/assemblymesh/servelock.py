"""One ``assemblymesh serve`` per assembly: an advisory lock in the assembly's directory.

Two nodes serving the same store would fight over the port and gossip the same changes
twice. ``serve`` holds ``serve.lock`` (``flock``) while it runs; a second one is refused, and
the UI, seeing the lock held, only dials out.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from assemblymesh.errors import UsageError
from assemblymesh.i18n import _

LOCK_NAME = "serve.lock"


@contextlib.contextmanager
def serving(directory: Path) -> Iterator[None]:
    """Hold the serve lock of the assembly in ``directory``, or raise ``UsageError``."""
    path = directory / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        raise UsageError(
            _(
                "'assemblymesh serve' already runs for this assembly (it holds {path}):"
                " one is enough; the UI and other commands share its store"
            ).format(path=path)
        ) from exc
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def served(directory: Path) -> bool:
    """Whether a ``serve`` holds the lock of the assembly in ``directory`` right now."""
    path = directory / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing releases a lock taken here
    return False
