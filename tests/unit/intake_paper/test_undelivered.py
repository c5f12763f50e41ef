"""E-mails a mail server returned (notify's `notification.bounced`) reach the clerk: the submission's page says who
was not told and what the server said, the register tags and filters those submissions (and its CSV, for a mail
merge of letters), and the day schedule tags a booking whose confirmation came back."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from html import unescape

from sqlalchemy import select

from services.common.bus import InboxDispatcher
from services.common.events import new_envelope, parse_envelope
from services.intake import contact, domain
from services.intake import handlers as intake_handlers
from services.intake.handlers import EVENT_HANDLERS
from services.intake.models import Booking, Inbox, Outbox, Submission, UndeliveredMail
from services.intake.paper import handlers
from tests.unit.intake_paper.support import book, consultation, letter
from tests.unit.intake_paper.test_paper_pages import BASE, form_of, logged_in, page_text

RETURNED_AT = datetime(2024, 10, 9, 8, 15, tzinfo=timezone.utc)


def bounced(*, reference: str | None = None, booking_id: str | None = None, template: str = "submission_receipt",
            recipient: str = "jan.kowalski@example.org", notification_id: str | None = None):
    return parse_envelope(new_envelope("notification.bounced", {
        "notification_id": notification_id or str(uuid.uuid4()), "cause_event_id": str(uuid.uuid4()),
        "template": template, "error": "5.1.1 550 5.1.1 <jan.kowalski@example.org>: Recipient address rejected",
        "recipient": recipient, "subject": "Potwierdzenie złożenia uwag", "bounced_at": RETURNED_AT,
        "reference": reference, "booking_id": booking_id}, producer="notify"))


def deliver(ctx, event) -> None:
    InboxDispatcher(ctx.db, Inbox, EVENT_HANDLERS).dispatch(event)


def web_submission(ctx, consultation_id: str, email: str = "jan.kowalski@example.org"):
    return intake_handlers.submit_comments(ctx, domain.SubmitComments(
        consultation_id=consultation_id, comments=(domain.CommentDraft(section="§ 1", proposal="Dwa konkursy."),),
        submitter=domain.Submitter(name="Jan Kowalski", email=email, publish_consent=True)))


def test_a_returned_receipt_is_kept_once_and_shown_on_the_submissions_page(ctx, app):
    found = consultation(ctx)
    web = web_submission(ctx, found.id)
    event = bounced(reference=web.reference)
    deliver(ctx, event)
    deliver(ctx, event)  # redelivered
    deliver(ctx, bounced(reference=web.reference, notification_id=event.data["notification_id"]))  # reported twice
    with ctx.db.transaction() as session:
        [kept] = session.scalars(select(UndeliveredMail).where(UndeliveredMail.reference == web.reference)).all()
    assert kept.reference == web.reference and kept.bounced_at == RETURNED_AT
    client = logged_in(app, "coordinator")
    register_page = unescape(page_text(client.get(f"{BASE}/{found.id}/submissions")))
    submission_url = f"{BASE}/{found.id}/submissions/{web.submission_id}"
    page = unescape(page_text(client.get(submission_url)))
    assert "E-mail wrócił niedoręczony" in page
    assert "nadawca nie otrzymał informacji" in page
    assert "potwierdzenie złożenia uwag do jan.kowalski@example.org" in page
    assert "Recipient address rejected" in page and "9 października 2024 r., godz. 10:15" in page
    assert "q=UW" in page and "status=bounced" in page  # a coordinator is led to the delivery log
    assert "e-mail niedoręczony" in register_page
    console = unescape(page_text(client.get(f"{BASE}/{found.id}")))
    assert "1 osoba nie otrzymała e-maila (wrócił niedoręczony)" in console
    assert f"{BASE}/{found.id}/submissions?undelivered=1" in console


def test_the_register_lists_only_those_not_told_and_exports_them_with_the_letters_address(ctx, app):
    found = consultation(ctx)
    told = web_submission(ctx, found.id, email="ewa@example.org")
    not_told = handlers.enter_paper_submission(ctx, letter(found.id, submitter=domain.Submitter(
        name="Anna Nowak", email="anna@zly-adres.example", publish_consent=False)), actor="k@um.torun.pl")
    deliver(ctx, bounced(reference=not_told.reference, recipient="anna@zly-adres.example"))
    client = logged_in(app)
    everyone = unescape(page_text(client.get(f"{BASE}/{found.id}/submissions")))
    assert told.reference in everyone and not_told.reference in everyone
    only = unescape(page_text(client.get(f"{BASE}/{found.id}/submissions?undelivered=1")))
    assert not_told.reference in only and told.reference not in only and "(po zawężeniu)" in only
    assert 'id="f-undelivered" name="undelivered" type="checkbox" value="1" checked' in only
    csv = client.get(f"{BASE}/{found.id}/submissions.csv?undelivered=1").get_data(as_text=True)
    assert not_told.reference in csv and told.reference not in csv
    other = consultation(ctx)
    web_submission(ctx, other.id)
    none = unescape(page_text(client.get(f"{BASE}/{other.id}/submissions?undelivered=1")))
    assert "Żaden e-mail do osób, które złożyły uwagi w tych konsultacjach, nie wrócił niedoręczony." in none


def announced(ctx, event_type: str, **wanted: str) -> list[dict]:
    """The payloads of `event_type` in intake's outbox whose fields have the `wanted` values, oldest first."""
    with ctx.db.transaction() as session:
        return [row.envelope["data"] for row in session.scalars(
            select(Outbox).where(Outbox.event_type == event_type).order_by(Outbox.id))
            if all(row.envelope["data"].get(key) == value for key, value in wanted.items())]


