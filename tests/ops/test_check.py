"""``consigne check``: every paper's blobs exist, whole, in the age format, without any key."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from ops import cli
from ops.check import check_store
from storage import open_blob_store
from vault.db import make_engine, make_session_factory
from vault.models import Document

pytestmark = pytest.mark.usefixtures("database_url")


@pytest.fixture
def demo(environment):
    assert cli.main(["demo"]) == 0
    return environment


def _report(capsys) -> tuple[int, dict]:
    capsys.readouterr()
    status = cli.main(["check"])
    return status, json.loads(capsys.readouterr().out)


def _documents(settings) -> list[Document]:
    with make_session_factory(make_engine(settings.database_url))() as session:
        return list(session.scalars(select(Document).order_by(Document.id)))


def test_the_demo_vault_is_intact(demo, capsys):
    status, report = _report(capsys)
    assert status == 0
    assert report == {"documents": 3, "blobs": 6, "intact": True, "problems": []}


def test_a_missing_a_cut_and_a_foreign_blob_are_each_named(demo, capsys):
    store = open_blob_store(demo.storage_url)
    first, second, third = _documents(demo)
    store.delete(first.blob_name)
    whole = store.read_range(second.blob_name, 0, second.stored_size)
    store.put(second.blob_name, io.BytesIO(whole[:-100]))  # cut short: the header still parses
    store.put(third.thumbnail_blob_name, io.BytesIO(b"%PDF-1.7 not encrypted at all"))

    status, report = _report(capsys)

    assert status == 1
    assert report["intact"] is False
    assert sorted((p["document"], p["blob"], p["problem"]) for p in report["problems"]) == sorted([
        (first.id, first.blob_name, "missing"),
        (second.id, second.blob_name, "size_differs"),
        (third.id, third.thumbnail_blob_name, "not_age"),
    ])


def test_a_file_encrypted_with_a_passphrase_is_not_a_persons_paper(demo):
    from crypto import age

    store = open_blob_store(demo.storage_url)
    document = _documents(demo)[0]
    encrypted = io.BytesIO()
    age.encrypt(io.BytesIO(b"x" * 10), encrypted, [age.ScryptRecipient("a passphrase", work_factor=2)])
    store.put(document.thumbnail_blob_name, io.BytesIO(encrypted.getvalue()))
    with make_session_factory(make_engine(demo.database_url))() as session:
        report = check_store(session, store)
    assert [(p.blob, p.problem) for p in report.problems] == [(document.thumbnail_blob_name, "not_for_one_person")]
