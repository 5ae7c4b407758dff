"""Lists a page at a time: every item once, in order, stable while the list grows, and a cursor that
only works for the list and the account it was made for.

Misuse cases: a cursor altered, made up, taken from another person, taken from another list, made under
a key rotated out of the ring, absurd limits. Each is refused with InvalidCursor / InvalidInput (a 422
in the API) and never shows another person's rows.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest

from crypto.sealing import FAST_KDF_FOR_TESTS, KeyRing, PepperRing, VersionedKey
from tests.vault.listing_rows import add_account, add_document
from vault.activity import list_activity
from vault.db import make_engine, make_session_factory, migrate
from vault.documents import DOCUMENTS_PER_PAGE, list_documents
from vault.errors import InvalidCursor, InvalidInput
from vault.events import record_event
from vault.i18n import Translator
from vault.keys import KeyConfig
from vault.paging import decode_cursor, encode_cursor

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
KEY_A, KEY_B = b"a" * 32, b"b" * 32


def key_config(*keys: tuple[int, bytes]) -> KeyConfig:
    ring = KeyRing(current=VersionedKey(*keys[0]), older=tuple(VersionedKey(*key) for key in keys[1:]))
    return KeyConfig(peppers=PepperRing.parse("1:" + base64.b64encode(b"p" * 32).decode()), app_keys=ring,
                     password_kdf=FAST_KDF_FOR_TESTS)


@pytest.fixture
def keys():
    return key_config((1, KEY_A))


@pytest.fixture
def session(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


@pytest.fixture
def words():
    return Translator.load().for_language("en")


def all_pages(fetch, limit):
    """Every page of a list, following next_cursor; the pages' sizes and the items in order."""
    sizes, items, cursor = [], [], None
    for _ in range(100):  # bounded: a cursor that loops would fail the test instead of hanging it
        page = fetch(limit=limit, cursor=cursor)
        sizes.append(len(page.items))
        items.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return sizes, items
    raise AssertionError("the pages never ended")


def test_documents_come_once_each_newest_first_even_when_added_in_the_same_instant(session, keys):
    amina = add_account(session, "amina", now=NOW)
    # Given 10 papers, four of them added in the very same microsecond (a page boundary falls among them)
    moments = [NOW + timedelta(minutes=minute) for minute in (1, 2, 3, 3, 3, 3, 4, 5, 6, 7)]
    documents = [add_document(session, amina, now=moment) for moment in moments]
    session.commit()
    # When the person reads them three at a time
    sizes, items = all_pages(lambda **page: list_documents(session, current=amina.current, keys=keys, **page), 3)
    # Then each paper comes exactly once, newest first, and the last page says it is the last
    assert sizes == [3, 3, 3, 1]
    expected = sorted(documents, key=lambda document: (document.created_at, document.id), reverse=True)
    assert [item.id for item in items] == [document.id for document in expected]


def test_one_page_holds_every_paper_by_default(session, keys):
    amina = add_account(session, "amina", now=NOW)
    for minute in range(12):
        add_document(session, amina, now=NOW + timedelta(minutes=minute))
    page = list_documents(session, current=amina.current, keys=keys)
    assert len(page.items) == 12 and page.next_cursor is None
    assert DOCUMENTS_PER_PAGE == 200  # what clients written before paging received in one answer


def test_a_paper_added_while_paging_does_not_shift_the_next_page(session, keys):
    amina = add_account(session, "amina", now=NOW)
    older = [add_document(session, amina, now=NOW + timedelta(minutes=minute)) for minute in range(6)]
    first = list_documents(session, current=amina.current, keys=keys, limit=3)
    add_document(session, amina, now=NOW + timedelta(hours=1))  # newer than everything
    second = list_documents(session, current=amina.current, keys=keys, limit=3, cursor=first.next_cursor)
    shown = [item.id for item in first.items + second.items]
    assert shown == [document.id for document in reversed(older)]


def test_activity_pages_cover_every_event_once(session, keys, words):
    amina = add_account(session, "amina", now=NOW)
    for minute in range(120):
        record_event(session, action="signin.succeeded", now=NOW + timedelta(minutes=minute), actor_id=amina.id,
                     subject_id=amina.id)
    session.commit()
    sizes, items = all_pages(lambda **page: list_activity(session, owner=amina.account, words=words, keys=keys,
                                                          **page), 50)
    assert sizes == [50, 50, 20]
    assert [item.at for item in items] == [NOW + timedelta(minutes=minute) for minute in reversed(range(120))]
    assert len({item.event_id for item in items}) == 120


