"""Transport framing: how a TCP byte stream carries Noise messages and application messages.

Two layers, both sans-I/O (bytes in, bytes or messages out; see ``docs/protocol.md`` §4):

* **Frames.** Every Noise message (handshake or transport) travels as a 2-byte big-endian
  length followed by that many bytes. ``FrameDecoder`` cuts a stream into frames.
* **Application messages.** A message (opaque bytes; the sync layer puts msgpack in them) is
  the plaintext stream ``u32 big-endian length || payload``, cut into chunks of at most
  65519 bytes so that each chunk plus its 16-byte tag fits in one Noise transport message.
  Chunking is canonical: every chunk but the last of a message is full, and a transport
  message never carries bytes of two messages, so each message has exactly one encoding.

``Session`` puts both together with the two transport ciphers from the handshake: the caller
hands it received bytes and gets whole messages back, and hands it messages to get bytes to
write. Truncation (end of stream inside a frame or a message) is an error, never a clean close.
"""

from __future__ import annotations

from assemblymesh.errors import ProtocolError, UsageError
from assemblymesh.net.noise import MAX_MESSAGE_LEN, TAGLEN, CipherState

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "FRAME_HEADER_SIZE",
    "MAX_CHUNK_SIZE",
    "MAX_FRAME_SIZE",
    "MESSAGE_HEADER_SIZE",
    "FrameDecoder",
    "MessageAssembler",
    "Session",
    "chunk_message",
    "encode_frame",
]

FRAME_HEADER_SIZE = 2
MESSAGE_HEADER_SIZE = 4
MAX_FRAME_SIZE = MAX_MESSAGE_LEN  # 65535, the Noise limit; a 2-byte length cannot say more
MAX_CHUNK_SIZE = MAX_FRAME_SIZE - TAGLEN  # 65519 plaintext bytes per transport message
DEFAULT_MAX_MESSAGE_SIZE = 8 * 1024 * 1024


def encode_frame(noise_message: bytes) -> bytes:
    """Prefix one Noise message with its 2-byte big-endian length."""
    if len(noise_message) > MAX_FRAME_SIZE:
        raise UsageError("a Noise message cannot exceed 65535 bytes")
    return len(noise_message).to_bytes(FRAME_HEADER_SIZE, "big") + noise_message


class FrameDecoder:
    """Cuts a byte stream into length-prefixed Noise messages.

    Frames shorter than ``min_frame_size`` are refused: no Noise message we accept is shorter
    than an authentication tag, and an empty frame would be a free way to keep a peer busy.
    Frames longer than ``max_frame_size`` are refused on their length prefix alone, before
    their bytes are waited for (the handshake uses this to cap what a stranger can make it
    buffer).
    """

    __slots__ = ("_buffer", "_max", "_min", "_pos")

    def __init__(
        self, *, min_frame_size: int = TAGLEN, max_frame_size: int = MAX_FRAME_SIZE
    ) -> None:
        self._buffer = bytearray()
        # Start of the unread bytes: the buffer is cut only now and then, so that reading
        # many frames out of one large feed stays linear.
        self._pos = 0
        self._min = min_frame_size
        self._max = max_frame_size

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as a frame."""
        return len(self._buffer) - self._pos

    def push(self, data: bytes) -> None:
        """Add received bytes without cutting frames (see ``next_frame``)."""
        if self._pos and self._pos * 2 >= len(self._buffer):
            del self._buffer[: self._pos]
            self._pos = 0
        self._buffer += data

    def next_frame(self) -> bytes | None:
        """The next complete frame, or None if more bytes are needed."""
        if self.buffered < FRAME_HEADER_SIZE:
            return None
        start = self._pos + FRAME_HEADER_SIZE
        size = int.from_bytes(self._buffer[self._pos : start], "big")
        if size < self._min:
            raise ProtocolError(f"frame of {size} bytes is shorter than {self._min}")
        if size > self._max:
            raise ProtocolError(f"frame of {size} bytes is longer than {self._max}")
        if len(self._buffer) < start + size:
            return None
        frame = bytes(self._buffer[start : start + size])
        self._pos = start + size
        return frame

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return every frame now complete, in order."""
        self.push(data)
        frames: list[bytes] = []
        while (frame := self.next_frame()) is not None:
            frames.append(frame)
        return frames

    def take_buffer(self) -> bytes:
        """Remove and return the bytes not yet returned as frames."""
        rest = bytes(self._buffer[self._pos :])
        self._buffer.clear()
        self._pos = 0
        return rest

    def eof(self) -> None:
        """The stream ended: refuse a partial frame, which means truncation."""
        if self.buffered:
            raise ProtocolError(f"connection closed inside a frame ({self.buffered} bytes)")


