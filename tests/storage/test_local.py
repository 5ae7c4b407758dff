"""The local folder store: containment, atomic writes, file modes, and file:// URLs."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest

from storage import InvalidBlobName, InvalidStorageConfig, LocalBlobStore, new_blob_name, open_blob_store
from storage.errors import BlobNotFound
from tests.storage.streams import MIB, GeneratedReader, SourceBroke, broken_chunks

TRAVERSALS = ["../x", "/etc/passwd", "a/../../b", "../../../../etc/passwd", "blobs/../../x"]


@pytest.fixture
def root(tmp_path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(root) -> LocalBlobStore:
    return LocalBlobStore(root)


@pytest.fixture
def outside(tmp_path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret").write_bytes(b"not yours")
    return folder


def every_file(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if not path.is_dir())


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("name", TRAVERSALS)
def test_path_traversal_is_refused(store, root, tmp_path, name):
    with pytest.raises(InvalidBlobName):
        store.put(name, io.BytesIO(b"escape"))
    with pytest.raises(InvalidBlobName):
        store.open(name)
    with pytest.raises(InvalidBlobName):
        store.delete(name)
    assert not (tmp_path / "x").exists() and not (tmp_path / "b").exists()
    assert every_file(root) == []


def test_a_symlinked_folder_inside_the_store_cannot_lead_outside(store, root, outside):
    (root / "blobs").symlink_to(outside, target_is_directory=True)

    with pytest.raises(InvalidBlobName):
        store.put("blobs/planted", io.BytesIO(b"written outside?"))
    with pytest.raises(InvalidBlobName):
        store.open("blobs/secret")
    with pytest.raises(InvalidBlobName):
        store.read_range("blobs/secret", 0, 4)
    with pytest.raises(InvalidBlobName):
        store.head("blobs/secret")
    with pytest.raises(InvalidBlobName):
        store.delete("blobs/secret")
    with pytest.raises(InvalidBlobName):
        list(store.list("blobs/"))

    assert every_file(outside) == ["secret"]
    assert (outside / "secret").read_bytes() == b"not yours"
    assert list(store.list()) == []


def test_a_symlinked_file_inside_the_store_cannot_be_read_through(store, root, outside):
    (root / "blobs").mkdir()
    (root / "blobs" / "link").symlink_to(outside / "secret")

    with pytest.raises(InvalidBlobName):
        store.open("blobs/link")
    with pytest.raises(InvalidBlobName):
        store.put("blobs/link", io.BytesIO(b"overwrite the target?"))
    assert (outside / "secret").read_bytes() == b"not yours"
    assert list(store.list()) == []


def test_a_root_reached_through_a_symlink_is_resolved_once(tmp_path):
    real = tmp_path / "real-store"
    real.mkdir()
    (tmp_path / "alias").symlink_to(real, target_is_directory=True)

    store = LocalBlobStore(tmp_path / "alias")
    store.put("blobs/aa/one", io.BytesIO(b"1"))

    assert store.root == real.resolve()
    assert (real / "blobs" / "aa" / "one").read_bytes() == b"1"


def test_a_put_whose_source_fails_leaves_no_temporary_file(store, root):
    name = new_blob_name()

    with pytest.raises(SourceBroke):
        store.put(name, GeneratedReader(broken_chunks(3 * MIB)))

    assert every_file(root) == []
    with pytest.raises(BlobNotFound):
        store.head(name)


def test_an_interrupted_put_leaves_no_temporary_file(store, root):
    def interrupted():
        yield b"x" * 1000
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.put(new_blob_name(), GeneratedReader(interrupted()))

    assert every_file(root) == []


def test_files_are_0600_and_folders_0700(tmp_path):
    previous = os.umask(0o022)
    try:
        root = tmp_path / "fresh"
        store = LocalBlobStore(root)
        name = new_blob_name()
        store.put(name, io.BytesIO(b"ciphertext"))
    finally:
        os.umask(previous)

    first, second, _file = name.split("/")
    assert mode_of(root) == 0o700
    assert mode_of(root / first) == 0o700
    assert mode_of(root / first / second) == 0o700
    assert mode_of(root / name) == 0o600


def test_list_skips_temporary_and_foreign_files(store, root):
    name = new_blob_name()
    store.put(name, io.BytesIO(b"blob"))
    folder = (root / name).parent
    (folder / ".put-0123456789abcdef.tmp").write_bytes(b"half written")
    (folder / "UPPER-CASE").write_bytes(b"not a blob name")
    (root / ".hidden").mkdir()
    (root / ".hidden" / "x").write_bytes(b"hidden")

    assert list(store.list()) == [name]


def test_a_blob_and_a_folder_cannot_share_a_name(store):
    store.put("blobs/aa/one", io.BytesIO(b"1"))

    with pytest.raises(InvalidBlobName):
        store.put("blobs/aa", io.BytesIO(b"over a folder"))
    with pytest.raises(InvalidBlobName):
        store.put("blobs/aa/one/two", io.BytesIO(b"under a file"))
    with pytest.raises(BlobNotFound):
        store.open("blobs/aa")
    with pytest.raises(BlobNotFound):
        store.head("blobs/aa")
    store.delete("blobs/aa")
    assert list(store.list()) == ["blobs/aa/one"]


def test_the_root_must_be_a_folder(tmp_path):
    (tmp_path / "file").write_bytes(b"")

    with pytest.raises(InvalidStorageConfig):
        LocalBlobStore(tmp_path / "file")


@pytest.mark.parametrize("form", ["file-url", "file-url-localhost", "plain-path"])
def test_open_blob_store_opens_local_folders(tmp_path, form):
    folder = tmp_path / "from url"
    url = {
        "file-url": f"file://{str(folder).replace(' ', '%20')}",
        "file-url-localhost": f"file://localhost{folder}",
        "plain-path": str(folder),
    }[form]

    store = open_blob_store(url)

    assert isinstance(store, LocalBlobStore)
    assert store.root == folder.resolve()


@pytest.mark.parametrize("url", ["file://relative/path", "file:///tmp/x?mode=1", "", "ftp://host/x"])
def test_open_blob_store_refuses_unusable_local_urls(url):
    with pytest.raises(InvalidStorageConfig):
        open_blob_store(url)
