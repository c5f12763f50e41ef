"""Letters and duty-hour notes entered by staff: the stamp decides lateness, a receipt only with an e-mail
address, the scan checked by its bytes and kept with its sha256, the booking linked, provenance in the event."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from services.common.events import parse_envelope
from services.common.web import Refused
from services.intake import domain
from services.intake.models import Submission
from services.intake.paper import handlers
from services.intake.paper.domain import ScanRefused, letter_received_at, sniff_scan
from tests.unit.intake_paper.support import PDF, PNG, WARSAW, book, consultation, letter, received_events


def submission(ctx, reference):
    with ctx.db.transaction() as session:
        return session.query(Submission).filter_by(reference=reference).one()


def test_a_letter_stamped_on_the_closing_day_is_on_time_and_one_stamped_the_day_after_is_late(ctx):
    today = datetime.now(WARSAW).date()
    found = consultation(ctx, closes_on=today - timedelta(days=2), opens_at=datetime.now(UTC) - timedelta(days=30))
    on_time = handlers.enter_paper_submission(ctx, letter(found.id, received_on=today - timedelta(days=2)),
                                              actor="k@um.torun.pl")
    late = handlers.enter_paper_submission(ctx, letter(found.id, received_on=today - timedelta(days=1)),
                                           actor="k@um.torun.pl")
    assert on_time.receipt.late is False and late.receipt.late is True
    assert submission(ctx, late.reference).postmarked_on == today - timedelta(days=1)
    assert received_events(ctx, late.reference)[0]["late"] is True


def test_a_late_stamp_is_refused_when_the_consultation_refuses_late_comments(ctx):
    today = datetime.now(WARSAW).date()
    found = consultation(ctx, closes_on=today - timedelta(days=1), late_policy="refuse")
    with pytest.raises(Refused):
        handlers.enter_paper_submission(ctx, letter(found.id, received_on=today), actor="k@um.torun.pl")
    accepted = handlers.enter_paper_submission(ctx, letter(found.id, received_on=today - timedelta(days=1)),
                                               actor="k@um.torun.pl")
    assert accepted.receipt.late is False


def test_the_stamp_date_counts_whatever_the_hour_the_consultation_opened_or_closed():
    opens_at = datetime(2024, 10, 1, 10, 0, tzinfo=WARSAW)
    closes_at = domain.end_of_day(datetime(2024, 10, 21).date(), WARSAW)
    at = letter_received_at
    assert domain.classify_timing(at(opens_at.date(), opens_at=opens_at, closes_at=closes_at, tz=WARSAW), opens_at,
                                  closes_at) is domain.Timing.ON_TIME
    before = at(datetime(2024, 9, 30).date(), opens_at=opens_at, closes_at=closes_at, tz=WARSAW)
    assert domain.classify_timing(before, opens_at, closes_at) is domain.Timing.NOT_YET_OPEN
    after = at(datetime(2024, 10, 22).date(), opens_at=opens_at, closes_at=closes_at, tz=WARSAW)
    assert domain.classify_timing(after, opens_at, closes_at) is domain.Timing.LATE


def test_a_future_stamp_and_a_letter_without_any_address_are_refused_by_field(ctx):
    found = consultation(ctx)
    with pytest.raises(handlers.PaperInvalid) as refused:
        handlers.enter_paper_submission(ctx, letter(found.id, received_on=datetime.now(WARSAW).date() + timedelta(days=1),
                                                    postal_address=""), actor="k@um.torun.pl")
    assert refused.value.problems == {"received_on": "in_future", "postal_address": "address_or_email"}


def test_a_receipt_goes_only_to_a_sender_who_gave_an_e_mail_address(ctx):
    found = consultation(ctx)
    paper = handlers.enter_paper_submission(ctx, letter(found.id), actor="k@um.torun.pl")
    mailed = handlers.enter_paper_submission(ctx, letter(found.id, submitter=domain.Submitter(
        name="Ewa Lis", email="ewa.lis@example.pl", publish_consent=True)), actor="k@um.torun.pl")
    assert received_events(ctx, paper.reference)[0]["submitter"]["email"] is None
    assert received_events(ctx, mailed.reference)[0]["submitter"]["email"] == "ewa.lis@example.pl"


def test_notify_stages_a_receipt_only_for_the_letter_with_an_e_mail_address(ctx):
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from services.notify import handlers as notify_handlers
    from services.notify.models import Base as NotifyBase
    from services.notify.models import Notification

    found = consultation(ctx)
    paper = handlers.enter_paper_submission(ctx, letter(found.id), actor="k@um.torun.pl")
    mailed = handlers.enter_paper_submission(ctx, letter(found.id, submitter=domain.Submitter(
        name="Ewa Lis", email="ewa.lis@example.pl", publish_consent=True)), actor="k@um.torun.pl")
    engine = create_engine("sqlite://")
    NotifyBase.metadata.create_all(engine)
    with Session(engine) as session:
        for reference in (paper.reference, mailed.reference):
            envelope = {"id": "00000000-0000-0000-0000-%012d" % int(reference[-6:]), "type": "submission.received",
                        "version": 1, "occurred_at": datetime.now(UTC).isoformat(), "producer": "intake",
                        "data": received_events(ctx, reference)[0]}
            notify_handlers.on_submission_received(parse_envelope(envelope), session)
        session.flush()
        recipients = [n.recipient for n in session.scalars(select(Notification))]
    assert recipients == ["ewa.lis@example.pl"]


def test_the_scan_is_stored_by_its_content_with_its_sha256_and_named_in_the_event(ctx):
    found = consultation(ctx)
    scan = handlers.store_scan(ctx, handlers.ScanUpload("pismo 12.pdf", PDF))
    assert scan["sha256"] == hashlib.sha256(PDF).hexdigest() and scan["media_type"] == "application/pdf"
    assert ctx.store.get(scan["key"]) == PDF and ctx.store.stat(scan["key"]).sha256 == scan["sha256"]
    entered = handlers.enter_paper_submission(ctx, letter(found.id, scan=scan), actor="k@um.torun.pl")
    assert submission(ctx, entered.reference).scan == scan
    provenance = received_events(ctx, entered.reference)[0]["provenance"]
    assert provenance["scan_sha256"] == scan["sha256"] and provenance["entered_by"] == "k@um.torun.pl"
    assert provenance["postmarked_on"] == datetime.now(WARSAW).date().isoformat()
    assert handlers.kept_scan(ctx, scan["sha256"], "pismo 12.pdf") == scan
    assert handlers.store_scan(ctx, handlers.ScanUpload("img.png", PNG))["media_type"] == "image/png"


@pytest.mark.parametrize(("data", "code"), [
    (b"MZ\x90\x00" + b"\x00" * 100, "unknown_type"),  # a program named .pdf
    (b"<html><script>alert(1)</script></html>", "unknown_type"),
    (b"", "empty"),
    (b"%PDF-1.7\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj", "active_content"),
    (b"%PDF-1.7\n1 0 obj << /S /J#61vaScript >> endobj", "active_content"),
    (b"%PDF-1.7\n1 0 obj << /Type /EmbeddedFile >> endobj", "active_content"),
    (b"%PDF-1.7\n1 0 obj << /S /Launch /F (cmd.exe) >> endobj", "active_content"),
])
def test_a_hostile_or_empty_scan_is_refused_with_its_reason(ctx, data, code):
    with pytest.raises(handlers.PaperInvalid) as refused:
        handlers.store_scan(ctx, handlers.ScanUpload("pismo.pdf", data))
    assert refused.value.problems == {"scan": code}


def test_an_oversized_scan_is_refused_before_it_is_stored():
    with pytest.raises(ScanRefused) as refused:
        sniff_scan(PDF + b"0" * 2048, max_bytes=1024)
    assert refused.value.code == "too_large"


def test_a_forged_kept_scan_is_refused(ctx):
    for forged in ("../../etc/passwd", "0" * 64):
        with pytest.raises(handlers.PaperInvalid):
            handlers.kept_scan(ctx, forged)


def test_duty_hour_notes_are_linked_to_the_booking_and_count_at_the_booked_time(ctx):
    found = consultation(ctx)
    booking_id = book(ctx, found.id)
    entered = handlers.enter_paper_submission(ctx, letter(found.id, channel="duty_hours", received_on=None,
                                                          postal_address="", booking_id=booking_id),
                                              actor="r@um.torun.pl")
    event = received_events(ctx, entered.reference)[0]
    assert event["channel"] == "duty_hours" and event["provenance"]["booking_id"] == booking_id
    assert event["provenance"]["postmarked_on"] is None
    assert event["received_at"] == event["provenance"]["booking_starts_at"]
    assert submission(ctx, entered.reference).booking_id == booking_id
    assert [row["reference"] for row in handlers.bookings_for_notes(ctx, found.id)] == [entered.reference]


def test_duty_hour_notes_need_a_confirmed_booking_of_the_same_consultation(ctx):
    found, other = consultation(ctx), consultation(ctx)
    foreign = book(ctx, other.id)
    for booking_id, code in ((None, "required"), (foreign, "unknown"), ("nope", "unknown")):
        with pytest.raises(handlers.PaperInvalid) as refused:
            handlers.enter_paper_submission(ctx, letter(found.id, channel="duty_hours", booking_id=booking_id),
                                            actor="r@um.torun.pl")
        assert refused.value.problems == {"booking_id": code}


def test_posting_the_same_form_twice_records_one_submission(ctx):
    found = consultation(ctx)
    entry_id = "6f1f0c8e-9d7e-4c56-8a0b-3a3f1f0c8e9d"
    first = handlers.enter_paper_submission(ctx, letter(found.id, entry_id=entry_id), actor="k@um.torun.pl")
    second = handlers.enter_paper_submission(ctx, letter(found.id, entry_id=entry_id), actor="k@um.torun.pl")
    assert second.repeated and second.reference == first.reference
    assert len(received_events(ctx, first.reference)) == 1