def chunk_message(
    payload: bytes, *, max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
) -> list[bytes]:
    """The plaintext chunks of one application message (canonical chunking)."""
    if len(payload) > max_message_size:
        raise UsageError(f"message of {len(payload)} bytes exceeds the {max_message_size} cap")
    stream = len(payload).to_bytes(MESSAGE_HEADER_SIZE, "big") + payload
    return [stream[i : i + MAX_CHUNK_SIZE] for i in range(0, len(stream), MAX_CHUNK_SIZE)]


class MessageAssembler:
    """Rebuilds application messages from decrypted chunks, enforcing canonical chunking."""

    __slots__ = ("_max", "_parts", "_remaining")

    def __init__(self, *, max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE) -> None:
        self._max = max_message_size
        self._parts: list[bytes] = []
        # Payload bytes still expected for the message in progress; None between messages.
        self._remaining: int | None = None

    @property
    def in_progress(self) -> bool:
        return self._remaining is not None

    def add_chunk(self, chunk: bytes) -> bytes | None:
        """Take one decrypted chunk; return the message it completes, if any."""
        if self._remaining is None:
            if len(chunk) < MESSAGE_HEADER_SIZE:
                raise ProtocolError("first chunk of a message is shorter than its length header")
            size = int.from_bytes(chunk[:MESSAGE_HEADER_SIZE], "big")
            # Refused on the header alone, before a single payload byte is kept.
            if size > self._max:
                raise ProtocolError(f"message of {size} bytes exceeds the {self._max} cap")
            expected = min(MAX_CHUNK_SIZE, MESSAGE_HEADER_SIZE + size)
            if len(chunk) != expected:
                raise ProtocolError(f"chunk of {len(chunk)} bytes where {expected} were due")
            body = chunk[MESSAGE_HEADER_SIZE:]
            remaining = size - len(body)
        else:
            expected = min(MAX_CHUNK_SIZE, self._remaining)
            if len(chunk) != expected:
                raise ProtocolError(f"chunk of {len(chunk)} bytes where {expected} were due")
            body = chunk
            remaining = self._remaining - len(body)
        if remaining:
            self._parts.append(body)
            self._remaining = remaining
            return None
        message = b"".join([*self._parts, body])
        self._parts.clear()
        self._remaining = None
        return message


class Session:
    """An established, authenticated connection: messages in, wire bytes out, and back.

    ``send_cipher`` and ``receive_cipher`` are the transport CipherStates of this side (the
    handshake hands them over already past the identity proofs). Any ``ProtocolError`` makes
    the session terminal; the caller then closes the connection.
    """

    __slots__ = ("_assembler", "_decoder", "_failed", "_hash", "_max", "_recv", "_send")

    def __init__(
        self,
        send_cipher: CipherState,
        receive_cipher: CipherState,
        handshake_hash: bytes,
        *,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    ) -> None:
        if not (send_cipher.has_key() and receive_cipher.has_key()):
            raise UsageError("a session needs keyed transport ciphers")
        self._send = send_cipher
        self._recv = receive_cipher
        self._hash = handshake_hash
        self._max = max_message_size
        self._decoder = FrameDecoder()
        self._assembler = MessageAssembler(max_message_size=max_message_size)
        self._failed = False

    @property
    def handshake_hash(self) -> bytes:
        """The Noise handshake hash: a unique, secret-dependent name for this connection."""
        return self._hash

    @property
    def max_message_size(self) -> int:
        return self._max

    def encrypt_message(self, payload: bytes) -> bytes:
        """The wire bytes that carry one application message."""
        out = bytearray()
        for chunk in chunk_message(payload, max_message_size=self._max):
            out += encode_frame(self._send.encrypt_with_ad(b"", chunk))
        return bytes(out)

    def feed(self, data: bytes) -> list[bytes]:
        """Take received bytes; return the application messages they complete, in order.

        On error nothing more is returned, even messages completed earlier in the same call:
        the connection is to be dropped, and the sync layer re-requests what it lacks.
        """
        if self._failed:
            raise ProtocolError("session already failed")
        try:
            messages: list[bytes] = []
            for frame in self._decoder.feed(data):
                message = self._assembler.add_chunk(self._recv.decrypt_with_ad(b"", frame))
                if message is not None:
                    messages.append(message)
            return messages
        except ProtocolError:
            self._failed = True
            raise

    def eof(self) -> None:
        """The peer closed the stream: refuse it if a frame or a message was cut short."""
        self._decoder.eof()
        if self._assembler.in_progress:
            raise ProtocolError("connection closed inside a message")
