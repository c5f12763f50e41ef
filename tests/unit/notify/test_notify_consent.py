"""`submission.consent_changed` in notify: the submitter is told at the receipt's address, once per change, in
their language; one without an address is told nothing; one that overtakes its submission waits for it."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from notify_factories import received_event
from sqlalchemy import select

from services.common.events import new_envelope, parse_envelope
from services.notify.models import Notification, ParkedEvent
from services.notify.rendering import Renderer


def consent_changed(received, publish_consent: bool, revision: int, via: str = "status_page"):
    data = received.data
    return parse_envelope(new_envelope("submission.consent_changed", {
        "submission_id": data["submission_id"], "consultation_id": data["consultation_id"],
        "reference": data["reference"], "publish_consent": publish_consent, "revision": revision,
        "changed_at": datetime(2024, 11, 12, 9, 0, tzinfo=timezone.utc), "via": via}, producer="intake"))


def told(ctx) -> list[Notification]:
    with ctx.db.transaction() as session:
        return list(session.scalars(select(Notification).where(Notification.template == "consent_changed")
                                    .order_by(Notification.created_at)))


def render(row: Notification):
    return Renderer(timezone=ZoneInfo("Europe/Warsaw")).render(row.template, row.language, row.context)


def test_a_withdrawal_is_confirmed_once_with_the_status_link(ctx, dispatcher):
    received = received_event()
    dispatcher.dispatch(received)
    withdrawn = consent_changed(received, False, 2)
    dispatcher.dispatch(withdrawn)
    dispatcher.dispatch(withdrawn)  # redelivered
    dispatcher.dispatch(consent_changed(received, False, 2))  # the same change under a new event id
    [row] = told(ctx)
    assert row.recipient == "anna.nowak@example.org"
    mail = render(row)
    assert mail.subject == f"Wycofanie zgody na publikację imienia i nazwiska – {received.data['reference']}"
    assert "potwierdzamy wycofanie zgody na publikację imienia i nazwiska" in mail.text
    assert ", dokonane na stronie statusu zgłoszenia." in mail.text
    assert "podpisane „Osoba prywatna”" in mail.text and "token=secret" in mail.text and "token=secret" in mail.html
    assert "Jeżeli to nie Państwo prosili o tę zmianę" in mail.text
    # given again, by staff from a letter: a second e-mail
    dispatcher.dispatch(consent_changed(received, True, 3, via="staff"))
    given = render(told(ctx)[-1])
    assert given.subject.startswith("Zgoda na publikację imienia i nazwiska – ")
    assert ", zgodnie z Państwa prośbą." in given.text and "Osoba prywatna" not in given.text


def test_in_english_without_an_address_and_before_the_submission(ctx, dispatcher):
    english = received_event(language="en")
    dispatcher.dispatch(english)
    dispatcher.dispatch(consent_changed(english, False, 2, via="staff"))
    mail = render(told(ctx)[0])
    assert mail.subject.startswith("Consent to publish your name withdrawn")
    assert 'signed "Private individual"' in mail.text and ", as you asked." in mail.text
    no_address = received_event(email=None)
    dispatcher.dispatch(no_address)
    dispatcher.dispatch(consent_changed(no_address, False, 2))
    assert len(told(ctx)) == 1
    early = received_event()
    dispatcher.dispatch(consent_changed(early, False, 2))
    with ctx.db.transaction() as session:
        assert "not known yet" in session.scalars(select(ParkedEvent)).one().reason
    assert len(told(ctx)) == 1
