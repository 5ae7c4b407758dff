"""Factories for service tests: people, papers and sessions made through the real services.

Nothing here writes a row by hand. A person is enrolled by ``vault.accounts``, signed in by
``vault.sessions`` (so a ``CurrentAccount`` holds an identity really unsealed from a session), and a
paper goes through ``vault.documents`` (cleaning, age encryption, the blob store). A factory therefore
cannot build a state the application could not reach, and when a service's signature changes, the
factories are the one place in the tests that follows it.

Papers are generated in memory, small and distinct (a coloured photo, a PDF with a line of text), so a
test can tell them apart after a round trip.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

import pikepdf
import pyotp
from PIL import Image, ImageDraw
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage import BlobStore, open_blob_store
from vault import accounts, documents, follows, organisations, sessions, two_factor
from vault import sign_in as sign_in_service
from vault.capacity import Gates
from vault.db import UnitOfWork, make_engine, make_session_factory
from vault.documents import DocumentView
from vault.keys import KeyConfig
from vault.media import UploadedFile
from vault.models import Organisation
from vault.policies import Actor
from vault.sessions import CurrentAccount
from vault.settings import Settings
from vault.throttle import Attempt

# A password every factory person has: long, uncommon, and free of any username used in the tests.
KNOWN_PASSWORD = "cheval-lune-tambour-9"
SIGN_IN_ADDRESS = "127.0.0.1"


@dataclass
class Services:
    """What the services need, built from the settings as ``create_app`` builds it, without Flask."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    store: BlobStore
    keys: KeyConfig
    gates: Gates
    clock: object  # a callable giving the current aware datetime (tests.conftest.FakeClock)

    @property
    def now(self) -> datetime:
        return self.clock()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        """One unit of work, committed when the block ends normally, rolled back (blobs too) otherwise."""
        uow = UnitOfWork(self.session_factory(), self.store)
        try:
            yield uow
            uow.commit()
        except BaseException:
            uow.rollback()
            raise
        finally:
            uow.close()

    def current(self, session: Session, token: str) -> CurrentAccount:
        """The signed-in account behind ``token``, as the request pipeline obtains it."""
        return sessions.authenticate(session, token=token, timeouts=self.settings.timeouts, now=self.now)

    def close(self) -> None:
        self.gates.close()
        self.engine.dispose()


def build_services(settings: Settings, clock) -> Services:
    engine = make_engine(settings.database_url)
    return Services(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        store=open_blob_store(settings.storage_url),
        keys=KeyConfig(peppers=settings.peppers, app_keys=settings.app_keys, password_kdf=settings.kdf),
        gates=Gates.from_capacity(settings.capacity),
        clock=clock,
    )


@dataclass
class PersonMade:
    """A person enrolled by the service, with the secrets a test needs (shown once in real life)."""

    id: str
    username: str
    password: str = field(repr=False)
    recovery_codes: list[str] = field(repr=False)
    token: str | None = field(default=None, repr=False)
    otp_secret: str | None = field(default=None, repr=False)
    organisation_id: str | None = None  # staff: the organisation they were made in


def make_person(services: Services, username: str | None = None, *, password: str = KNOWN_PASSWORD,
                signed_in: bool = True) -> PersonMade:
    """Enrol a person (committed) and, unless ``signed_in`` is false, open a session for them."""
    with services.transaction() as uow:
        enrolment = accounts.enrol_person(uow.session, keys=services.keys, username=username, password=password,
                                          now=services.now)
        person = PersonMade(id=enrolment.account.id, username=enrolment.account.username, password=password,
                            recovery_codes=list(enrolment.recovery_codes))
    if signed_in:
        person.token = sign_in(services, person.username, password)
    return person


def make_staff(services: Services, username: str, *, organisation: str = "Accueil de jour",
               organisation_id: str | None = None, role: str = "worker", password: str = KNOWN_PASSWORD,
               signed_in: bool = True) -> PersonMade:
    """A staff member, with two-step sign-in on (required for staff), signed in.

    In a new organisation named ``organisation``, or in the existing one ``organisation_id``
    (``PersonMade.organisation_id`` says which).
    """
    with services.transaction() as uow:
        if organisation_id is None:
            place = accounts.create_organisation(uow.session, name=organisation, now=services.now)
        else:
            place = uow.session.get(Organisation, organisation_id)
        enrolment = accounts.create_staff(uow.session, keys=services.keys, organisation=place, username=username,
                                          password=password, role=role, now=services.now)
        otp = two_factor.enable_directly(uow.session, keys=services.keys, account=enrolment.account)
        staff = PersonMade(id=enrolment.account.id, username=enrolment.account.username, password=password,
                           recovery_codes=list(enrolment.recovery_codes), otp_secret=otp.secret,
                           organisation_id=place.id)
    if signed_in:
        staff.token = sign_in(services, staff.username, password, otp=current_otp(staff, services.now))
    return staff


