"""A submitter's consent to publish their name, changed after the comments were sent: withdrawn on the status page
with the receipt's access code, or recorded by staff from a letter or an e-mail with its basis. Each change is
kept and announced once as `submission.consent_changed`; a change to what already stands records nothing."""

from __future__ import annotations

import uuid
from html import unescape

import pytest
from sqlalchemy import select

from services.common.events import utcnow
from services.common.web import Invalid, NotFound
from services.intake import consent
from services.intake.models import ConsentChange, Outbox, PublishedResults, Submission
from services.intake.paper import handlers
from tests.unit.intake_paper.support import consultation, letter
from tests.unit.intake_paper.test_paper_pages import BASE, form_of, logged_in, page_text


def consent_events(ctx, reference: str) -> list[dict]:
    with ctx.db.transaction() as session:
        return [row.envelope["data"] for row in session.scalars(
            select(Outbox).where(Outbox.event_type == "submission.consent_changed").order_by(Outbox.id))
            if row.envelope["data"]["reference"] == reference]


def stored(ctx, reference: str) -> tuple[bool, int, list[tuple]]:
    with ctx.db.transaction() as session:
        submission = session.scalar(select(Submission).where(Submission.reference == reference))
        changes = session.scalars(select(ConsentChange).where(ConsentChange.submission_id == submission.id)
                                  .order_by(ConsentChange.revision))
        return submission.publish_consent, submission.consent_revision, [
            (c.revision, c.publish_consent, c.changed_by, c.via, c.note) for c in changes]


def publish_results(ctx, consultation_id: str) -> None:
    with ctx.db.transaction() as session:
        session.add(PublishedResults(publication_id=str(uuid.uuid4()), consultation_id=consultation_id,
                                     published_at=utcnow(), files=[]))


def status_of(client, entered) -> str:
    return unescape(page_text(client.get(
        f"/intake/status?reference={entered.reference}&token={entered.receipt.status_token}")))


def with_consent(found_id: str):
    command = letter(found_id)
    return letter(found_id, submitter=type(command.submitter)(name="Anna Nowak", email="anna@example.pl",
                                                               publish_consent=True))


def test_the_submitter_withdraws_their_consent_on_the_status_page_and_it_is_announced_once(ctx, app):
    found = consultation(ctx)
    entered = handlers.enter_paper_submission(ctx, with_consent(found.id), actor="k@um.torun.pl")
    client = app.test_client()
    page = unescape(page_text(client.get(
        f"/intake/status?reference={entered.reference}&token={entered.receipt.status_token}")))
    assert "Imię i nazwisko w opublikowanym raporcie" in page
    assert "Wyrazili Państwo zgodę na publikację imienia i nazwiska" in page
    section = page.split('id="consent"')[1].split("</section>")[0]
    form = form_of(section)
    assert (form["reference"], form["token"], form["publish_consent"]) == (
        entered.reference, entered.receipt.status_token, "no")
    sent = client.post("/intake/status/consent", data=form)
    assert sent.status_code == 303 and sent.headers["Location"].endswith("consent=changed#consent")
    after = unescape(page_text(client.get(sent.headers["Location"])))
    assert "Zapisano: zgoda na publikację imienia i nazwiska została wycofana." in after
    assert "w raporcie z konsultacji Państwa uwagi są podpisane „Osoba prywatna”" in after
    assert "urząd opublikuje raport ponownie" not in after  # nothing was published yet
    assert stored(ctx, entered.reference) == (False, 2, [(2, False, "submitter", "status_page", "")])
    [event] = consent_events(ctx, entered.reference)
    assert (event["publish_consent"], event["revision"], event["via"], event["submission_id"]) == (
        False, 2, "status_page", entered.submission_id)
    # the same form again (the back button, a double click): the consent already stands so, nothing more
    assert client.post("/intake/status/consent", data=form).status_code == 303
    assert stored(ctx, entered.reference)[1] == 2 and len(consent_events(ctx, entered.reference)) == 1


def test_consent_given_later_and_withdrawn_after_publication_says_the_report_is_published_again(ctx, app):
    found = consultation(ctx)
    entered = handlers.enter_paper_submission(ctx, letter(found.id), actor="k@um.torun.pl")  # no consent
    client = app.test_client()
    form = form_of(status_of(client, entered).split('id="consent"')[1].split("</section>")[0])
    assert form["publish_consent"] == "yes"
    client.post("/intake/status/consent", data=form)
    page = status_of(client, entered)
    assert "Wyrazili Państwo zgodę na publikację imienia i nazwiska" in page
    publish_results(ctx, found.id)
    form = form_of(page.split('id="consent"')[1].split("</section>")[0])
    after = unescape(page_text(client.get(client.post("/intake/status/consent", data=form).headers["Location"])))
    assert "urząd opublikuje raport ponownie, bez Państwa imienia i nazwiska" in after
    assert [(e["publish_consent"], e["revision"]) for e in consent_events(ctx, entered.reference)] == [
        (True, 2), (False, 3)]


