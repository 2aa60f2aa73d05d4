"""A SHA-256 whose state can be saved between requests and after a restart.

hashlib's objects cannot be pickled, and a resumed tus upload must not re-read what it already
stored to hash it. OpenSSL's low-level SHA256_CTX is a plain 112-byte struct (eight 32-bit words
of state, the bit count, the buffered partial block): its bytes are the whole state, so they go
to the database with the offset and are loaded back by the next PATCH, on any process. Python's
own hashlib is OpenSSL's, so the library is always there where Depot runs.
"""

import ctypes
import ctypes.util
import hashlib

CTX_SIZE = 112  # sizeof(SHA256_CTX): h[8], Nl, Nh, data[16], num, md_len (all 32-bit)


def _load() -> ctypes.CDLL:
    name = ctypes.util.find_library("crypto")
    if name is None:
        raise ImportError("libcrypto (OpenSSL) is needed for resumable SHA-256 state")
    library = ctypes.CDLL(name)
    library.SHA256_Init.argtypes = [ctypes.c_char_p]
    library.SHA256_Update.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
    library.SHA256_Final.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    return library


_crypto = _load()


class ResumableSha256:
    """`update` / `hexdigest` like hashlib's, plus `state()` bytes to resume from."""

    def __init__(self, state: bytes | None = None) -> None:
        self._ctx = ctypes.create_string_buffer(CTX_SIZE)
        if state:
            if len(state) != CTX_SIZE:
                raise ValueError("not a saved SHA-256 state")
            ctypes.memmove(self._ctx, state, CTX_SIZE)
        else:
            _crypto.SHA256_Init(self._ctx)

    def update(self, data: bytes | bytearray | memoryview) -> None:
        if isinstance(data, memoryview):
            data = data.tobytes() if data.readonly else bytearray(data)  # rare: callers pass bytes
        if not data:
            return
        pointer: object = data
        if isinstance(data, bytearray):
            pointer = ctypes.addressof((ctypes.c_char * len(data)).from_buffer(data))
        _crypto.SHA256_Update(self._ctx, pointer, len(data))

    def state(self) -> bytes:
        return self._ctx.raw

    def hexdigest(self) -> str:
        copy = ctypes.create_string_buffer(self._ctx.raw, CTX_SIZE)
        out = ctypes.create_string_buffer(32)
        _crypto.SHA256_Final(out, copy)
        return out.raw.hex()


def self_check() -> bool:
    """The struct layout is what this module assumes (checked by the tests)."""
    first = ResumableSha256()
    first.update(b"depot" * 100)
    second = ResumableSha256(first.state())
    second.update(b"tus")
    return second.hexdigest() == hashlib.sha256(b"depot" * 100 + b"tus").hexdigest()
