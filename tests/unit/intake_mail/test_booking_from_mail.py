"""A mail asking for a duty hour (the announcement asks residents to book by e-mail): staff book its sender from
the mail's page and close the mail as that request, in one step that leaves nothing half done."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from services.common.events import parse_envelope
from services.common.ui import local_datetime
from services.common.web import Conflict
from services.intake.bookings.domain import BookSlot
from services.intake.mail.importer import import_mail
from services.intake.mail.transcribe import book_sender, transcribe_mail
from services.intake.models import Booking, DutySlot, InboundMail, Outbox, Submission
from tests.unit.intake_mail.conftest import now, open_consultation
from tests.unit.intake_mail.test_transcription import ROWS, plain_mail, reviewer_client

REQUEST = "Dzień dobry,\nproszę o zapis na pierwszy dyżur, najlepiej rano.\nAnna Nowak, Stowarzyszenie Sąsiedzi"


def booking_mail(ctx, *, channels=("web", "email", "duty_hours")):
    consultation = open_consultation(ctx, channels=channels)
    result = import_mail(ctx, plain_mail("Anna Nowak <anna@example.org>", "Zapis na dyżur", REQUEST),
                         received_at=now(), source="t", consultation_id=consultation)
    with ctx.db.transaction() as session:
        mail = session.scalar(select(InboundMail).where(InboundMail.message_id == result.message_id))
        first = session.scalars(select(DutySlot).where(DutySlot.consultation_id == consultation)
                                .order_by(DutySlot.starts_at)).first()
        return consultation, mail.id, result.reference, first


def events(ctx, event_type):
    with ctx.db.transaction() as session:
        return [parse_envelope(row.envelope).data
                for row in session.scalars(select(Outbox).where(Outbox.event_type == event_type))]


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_staff_book_the_sender_from_the_mail_and_the_mail_is_closed_as_that_request(fresh_ctx):
    client = reviewer_client(fresh_ctx)
    consultation, mail_id, reference, slot = booking_mail(fresh_ctx)
    mail_page = client.get(f"/intake/staff/mails/{mail_id}").get_data(as_text=True)
    schedule = f"/intake/staff/consultations/{consultation}/bookings?mail={mail_id}"
    assert "Zapisz nadawcę na dyżur" in mail_page and f'href="{schedule}"' in mail_page.replace("&amp;", "&")

    page = client.get(schedule).get_data(as_text=True)
    assert "Zapis nadawcy wiadomości na dyżur" in page and "proszę o zapis na pierwszy dyżur" in page
    assert 'value="Anna Nowak"' in page and 'value="anna@example.org"' in page  # the sender, to check
    assert 'name="close_mail" value="yes" checked' in page and f'name="mail" value="{mail_id}"' in page
    done = client.post(schedule, data={"csrf_token": csrf(page), "mail": mail_id, "slot_id": slot.id,
                                       "name": "Anna Nowak", "email": "anna@example.org", "phone": "",
                                       "topic": "Konkursy", "close_mail": "yes"})
    assert done.status_code == 303 and f"/intake/staff/mails?consultation={consultation}" in done.headers["Location"]
    listing = client.get(done.headers["Location"]).get_data(as_text=True)
    with client.application.test_request_context():
        when = local_datetime(slot.starts_at)
    assert f"Zapisano na dyżur: {when}." in listing and "zostanie wysłane na adres anna@example.org" in listing
    assert f"Wiadomość {reference} zamknięto jako prośbę o zapis na dyżur." in listing

    with fresh_ctx.db.transaction() as session:
        [booking] = session.scalars(select(Booking).where(Booking.consultation_id == consultation))
        mail = session.get(InboundMail, mail_id)
        assert (booking.mail_id, booking.booked_by, booking.email, booking.topic) == (
            mail_id, "recenzent@um.torun.pl", "anna@example.org", "Konkursy")
        assert session.get(DutySlot, slot.id).booked == 1
        assert mail.status == "no_comments"
        assert (mail.closing["reason"], mail.closing["note"]) == ("booking", f"Zapisano na dyżur: {when}.")
    [confirmed] = events(fresh_ctx, "booking.confirmed")
    assert confirmed["email"] == "anna@example.org" and confirmed["booking_id"] == booking.id
    [dismissed] = events(fresh_ctx, "submission.dismissed")
    assert (dismissed["reference"], dismissed["reason"]) == (reference, "booking")
    # The day's schedule names the booking as made from an e-mail, linked to it.
    day = client.get(f"/intake/staff/consultations/{consultation}/bookings").get_data(as_text=True)
    assert f'href="/intake/staff/mails/{mail_id}">e-mailem</a>' in day and "telefonicznie" not in day


def test_a_mail_a_colleague_transcribed_before_the_booking_is_not_closed_and_its_sender_is_booked(fresh_ctx):
    client = reviewer_client(fresh_ctx)
    consultation, mail_id, _reference, slot = booking_mail(fresh_ctx)
    schedule = f"/intake/staff/consultations/{consultation}/bookings?mail={mail_id}"
    token = csrf(client.get(schedule).get_data(as_text=True))
    transcribe_mail(fresh_ctx, mail_id, ROWS, actor="koordynator@um.torun.pl")  # the colleague
    form = {"csrf_token": token, "mail": mail_id, "slot_id": slot.id, "name": "Anna Nowak",
            "email": "anna@example.org", "close_mail": "yes"}
    booked = client.post(schedule, data=form)
    assert booked.status_code == 303 and booked.headers["Location"].endswith(f"/intake/staff/mails/{mail_id}")
    assert "zamknięto" not in client.get(booked.headers["Location"]).get_data(as_text=True)
    with fresh_ctx.db.transaction() as session:
        assert session.get(InboundMail, mail_id).status == "transcribed"
        [booking] = session.scalars(select(Booking).where(Booking.consultation_id == consultation))
        assert booking.mail_id == mail_id
    assert events(fresh_ctx, "submission.dismissed") == []


def test_the_mail_is_not_closed_when_the_booking_fails_nor_booked_when_the_closing_fails(fresh_ctx):
    client = reviewer_client(fresh_ctx)
    consultation, mail_id, _reference, slot = booking_mail(fresh_ctx)
    schedule = f"/intake/staff/consultations/{consultation}/bookings?mail={mail_id}"
    token = csrf(client.get(schedule).get_data(as_text=True))
    with fresh_ctx.db.transaction() as session:
        session.get(DutySlot, slot.id).booked = session.get(DutySlot, slot.id).capacity  # taken meanwhile
    full = client.post(schedule, data={"csrf_token": token, "mail": mail_id, "slot_id": slot.id,
                                       "name": "Anna Nowak", "email": "anna@example.org", "close_mail": "yes"})
    body = full.get_data(as_text=True)
    assert full.status_code == 409 and "Ten termin został przed chwilą zarezerwowany" in body
    assert "proszę o zapis na pierwszy dyżur" in body and 'value="Anna Nowak"' in body  # still beside the mail
    with fresh_ctx.db.transaction() as session:
        assert session.get(InboundMail, mail_id).status == "needs_review"
        session.get(DutySlot, slot.id).booked = 0
    # The closing refused inside the same transaction: the place is given back.
    transcribe_mail(fresh_ctx, mail_id, ROWS, actor="koordynator@um.torun.pl")
    cmd = BookSlot(consultation_id=consultation, slot_id=slot.id, name="Anna Nowak", email="anna@example.org")
    with pytest.raises(Conflict):  # a transcribed mail cannot be closed
        book_sender(fresh_ctx, mail_id, cmd, actor="recenzent@um.torun.pl", note=lambda s: "x", close=True)
    with fresh_ctx.db.transaction() as session:
        assert session.get(DutySlot, slot.id).booked == 0
        assert session.scalars(select(Booking).where(Booking.consultation_id == consultation)).all() == []
    assert events(fresh_ctx, "booking.confirmed") == [] and events(fresh_ctx, "submission.dismissed") == []


def test_unticking_books_and_leaves_the_mail_waiting_for_its_comments(fresh_ctx):
    client = reviewer_client(fresh_ctx)
    consultation, mail_id, _reference, slot = booking_mail(fresh_ctx)
    schedule = f"/intake/staff/consultations/{consultation}/bookings?mail={mail_id}"
    token = csrf(client.get(schedule).get_data(as_text=True))
    done = client.post(schedule, data={"csrf_token": token, "mail": mail_id, "slot_id": slot.id,
                                       "name": "Anna Nowak", "email": "", "phone": "600 100 200"})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/intake/staff/mails/{mail_id}")
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Zapisano na dyżur:" in page and "zaproszeniem" not in page  # no address, no confirmation
    with fresh_ctx.db.transaction() as session:
        assert session.get(InboundMail, mail_id).status == "needs_review"
    assert events(fresh_ctx, "booking.confirmed") == []


def test_a_mail_of_another_consultation_or_none_at_all_is_not_found(fresh_ctx):
    client = reviewer_client(fresh_ctx)
    _consultation, mail_id, _reference, _slot = booking_mail(fresh_ctx)
    other = open_consultation(fresh_ctx, channels=("web", "duty_hours"))
    assert client.get(f"/intake/staff/consultations/{other}/bookings?mail={mail_id}").status_code == 404
    assert client.get(f"/intake/staff/consultations/{other}/bookings?mail=nope").status_code == 404
    without_duty = open_consultation(fresh_ctx, channels=("web", "email"))
    result = import_mail(fresh_ctx, plain_mail("Jan <jan@example.org>", "Pytanie", "Kiedy dyżur?"),
                         received_at=now(), source="t", consultation_id=without_duty)
    with fresh_ctx.db.transaction() as session:
        plain_id = session.scalar(select(InboundMail.id).where(InboundMail.message_id == result.message_id))
    page = client.get(f"/intake/staff/mails/{plain_id}").get_data(as_text=True)
    assert "Zapisz nadawcę na dyżur" not in page and "Harmonogram dyżurów" in page


def test_a_mail_that_cannot_be_closed_books_no_one_and_says_how_to_book_all_the_same(fresh_ctx):
    client = reviewer_client(fresh_ctx)
    consultation, mail_id, reference, slot = booking_mail(fresh_ctx)
    schedule = f"/intake/staff/consultations/{consultation}/bookings?mail={mail_id}"
    token = csrf(client.get(schedule).get_data(as_text=True))
    with fresh_ctx.db.transaction() as session:  # a decision on its placeholder reached intake meanwhile
        submission = session.scalar(select(Submission).where(Submission.reference == reference))
        submission.comments[0].status = "rejected"
    form = {"csrf_token": token, "mail": mail_id, "slot_id": slot.id, "name": "Anna Nowak",
            "email": "anna@example.org", "close_mail": "yes"}
    refused = client.post(schedule, data=form)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "nikogo nie zapisano" in body and 'href="#f-close_mail"' in body
    assert 'name="close_mail" value="yes" checked' in body
    with fresh_ctx.db.transaction() as session:
        assert session.get(DutySlot, slot.id).booked == 0
    unticked = client.post(schedule, data={k: v for k, v in form.items() if k != "close_mail"})
    assert unticked.status_code == 303
    with fresh_ctx.db.transaction() as session:
        assert session.get(DutySlot, slot.id).booked == 1 and session.get(InboundMail, mail_id).status == "needs_review"