def test_a_wrong_access_code_a_missing_choice_or_no_csrf_token_changes_nothing(ctx, app):
    found = consultation(ctx)
    entered = handlers.enter_paper_submission(ctx, with_consent(found.id), actor="k@um.torun.pl")
    client = app.test_client()
    form = form_of(status_of(client, entered).split('id="consent"')[1].split("</section>")[0])
    wrong = client.post("/intake/status/consent", data={**form, "token": "guessed"})
    assert wrong.status_code == 404 and "Nie znaleziono zgłoszenia" in unescape(page_text(wrong))
    unknown = client.post("/intake/status/consent", data={**form, "reference": "UW/1999/000001"})
    assert unknown.status_code == 404
    assert client.post("/intake/status/consent", data={**form, "publish_consent": "maybe"}).status_code == 400
    without_token = client.post("/intake/status/consent", data={k: v for k, v in form.items() if k != "csrf_token"})
    assert without_token.status_code == 400
    assert stored(ctx, entered.reference) == (True, 1, []) and consent_events(ctx, entered.reference) == []


def test_staff_record_a_withdrawal_from_a_letter_with_its_basis(ctx, app):
    found = consultation(ctx)
    entered = handlers.enter_paper_submission(ctx, with_consent(found.id), actor="k@um.torun.pl")
    client = logged_in(app)
    url = f"{BASE}/{found.id}/submissions/{entered.submission_id}"
    page = unescape(page_text(client.get(url)))
    section = page.split('id="consent"')[1].split("</section>")[0]
    assert "Raport podaje imię i nazwisko tej osoby przy jej uwagach." in section
    assert "Zapisz wycofanie zgody" in section
    form = form_of(section)
    assert form["publish_consent"] == "no"
    refused = client.post(f"{url}/consent", data={**form, "note": "  "})
    assert refused.status_code == 422
    shown = unescape(page_text(refused))
    assert "Podaj podstawę zmiany: pismo lub e-mail i jego datę." in shown and 'aria-invalid="true"' in shown
    assert stored(ctx, entered.reference)[1] == 1
    saved = client.post(f"{url}/consent", data={**form, "note": "pismo z 12 listopada 2024 r."})
    assert saved.status_code == 303 and saved.headers["Location"].endswith("#consent")
    after = unescape(page_text(client.get(saved.headers["Location"])))
    assert f"Zapisano: zgoda na publikację imienia i nazwiska w zgłoszeniu {entered.reference} została wycofana." \
        in after
    assert "Wyniki tych konsultacji są już opublikowane" not in after
    history = after.split('id="consent"')[1].split("</section>")[0]
    assert "wyrażono zgodę – wraz z uwagami" in history
    assert "zgodę wycofano – reviewer@um.torun.pl: pismo z 12 listopada 2024 r." in history
    assert stored(ctx, entered.reference) == (False, 2, [(2, False, "reviewer@um.torun.pl", "staff",
                                                          "pismo z 12 listopada 2024 r.")])
    [event] = consent_events(ctx, entered.reference)
    assert "note" not in event and event["via"] == "staff"  # the basis stays with intake's staff
    # consent given again, then withdrawn once the results are published: the clerk is told to publish again
    consent.change_by_staff(ctx, found.id, entered.submission_id, True, actor="k@um.torun.pl", note="telefon")
    publish_results(ctx, found.id)
    form = form_of(unescape(page_text(client.get(url))).split('id="consent"')[1].split("</section>")[0])
    assert form["publish_consent"] == "no"
    warned = unescape(page_text(client.post(f"{url}/consent", data={**form, "note": "e-mail z 20 listopada"},
                                            follow_redirects=True)))
    assert "Wyniki tych konsultacji są już opublikowane: zbuduj raport ponownie" in warned
    assert [(e["publish_consent"], e["revision"]) for e in consent_events(ctx, entered.reference)] == [
        (False, 2), (True, 3), (False, 4)]


def test_the_handlers_refuse_an_unknown_submission_and_staff_without_a_basis(ctx):
    found = consultation(ctx)
    entered = handlers.enter_paper_submission(ctx, letter(found.id), actor="k@um.torun.pl")
    with pytest.raises(NotFound):
        consent.change_by_staff(ctx, found.id, str(uuid.uuid4()), True, actor="k@um.torun.pl", note="pismo")
    with pytest.raises(NotFound):
        consent.change_by_staff(ctx, consultation(ctx).id, entered.submission_id, True, actor="k", note="pismo")
    with pytest.raises(Invalid):
        consent.change_by_staff(ctx, found.id, entered.submission_id, True, actor="k", note="x" * 1001)
    with pytest.raises(NotFound):
        consent.change_by_submitter(ctx, entered.reference, "wrong", True)
    unchanged = consent.change_by_submitter(ctx, entered.reference, entered.receipt.status_token, False)
    assert not unchanged.changed and consent_events(ctx, entered.reference) == []


@pytest.mark.parametrize(("note", "problem"), [("", "required"), ("  \n", "required"), ("x" * 1001, "too_long"),
                                               ("pismo z 12.11.2024", None)])
def test_the_basis_staff_give_for_a_change(note, problem):
    assert consent.staff_note_problem(note) == problem
