from datetime import datetime, timezone

import pytest

from services.common import events
from services.common.events import ContractError, UnknownEvent, new_envelope, parse_envelope


def decided(**overrides):
    data = {"comment_id": "c1", "consultation_id": "k1", "reference": "UW/2026/000001", "decision": "rejected",
            "justification": "Poza zakresem", "decided_by": "r@um.example",
            "decided_at": datetime(2026, 10, 1, 12, tzinfo=timezone.utc)}
    return {**data, **overrides}


def test_envelope_round_trips_with_its_contract():
    envelope = new_envelope("comment.decided", decided(), producer="review", correlation_id="UW/2026/000001")
    event = parse_envelope(envelope)
    assert event.type == "comment.decided" and event.version == 1
    assert event.data["decided_at"] == datetime(2026, 10, 1, 12, tzinfo=timezone.utc)
    assert event.correlation_id == "UW/2026/000001"


def test_producer_cannot_write_an_event_that_breaks_its_contract():
    with pytest.raises(ContractError, match="decision"):
        new_envelope("comment.decided", decided(decision="maybe"), producer="review")


def test_unknown_type_or_version_is_refused():
    envelope = new_envelope("comment.decided", decided(), producer="review")
    with pytest.raises(UnknownEvent):
        parse_envelope({**envelope, "version": 7})
    with pytest.raises(UnknownEvent):
        parse_envelope({**envelope, "type": "comment.exploded"})


@pytest.mark.parametrize("mutate", [
    lambda e: e.pop("id"),
    lambda e: e.update(id="not-a-uuid"),
    lambda e: e.update(occurred_at="yesterday"),
    lambda e: e.update(extra="field"),
    lambda e: e.update(version="1"),
])
def test_malformed_envelopes_are_contract_errors(mutate):
    envelope = new_envelope("comment.decided", decided(), producer="review")
    mutate(envelope)
    with pytest.raises(ContractError):
        parse_envelope(envelope)


def test_consumers_ignore_fields_added_by_newer_producers():
    envelope = new_envelope("comment.decided", decided(), producer="review")
    envelope["data"]["added_later"] = 1
    assert "added_later" not in parse_envelope(envelope).data


def test_old_versions_are_upcast_step_by_step(monkeypatch):
    from marshmallow import fields

    class DecidedV2(events.CommentDecidedV1):
        reason_code = fields.String(required=True)

    monkeypatch.setitem(events.CONTRACTS, ("comment.decided", 2), DecidedV2)
    monkeypatch.setitem(events.LATEST_VERSION, "comment.decided", 2)
    monkeypatch.setitem(events.UPCASTERS, ("comment.decided", 1), lambda d: {**d, "reason_code": "legacy"})
    v1 = new_envelope("comment.decided", decided(), producer="review", version=1)
    event = parse_envelope(v1)
    assert event.version == 2 and event.data["reason_code"] == "legacy"


def test_report_published_grew_additively_old_payloads_still_parse_and_new_files_are_checked():
    old = {"consultation_id": "k1", "build_id": "b1", "sha256": "ab" * 32, "download_url": "http://x/r.docx"}
    event = parse_envelope(new_envelope("report.published", old, producer="documents"))
    assert event.version == 1 and event.data["files"] == [] and event.data["publication_id"] is None
    file = {"artifact_id": "a1", "kind": "version_tracked", "media_type": "application/octet-stream",
            "sha256": "cd" * 32, "size": 10, "public_url": "http://x/documents/files/a1/d.docx"}
    assert parse_envelope(new_envelope("report.published", {**old, "files": [file]},
                                       producer="documents")).data["files"][0]["kind"] == "version_tracked"
    with pytest.raises(ContractError, match="kind"):
        new_envelope("report.published", {**old, "files": [{**file, "kind": "secret_notes"}]}, producer="documents")


def test_a_reopened_review_carries_its_reason():
    data = {"consultation_id": "k1", "reopened_at": datetime(2026, 11, 2, tzinfo=timezone.utc),
            "reopened_by": "k@um.example", "reason": "Korekta stanowiska"}
    assert parse_envelope(new_envelope("consultation.review_reopened", data, producer="review")).data["reason"]
    with pytest.raises(ContractError, match="reason"):
        new_envelope("consultation.review_reopened", {**data, "reason": ""}, producer="review")
