"""The consultation's way from draft to the City Council, as the console's page shows it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from services.intake import domain
from services.intake.domain import ProgressFacts, State, progress_steps
from tests.unit.intake_console.support import announcement, deliver, staff

BASE = "/intake/staff/consultations"


def facts(**overrides) -> ProgressFacts:
    values = dict(state=State.DRAFT, warnings=0, document_published=False, submissions=0, comments=0, decided=0,
                  mails_waiting=0, results_published=False)
    return ProgressFacts(**{**values, **overrides})


def where(steps) -> tuple[list[str], str | None]:
    return [s.key for s in steps if s.done], next((s.key for s in steps if s.current), None)


def test_each_stage_of_the_yearly_round_names_what_comes_next():
    assert where(progress_steps(facts(warnings=2))) == ([], "announcement")
    assert where(progress_steps(facts())) == (["announcement"], "document")
    assert where(progress_steps(facts(document_published=True))) == (["announcement", "document"], "open")
    taking = facts(state=State.OPEN, document_published=True, submissions=3, comments=5, warnings=1)
    assert where(progress_steps(taking)) == (["announcement", "document", "open"], "comments")
    # closed, but two e-mails still wait to be read into comments
    waiting = facts(state=State.CLOSED, document_published=True, submissions=3, comments=5, mails_waiting=2)
    assert where(progress_steps(waiting)) == (["announcement", "document", "open", "close"], "comments")
    reviewing = facts(state=State.IN_REVIEW, document_published=True, submissions=3, comments=5, decided=4)
    assert where(progress_steps(reviewing)) == (["announcement", "document", "open", "comments", "close"], "review")
    decided = facts(state=State.IN_REVIEW, document_published=True, submissions=3, comments=5, decided=5)
    assert where(progress_steps(decided))[1] == "results"
    published = facts(state=State.REPORT_PUBLISHED, document_published=True, comments=5, decided=5,
                      results_published=True)
    assert where(progress_steps(published)) == (
        ["announcement", "document", "open", "comments", "close", "review", "results"], "council")
    handed_over = facts(state=State.REPORT_PUBLISHED, document_published=True, comments=5, decided=5,
                        results_published=True, handed_to_council_on=date(2024, 12, 4))
    assert where(progress_steps(handed_over)) == (list(domain.PROGRESS_KEYS), None)
    # nobody commented: nothing to review
    quiet = facts(state=State.CLOSED, document_published=True)
    assert "review" in where(progress_steps(quiet))[0]


def test_the_console_page_shows_the_way_with_counts_and_links(ctx, client):
    from services.intake import handlers

    draft = handlers.create_consultation(ctx, announcement(), actor="k")
    body = client.get(f"{BASE}/{draft.id}", headers=staff(ctx)).get_data(as_text=True)
    way = body.split('id="progress-heading"')[1].split("</section>")[0]
    assert "Przebieg konsultacji" in body
    assert '<li class="current" aria-current="step">' in way and "Projekt dokumentu opublikowany do konsultacji" in way
    assert f'href="/documents/drafts/new?consultation={draft.id}">dodaj go</a>' in way
    assert "Zbieranie uwag: 0 zgłoszeń, 0 uwag" in way
    assert "Rozpatrzenie uwag: zatwierdzone rozstrzygnięcie ma 0 z 0 uwag" in way
    opened = handlers.open_consultation(ctx, announcement(opens_at=datetime.now(UTC) - timedelta(days=1)), actor="k")
    handlers.submit_comments(ctx, domain.SubmitComments(
        opened.id, domain.Submitter(name="Anna Nowak", email=None, publish_consent=False),
        (domain.CommentDraft(section="§ 1", proposal="Zmienić."), domain.CommentDraft(section="§ 2", proposal="Dodać."))))
    way = client.get(f"{BASE}/{opened.id}", headers=staff(ctx)).get_data(as_text=True) \
        .split('id="progress-heading"')[1].split("</section>")[0]
    assert "Zbieranie uwag: 1 zgłoszenie, 2 uwagi" in way and "rejestr zgłoszeń</a>" in way


def test_the_last_step_is_done_once_documents_recorded_the_hand_over(ctx, client):
    from services.intake import handlers

    opened = handlers.open_consultation(ctx, announcement(opens_at=datetime.now(UTC) - timedelta(days=1)), actor="k")
    deliver(ctx, "council.handover_recorded", {
        "consultation_id": opened.id, "handed_over_on": "2024-12-04", "letter_reference": "", "print_number": "",
        "revision": 1, "recorded_by": "k@um.example.pl", "recorded_at": datetime.now(UTC)}, "documents")
    way = client.get(f"{BASE}/{opened.id}?lang=pl", headers=staff(ctx)).get_data(as_text=True) \
        .split('id="progress-heading"')[1].split("</section>")[0]
    council = way.split("Przekazanie Radzie Miasta")[0].rsplit("<li", 1)[1]
    assert 'class="done"' in council and "przekazano 4 grudnia 2024 r." in way
    listing = client.get(f"{BASE}?lang=pl", headers=staff(ctx)).get_data(as_text=True)
    row = listing.split(f"/{opened.id}\"")[1].split("</tr>")[0]
    assert "przekazano 4 grudnia 2024 r." in row
