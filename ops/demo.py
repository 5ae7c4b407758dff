"""Demo data for a local try-out: an organisation with its purposes, a social worker (its admin) and a
person who follows it, with SPECIMEN papers: enough to share, ask, copy and verify at once.

The demo passwords and the worker's two-step secret are fixed and printed on purpose: this is sample
data on a laptop, and the command refuses to run in production.
"""

from __future__ import annotations

import sys
from datetime import date, datetime, timezone

from sqlalchemy import select

from storage import open_blob_store
from vault import accounts, documents
from vault.capacity import WorkGate
from vault.db import UnitOfWork, make_engine, make_session_factory, migrate
from vault.errors import UploadsBusy
from vault.keys import KeyConfig, seal_app_secret, unseal_app_secret
from vault.media import UploadedFile
from vault.models import Account, Organisation
from vault.purposes import OTHER, PRESETS, PurposeChoice, replace_purposes
from vault.sessions import CurrentAccount
from vault.settings import Settings
from vault.specimens import render_specimen, render_specimen_pdf

ORGANISATION = "Accueil de jour Les Tilleuls (démo)"
PERSON = ("camille.demo", "soleil-riviere-camion-42")
WORKER = ("sami.travailleur", "lampe-jardin-velo-77")
WORKER_NAME = "Sami T."
# A fixed, public demo secret so that a tester can add it to an authenticator app.
WORKER_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def seed_demo(settings: Settings, *, out=None) -> int:
    if settings.production:
        print("consigne: demo data is refused in production", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    migrate(engine)
    keys = KeyConfig(peppers=settings.peppers, app_keys=settings.app_keys, password_kdf=settings.kdf)
    now = datetime.now(timezone.utc)
    store = open_blob_store(settings.storage_url)
    uow = UnitOfWork(make_session_factory(engine)(), store)
    try:
        session = uow.session
        if session.scalar(select(Organisation).where(Organisation.name == ORGANISATION)) is None:
            organisation = accounts.create_organisation(session, name=ORGANISATION, now=now)
            worker = accounts.create_staff(session, keys=keys, organisation=organisation, username=WORKER[0],
                                           password=WORKER[1], role="admin", now=now).account
            worker.display_name = WORKER_NAME
            worker.otp_secret_sealed = seal_app_secret(keys, WORKER_TOTP_SECRET.encode(), "totp", worker.id)
            worker.otp_enabled = True
            # Every preset purpose but "other": the worker can ask for papers and the person share with them.
            replace_purposes(session, organisation_id=organisation.id, now=now,
                             choices=[PurposeChoice(preset.code) for preset in PRESETS if preset.code != OTHER])
            person = accounts.enrol_person(session, keys=keys, username=PERSON[0], password=PERSON[1], now=now,
                                           assisted_by=worker, follow_organisation=True).account
            _add_specimen_papers(uow, person, keys, settings, now)
        uow.commit()
    finally:
        uow.close()
    print(_instructions(settings), file=out or sys.stdout)
    return 0


def print_demo_otp(settings: Settings) -> int:
    """The demo worker's current code, for testers without an authenticator app at hand."""
    engine = make_engine(settings.database_url)
    keys = KeyConfig(peppers=settings.peppers, app_keys=settings.app_keys, password_kdf=settings.kdf)
    with make_session_factory(engine)() as session:
        worker = session.scalar(select(Account).where(Account.username == WORKER[0]))
        if worker is None or worker.otp_secret_sealed is None:
            print("consigne: no demo data here; run `consigne demo` first", file=sys.stderr)
            return 2
        secret = unseal_app_secret(keys, worker.otp_secret_sealed, "totp", worker.id).decode()
    import pyotp

    print(pyotp.TOTP(secret).now())
    return 0


def _add_specimen_papers(uow: UnitOfWork, person: Account, keys: KeyConfig, settings: Settings, now) -> None:
    from vault.keys import unseal_identity_with_password
    from vault.models import Session

    identity = unseal_identity_with_password(keys, person.id, person.password_sealed_identity, PERSON[1])
    current = CurrentAccount(account=person, identity=identity, session=Session(id="demo-seed"))
    name = "Camille EXEMPLE"
    recto, _ = render_specimen("carte_identite_recto", name=name, seed=1)
    verso, _ = render_specimen("carte_identite_verso", name=name, seed=1)
    papers = [
        ("carte_identite", "Carte d'identité (recto et verso)", [("cni-recto.jpg", recto), ("cni-verso.jpg", verso)],
         date(now.year + 5, 6, 30)),
        ("attestation_domiciliation", "Domiciliation au CCAS",
         [("domiciliation.pdf", render_specimen_pdf("attestation_domiciliation", name=name))], date(now.year + 1, 1, 31)),
        ("attestation_caf", "Attestation CAF", [("caf.pdf", render_specimen_pdf("attestation_caf", name=name))], None),
    ]
    # One paper at a time: the gate's single slot never makes anyone wait here.
    gate = WorkGate("media", slots=1, wait_seconds=0, busy_error=UploadsBusy)
    try:
        for kind, title, files, expires_on in papers:
            documents.add_document(uow, current=current, files=[UploadedFile(data=data, filename=filename)
                                                                for filename, data in files],
                                   kind=kind, title=title, expires_on=expires_on, limits=settings.limits,
                                   now=now, gate=gate)
    finally:
        gate.close()


def _instructions(settings: Settings) -> str:
    return f"""
Demo data is ready (SPECIMEN papers only, no real person).
  Address:          {settings.base_url}/
  API description:  {settings.base_url}/api/v1/openapi.json
  Person:           username {PERSON[0]}   password {PERSON[1]}
  Social worker:    username {WORKER[0]}   password {WORKER[1]}   ({WORKER_NAME}, admin of {ORGANISATION})
                    two-step code: `.venv/bin/consigne demo --otp`, or add the secret
                    {WORKER_TOTP_SECRET} to an authenticator app
  Data folder:      {settings.data_dir}
"""