def test_the_day_schedule_tags_a_booking_whose_confirmation_came_back_and_takes_the_address_from_the_phone(ctx, app):
    found = consultation(ctx)
    booking_id = book(ctx, found.id, name="Jan Kowalski")
    with ctx.db.transaction() as session:  # booked by phone with the address as the clerk heard it
        session.get(Booking, booking_id).email = "jan.kowalsky@example.org"
    deliver(ctx, bounced(booking_id=booking_id, template="booking_confirmed", recipient="jan.kowalsky@example.org"))
    duty_day = date.fromisoformat(found.duty_days[0]["date"])
    client = logged_in(app)
    schedule = unescape(page_text(client.get(f"{BASE}/{found.id}/bookings?day={duty_day.isoformat()}")))
    assert "Jan Kowalski" in schedule and "e-mail niedoręczony" in schedule
    assert "potwierdzenie rezerwacji" in schedule and "zadzwoń do tej osoby" in schedule
    url = f"{BASE}/{found.id}/bookings"
    csrf = form_of(schedule)["csrf_token"]
    refused = client.post(url, data={"csrf_token": csrf, "action": "email", "booking_id": booking_id,
                                     "email": "jan.kowalski@", "day": duty_day.isoformat()})
    shown = unescape(page_text(refused))
    assert refused.status_code == 422 and 'value="jan.kowalski@"' in shown and 'aria-invalid="true"' in shown
    assert "Wpisz adres e-mail w postaci nazwa@example.pl albo zostaw pole puste." in shown
    done = client.post(url, data={"csrf_token": csrf, "action": "email", "booking_id": booking_id,
                                  "email": "jan.kowalski@example.org", "day": duty_day.isoformat()})
    assert done.status_code == 303
    resent = announced(ctx, "booking.confirmed", booking_id=booking_id)[-1]
    assert resent["email"] == "jan.kowalski@example.org" and "/cancel?token=" in resent["cancel_url"]
    after = unescape(page_text(client.get(f"{url}?day={duty_day.isoformat()}")))
    assert "Potwierdzenie z zaproszeniem zostanie wysłane na adres jan.kowalski@example.org" in after
    assert "e-mail niedoręczony" not in after  # answered: the booking has another address now


def test_staff_correct_the_address_with_its_basis_and_the_submission_is_reached_again(ctx, app):
    found = consultation(ctx)
    web = web_submission(ctx, found.id, email="jan.kowalsky@example.org")
    deliver(ctx, bounced(reference=web.reference, recipient="jan.kowalsky@example.org"))
    client = logged_in(app)
    url = f"{BASE}/{found.id}/submissions/{web.submission_id}"
    page = page_text(client.get(url))
    assert f'action="{url}/email"' in page and 'value="jan.kowalsky@example.org"' in page
    csrf = form_of(page)["csrf_token"]

    refused = client.post(f"{url}/email", data={"csrf_token": csrf, "email": "jan.kowalski@", "note": ""})
    shown = unescape(page_text(refused))
    assert refused.status_code == 422
    assert "Wpisz adres e-mail w postaci nazwa@example.pl albo zostaw pole puste." in shown
    assert "Napisz, na jakiej podstawie poprawiasz adres: rozmowa telefoniczna, pismo i jego data." in shown
    assert 'value="jan.kowalski@"' in shown and shown.count('aria-invalid="true"') == 2
    assert client.post(f"{url}/email", data={"email": "a@b.pl", "note": "x"}).status_code == 400  # no CSRF token

    done = client.post(f"{url}/email", data={"csrf_token": csrf, "email": " jan.kowalski@example.org ",
                                             "note": "Telefon od pana Kowalskiego, 10.10.2024"})
    assert done.status_code == 303 and done.headers["Location"].endswith("#email")
    again = client.post(f"{url}/email", data={"csrf_token": csrf, "email": "jan.kowalski@example.org",
                                              "note": "drugi raz"})
    assert again.status_code == 303
    [correction] = announced(ctx, "submission.email_corrected", reference=web.reference)
    assert correction["email"] == "jan.kowalski@example.org" and correction["revision"] == 2
    page = unescape(page_text(client.get(url)))
    assert "jan.kowalsky@example.org → jan.kowalski@example.org – reviewer@um.torun.pl: Telefon od pana" in page
    assert "adres poprawiony od tego czasu" in page  # the returned receipt went to the old address
    assert web.reference not in unescape(page_text(client.get(f"{BASE}/{found.id}/submissions?undelivered=1")))
    assert "nie otrzymał" not in unescape(page_text(client.get(f"{BASE}/{found.id}")))

    removed = client.post(f"{url}/email", data={"csrf_token": csrf, "email": "", "note": "Prosi o listy pocztą."})
    assert removed.status_code == 303
    assert announced(ctx, "submission.email_corrected", reference=web.reference)[-1]["email"] is None
    with ctx.db.transaction() as session:
        submission = session.get(Submission, web.submission_id)
        assert submission.email is None and submission.email_revision == 3


def test_a_request_for_access_finds_the_submission_by_a_former_address(ctx, app):
    found = consultation(ctx)
    web = web_submission(ctx, found.id, email="Stary.Adres@example.org")
    contact.correct_email(ctx, found.id, web.submission_id, "nowy@example.org", actor="k@um.torun.pl",
                          note="Telefon, 10.10.2024")
    client = logged_in(app, "coordinator")
    page = unescape(page_text(client.get("/intake/staff/privacy/person?q=stary.adres@example.org")))
    assert web.reference in page and "nowy@example.org; Stary.Adres@example.org do " in page
    assert 'href="/notify/?q=stary.adres%40example.org">E-maile wysłane na adres stary.adres@example.org' in page
