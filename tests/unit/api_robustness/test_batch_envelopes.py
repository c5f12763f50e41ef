"""new_envelopes: the contract runs once per payload shape, and a payload of a new shape always in full."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.common import events
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


def test_one_contract_check_per_shape(monkeypatch):
    calls = []
    real = events._validate_payload
    monkeypatch.setattr(events, "_validate_payload", lambda *args: calls.append(args) or real(*args))
    envelopes = new_envelopes("submission.received", [payload(n) for n in range(50)] + [
        payload(99, submitter={"name": "Ola", "organization": "Fundacja", "email": "o@example.org",
                               "publish_consent": True, "kind": "organization"})], producer="intake",
        correlation_ids=[str(n) for n in range(51)])
    assert len(envelopes) == 51 and len(calls) == 2  # organisation and e-mail strings: a second shape
    assert len({e["id"] for e in envelopes}) == 51 and envelopes[3]["correlation_id"] == "3"
    assert envelopes[0]["data"]["reference"] == "UW/2024/000000" and envelopes[0]["version"] == 1


def test_a_payload_of_a_new_shape_that_breaks_the_contract_is_refused():
    broken = payload(2)
    del broken["reference"]
    with pytest.raises(ContractError):
        new_envelopes("submission.received", [payload(1), broken], producer="intake")
    with pytest.raises(ContractError):
        new_envelopes("submission.received", [payload(1), payload(2, late="maybe")], producer="intake")


def test_datetimes_are_made_json_ready_and_shapes_ignore_values():
    (envelope,) = new_envelopes("submission.received", [payload(1, received_at=datetime(2024, 10, 15, tzinfo=UTC))],
                                producer="intake")
    assert envelope["data"]["received_at"] == "2024-10-15T00:00:00+00:00"
    assert payload_shape({"a": [1, 2], "b": "x"}) == payload_shape({"b": "y", "a": [3]})
    assert payload_shape({"a": None}) != payload_shape({"a": "x"})
