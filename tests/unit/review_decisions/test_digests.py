"""The morning digest of the work waiting for each staff user: what it lists (pure), and the sweep that sends it once
a working day."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from services.common.events import parse_envelope
from services.review import identity
from services.review.digests import ConsultationFacts, Tally, digest_lines, send_digests
from services.review.models import Outbox, ReviewComment, StaffDigest
from tests.unit.review_decisions.support import publish_consultation, submit

BASE = "https://konsultacje.torun.pl"
ME = "anna.recenzentka@um.torun.pl"
OPEN = ConsultationFacts("k-open", "Program współpracy na 2026 r.", closed=False)
DONE = ConsultationFacts("k-done", "Budżet obywatelski 2026", closed=True)
CONSULTATIONS = {c.id: c for c in (OPEN, DONE)}
WARSAW = ZoneInfo("Europe/Warsaw")


def tally(consultation: ConsultationFacts, count: int, *, assignee: str | None = None, decided_by: str | None = None,
          status: str = "new", approval_state: str | None = None, placeholder: bool = False) -> Tally:
    return Tally(consultation.id, assignee, decided_by, status, approval_state, placeholder, count)


def kinds(lines) -> list[tuple[str, str, int]]:
    return [(line.consultation_id, line.kind, line.count) for line in lines]


def test_a_reviewer_sees_their_own_work_only():
    tallies = [tally(OPEN, 3, assignee=ME), tally(OPEN, 2, assignee="Anna.Recenzentka@UM.torun.pl"),
               tally(OPEN, 5, assignee="inny@um.torun.pl"), tally(OPEN, 4),  # someone else's, nobody's
               tally(OPEN, 1, assignee=ME, decided_by=ME, status="decided", approval_state="returned"),
               tally(OPEN, 6, assignee=ME, decided_by=ME, status="decided", approval_state="proposed"),  # with the coordinator
               tally(OPEN, 7, assignee=ME, decided_by=ME, status="decided", approval_state="approved"),
               tally(OPEN, 2, assignee=ME, placeholder=True)]  # e-mails not transcribed yet: nothing to decide
    lines = digest_lines(ME, "reviewer", CONSULTATIONS, tallies, BASE)
    assert kinds(lines) == [("k-open", "assigned", 5), ("k-open", "returned", 1)]
    query = parse_qs(urlsplit(lines[0].url).query)
    assert lines[0].url.startswith(f"{BASE}/review/queue?")
    assert query == {"consultation": ["k-open"], "assignee": [ME], "status": ["new"]}
    assert lines[1].url == f"{BASE}/review/approvals?consultation=k-open&state=returned"


def test_a_coordinator_also_sees_approvals_comments_nobody_took_and_reviews_ready_to_complete():
    tallies = [tally(OPEN, 4), tally(OPEN, 6, decided_by="r@um.torun.pl", status="decided", approval_state="proposed"),
               tally(DONE, 9, assignee="r@um.torun.pl", decided_by="r@um.torun.pl", status="decided",
                     approval_state="approved"),
               tally(DONE, 1, decided_by=ME, status="decided"),  # decided where no approval is needed
               tally(OPEN, 2, placeholder=True)]  # two e-mails waiting for their transcription
    lines = digest_lines(ME, "coordinator", CONSULTATIONS, tallies, BASE)
    assert kinds(lines) == [("k-done", "complete", 10), ("k-open", "transcription", 2), ("k-open", "approvals", 6),
                            ("k-open", "unassigned", 4)]
    assert lines[0].url == f"{BASE}/review/?consultation=k-done"
    assert lines[1].url == f"{BASE}/intake/staff/mails?consultation=k-open"
    assert lines[3].url == f"{BASE}/review/queue?consultation=k-open&assignee=none&status=new"
    # A reviewer is told none of that.
    assert digest_lines("r@um.torun.pl", "reviewer", CONSULTATIONS, tallies, BASE) == []


def test_a_review_is_ready_to_complete_only_when_closed_and_nothing_waits():
    decided = tally(DONE, 3, decided_by="r@um.torun.pl", status="decided", approval_state="approved")
    for blocking in (tally(DONE, 1), tally(DONE, 1, status="decided", approval_state="proposed"),
                     tally(DONE, 1, status="decided", approval_state="returned"), tally(DONE, 1, placeholder=True)):
        assert "complete" not in [line.kind for line in digest_lines(ME, "admin", CONSULTATIONS, [decided, blocking],
                                                                      BASE)], blocking
    still_open = tally(OPEN, 3, status="decided", approval_state="approved")
    assert digest_lines(ME, "coordinator", CONSULTATIONS, [still_open], BASE) == []  # comments may still come
    assert digest_lines(ME, "coordinator", CONSULTATIONS, [], BASE) == []  # nobody commented: nothing to report


def test_comments_of_a_consultation_no_longer_under_review_are_left_out():
    assert digest_lines(ME, "coordinator", {"k-open": OPEN}, [tally(DONE, 5)], BASE) == []


# --- the sweep ---------------------------------------------------------------------------------------------


@pytest.fixture
def at_seven(ctx):
    """The review service as docker-compose.yml runs it: UWAGI_STAFF_DIGEST_HOUR=7."""
    ctx.settings = replace(ctx.settings, staff_digest_hour=7)
    return ctx


def monday_at(hour: int) -> datetime:
    return datetime(2026, 11, 30, hour, 5, tzinfo=WARSAW).astimezone(timezone.utc)  # Monday 30 November 2026


def digests_sent(ctx) -> list[dict]:
    with ctx.db.transaction() as session:
        return [parse_envelope(row.envelope).data for row in session.scalars(
            select(Outbox).where(Outbox.event_type == "staff.digest").order_by(Outbox.id))]


def test_the_sweep_sends_each_active_user_their_digest_once_a_working_day(at_seven):
    ctx = at_seven
    consultation_id = publish_consultation(ctx, title="Program współpracy 2026")
    ids = submit(ctx, consultation_id, ["§ 1", "§ 2", "§ 3"])
    reviewer, _ = identity.create_staff_user(ctx, "recenzent@um.torun.pl", "reviewer", "Jan Recenzent",
                                             password="długie hasło recenzenta")
    coordinator, _ = identity.create_staff_user(ctx, "koordynator@um.torun.pl", "coordinator", "Ewa Koordynator",
                                                password="długie hasło koordynatora")
    identity.create_staff_user(ctx, "zaproszony@um.torun.pl", "coordinator")  # invited, no password yet
    away, _ = identity.create_staff_user(ctx, "urlop@um.torun.pl", "coordinator", password="długie hasło urlopowe")
    identity.set_mail_preferences(ctx, away.id, digest=False, language="pl")
    identity.set_mail_preferences(ctx, coordinator.id, digest=True, language="en")
    with ctx.db.transaction() as session:
        session.execute(update(ReviewComment).where(ReviewComment.id.in_(ids[:2]))
                        .values(assignee="recenzent@um.torun.pl"))

    assert send_digests(ctx, now=monday_at(6)) == 0  # before 7:00
    assert send_digests(ctx, now=datetime(2026, 11, 29, 9, tzinfo=WARSAW)) == 0  # a Sunday
    assert send_digests(ctx, now=monday_at(7)) == 2
    sent = {d["email"]: d for d in digests_sent(ctx)}
    assert set(sent) == {"recenzent@um.torun.pl", "koordynator@um.torun.pl"}
    mine = sent["recenzent@um.torun.pl"]
    assert (mine["user_id"], mine["name"], mine["day"].isoformat()) == (reviewer.id, "Jan Recenzent", "2026-11-30")
    assert [(line["kind"], line["count"]) for line in mine["lines"]] == [("assigned", 2)]
    assert mine["lines"][0]["title"] == "Program współpracy 2026"
    assert mine["console_url"].endswith("/review/") and mine["settings_url"].endswith("/review/account")
    assert [(line["kind"], line["count"]) for line in sent["koordynator@um.torun.pl"]["lines"]] == [("unassigned", 1)]
    assert (mine["language"], sent["koordynator@um.torun.pl"]["language"]) == ("pl", "en")  # each in their own

    # Later rounds of the same day, or a second worker, send nothing again.
    assert send_digests(ctx, now=monday_at(7)) == 0 and send_digests(ctx, now=monday_at(15)) == 0
    assert len(digests_sent(ctx)) == 2
    with ctx.db.transaction() as session:
        rows = {row.user_id: row.lines for row in session.scalars(select(StaffDigest))}
    assert rows == {reviewer.id: 1, coordinator.id: 1}  # the invited and the one who opted out are not looked at

    # The next working day, with nothing waiting for the reviewer, only the coordinator hears.
    with ctx.db.transaction() as session:
        session.execute(update(ReviewComment).values(assignee="koordynator@um.torun.pl"))
    assert send_digests(ctx, now=datetime(2026, 12, 1, 8, tzinfo=WARSAW)) == 1
    assert digests_sent(ctx)[-1]["email"] == "koordynator@um.torun.pl"
    with ctx.db.transaction() as session:
        assert session.get(StaffDigest, (reviewer.id, datetime(2026, 12, 1).date())).lines == 0


def test_no_digest_on_a_public_holiday(at_seven):
    ctx = at_seven
    identity.create_staff_user(ctx, "koordynator@um.torun.pl", "coordinator", password="długie hasło koordynatora")
    consultation_id = publish_consultation(ctx)
    submit(ctx, consultation_id, ["§ 1"])
    assert send_digests(ctx, now=datetime(2026, 11, 11, 9, tzinfo=WARSAW)) == 0  # Independence Day, a Wednesday
    assert send_digests(ctx, now=datetime(2026, 11, 12, 9, tzinfo=WARSAW)) == 1


def test_each_user_turns_the_digest_off_and_on_on_their_own_page(ctx, client):
    user, token = identity.create_staff_user(ctx, "recenzent@um.torun.pl", "reviewer", "Jan Recenzent",
                                             password="długie hasło recenzenta")
    headers = {"Authorization": f"Bearer {token}"}
    page = client.get("/review/account?lang=pl", headers=headers).get_data(as_text=True)
    assert "<h1>Moje konto</h1>" in page and "recenzent@um.torun.pl" in page
    assert 'name="digest" value="yes" checked' in page
    off = client.post("/review/account", data={}, headers=headers, follow_redirects=True)
    assert "Poranne podsumowanie nie będzie wysyłane." in off.get_data(as_text=True)
    assert identity.get_user(ctx, user.id).digest is False
    assert 'name="digest" value="yes" aria' in off.get_data(as_text=True)  # unchecked
    admin = {"Authorization": f"Bearer {identity.create_staff_user(ctx, 'admin@um.torun.pl', 'admin')[1]}"}
    users = client.get("/review/admin/users?lang=pl", headers=admin).get_data(as_text=True)
    assert "bez porannego podsumowania" in users.split("recenzent@um.torun.pl")[1].split("</tr>")[0]
    client.post("/review/account", data={"digest": "yes", "language": "en"}, headers=headers)
    assert (identity.get_user(ctx, user.id).digest, identity.get_user(ctx, user.id).language) == (True, "en")
    client.post("/review/account", data={"digest": "yes", "language": "xx"}, headers=headers)  # a forged value
    assert identity.get_user(ctx, user.id).language == "en"
    assert "bez porannego podsumowania" not in client.get("/review/admin/users", headers=admin).get_data(as_text=True)
    # A token of no account (a service's) has nothing to set; anonymous visitors go to the login page.
    service = {"Authorization": f"Bearer {ctx.signer.issue('svc', 'svc@um.torun.pl', 'reviewer')}"}
    assert client.get("/review/account", headers=service).status_code == 404
    assert client.get("/review/account").status_code == 302


def test_without_the_setting_no_digest_is_ever_sent(ctx):
    identity.create_staff_user(ctx, "koordynator@um.torun.pl", "coordinator", password="długie hasło koordynatora")
    submit(ctx, publish_consultation(ctx), ["§ 1"])
    assert ctx.settings.staff_digest_hour is None and send_digests(ctx, now=monday_at(9)) == 0
    with ctx.db.transaction() as session:
        assert session.scalar(select(StaffDigest)) is None
