"""new_envelopes: the contract runs once per payload shape, and a payload of a new shape always in full; the
bulk helpers (ids by the thousand, the garbage collector paused)."""

from __future__ import annotations

import gc
import threading
import uuid
from datetime import UTC, datetime

import pytest

from services.common import events
from services.common.bulk import gc_paused, id_stream, new_ids
from services.common.events import ContractError, new_envelopes, payload_shape


def payload(n: int, **changes) -> dict:
    data = {"submission_id": f"s{n}", "consultation_id": "c", "consultation_title": "T", "reference": f"UW/2024/{n:06d}",
            "channel": "letter", "received_at": datetime(2024, 10, 15, tzinfo=UTC).isoformat(), "late": False,
            "language": "pl", "status_url": "http://x/status",
            "submitter": {"name": "Jan", "organization": None, "email": None, "publish_consent": False,
                          "kind": "person"},
            "comments": [{"comment_id": f"k{n}", "number": 1, "section": "§ 1", "current_text": "", "proposal": "p",
                          "justification": "", "topic": None}]}
    data.update(changes)
    return data


def counted_checks(monkeypatch, *, validate_all: bool) -> list:
    calls: list = []
    real = events._validate_payload
    monkeypatch.setattr(events, "_validate_payload", lambda *args: calls.append(args) or real(*args))
    monkeypatch.setattr(events, "VALIDATE_ALL_PRODUCERS", validate_all)  # the test suite turns it on
    return calls


def test_one_contract_check_per_shape(monkeypatch):
    calls = counted_checks(monkeypatch, validate_all=False)
    envelopes = list(new_envelopes("submission.received", [payload(n) for n in range(50)] + [
        payload(99, submitter={"name": "Ola", "organization": "Fundacja", "email": "o@example.org",
                               "publish_consent": True, "kind": "organization"})], producer="intake",
        correlation_ids=[str(n) for n in range(51)]))
    assert len(envelopes) == 51 and len(calls) == 2  # organisation and e-mail strings: a second shape
    assert len({e["id"] for e in envelopes}) == 51 and envelopes[3]["correlation_id"] == "3"
    assert envelopes[0]["data"]["reference"] == "UW/2024/000000" and envelopes[0]["version"] == 1


def test_a_payload_of_a_new_shape_that_breaks_the_contract_is_refused():
    broken = payload(2)
    del broken["reference"]
    with pytest.raises(ContractError):
        list(new_envelopes("submission.received", [payload(1), broken], producer="intake"))
    with pytest.raises(ContractError):
        list(new_envelopes("submission.received", [payload(1), payload(2, late="maybe")], producer="intake"))


def test_a_callers_shape_key_decides_what_is_checked_and_the_test_suite_checks_every_payload(monkeypatch):
    def by_organisation(data):
        return data["submitter"]["organization"] is None

    organisation = {"name": "Ola", "organization": "Fundacja", "email": None, "publish_consent": True,
                    "kind": "organization"}
    payloads = [payload(1), payload(2), payload(3, submitter=organisation)]
    calls = counted_checks(monkeypatch, validate_all=False)
    assert len(list(new_envelopes("submission.received", payloads, producer="intake", shape_of=by_organisation))) == 3
    assert len(calls) == 2
    calls = counted_checks(monkeypatch, validate_all=True)
    broken = payload(4, late="maybe")  # the key cannot see it: only a check of every payload can
    with pytest.raises(ContractError):
        list(new_envelopes("submission.received", [*payloads, broken], producer="intake", shape_of=by_organisation))
    assert len(calls) == 4


def test_datetimes_are_made_json_ready_and_shapes_ignore_values():
    (envelope,) = new_envelopes("submission.received", [payload(1, received_at=datetime(2024, 10, 15, tzinfo=UTC))],
                                producer="intake")  # a generator: unpacking runs it
    assert envelope["data"]["received_at"] == "2024-10-15T00:00:00+00:00"
    assert payload_shape({"a": [1, 2], "b": "x"}) == payload_shape({"b": "y", "a": [3]})
    assert payload_shape({"a": None}) != payload_shape({"a": "x"})


def test_ids_in_bulk_are_version_4_uuids_written_as_uuid4_writes_them():
    ids = new_ids(2000)
    assert len(set(ids)) == 2000
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122
    stream = id_stream(block=3)
    drawn = [next(stream) for _ in range(10)]
    assert len(set(drawn)) == 10 and all(uuid.UUID(text).version == 4 for text in drawn)


def test_the_garbage_collector_is_paused_inside_and_turned_back_on_by_the_last_to_leave():
    assert gc.isenabled()
    inside, leave = threading.Event(), threading.Event()

    def other_job():
        with gc_paused():
            inside.set()
            leave.wait(5)

    worker = threading.Thread(target=other_job)
    with gc_paused():
        assert not gc.isenabled()
        worker.start()
        assert inside.wait(5)
    assert not gc.isenabled()  # the other job is still inside
    leave.set()
    worker.join(5)
    assert gc.isenabled()

    gc.disable()  # someone who turned it off on purpose keeps it off
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()

    @gc_paused()
    def failing():
        raise ValueError("boom")

    with pytest.raises(ValueError):
        failing()
    assert gc.isenabled()
