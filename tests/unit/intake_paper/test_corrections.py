"""Staff correct the comments they entered (a letter, duty-hour notes, a transcribed e-mail) until a decision on
them is published: each row keeps its comment, a cleared row removes one, an added row adds one, and
`submission.corrected` carries the whole submission with a higher revision. The sender's own words are never
corrected."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import select

from services.common.web import Conflict, Invalid
from services.intake import domain
from services.intake import handlers as intake_handlers
from services.intake.models import Outbox, Submission
from services.intake.paper import handlers
from services.intake.paper.corrections import CorrectedRow, correct_submission
from tests.unit.intake_paper.support import consultation, letter
from tests.unit.intake_paper.test_paper_pages import BASE, form_of, logged_in, page_text


def events_of(ctx, event_type: str, reference: str) -> list[dict]:
    with ctx.db.transaction() as session:
        return [row.envelope["data"] for row in session.scalars(
            select(Outbox).where(Outbox.event_type == event_type).order_by(Outbox.id))
            if row.envelope["data"]["reference"] == reference]


def comments_of(ctx, reference: str) -> list[tuple]:
    with ctx.db.transaction() as session:
        submission = session.scalar(select(Submission).where(Submission.reference == reference))
        return [(c.id, c.number, c.section, c.proposal) for c in submission.comments]


TWO = (domain.CommentDraft(section="§ 5 ust. 2", proposal="Konkursy dwa razy w rku."),
       domain.CommentDraft(section="§ 9", proposal="Konkursy dwa razy w rku."))  # typed twice by mistake


def test_staff_correct_a_typo_remove_a_comment_typed_twice_and_add_one_left_out(ctx, app):
    found = consultation(ctx)
    entered = handlers.enter_paper_submission(ctx, letter(found.id, comments=TWO), actor="k@um.torun.pl")
    [(first, _n1, _s1, _p1), (twice, _n2, _s2, _p2)] = comments_of(ctx, entered.reference)
    client = logged_in(app)
    shown = page_text(client.get(f"{BASE}/{found.id}/submissions/{entered.submission_id}"))
    assert "Popraw uwagi" in shown
    html = page_text(client.get(f"{BASE}/{found.id}/submissions/{entered.submission_id}/correct"))
    assert f"Popraw uwagi zgłoszenia {entered.reference}" in unescape(html)
    hidden = form_of(html)
    assert (hidden["c-0-id"], hidden["c-1-id"], hidden["rows"]) == (first, twice, "2")
    assert "Konkursy dwa razy w rku." in html and 'value="Anna Nowak"' in html
    # a row is added by posting the form back; what was typed stays
    grown = client.post(f"{BASE}/{found.id}/submissions/{entered.submission_id}/correct", data={
        **hidden, "action": "add_row", "name": "Anna Nowak", "c-0-section": "§ 5 ust. 2",
        "c-0-proposal": "Konkursy dwa razy w roku.", "c-1-section": "", "c-1-proposal": ""})
    assert grown.status_code == 200 and form_of(page_text(grown))["rows"] == "3"
    assert form_of(page_text(grown))["c-0-id"] == first and "c-1-id" in form_of(page_text(grown))
    posted = {**form_of(page_text(grown)), "action": "save", "name": "Anna Nowak", "organization": "Fundacja Szeroka",
              "c-0-section": "§ 5 ust. 2", "c-0-proposal": "Konkursy dwa razy w roku.",
              "c-1-section": "", "c-1-proposal": "",  # cleared: the comment typed twice goes
              "c-2-section": "§ 12", "c-2-proposal": "Wkład własny 5%."}
    assert posted["revision"] == "1"
    saved = client.post(f"{BASE}/{found.id}/submissions/{entered.submission_id}/correct", data=posted)
    assert saved.status_code == 303 and saved.headers["Location"].endswith(f"/submissions/{entered.submission_id}")
    shown = unescape(page_text(client.get(saved.headers["Location"])))
    assert f"Poprawiono uwagi zgłoszenia {entered.reference}: zmienione – 1, dodane – 1, usunięte – 1." in shown
    assert "Fundacja Szeroka" in shown and "w rku" not in shown
    comments = comments_of(ctx, entered.reference)
    assert [(c[1], c[2], c[3]) for c in comments] == [(1, "§ 5 ust. 2", "Konkursy dwa razy w roku."),
                                                      (3, "§ 12", "Wkład własny 5%.")]  # numbers kept
    assert comments[0][0] == first and twice not in [c[0] for c in comments]
    [event] = events_of(ctx, "submission.corrected", entered.reference)
    assert (event["revision"], event["removed_comment_ids"]) == (2, [twice])
    assert event["transcribed_by"] == "reviewer@um.torun.pl"
    assert [c["comment_id"] for c in event["comments"]] == [c[0] for c in comments]
    assert event["submitter"]["organization"] == "Fundacja Szeroka" and event["submitter"]["kind"] == "organization"
    # the same form sent again (a double click, the back button): refused as stale, the added comment not added twice
    twice_sent = client.post(f"{BASE}/{found.id}/submissions/{entered.submission_id}/correct", data=posted)
    assert "Te uwagi poprawiono w międzyczasie" in page_text(client.get(twice_sent.headers["Location"]))
    assert len(comments_of(ctx, entered.reference)) == 2
    # saved again unchanged: nothing recorded, and the page says so
    html = page_text(client.get(f"{BASE}/{found.id}/submissions/{entered.submission_id}/correct"))
    again = client.post(f"{BASE}/{found.id}/submissions/{entered.submission_id}/correct", data={
        **form_of(html), "action": "save", "name": "Anna Nowak", "organization": "Fundacja Szeroka",
        "c-0-section": "§ 5 ust. 2", "c-0-proposal": "Konkursy dwa razy w roku.",
        "c-1-section": "§ 12", "c-1-proposal": "Wkład własny 5%."})
    assert "Niczego nie zmieniono." in page_text(client.get(again.headers["Location"]))
    assert len(events_of(ctx, "submission.corrected", entered.reference)) == 1
    # a second correction carries the next revision
    correct_submission(ctx, found.id, entered.submission_id, (
        CorrectedRow(domain.CommentDraft(section="§ 5 ust. 2", proposal="Konkursy trzy razy w roku."), first),),
        actor="k@um.torun.pl")
    assert [e["revision"] for e in events_of(ctx, "submission.corrected", entered.reference)] == [2, 3]


def test_every_row_cleared_or_an_empty_name_is_refused_with_the_rows_kept(ctx, app):
    found = consultation(ctx)
    entered = handlers.enter_paper_submission(ctx, letter(found.id), actor="k@um.torun.pl")
    client = logged_in(app)
    html = page_text(client.get(f"{BASE}/{found.id}/submissions/{entered.submission_id}/correct"))
    refused = client.post(f"{BASE}/{found.id}/submissions/{entered.submission_id}/correct", data={
        **form_of(html), "action": "save", "name": "", "c-0-section": "", "c-0-proposal": ""})
    text = unescape(page_text(refused))
    assert refused.status_code == 422 and "To pole jest wymagane." in text
    assert "Należy wpisać co najmniej jedną uwagę" in text
    assert events_of(ctx, "submission.corrected", entered.reference) == []
    # a forged row naming a comment of another submission is no correction
    other = handlers.enter_paper_submission(ctx, letter(found.id), actor="k@um.torun.pl")
    [(foreign, *_rest)] = comments_of(ctx, other.reference)
    with pytest.raises(Invalid):
        correct_submission(ctx, found.id, entered.submission_id, (
            CorrectedRow(domain.CommentDraft(section="§ 1", proposal="x"), foreign),), actor="k@um.torun.pl")
    forged = client.post(f"{BASE}/{found.id}/submissions/{entered.submission_id}/correct", data={
        **form_of(html), "c-0-id": foreign, "action": "save", "name": "Anna Nowak", "c-0-section": "§ 1",
        "c-0-proposal": "Inna."})
    assert forged.status_code == 303  # the unknown id is dropped: the row is added, the letter's comment removed
    assert [c[3] for c in comments_of(ctx, entered.reference)] == ["Inna."]
    assert [c[3] for c in comments_of(ctx, other.reference)] == ["Konkursy dwa razy w roku."]


def test_the_senders_own_words_an_untranscribed_mail_and_a_decided_submission_are_not_corrected(ctx, app):
    found = consultation(ctx)
    web = intake_handlers.submit_comments(ctx, domain.SubmitComments(
        consultation_id=found.id, submitter=domain.Submitter(name="Jan Nowak", email=None, publish_consent=False),
        comments=(domain.CommentDraft(section="§ 1", proposal="Moje słowa."),)))
    client = logged_in(app)
    shown = page_text(client.get(f"{BASE}/{found.id}/submissions/{web.submission_id}"))
    assert "Popraw uwagi" not in shown
    refused = client.get(f"{BASE}/{found.id}/submissions/{web.submission_id}/correct")
    assert refused.status_code == 303
    assert "Te uwagi to słowa samego nadawcy" in page_text(client.get(refused.headers["Location"]))
    with pytest.raises(Conflict):
        correct_submission(ctx, found.id, web.submission_id, (
            CorrectedRow(domain.CommentDraft(section="§ 1", proposal="Cudze słowa."), web.comment_ids[0]),),
            actor="k@um.torun.pl")
    entered = handlers.enter_paper_submission(ctx, letter(found.id), actor="k@um.torun.pl")
    [(comment_id, *_rest)] = comments_of(ctx, entered.reference)
    with ctx.db.transaction() as session:  # as intake's comment.decided consumer records a published decision
        session.scalar(select(Submission).where(Submission.id == entered.submission_id)).comments[0].status = "rejected"
    with pytest.raises(Conflict):
        correct_submission(ctx, found.id, entered.submission_id, (
            CorrectedRow(domain.CommentDraft(section="§ 1", proposal="Późno."), comment_id),), actor="k@um.torun.pl")
    shown = page_text(client.get(f"{BASE}/{found.id}/submissions/{entered.submission_id}"))
    assert "Popraw uwagi" not in shown
    gone = client.get(f"{BASE}/{found.id}/submissions/{entered.submission_id}/correct")
    assert "podjęto już rozstrzygnięcie" in page_text(client.get(gone.headers["Location"]))
    assert events_of(ctx, "submission.corrected", entered.reference) == []


def test_a_row_keeps_the_comment_it_names_once_and_rows_naming_another_or_a_named_one_add_comments():
    from werkzeug.datastructures import MultiDict

    from services.intake.paper.views import PaperForm

    posted = MultiDict({"rows": "4", "c-0-id": "a", "c-1-id": "a", "c-2-id": "elsewhere", "c-3-id": " b "})
    form = PaperForm.from_request("correction", posted)
    assert form.row_ids(posted, {"a", "b"}) == ["a", "", "", "b"]


def test_the_sender_is_told_of_a_correction_only_when_staff_tick_it(ctx, app):
    found = consultation(ctx)
    with_address = letter(found.id, submitter=domain.Submitter(name="Anna Nowak", email="anna@example.org",
                                                               publish_consent=False))
    entered = handlers.enter_paper_submission(ctx, with_address, actor="k@um.torun.pl")
    client = logged_in(app)
    url = f"{BASE}/{found.id}/submissions/{entered.submission_id}/correct"
    html = page_text(client.get(url))
    assert "Wyślij nadawcy poprawiony zapis uwag (na adres anna@example.org)" in html
    assert 'name="tell_sender" value="yes">' in html  # unticked: most corrections are typos the sender never saw
    base = {**form_of(html), "action": "save", "name": "Anna Nowak", "c-0-section": "§ 5 ust. 2",
            "c-0-proposal": "Konkursy dwa razy w każdym roku."}
    assert client.post(url, data=base).status_code == 303
    told = {**form_of(page_text(client.get(url))), "action": "save", "name": "Anna Nowak", "tell_sender": "yes",
            "c-0-section": "§ 5 ust. 2", "c-0-proposal": "Konkursy trzy razy w roku."}
    assert client.post(url, data=told).status_code == 303
    assert [(e["revision"], e["tell_sender"]) for e in events_of(ctx, "submission.corrected", entered.reference)] \
        == [(2, False), (3, True)]
    # Without an address there is nobody to tell: no box, and the event says so whatever was sent.
    no_address = handlers.enter_paper_submission(ctx, letter(found.id), actor="k@um.torun.pl")
    url = f"{BASE}/{found.id}/submissions/{no_address.submission_id}/correct"
    html = page_text(client.get(url))
    assert "tell_sender" not in html
    client.post(url, data={**form_of(html), "action": "save", "name": "Anna Nowak", "tell_sender": "yes",
                           "c-0-section": "§ 5", "c-0-proposal": "Inaczej."})
    assert [e["tell_sender"] for e in events_of(ctx, "submission.corrected", no_address.reference)] == [False]


def test_the_status_page_still_accounts_for_a_comment_a_correction_removed(ctx, app):
    found = consultation(ctx)
    entered = handlers.enter_paper_submission(ctx, letter(found.id, comments=TWO), actor="k@um.torun.pl")
    [(first, *_), (twice, *_)] = comments_of(ctx, entered.reference)
    correct_submission(ctx, found.id, entered.submission_id, (
        CorrectedRow(domain.CommentDraft(section="§ 5 ust. 2", proposal="Konkursy dwa razy w roku."), first),),
        actor="k@um.torun.pl")
    with ctx.db.transaction() as session:
        removed = session.scalar(select(Submission).where(Submission.reference == entered.reference)).removed_comments
    assert [(r["number"], r["section"], r["proposal"]) for r in removed] == [(2, "§ 9", "Konkursy dwa razy w rku.")]
    status = unescape(app.test_client().get(
        f"/intake/status?reference={entered.reference}&token={entered.receipt.status_token}&lang=pl").get_data(
        as_text=True))
    assert "Uwaga nr 1" in status and "<h2 id=\"removed-comments\">Usunięte z rejestru</h2>" in status
    listed = status.split('id="removed-comments"')[1].split("</section>")[0]
    assert "Uwaga nr 2 (§ 9): Konkursy dwa razy w rku. – usunięta" in listed
