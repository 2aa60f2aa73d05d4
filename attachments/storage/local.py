"""The local-disk backend: Django's FileSystemStorage under DEPOT_DATA_DIR."""

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from django.core.files.storage import FileSystemStorage, default_storage

from attachments.storage.base import TEMP_PREFIX, BlobMissing, Chunk, Digest, OpenedBlob, StagedBlob


def local_path(key: str) -> Path:
    return Path(default_storage.path(key))


class LocalBlobWriter:
    def __init__(self) -> None:
        self.temp_key = f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        self.path = local_path(self.temp_key)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "wb")  # noqa: SIM115  (closed in finish/abort)
        self._digest = Digest()

    def write(self, chunk: Chunk) -> None:
        self._digest.update(chunk)
        self._file.write(chunk)

    def write_many(self, chunks: list[memoryview]) -> None:
        for chunk in chunks:
            self.write(chunk)

    def finish(self) -> StagedBlob:
        self._file.flush()
        # The bytes must be on disk before a row can point at them.
        os.fdatasync(self._file.fileno())
        self._file.close()
        return self._digest.staged(self.temp_key)

    def abort(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)


def local_move(source: str, destination: str) -> None:
    target = local_path(destination)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(local_path(source), target)


def local_open(key: str, start: int, length: int | None) -> OpenedBlob:
    try:
        file = open(local_path(key), "rb")  # noqa: SIM115  (closed by OpenedBlob)
    except FileNotFoundError:
        raise BlobMissing(key) from None
    try:
        file.seek(start)
    except BaseException:
        file.close()
        raise
    return OpenedBlob(file.read, file.close, length)


def local_keys(prefix: str) -> Iterator[tuple[str, datetime]]:
    root = Path(cast(FileSystemStorage, default_storage).location)
    base = root / prefix
    if not base.exists():
        return
    for directory, _, files in os.walk(base):
        for file_name in files:
            path = Path(directory) / file_name
            try:
                modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
            except FileNotFoundError:
                continue  # removed while we walked
            yield path.relative_to(root).as_posix(), modified