def test_activity_pages_go_back_to_newer_ones_down_to_the_first_page(session, keys, words):
    amina = add_account(session, "amina", now=NOW)
    for minute in range(120):
        record_event(session, action="signin.succeeded", now=NOW + timedelta(minutes=minute), actor_id=amina.id,
                     subject_id=amina.id)
    session.commit()

    def read(**page):
        return list_activity(session, owner=amina.account, words=words, keys=keys, limit=50, **page)

    def ids(page):
        return [item.event_id for item in page.items]

    first = read()
    second = read(cursor=first.next_cursor)
    third = read(cursor=second.next_cursor)
    assert first.previous_cursor is None and second.previous_cursor and third.previous_cursor
    assert (len(third.items), third.next_cursor) == (20, None)
    # Back from the last page: exactly the page seen before, which can go on back and forth
    back = read(cursor=third.previous_cursor)
    assert ids(back) == ids(second) and back.next_cursor and back.previous_cursor
    assert ids(read(cursor=back.next_cursor)) == ids(third)
    assert read(cursor=second.previous_cursor).previous_cursor is None  # back at the top
    # A line recorded meanwhile never shifts the pages: back from the second page, the lines first seen,
    # and one more step back, the first page as it is now, with the new line
    record_event(session, action="session.ended", now=NOW + timedelta(hours=3), actor_id=amina.id,
                 subject_id=amina.id)
    back = read(cursor=second.previous_cursor)
    assert ids(back) == ids(first) and back.previous_cursor
    top = read(cursor=back.previous_cursor)
    assert top.previous_cursor is None and top.items[0].action == "session.ended"
    assert ids(top)[1:] == ids(first)[:49]
    # A page left empty past the last line still leads back
    past_the_end = read(cursor=encode_cursor(keys, listing="activity", owner_id=amina.id, position=[1]))
    assert past_the_end.items == [] and past_the_end.next_cursor is None
    assert len(read(cursor=past_the_end.previous_cursor).items) == 50


def test_another_persons_cursor_is_refused_and_never_shows_their_rows(session, keys, words):
    amina, bilal = add_account(session, "amina", now=NOW), add_account(session, "bilal", now=NOW)
    for minute in range(4):
        add_document(session, amina, now=NOW + timedelta(minutes=minute))
        add_document(session, bilal, now=NOW + timedelta(minutes=minute))
        record_event(session, action="signin.succeeded", now=NOW, actor_id=amina.id, subject_id=amina.id)
        record_event(session, action="signin.succeeded", now=NOW, actor_id=bilal.id, subject_id=bilal.id)
    amina_documents = list_documents(session, current=amina.current, keys=keys, limit=2).next_cursor
    amina_activity = list_activity(session, owner=amina.account, words=words, keys=keys, limit=2).next_cursor
    with pytest.raises(InvalidCursor):
        list_documents(session, current=bilal.current, keys=keys, cursor=amina_documents)
    with pytest.raises(InvalidCursor):
        list_activity(session, owner=bilal.account, words=words, keys=keys, cursor=amina_activity)
    # A cursor of one list is no cursor of another list, even for the same person
    with pytest.raises(InvalidCursor):
        list_activity(session, owner=amina.account, words=words, keys=keys, cursor=amina_documents)
    with pytest.raises(InvalidCursor):
        list_documents(session, current=amina.current, keys=keys, cursor=amina_activity)


def forged_cursors(genuine: str) -> dict[str, str]:
    payload, tag = genuine.split(".")
    altered_payload = base64.urlsafe_b64encode(json.dumps([1, [10**12]]).encode()).rstrip(b"=").decode()
    flipped = tag[:-2] + ("A" if tag[-2] != "A" else "B") + tag[-1]
    return {
        "empty": "", "dot": ".", "two dots": f"{payload}.{tag}.{tag}", "no tag": payload, "tag only": f".{tag}",
        "payload altered": f"{altered_payload}.{tag}", "tag altered": f"{payload}.{flipped}",
        "tag truncated": f"{payload}.{tag[:-4]}", "padding added": f"{payload}.{tag}==",
        "not base64": f"{payload}.!!!!", "non-ascii": f"{payload}.{tag[:-1]}é", "whitespace": f" {genuine}",
        "very long": "A" * 5000 + "." + tag, "number": "12345", "sql": "' OR 1=1 --",
        "json instead": json.dumps({"id": 1}),
    }


