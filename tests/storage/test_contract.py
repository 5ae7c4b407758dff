"""The BlobStore contract, run against every store: a local folder, moto S3 and OpenStack Swift s3api."""

from __future__ import annotations

import io
import tracemalloc
from datetime import timedelta
from pathlib import Path

import pytest

import storage
from storage import BlobNotFound, BlobStore, InvalidBlobName, new_blob_name
from tests.storage.streams import (
    MIB,
    GeneratedReader,
    SourceBroke,
    broken_chunks,
    digest_of_chunks,
    sample_bytes,
    sample_chunks,
)

RANGE_BLOB_SIZE = 1000
UNKNOWN_LENGTH_SIZE = 12 * MIB
STREAMED_SIZE = 6 * MIB
READ_CHUNK = 64 * 1024
STORAGE_SOURCES = str(Path(storage.__file__).parent / "*")
TRACE_DEPTH = 64
PUT_MEMORY_SIZE = 24 * MIB
PUT_MEMORY_SNAPSHOT_AT = 22 * MIB
BAD_NAMES = ["../x", "/etc/passwd", "a/../../b", "a//b", "Blobs/x", "a/", "", ".hidden", "a/./b", "é"]


class SnapshottingReader(GeneratedReader):
    """Measures what storage/ holds in memory once most of the stream has gone through."""

    def __init__(self, chunks) -> None:
        super().__init__(chunks)
        self.delivered = 0
        self.held_bytes: int | None = None

    def read(self, size: int = -1) -> bytes:
        data = super().read(size)
        self.delivered += len(data)
        if self.held_bytes is None and self.delivered >= PUT_MEMORY_SNAPSHOT_AT:
            snapshot = tracemalloc.take_snapshot()
            held = snapshot.filter_traces([tracemalloc.Filter(True, STORAGE_SOURCES, all_frames=True)])
            self.held_bytes = sum(statistic.size for statistic in held.statistics("filename"))
        return data


def read_all(store: BlobStore, name: str) -> bytes:
    with store.open(name) as reader:
        return reader.read()


def test_blob_store_fixture_satisfies_the_protocol(blob_store):
    assert isinstance(blob_store, BlobStore)


@pytest.mark.parametrize("size", [0, 1, 5 * MIB + 1], ids=["0-bytes", "1-byte", "5MiB+1-multipart"])
def test_put_then_open_gives_back_the_same_bytes(blob_store, size):
    data = sample_bytes(size, seed=size)
    name = new_blob_name()

    assert blob_store.put(name, io.BytesIO(data)) == size

    assert read_all(blob_store, name) == data
    assert blob_store.head(name).size == size


def test_put_streams_a_source_of_unknown_length(blob_store):
    name = new_blob_name()
    source = GeneratedReader(sample_chunks(UNKNOWN_LENGTH_SIZE, seed=12))
    assert not hasattr(source, "__len__") and not hasattr(source, "seek")

    assert blob_store.put(name, source) == UNKNOWN_LENGTH_SIZE

    assert blob_store.head(name).size == UNKNOWN_LENGTH_SIZE
    with blob_store.open(name) as reader:
        received = digest_of_chunks(iter(lambda: reader.read(READ_CHUNK), b""))
    assert received == digest_of_chunks(sample_chunks(UNKNOWN_LENGTH_SIZE, seed=12))


def test_put_never_holds_the_whole_stream_in_memory(blob_store):
    source = SnapshottingReader(sample_chunks(PUT_MEMORY_SIZE, seed=24))
    tracemalloc.start(TRACE_DEPTH)
    try:
        written = blob_store.put(new_blob_name(), source)
    finally:
        tracemalloc.stop()

    assert written == PUT_MEMORY_SIZE
    # The local store holds one chunk, S3 at most two parts (the one sent, the one being read): both far
    # below half of what has already gone through, which buffering the whole stream would exceed.
    assert source.held_bytes < PUT_MEMORY_SNAPSHOT_AT // 2


def test_put_accepts_chunks_of_any_bytes_like_type(blob_store):
    class ByteArrayReader:
        def __init__(self, data: bytes) -> None:
            self._source = io.BytesIO(data)

        def read(self, size: int = -1) -> bytearray:
            return bytearray(self._source.read(size))

    name = new_blob_name()
    assert blob_store.put(name, ByteArrayReader(b"age-encryption.org/v1\n")) == 22
    assert read_all(blob_store, name) == b"age-encryption.org/v1\n"


@pytest.mark.parametrize(("start", "length", "expected"), [
    (0, 16, slice(0, 16)),
    (400, 100, slice(400, 500)),
    (984, 16, slice(984, 1000)),
    (990, 50, slice(990, 1000)),
    (1000, 10, slice(0, 0)),
    (5000, 10, slice(0, 0)),
    (10, 0, slice(0, 0)),
], ids=["start", "middle", "end", "across-end", "at-end", "past-end", "zero-length"])
def test_read_range(blob_store, start, length, expected):
    data = sample_bytes(RANGE_BLOB_SIZE, seed=7)
    name = new_blob_name()
    blob_store.put(name, io.BytesIO(data))

    assert blob_store.read_range(name, start, length) == data[expected]


def test_read_range_of_an_empty_blob_is_empty(blob_store):
    name = new_blob_name()
    blob_store.put(name, io.BytesIO(b""))

    assert blob_store.read_range(name, 0, 64) == b""


def test_read_range_rejects_negative_numbers(blob_store):
    name = new_blob_name()
    blob_store.put(name, io.BytesIO(b"abc"))

    with pytest.raises(ValueError):
        blob_store.read_range(name, -1, 2)
    with pytest.raises(ValueError):
        blob_store.read_range(name, 0, -2)


