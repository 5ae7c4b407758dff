"""Blob names: random, non-personal, and of a shape that cannot escape a store."""

from __future__ import annotations

import re

import pytest

from storage import InvalidBlobName, check_blob_name, new_blob_name
from storage.names import MAX_BLOB_NAME_LENGTH, check_blob_prefix


def test_new_names_are_random_and_fanned_out():
    names = {new_blob_name() for _ in range(200)}

    assert len(names) == 200
    for name in names:
        match = re.fullmatch(r"blobs/([0-9a-f]{2})/([0-9a-f]{32})", name)
        assert match and match.group(2).startswith(match.group(1))
        assert check_blob_name(name) == name


@pytest.mark.parametrize("name", ["blobs/3f/3f9c", "a", "a/b/c", "x_y-z.age", "0/1/2"])
def test_well_formed_names_pass(name):
    assert check_blob_name(name) == name


@pytest.mark.parametrize("name", [
    "", "/abs", "trailing/", "a//b", "..", "../x", "a/../b", ".", "./a", ".hidden", "a/.tmp",
    "Upper", "sp ace", "back\\slash", "nul\0", "new\nline", "é", "a" * (MAX_BLOB_NAME_LENGTH + 1),
])
def test_malformed_names_are_refused(name):
    with pytest.raises(InvalidBlobName):
        check_blob_name(name)


def test_a_name_of_the_maximum_length_passes():
    assert check_blob_name("a" * MAX_BLOB_NAME_LENGTH)


def test_a_name_that_is_not_a_string_is_refused():
    with pytest.raises(InvalidBlobName):
        check_blob_name(b"blobs/aa/bb")


@pytest.mark.parametrize("prefix", ["", "blobs/", "blobs/3", "b"])
def test_prefixes(prefix):
    assert check_blob_prefix(prefix) == prefix


@pytest.mark.parametrize("prefix", ["/", "../", "a//", ".x", "a/.", "A/"])
def test_malformed_prefixes_are_refused(prefix):
    with pytest.raises(InvalidBlobName):
        check_blob_prefix(prefix)
