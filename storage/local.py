"""A blob store in a local folder: one file per blob, written atomically and durably.

Writes go to a hidden temporary file next to the blob, are flushed and fsync'ed, then renamed over the
blob with ``os.replace`` and the folder is fsync'ed: after a crash a blob is either whole or absent, never
half written. Files are 0600 and folders 0700 (the blobs are ciphertext, but their sizes and dates still
say something). Every path is checked to stay inside the root even after symlinks are resolved, on top
of ``check_blob_name``: a symlink planted inside the store cannot lead reads or writes outside it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from storage.base import BlobInfo, check_range
from storage.errors import BlobNotFound, InvalidBlobName, InvalidStorageConfig, StorageUnavailable
from storage.names import check_blob_name, check_blob_prefix

FILE_MODE = 0o600
DIR_MODE = 0o700
CHUNK_SIZE = 1024 * 1024
READ_BUFFER_SIZE = 64 * 1024
# A leading dot is never allowed in a blob name, so a temporary file can never be taken for a blob.
TEMP_PREFIX = ".put-"
TEMP_SUFFIX = ".tmp"
OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
NOT_A_BLOB = (FileNotFoundError, NotADirectoryError, IsADirectoryError)


class LocalBlobStore:
    """Blobs as files under ``root`` (created 0700 if it does not exist)."""

    def __init__(self, root: Path | str) -> None:
        try:
            os.makedirs(root, mode=DIR_MODE, exist_ok=True)
        except FileExistsError:
            raise InvalidStorageConfig("the blob folder is not a directory") from None
        except OSError as error:
            raise StorageUnavailable(f"cannot create the blob folder: {error.strerror}") from error
        real = os.path.realpath(root)
        if not os.path.isdir(real):
            raise InvalidStorageConfig("the blob folder is not a directory")
        self.root = Path(real)
        self._root = real

    def __repr__(self) -> str:
        return f"LocalBlobStore({self._root!r})"

    def put(self, name: str, stream: BinaryIO) -> int:
        """Copy ``stream`` into a temporary file, fsync it, then atomically rename it to ``name``."""
        final = self._path(name)
        folder = os.path.dirname(final)
        with _translated_os_errors("write"):
            self._make_folders(folder)
            temp = os.path.join(folder, f"{TEMP_PREFIX}{secrets.token_hex(8)}{TEMP_SUFFIX}")
            fd = os.open(temp, CREATE_FLAGS, FILE_MODE)
        try:
            with os.fdopen(fd, "wb") as out:
                with _translated_os_errors("write"):
                    # Explicit: os.open's mode goes through the umask; the result must be exactly 0600.
                    os.fchmod(out.fileno(), FILE_MODE)
                written = _copy(stream, out)
                with _translated_os_errors("write"):
                    out.flush()
                    os.fsync(out.fileno())
            with _translated_os_errors("write"):
                os.replace(temp, final)
                _fsync_folder(folder)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        return written

    def open(self, name: str) -> BinaryIO:
        """Return the blob's file opened for reading (symlinks are not followed)."""
        path = self._path(name)
        fd = self._open_regular(path, name)
        return os.fdopen(fd, "rb", buffering=READ_BUFFER_SIZE)

    def read_range(self, name: str, start: int, length: int) -> bytes:
        """Return up to ``length`` bytes from ``start`` (``pread``, no seek state shared)."""
        check_range(start, length)
        path = self._path(name)
        fd = self._open_regular(path, name)
        try:
            chunks = []
            remaining = length
            with _translated_os_errors("read"):
                while remaining:
                    chunk = os.pread(fd, remaining, start + length - remaining)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    remaining -= len(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)

    def head(self, name: str) -> BlobInfo:
        """Return size and modification time (UTC) of the blob's file."""
        path = self._path(name)
        try:
            status = os.stat(path, follow_symlinks=False)
        except NOT_A_BLOB:
            raise BlobNotFound(name) from None
        except OSError as error:
            raise StorageUnavailable(f"cannot read blob metadata: {error.strerror}") from error
        if not stat.S_ISREG(status.st_mode):
            raise BlobNotFound(name)
        return BlobInfo(name=name, size=status.st_size,
                        modified=datetime.fromtimestamp(status.st_mtime, tz=UTC))

    def delete(self, name: str) -> None:
        """Unlink the blob's file and fsync its folder; a missing blob is fine."""
        path = self._path(name)
        try:
            os.unlink(path)
        except NOT_A_BLOB:
            return
        except OSError as error:
            raise StorageUnavailable(f"cannot delete blob: {error.strerror}") from error
        with _translated_os_errors("delete"):
            _fsync_folder(os.path.dirname(path))

    def list(self, prefix: str = "") -> Iterator[str]:
        """Yield the names of the blob files under the root that start with ``prefix``."""
        check_blob_prefix(prefix)
        start = self._contained(os.path.join(self._root, *prefix.split("/")[:-1]))
        return self._walk(start, prefix)

    def _walk(self, start: str, prefix: str) -> Iterator[str]:
        for folder, subfolders, files in os.walk(start, followlinks=False):
            relative = os.path.relpath(folder, self._root)
            base = "" if relative == "." else relative.replace(os.sep, "/") + "/"
            # Prune folders that cannot hold a match; sorted for a stable, readable order.
            subfolders[:] = sorted(
                entry for entry in subfolders
                if _may_match(base + entry + "/", prefix) and not entry.startswith(".")
            )
            for entry in sorted(files):
                name = base + entry
                if not name.startswith(prefix) or os.path.islink(os.path.join(folder, entry)):
                    continue
                try:
                    yield check_blob_name(name)
                except InvalidBlobName:
                    continue  # temporary files and anything else that is not a blob

    def _path(self, name: str) -> str:
        check_blob_name(name)
        return self._contained(os.path.join(self._root, *name.split("/")))

    def _contained(self, path: str) -> str:
        real = os.path.realpath(path)
        if os.path.commonpath([self._root, real]) != self._root:
            raise InvalidBlobName("the blob name resolves outside the store")
        return real

    def _make_folders(self, folder: str) -> None:
        missing = []
        current = folder
        while current != self._root and not os.path.isdir(current):
            missing.append(current)
            current = os.path.dirname(current)
        for path in reversed(missing):
            try:
                os.mkdir(path, DIR_MODE)
            except FileExistsError:
                continue  # created by a concurrent put
            os.chmod(path, DIR_MODE)
            _fsync_folder(os.path.dirname(path))

    def _open_regular(self, path: str, name: str) -> int:
        try:
            fd = os.open(path, OPEN_FLAGS)
        except NOT_A_BLOB:
            raise BlobNotFound(name) from None
        except OSError as error:
            raise StorageUnavailable(f"cannot open blob: {error.strerror}") from error
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise BlobNotFound(name)
        return fd


def _copy(stream: BinaryIO, out: BinaryIO) -> int:
    """Copy in bounded chunks; the source's own exceptions pass through untouched."""
    written = 0
    while True:
        chunk = stream.read(CHUNK_SIZE)
        if not chunk:
            return written
        with _translated_os_errors("write"):
            out.write(chunk)
        written += memoryview(chunk).nbytes


def _fsync_folder(folder: str) -> None:
    # The rename (or unlink) is only durable once the folder's entry list reaches the disk.
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _may_match(folder_prefix: str, prefix: str) -> bool:
    return folder_prefix.startswith(prefix) or prefix.startswith(folder_prefix)


@contextlib.contextmanager
def _translated_os_errors(action: str) -> Iterator[None]:
    try:
        yield
    except (NotADirectoryError, IsADirectoryError) as error:
        raise InvalidBlobName(f"cannot {action} the blob: a blob and a folder would share a name") from error
    except OSError as error:
        raise StorageUnavailable(f"cannot {action} the blob: {error.strerror}") from error