def test_forged_cursors_are_refused(session, keys, words):
    amina = add_account(session, "amina", now=NOW)
    for minute in range(3):
        add_document(session, amina, now=NOW + timedelta(minutes=minute))
        record_event(session, action="signin.succeeded", now=NOW, actor_id=amina.id, subject_id=amina.id)
    documents = list_documents(session, current=amina.current, keys=keys, limit=1).next_cursor
    activity = list_activity(session, owner=amina.account, words=words, keys=keys, limit=1).next_cursor
    for name, cursor in forged_cursors(documents).items():
        with pytest.raises(InvalidCursor):
            list_documents(session, current=amina.current, keys=keys, cursor=cursor)
            pytest.fail(f"documents accepted a forged cursor: {name}")
    for name, cursor in forged_cursors(activity).items():
        with pytest.raises(InvalidCursor):
            list_activity(session, owner=amina.account, words=words, keys=keys, cursor=cursor)
            pytest.fail(f"activity accepted a forged cursor: {name}")


def test_a_well_signed_cursor_of_the_wrong_shape_is_refused(session, keys, words):
    # Defence in depth: even a cursor our key signed is checked for shape before it reaches a query.
    amina = add_account(session, "amina", now=NOW)
    for position in ([], ["x"], [True], [0], [-5], [1.5], [None], [1, 2], [1, "older"], ["1", "newer"],
                     [-1, "newer"], [True, "newer"], [1.5, "newer"], [1, "newer", 3], ["newer", 1]):
        cursor = encode_cursor(keys, listing="activity", owner_id=amina.id, position=position)
        with pytest.raises(InvalidCursor):
            list_activity(session, owner=amina.account, words=words, keys=keys, cursor=cursor)
    for position in ([], ["2026-11-23T09:00:00+00:00"], ["2026-11-23T09:00:00", "a" * 36],
                     ["yesterday", "a" * 36], ["2026-11-23T09:00:00+00:00", "../../etc"], [1, 2]):
        cursor = encode_cursor(keys, listing="documents", owner_id=amina.id, position=position)
        with pytest.raises(InvalidCursor):
            list_documents(session, current=amina.current, keys=keys, cursor=cursor)


def test_cursors_survive_a_key_rotation_while_the_old_key_is_in_the_ring(session, words):
    amina = add_account(session, "amina", now=NOW)
    for minute in range(3):
        record_event(session, action="signin.succeeded", now=NOW, actor_id=amina.id, subject_id=amina.id)
    before = key_config((1, KEY_A))
    cursor = list_activity(session, owner=amina.account, words=words, keys=before, limit=1).next_cursor
    rotated = key_config((2, KEY_B), (1, KEY_A))
    assert len(list_activity(session, owner=amina.account, words=words, keys=rotated, cursor=cursor).items) == 2
    retired = key_config((2, KEY_B))
    with pytest.raises(InvalidCursor):
        list_activity(session, owner=amina.account, words=words, keys=retired, cursor=cursor)


@pytest.mark.parametrize("limit", [0, -1, 201, 10**9, True, "10", 2.5])
def test_limits_outside_the_bounds_are_refused(session, keys, words, limit):
    amina = add_account(session, "amina", now=NOW)
    with pytest.raises(InvalidInput):
        list_documents(session, current=amina.current, keys=keys, limit=limit)
    with pytest.raises(InvalidInput):
        list_activity(session, owner=amina.account, words=words, keys=keys, limit=limit)


def test_cursor_round_trip_is_bound_to_list_and_owner(keys):
    cursor = encode_cursor(keys, listing="documents", owner_id="owner-1", position=["x", 1])
    assert decode_cursor(keys, cursor, listing="documents", owner_id="owner-1") == ["x", 1]
    for listing, owner in (("activity", "owner-1"), ("documents", "owner-2")):
        with pytest.raises(InvalidCursor):
            decode_cursor(keys, cursor, listing=listing, owner_id=owner)
    assert "owner-1" not in cursor and len(cursor) < 100
