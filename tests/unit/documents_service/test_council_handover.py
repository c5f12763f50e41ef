"""Recording when the draft went to the City Council: the rules (pure), the record and its event, the console's form."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from services.common.web import Conflict, Invalid, NotFound
from services.documents import council
from services.documents.council import HandoverEntry, handover_problems
from services.documents.models import CouncilHandover, Publication, ReportBuild
from tests.unit.documents_service.support import deliver, outbox, staff

CLOSED_ON = date(2024, 10, 21)  # the 2024 announcement's deadline, "do 21 października 2024 r."


def test_a_hand_over_lies_between_the_end_of_the_consultation_and_today():
    today = date(2024, 11, 29)
    assert handover_problems(HandoverEntry(date(2024, 11, 12)), today=today, closed_on=CLOSED_ON) == {}
    assert handover_problems(HandoverEntry(CLOSED_ON), today=today, closed_on=CLOSED_ON) == {}
    assert handover_problems(HandoverEntry(today), today=today, closed_on=CLOSED_ON) == {}
    assert handover_problems(HandoverEntry(date(2024, 11, 30)), today=today, closed_on=CLOSED_ON) == {
        "handed_over_on": ["future"]}
    # A wrong year is the usual typo: last year's date is before the consultation ended.
    assert handover_problems(HandoverEntry(date(2023, 11, 12)), today=today, closed_on=CLOSED_ON) == {
        "handed_over_on": ["before_closing"]}


def test_the_texts_of_a_hand_over_have_limits():
    entry = HandoverEntry(date(2024, 11, 12), letter_reference="x" * 201, print_number="1" * 101, note="n" * 2001)
    assert handover_problems(entry, today=date(2024, 11, 29), closed_on=CLOSED_ON) == {
        "letter_reference": ["too_long"], "print_number": ["too_long"], "note": ["too_long"]}
    fits = HandoverEntry(date(2024, 11, 12), letter_reference="x" * 200, print_number="1" * 100, note="n" * 2000)
    assert handover_problems(fits, today=date(2024, 11, 29), closed_on=CLOSED_ON) == {}


def test_the_councils_resolution_comes_after_the_hand_over_with_both_its_date_and_number():
    today, handed = date(2024, 12, 20), date(2024, 11, 12)

    def problems(adopted_on, number=""):
        return handover_problems(HandoverEntry(handed, adopted_on=adopted_on, resolution_number=number), today=today,
                                 closed_on=CLOSED_ON)

    assert problems(date(2024, 12, 12), "XII/123/24") == {}
    assert problems(handed, "XII/123/24") == {}
    assert problems(date(2024, 11, 11), "XII/123/24") == {"adopted_on": ["before_handover"]}
    assert problems(date(2024, 12, 21), "XII/123/24") == {"adopted_on": ["future"]}
    assert problems(date(2024, 12, 12)) == {"resolution_number": ["required_with_date"]}
    assert problems(None, "XII/123/24") == {"adopted_on": ["required_with_number"]}
    assert problems(date(2024, 12, 12), "X" * 101) == {"resolution_number": ["too_long"]}


def closed_consultation(ctx, *, days_ago: int = 10) -> str:
    consultation_id = str(uuid.uuid4())
    now = datetime.now(timezone.utc)
    deliver(ctx, "consultation.published", {
        "consultation_id": consultation_id, "title": "Program współpracy z NGO na 2025 r.", "stage": "II etap",
        "opens_at": now - timedelta(days=days_ago + 14), "closes_at": now - timedelta(days=days_ago),
        "channels": ["web"], "topics": [], "duty_days": [], "state": "in_review",
    }, "intake")
    return consultation_id


def published(ctx, consultation_id: str) -> None:
    """A publication row, as `publishing.publish` leaves it (its files do not matter to the hand-over)."""
    with ctx.db.transaction() as session:
        build = ReportBuild(id=str(uuid.uuid4()), consultation_id=consultation_id, state="done")
        session.add(build)
        session.flush()
        session.add(Publication(id=str(uuid.uuid4()), consultation_id=consultation_id, report_build_id=build.id,
                                published_by="koordynator@um.example.pl"))


def local_today(ctx) -> date:
    return datetime.now(ctx.settings.timezone).date()


def test_the_hand_over_waits_for_the_published_results(ctx):
    consultation_id = closed_consultation(ctx)
    with pytest.raises(Conflict) as refused:
        council.record_handover(ctx, consultation_id, HandoverEntry(local_today(ctx)), actor="k@um.example.pl")
    assert refused.value.details == {"reasons": ["not_published"]}
    with pytest.raises(NotFound):
        council.record_handover(ctx, "nope", HandoverEntry(local_today(ctx)), actor="k@um.example.pl")
    assert council.recorded_handover(ctx, consultation_id) is None and outbox(ctx, "council.handover_recorded") == []


def test_the_hand_over_is_recorded_with_its_event_once_and_corrected_with_a_higher_revision(ctx):
    consultation_id = closed_consultation(ctx)
    published(ctx, consultation_id)
    day = local_today(ctx) - timedelta(days=3)
    entry = HandoverEntry(day, letter_reference="WRS-II.524.3.2024", note="Wysłano przez EZD")
    handover, changed = council.record_handover(ctx, consultation_id, entry, actor="k@um.example.pl")
    assert changed and handover.revision == 1
    events = outbox(ctx, "council.handover_recorded")
    assert len(events) == 1 and events[0]["handed_over_on"] == day.isoformat()
    assert events[0]["letter_reference"] == "WRS-II.524.3.2024" and events[0]["print_number"] == ""
    assert events[0]["revision"] == 1 and events[0]["recorded_by"] == "k@um.example.pl"
    assert "note" not in events[0]  # the note is for staff: it never leaves documents

    # The same form sent again (a reload, a double click) changes nothing and tells nobody.
    _same, changed = council.record_handover(ctx, consultation_id, entry, actor="other@um.example.pl")
    assert not changed and len(outbox(ctx, "council.handover_recorded")) == 1
    assert council.recorded_handover(ctx, consultation_id).recorded_by == "k@um.example.pl"

    # The print number comes later, from the council's office: a correction.
    corrected, changed = council.record_handover(
        ctx, consultation_id, HandoverEntry(day, "WRS-II.524.3.2024", "412", "Wysłano przez EZD"),
        actor="o@um.example.pl")
    assert changed and corrected.revision == 2
    events = outbox(ctx, "council.handover_recorded")
    assert [e["revision"] for e in events] == [1, 2] and events[1]["print_number"] == "412"
    stored = council.recorded_handover(ctx, consultation_id)
    assert (stored.print_number, stored.recorded_by, stored.note) == ("412", "o@um.example.pl", "Wysłano przez EZD")

    # A note for staff changes the record, and tells the other services nothing: they never see the note.
    noted, changed = council.record_handover(
        ctx, consultation_id, HandoverEntry(day, "WRS-II.524.3.2024", "412", "Potwierdzenie w EZD"),
        actor="k@um.example.pl")
    assert changed and noted.revision == 3 and len(outbox(ctx, "council.handover_recorded")) == 2

    # Weeks later the council adopts the document: its resolution is added to the record and told of.
    adopted, changed = council.record_handover(
        ctx, consultation_id, HandoverEntry(day, "WRS-II.524.3.2024", "412", "Potwierdzenie w EZD",
                                            local_today(ctx), "XII/123/24"), actor="k@um.example.pl")
    assert changed and adopted.revision == 4 and (adopted.adopted_on, adopted.resolution_number) == (
        local_today(ctx), "XII/123/24")
    last = outbox(ctx, "council.handover_recorded")[-1]
    assert (last["revision"], last["adopted_on"], last["resolution_number"]) == (
        4, local_today(ctx).isoformat(), "XII/123/24")
    assert outbox(ctx, "council.handover_recorded")[0]["adopted_on"] is None


def test_a_date_outside_the_window_is_refused_and_nothing_is_stored(ctx):
    consultation_id = closed_consultation(ctx, days_ago=2)
    published(ctx, consultation_id)
    for day, code in ((local_today(ctx) + timedelta(days=1), "future"),
                      (local_today(ctx) - timedelta(days=30), "before_closing")):
        with pytest.raises(Invalid) as refused:
            council.record_handover(ctx, consultation_id, HandoverEntry(day), actor="k@um.example.pl")
        assert refused.value.details == {"handed_over_on": [code]}
    with ctx.db.transaction() as session:
        assert session.query(CouncilHandover).count() == 0
    assert outbox(ctx, "council.handover_recorded") == []


def test_only_a_coordinator_records_the_hand_over(ctx, client):
    consultation_id = closed_consultation(ctx)
    published(ctx, consultation_id)
    path = f"/documents/consultations/{consultation_id}/council-handover"
    form = {"handed_over_on": local_today(ctx).isoformat()}
    assert client.post(path, data=form).status_code in (302, 401)  # not logged in: to the login page
    assert client.post(path, data=form, headers=staff(ctx, "reviewer")).status_code == 403
    assert outbox(ctx, "council.handover_recorded") == []


def test_the_form_before_the_publication_says_why_nothing_was_recorded(ctx, client):
    consultation_id = closed_consultation(ctx)
    response = client.post(f"/documents/consultations/{consultation_id}/council-handover",
                           data={"handed_over_on": local_today(ctx).isoformat()}, headers=staff(ctx),
                           follow_redirects=True)
    assert "Wyniki nie są jeszcze opublikowane, więc nie można zapisać przekazania." in response.get_data(as_text=True)
    assert outbox(ctx, "council.handover_recorded") == []


def test_the_api_records_reads_and_corrects_the_hand_over(ctx, client):
    consultation_id = closed_consultation(ctx)
    path = f"/documents/api/v1/consultations/{consultation_id}/council-handover"
    day = (local_today(ctx) - timedelta(days=1)).isoformat()
    body = {"handed_over_on": day, "letter_reference": " WRS-II.524.3.2024 "}
    early = client.put(path, json=body, headers=staff(ctx))
    assert early.status_code == 409 and early.json["errors"] == {"reasons": ["not_published"]}
    published(ctx, consultation_id)
    assert client.put(path, json=body, headers=staff(ctx, "reviewer")).status_code == 403
    assert client.get(path, headers=staff(ctx, "reviewer")).status_code == 404

    recorded = client.put(path, json=body, headers=staff(ctx))
    assert recorded.status_code == 200, recorded.json
    assert recorded.json["handed_over_on"] == day and recorded.json["letter_reference"] == "WRS-II.524.3.2024"
    assert recorded.json["revision"] == 1 and recorded.json["recorded_by"] == "coordinator@um.example.pl"
    assert client.put(path, json=body, headers=staff(ctx)).json["revision"] == 1  # sent again: unchanged
    assert client.get(path, headers=staff(ctx, "reviewer")).json["print_number"] == ""
    corrected = client.put(path, json={**body, "print_number": "412"}, headers=staff(ctx))
    assert corrected.json["revision"] == 2 and len(outbox(ctx, "council.handover_recorded")) == 2

    future = client.put(path, json={"handed_over_on": (local_today(ctx) + timedelta(days=2)).isoformat()},
                        headers=staff(ctx))
    assert future.status_code == 422 and future.json["errors"] == {"handed_over_on": ["future"]}
    for bad in ({"handed_over_on": "2024-13-45"}, {}, {"handed_over_on": day, "print_number": "1" * 101}):
        assert client.put(path, json=bad, headers=staff(ctx)).status_code in (400, 422), bad
    assert client.get(path, headers=staff(ctx)).json["revision"] == 2
    resolution = {**body, "print_number": "412", "adopted_on": day, "resolution_number": "XII/123/24"}
    assert client.put(path, json={**resolution, "resolution_number": ""}, headers=staff(ctx)).json["errors"] == {
        "resolution_number": ["required_with_date"]}
    adopted = client.put(path, json=resolution, headers=staff(ctx))
    assert adopted.status_code == 200 and (adopted.json["adopted_on"], adopted.json["resolution_number"],
                                           adopted.json["revision"]) == (day, "XII/123/24", 3)
