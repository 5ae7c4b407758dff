"""Vaults unused for a long time, listed for review on a fixed clock; nothing is deleted."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from tests.factories import make_document, make_person, make_staff, sign_in
from vault.errors import NotAllowed
from vault.models import Account, Document
from vault.policies import Actor
from vault.retention import Period, list_unused_vaults

OPERATOR = Actor.operator()
NOW = datetime(2029, 11, 23, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("text", "before"), [
    ("3y", datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)),
    ("18m", datetime(2028, 5, 23, 9, 0, tzinfo=timezone.utc)),
    ("400d", NOW - timedelta(days=400)),
    ("1y", datetime(2028, 11, 23, 9, 0, tzinfo=timezone.utc)),
])
def test_periods(text, before):
    assert Period.parse(text).before(NOW) == before


def test_a_leap_day_one_year_back_is_the_28th():
    leap = datetime(2028, 2, 29, tzinfo=timezone.utc)
    assert Period.parse("1y").before(leap) == datetime(2027, 2, 28, tzinfo=timezone.utc)
    assert Period.parse("1m").before(datetime(2027, 3, 31, tzinfo=timezone.utc)) == datetime(
        2027, 2, 28, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", ["", "3", "y", "0y", "3w", "-3y", "3 years", "99999y", None])
def test_a_wrong_period_is_refused(text):
    with pytest.raises(ValueError):
        Period.parse(text)


def test_unused_vaults_on_a_fixed_clock(services, clock):
    # Enrolled four years before NOW, signed in and added two papers then; never since.
    clock.now = NOW - timedelta(days=4 * 365)
    gone = make_person(services, "gone")
    make_document(services, gone)
    make_document(services, gone)
    # Enrolled a little later by a worker and never signed in: measured from the enrolment.
    clock.now += timedelta(minutes=1)
    never = make_person(services, "never", signed_in=False)
    # Signed in exactly three years before NOW: not yet "more than three years".
    clock.now = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
    boundary = make_person(services, "boundary")
    # One second earlier: listed.
    clock.now -= timedelta(seconds=1)
    just_over = make_person(services, "just.over")
    # Came back last month after years away.
    clock.now = NOW - timedelta(days=4 * 365)
    back = make_person(services, "back")
    clock.now = NOW - timedelta(days=30)
    sign_in(services, "back", back.password)
    # Staff accounts are not vaults.
    clock.now = NOW - timedelta(days=4 * 365)
    make_staff(services, "old.worker")

    with services.session_factory() as session:
        listed = list_unused_vaults(session, actor=OPERATOR, now=NOW, unused_for=Period.parse("3y"))
        assert [vault.username for vault in listed] == ["gone", "never", "just.over"]
        by_name = {vault.username: vault for vault in listed}
        assert by_name["gone"].papers == 2 and by_name["never"].papers == 0
        assert by_name["never"].last_signed_in_at is None
        assert by_name["never"].last_used_at == by_name["never"].created_at
        assert by_name["just.over"].last_signed_in_at == datetime(2026, 11, 23, 8, 59, 59, tzinfo=timezone.utc)
        # A shorter period lists more; a longer one fewer.
        assert "back" in {vault.username for vault in list_unused_vaults(
            session, actor=OPERATOR, now=NOW, unused_for=Period.parse("10d"))}
        assert [vault.username for vault in list_unused_vaults(
            session, actor=OPERATOR, now=NOW, unused_for=Period.parse("5y"))] == []
        # Listing deletes nothing.
        assert session.scalar(select(func.count()).select_from(Document)) == 2
        assert session.scalar(select(func.count()).select_from(Account)) == 6


def test_only_the_operator_lists_unused_vaults(services):
    anna = make_person(services, "anna")
    with services.session_factory() as session, pytest.raises(NotAllowed):
        list_unused_vaults(session, actor=Actor.person(anna.id), now=NOW, unused_for=Period.parse("3y"))
