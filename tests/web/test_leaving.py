"""Leaving is a right: a person's stored papers decrypt with the stock age tool and their identity."""

from __future__ import annotations

import subprocess

import pytest

from tests.lanes import require_program
from tests.vault import media_samples as samples
from vault.keys import unseal_identity_with_password
from vault.models import Account, Document

pytestmark = pytest.mark.usefixtures("database_url")


def test_stored_blob_decrypts_with_age(api, client, app, tmp_path):
    age_tool = require_program("age", "age")
    person = api.person("leila")
    created = api.upload(person, [(samples.pdf_bytes(pages=2), "a.pdf")], kind="acte_naissance").get_json()
    served = client.get(f"/api/v1/documents/{created['id']}/content", headers=person.auth).data

    services = app.extensions["consigne"]
    with services.session_factory() as session:
        account = session.get(Account, person.id)
        identity = unseal_identity_with_password(services.keys, account.id, account.password_sealed_identity,
                                                 person.password)
        blob_name = session.get(Document, created["id"]).blob_name
    with services.store.open(blob_name) as reader:
        ciphertext = reader.read()
    assert ciphertext.startswith(b"age-encryption.org/v1\n")
    identity_file = tmp_path / "identity.txt"
    identity_file.write_text(identity.to_string() + "\n")
    identity_file.chmod(0o600)
    result = subprocess.run([age_tool, "-d", "-i", str(identity_file)], input=ciphertext, capture_output=True,
                            check=True, timeout=30)
    assert result.stdout == served
