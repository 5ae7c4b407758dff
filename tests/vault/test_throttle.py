"""The throttle's budgets: reserved before the check, atomic under parallel requests, never a lock for good."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.conftest import START
from tests.vault.sign_in_fixtures import attempt_from, keys, session_factory  # noqa: F401 - fixtures
from vault.errors import TooManyAttempts
from vault.models import Account, Throttle
from vault.throttle import BUDGETS, account_key, address_key, purge_stale_throttles, reserve, throttle_key

pytestmark = pytest.mark.usefixtures("database_url")


def try_at(attempt, key_list, now) -> int | None:
    """None when the attempt was reserved, else the announced wait in seconds."""
    try:
        reserve(attempt, key_list, now=now)
        return None
    except TooManyAttempts as error:
        return error.retry_after_seconds


# (seconds after the start, expected wait or None when reserved). The account budget: 5 free, then a
# wait doubling from 15 s, capped at 15 minutes; a blocked attempt is not counted.
ACCOUNT_SCHEDULE = [
    (0, None), (0, None), (0, None), (0, None), (0, None),  # 5 free; the 5th opens a 15 s wait
    (0, 15), (14, 1),  # the real wait, counted down
    (15, None),  # 6th, opens 30 s
    (16, 29),
    (45, None), (46, 59),  # 7th opens 60 s
    (105, None), (225, None), (465, None), (945, None),  # 120 s, 240 s, 480 s, then 900 s (the cap)
    (1845, None), (1846, 899),
    (2745, None), (2746, 899),  # still 15 minutes: never longer
]


def test_account_budget_schedule(session_factory, keys):
    attempt = attempt_from(session_factory)
    key = account_key(keys, "Amina")
    for seconds, expected in ACCOUNT_SCHEDULE:
        assert try_at(attempt, [key], START + timedelta(seconds=seconds)) == expected, seconds


def test_spellings_of_a_username_share_one_counter_and_a_day_forgets(session_factory, keys):
    attempt = attempt_from(session_factory)
    for spelling in ["amina", "Amina", " AMINA ", "amina", "aMina"]:
        assert try_at(attempt, [account_key(keys, spelling)], START) is None
    assert try_at(attempt, [account_key(keys, "amina")], START) == 15
    assert try_at(attempt, [account_key(keys, "amina")], START + timedelta(hours=24)) is None
    with session_factory() as db:
        assert db.get(Throttle, account_key(keys, "amina")).count == 1


def test_addresses_are_grouped_as_one_household_holds_them(keys):
    assert address_key(keys, "2001:db8:1:2::1") == address_key(keys, "2001:db8:1:2:ffff::9")
    assert address_key(keys, "2001:db8:1:2::1") != address_key(keys, "2001:db8:1:3::1")
    assert address_key(keys, "::ffff:192.0.2.1") == address_key(keys, "192.0.2.1")
    assert address_key(keys, "192.0.2.1") != address_key(keys, "192.0.2.2")
    assert address_key(keys, None) is None
    assert address_key(keys, "192.0.2.1").startswith("address:")
    assert "192.0.2.1" not in address_key(keys, "192.0.2.1")  # an HMAC: the table reveals no address


def test_an_address_drains_so_a_shelters_daily_mistakes_never_fill_it(session_factory, keys):
    attempt = attempt_from(session_factory)
    key = address_key(keys, "192.0.2.50")
    now = START
    for day in range(10):  # 30 failures a day, spread over the day, for ten days: never over 100
        for _ in range(30):
            assert try_at(attempt, [key], now) is None, day
            now += timedelta(minutes=20)
        now += timedelta(hours=14)
    # …while 101 failures in a burst do wait.
    burst_key = address_key(keys, "192.0.2.51")
    waits = [try_at(attempt, [burst_key], now) for _ in range(101)]
    assert waits[:100] == [None] * 100 and waits[100] == 15


def test_a_blocked_key_in_a_set_counts_nothing_on_the_others(session_factory, keys):
    attempt = attempt_from(session_factory)
    account, address = account_key(keys, "moussa"), address_key(keys, "192.0.2.60")
    for _ in range(5):
        reserve(attempt, [account, address], now=START)
    with pytest.raises(TooManyAttempts) as blocked:
        reserve(attempt, [account, address], now=START)
    assert blocked.value.blocked == {"account": 15} and blocked.value.reason == "account"
    with session_factory() as db:
        assert db.get(Throttle, address).count == 5  # the refused attempt took nothing from the address


@pytest.mark.parametrize("scope, after_refund", [("account", 0), ("device", 0), ("second-factor", 0),
                                                 ("session", 0), ("address", 4), ("enrolment-address", 5),
                                                 ("enrolment-staff", 5)])
def test_a_success_refunds_as_its_budget_says(session_factory, keys, scope, after_refund):
    attempt = attempt_from(session_factory)
    key = throttle_key(keys, scope, "someone")
    for _ in range(4):
        reserve(attempt, [key], now=START)
    last = reserve(attempt, [key], now=START)
    with session_factory() as db:
        last.refund(db)
        db.commit()
        row = db.get(Throttle, key)
        assert (row.count if row else None) == after_refund


def test_cancel_gives_the_unit_back_and_lifts_the_wait_it_opened(session_factory, keys):
    attempt = attempt_from(session_factory)
    key = account_key(keys, "karim")
    reservations = [reserve(attempt, [key], now=START) for _ in range(5)]
    assert try_at(attempt, [key], START) == 15
    reservations[-1].cancel()  # the fifth was never checked (the server was busy)
    assert try_at(attempt, [key], START) is None


def test_refund_of_a_row_purged_meanwhile_is_harmless_and_idle_rows_are_purged(session_factory, keys):
    attempt = attempt_from(session_factory)
    key, blocked = account_key(keys, "lea"), account_key(keys, "noor")
    first = reserve(attempt, [key], now=START)
    for _ in range(5):
        reserve(attempt, [blocked], now=START + timedelta(hours=23, minutes=59))  # waits until 24:00:15
    with session_factory() as db:
        assert purge_stale_throttles(db, now=START + timedelta(hours=24, seconds=1)) == 1  # only the idle one
        db.commit()
        first.refund(db)  # the row is gone: no StaleDataError, nothing to do
        db.commit()
        assert db.scalars(select(Throttle.key)).all() == [blocked]
    assert try_at(attempt, [key], START + timedelta(hours=24, seconds=2)) is None  # created again


def test_thirty_parallel_reservations_grant_exactly_the_budget(session_factory, keys):
    attempt = attempt_from(session_factory)
    key_set = [account_key(keys, "target"), address_key(keys, "192.0.2.70")]
    barrier = threading.Barrier(30)
    outcomes: list[str] = []

    def guess():
        barrier.wait(30)
        outcomes.append("checked" if try_at(attempt, key_set, START) is None else "refused")

    threads = [threading.Thread(target=guess) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(outcomes) == 30
    assert outcomes.count("checked") == BUDGETS["account"].free
    with session_factory() as db:
        assert db.get(Throttle, key_set[0]).count == BUDGETS["account"].free


def test_enrolment_budget_lets_a_shelter_morning_through_and_not_a_script(session_factory, keys):
    attempt = attempt_from(session_factory)
    shelter = address_key(keys, "192.0.2.80", scope="enrolment-address")
    now = START
    for _ in range(30):  # 30 people between 9:00 and 13:00
        assert try_at(attempt, [shelter], now) is None
        now += timedelta(minutes=8)

    script = address_key(keys, "192.0.2.81", scope="enrolment-address")
    now, enrolled, tries = START, 0, 0
    while now < START + timedelta(hours=24) and tries < 2000:  # as fast as it is allowed, for a whole day
        tries += 1
        wait = try_at(attempt, [script], now)
        if wait is None:
            enrolled += 1
        else:
            now += timedelta(seconds=wait)
    assert 40 <= enrolled < 400, enrolled  # far from 1,000


def test_a_request_never_holds_two_connections_for_a_reservation(session_factory, keys):
    attempt = attempt_from(session_factory)
    key = account_key(keys, "ines")
    # A request that has not touched the database yet: the reservation is apart, and stays counted even
    # when the request's own transaction rolls back.
    with session_factory() as request_session:
        reservation = reserve(attempt, [key], now=START, request_session=request_session)
        assert not reservation.in_request
        request_session.rollback()
    # A request that already holds its connection (it read or wrote): inside its transaction, so it never
    # waits for a second connection (nor, on SQLite, for its own write lock).
    with session_factory() as request_session:
        request_session.execute(update(Account).where(Account.id == "none").values(status="active"))
        reservation = reserve(attempt, [key], now=START, request_session=request_session)
        assert reservation.in_request
        reservation.cancel()  # nothing to do: the rollback gives it back
        request_session.rollback()
    with session_factory() as db:
        assert db.scalar(select(Throttle.count).where(Throttle.key == key)) == 1


def test_parallel_reservations_never_exhaust_the_connection_pool(session_factory, database_url, keys):
    """More requests than the pool holds, each inside its own transaction: none waits for a second connection."""
    from sqlalchemy import create_engine

    from vault.db import make_session_factory

    sqlite = {"connect_args": {"timeout": 30}} if database_url.startswith("sqlite") else {}
    engine = create_engine(database_url, pool_size=2, max_overflow=0, pool_timeout=5, **sqlite)
    factory = make_session_factory(engine)
    attempt = attempt_from(factory)
    barrier, failures = threading.Barrier(6), []

    def request(index):
        barrier.wait(30)
        try:
            with factory() as request_session:
                request_session.execute(select(Account.id).limit(1))  # the request holds its connection
                reserve(attempt, [account_key(keys, f"user{index}")], now=START, request_session=request_session)
                request_session.commit()
        except Exception as error:  # noqa: BLE001 - a pool time-out is the failure under test
            failures.append(error)

    threads = [threading.Thread(target=request, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    engine.dispose()
    assert failures == []
