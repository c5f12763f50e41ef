"""A person's request for access to their data (GDPR art. 15): every submission, booking and e-mail intake holds
under an address or a name, across consultations, on one page for the coordinator answering it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from html import unescape

from services.intake import data_access, domain
from services.intake.models import InboundMail
from services.intake.paper import handlers
from tests.unit.intake_paper.support import book, consultation, letter
from tests.unit.intake_paper.test_paper_pages import logged_in, page_text


def test_a_search_needs_three_characters_and_fits_an_address():
    assert data_access.query_problem("an") == "too_short" and data_access.query_problem(" ab ") == "too_short"
    assert data_access.query_problem("ann") is None and data_access.query_problem("a" * 255) == "too_long"


def test_everything_held_under_an_address_or_a_name_in_every_consultation(ctx, app):
    first, second = consultation(ctx), consultation(ctx)
    sender = domain.Submitter(name="Bożena Wójcik-Żak", email="Bozena.Wojcik@Example.org", publish_consent=True)
    handlers.enter_paper_submission(ctx, letter(first.id, submitter=sender), actor="k@um.torun.pl")
    handlers.enter_paper_submission(ctx, letter(second.id, submitter=domain.Submitter(
        name="Bożena Wójcik-Żak", email=None, publish_consent=False)), actor="k@um.torun.pl")
    handlers.enter_paper_submission(ctx, letter(first.id), actor="k@um.torun.pl")  # Anna Nowak: not hers
    book(ctx, second.id, name="Bożena Wójcik-Żak")
    with ctx.db.transaction() as session:
        session.add(InboundMail(id=str(uuid.uuid4()), message_id=f"<{uuid.uuid4()}@example.org>", status="ignored",
                                consultation_id=first.id, sender="Bożena Wójcik-Żak <bozena.wojcik@example.org>",
                                subject="Pytanie o dyżur", received_at=datetime.now(UTC)))

    by_address = data_access.find_person(ctx, "bozena.wojcik@example.org")
    assert [s.email for s in by_address.submissions] == ["Bozena.Wojcik@Example.org"]  # any case
    assert len(by_address.mails) == 1 and by_address.bookings == ()  # the booking was by phone, without it
    by_name = data_access.find_person(ctx, "wójcik-żak")
    assert len(by_name.submissions) == 2 and len(by_name.bookings) == 1 and len(by_name.mails) == 1
    assert set(by_name.titles) == {first.id, second.id}
    assert data_access.find_person(ctx, "100%_").nothing  # LIKE's wildcards are searched for as written

    client = logged_in(app, "coordinator")
    page = unescape(page_text(client.get("/intake/staff/privacy/person?q=W%C3%B3jcik-%C5%BBak")))
    assert "Znaleziono pod „Wójcik-Żak”: zgłoszenia – 2, zapisy na dyżury – 1, e-maile otrzymane od tej osoby – 1." in page
    assert first.title in page and second.title in page and "Pytanie o dyżur" in page
    assert "Bozena.Wojcik@Example.org" in page and "Konkursy dwa razy w roku." in page
    assert "Kopie w pozostałych częściach Uwag" in page
    nothing = unescape(page_text(client.get("/intake/staff/privacy/person?q=nikt-taki")))
    assert "Pod „nikt-taki” nic nie znaleziono." in nothing
    short = client.get("/intake/staff/privacy/person?q=ab")
    assert short.status_code == 422 and 'aria-invalid="true"' in page_text(short)
    assert logged_in(app, "reviewer").get("/intake/staff/privacy/person?q=abc").status_code == 403
    assert "Wniosek o dostęp do danych osobowych" in page_text(client.get(
        f"/intake/staff/consultations/{first.id}/submissions"))