def test_head_gives_size_and_an_aware_modification_time(blob_store):
    name = new_blob_name()
    blob_store.put(name, io.BytesIO(b"x" * 321))

    info = blob_store.head(name)

    assert (info.name, info.size) == (name, 321)
    assert info.modified.utcoffset() == timedelta(0)


@pytest.mark.parametrize("operation", ["open", "head", "read_range"])
def test_a_missing_blob_is_not_found(blob_store, operation):
    name = new_blob_name()
    with pytest.raises(BlobNotFound):
        if operation == "open":
            blob_store.open(name)
        elif operation == "head":
            blob_store.head(name)
        else:
            blob_store.read_range(name, 0, 10)


def test_delete_removes_the_blob_and_is_idempotent(blob_store):
    name = new_blob_name()
    blob_store.put(name, io.BytesIO(b"ciphertext"))

    blob_store.delete(name)
    blob_store.delete(name)
    blob_store.delete(new_blob_name())

    with pytest.raises(BlobNotFound):
        blob_store.head(name)
    assert list(blob_store.list()) == []


def test_list_filters_by_plain_string_prefix(blob_store):
    names = ["blobs/aa/1", "blobs/aa/2", "blobs/aab/3", "blobs/ab/4", "other/5"]
    for name in names:
        blob_store.put(name, io.BytesIO(name.encode()))

    assert sorted(blob_store.list()) == names
    assert sorted(blob_store.list("")) == names
    assert sorted(blob_store.list("blobs/aa/")) == ["blobs/aa/1", "blobs/aa/2"]
    assert sorted(blob_store.list("blobs/aa")) == ["blobs/aa/1", "blobs/aa/2", "blobs/aab/3"]
    assert sorted(blob_store.list("blobs/")) == names[:4]
    assert sorted(blob_store.list("o")) == ["other/5"]
    assert list(blob_store.list("nothing/")) == []


def test_overwriting_replaces_content_and_size(blob_store):
    name = new_blob_name()
    blob_store.put(name, io.BytesIO(b"first version, longer"))

    blob_store.put(name, io.BytesIO(b"second"))

    assert read_all(blob_store, name) == b"second"
    assert blob_store.head(name).size == 6
    assert list(blob_store.list()) == [name]


@pytest.mark.parametrize("good_bytes", [1000, 6 * MIB], ids=["early", "after-a-part"])
def test_a_source_that_fails_leaves_no_blob(blob_store, good_bytes):
    name = new_blob_name()

    with pytest.raises(SourceBroke):
        blob_store.put(name, GeneratedReader(broken_chunks(good_bytes)))

    with pytest.raises(BlobNotFound):
        blob_store.head(name)
    assert list(blob_store.list()) == []


def test_a_failed_overwrite_keeps_the_previous_content(blob_store):
    name = new_blob_name()
    blob_store.put(name, io.BytesIO(b"previous ciphertext"))

    with pytest.raises(SourceBroke):
        blob_store.put(name, GeneratedReader(broken_chunks(6 * MIB)))

    assert read_all(blob_store, name) == b"previous ciphertext"


def test_open_streams_without_loading_the_whole_blob(blob_store):
    name = new_blob_name()
    blob_store.put(name, GeneratedReader(sample_chunks(STREAMED_SIZE, seed=6)))
    expected = sample_bytes(STREAMED_SIZE, seed=6)

    # Only allocations made through storage/ count: moto's in-process server thread allocates too.
    tracemalloc.start(TRACE_DEPTH)
    try:
        reader = blob_store.open(name)
        first = reader.read(READ_CHUNK)
        snapshot = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    held = snapshot.filter_traces([tracemalloc.Filter(True, STORAGE_SOURCES, all_frames=True)])
    held_bytes = sum(statistic.size for statistic in held.statistics("filename"))
    with reader:
        assert first == expected[:READ_CHUNK]
        assert held_bytes < STREAMED_SIZE // 4
        rest = [first]
        while chunk := reader.read(READ_CHUNK):
            # read(n) gives exactly n bytes until the blob ends.
            assert len(chunk) == READ_CHUNK or len(chunk) == STREAMED_SIZE % READ_CHUNK
            rest.append(chunk)
    assert b"".join(rest) == expected


def test_closing_a_reader_early_leaves_the_store_usable(blob_store):
    big, small = new_blob_name(), new_blob_name()
    data = sample_bytes(2 * MIB, seed=2)
    blob_store.put(big, io.BytesIO(data))
    blob_store.put(small, io.BytesIO(b"small blob"))

    for _round in range(3):
        with blob_store.open(big) as reader:
            assert reader.read(10) == data[:10]
        # An unread response body left on a pooled connection would corrupt this next answer.
        assert read_all(blob_store, small) == b"small blob"
        assert blob_store.read_range(big, 0, 10) == data[:10]


@pytest.mark.parametrize("bad_name", BAD_NAMES)
def test_names_of_the_wrong_shape_are_refused_everywhere(blob_store, bad_name):
    operations = [
        lambda: blob_store.put(bad_name, io.BytesIO(b"x")),
        lambda: blob_store.open(bad_name),
        lambda: blob_store.read_range(bad_name, 0, 1),
        lambda: blob_store.head(bad_name),
        lambda: blob_store.delete(bad_name),
    ]
    for operation in operations:
        with pytest.raises(InvalidBlobName):
            operation()
    assert list(blob_store.list()) == []


@pytest.mark.parametrize("bad_prefix", ["../", "/etc", "a//", ".x"])
def test_list_refuses_prefixes_of_the_wrong_shape(blob_store, bad_prefix):
    with pytest.raises(InvalidBlobName):
        blob_store.list(bad_prefix)