def make_follow(services: Services, person: PersonMade, organisation_id: str) -> str:
    """``person`` starts following the organisation through the follow service; the follow's id."""
    with services.transaction() as uow:
        return follows.start_follow(uow.session, actor=Actor.person(person.id), organisation_id=organisation_id,
                                    now=services.now).id


def current_otp(person: PersonMade, now: datetime) -> str:
    return pyotp.TOTP(person.otp_secret).at(now)


def attempt_for(services: Services) -> Attempt:
    """An attempt from the test client's address, reserved through the services' own sessions."""
    return Attempt(throttle_sessions=services.session_factory, address=SIGN_IN_ADDRESS)


def sign_in(services: Services, username: str, password: str, **second_factor) -> str:
    """A session token from the real sign-in service (committed, as the request pipeline would)."""
    with services.transaction() as uow:
        result = sign_in_service.sign_in(uow.session, keys=services.keys, timeouts=services.settings.timeouts,
                                         attempt=attempt_for(services), username=username, password=password, now=services.now,
                                         **second_factor)
        return result.token


def make_document(services: Services, person: PersonMade, *, kind: str = "carte_identite", title: str | None = None,
                  files: list[UploadedFile] | None = None, expires_on: date | None = None) -> DocumentView:
    """Add a paper to ``person``'s vault through the service (cleaned, encrypted, stored, committed)."""
    with services.transaction() as uow:
        current = services.current(uow.session, person.token)
        return documents.add_document(uow, current=current, files=files or [photo_file()], kind=kind, title=title,
                                      expires_on=expires_on, limits=services.settings.limits, now=services.now,
                                      gate=services.gates.media)


def photo_file(colour: tuple[int, int, int] = (200, 60, 40), size: tuple[int, int] = (160, 100),
               image_format: str = "JPEG") -> UploadedFile:
    """A small photo of one colour with a white band (JPEG or PNG), as a phone would send it."""
    image = Image.new("RGB", size, colour)
    ImageDraw.Draw(image).rectangle((0, 0, size[0], size[1] // 5), fill=(255, 255, 255))
    output = io.BytesIO()
    image.save(output, format=image_format)
    extension = "jpg" if image_format == "JPEG" else image_format.lower()
    return UploadedFile(data=output.getvalue(), filename=f"photo.{extension}")


def pdf_file(text: str = "Attestation", pages: int = 1) -> UploadedFile:
    """A small PDF whose pages each carry a line of text."""
    pdf = pikepdf.new()
    for number in range(pages):
        page = pdf.add_blank_page(page_size=(595, 842))
        page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(
            F1=pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                  BaseFont=pikepdf.Name.Helvetica)))
        page.Contents = pikepdf.Stream(pdf, f"BT /F1 24 Tf 72 720 Td ({text} {number + 1}) Tj ET".encode())
    output = io.BytesIO()
    pdf.save(output)
    return UploadedFile(data=output.getvalue(), filename="attestation.pdf")


def make_organisation(services: Services, name: str = "Accueil de jour") -> tuple[str, str]:
    """An organisation created by the operator, as ``consigne organisation create`` does: (its id, the
    first admin's invitation code)."""
    with services.transaction() as uow:
        organisation, invitation = organisations.create_organisation(uow.session, actor=Actor.operator(),
                                                                     keys=services.keys, name=name,
                                                                     now=services.now)
        return organisation.id, invitation.code


def join_staff(services: Services, code: str, username: str, *, password: str = KNOWN_PASSWORD,
               display_name: str | None = None, signed_in: bool = True) -> PersonMade:
    """Redeem an invitation through the service (TOTP on from the start), and sign in with the code."""
    with services.transaction() as uow:
        joined = organisations.redeem_invitation(uow.session, keys=services.keys, attempt=attempt_for(services),
                                                 code=code, username=username, password=password,
                                                 display_name=display_name, now=services.now)
        staff = PersonMade(id=joined.account.id, username=joined.account.username, password=password,
                           recovery_codes=[], otp_secret=joined.otp.secret, organisation_id=joined.organisation.id)
    if signed_in:
        staff.token = sign_in(services, staff.username, password, otp=current_otp(staff, services.now))
    return staff


def read_all(reader) -> bytes:
    try:
        return reader.read()
    finally:
        reader.close()


__all__ = [
    "KNOWN_PASSWORD",
    "PersonMade",
    "Services",
    "build_services",
    "current_otp",
    "make_document",
    "join_staff",
    "make_follow",
    "make_organisation",
    "make_person",
    "make_staff",
    "pdf_file",
    "photo_file",
    "read_all",
    "sign_in",
]
