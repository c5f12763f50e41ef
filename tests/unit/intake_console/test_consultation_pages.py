"""The consultation pages of the staff console, driven like a browser with a bearer token."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from lxml import html as lxml_html

from services.common.ui import local_date
from services.intake import domain, handlers
from tests.unit.intake_console.support import WARSAW, announcement, now, published, staff

BASE = "/intake/staff/consultations"


def text(response) -> str:
    return response.get_data(as_text=True)


def form_for_new(**overrides) -> dict:
    today = now().astimezone(WARSAW).date()
    data = {
        "title": "Wspólnie o programie współpracy z NGO na 2025 r.", "stage": "II etap",
        "organiser": "Wydział Komunikacji Społecznej i Informacji Urzędu Miasta Torunia",
        "description": "Rozpoczynamy II etap konsultacji.", "legal_basis": "art. 5a ust. 1 ustawy",
        "resolution": "uchwała Rady Miasta Torunia", "opens_on": today.isoformat(), "opens_time": "00:00",
        "closes_on": (today + timedelta(days=14)).isoformat(), "closes_time": "",
        "channels": ["web", "email", "letter", "duty_hours"], "topics": "Procedury konkursowe\nSport\n",
        "contact_email": "konsultacje@um.torun.pl", "contact_phone": "56 611 87 24",
        "postal_address": "ul. Wały gen. Sikorskiego 8\n87-100 Toruń",
        "day-0-date": (today + timedelta(days=3)).isoformat(), "day-0-starts": "09:00", "day-0-ends": "17:00",
        "day-0-place": "Urząd Miasta Torunia, II piętro", "day-0-room": "sala nr 34", "day-0-slot_minutes": "20",
        "day-0-booking_date": (today + timedelta(days=2)).isoformat(), "day-0-booking_time": "15:30",
        "day-1-date": "", "day-1-place": "", "day-1-starts": "09:00", "day-1-ends": "17:00",
        "late_policy": "flag", "decisions_need_approval": "yes", "outcome_notice": "at_publication",
        "action": "save",
    }
    data.update(overrides)
    return data


def test_the_list_shows_every_consultation_with_its_state(ctx, client):
    draft = handlers.create_consultation(ctx, announcement(), actor="k")
    response = client.get(BASE, headers=staff(ctx, "reviewer"))
    body = text(response)
    assert response.status_code == 200 and '<html lang="pl">' in body
    assert draft.title in body and "szkic" in body and f'href="{BASE}/{draft.id}"' in body
    assert "Nowa konsultacja" not in body  # a reviewer does not create consultations
    assert "Nowa konsultacja" in text(client.get(BASE, headers=staff(ctx)))
    assert "Consultations" in text(client.get(BASE + "?lang=en", headers=staff(ctx)))
    # the language switch of a staff page leads to the same page, as on the other services' pages
    assert f'href="{BASE}/{draft.id}?lang=pl" hreflang="pl"' in text(client.get(f"{BASE}/{draft.id}", headers=staff(ctx)))


def test_a_coordinator_creates_a_draft_with_every_field(ctx, client):
    page = text(client.get(BASE + "/new", headers=staff(ctx)))
    assert 'name="csrf_token"' in page and "<legend>Dni dyżurów</legend>" in page
    ids = re.findall(r'<(?:input|textarea|select) [^>]*id="([^"]+)"', page)
    for control_id in ids:
        assert f'for="{control_id}"' in page, control_id  # every control has a label
    response = client.post(BASE + "/new", data=form_for_new(), headers=staff(ctx))
    assert response.status_code == 303
    consultation_id = response.headers["Location"].rsplit("/", 1)[-1]
    created = handlers.get_consultation(ctx, consultation_id, include_drafts=True)
    assert created.state == "draft" and created.organiser.startswith("Wydział Komunikacji")
    assert created.topics == ["Procedury konkursowe", "Sport"] and created.contact_phone == "56 611 87 24"
    assert created.closes_at.astimezone(WARSAW).hour == 23
    [day] = created.duty_days
    assert (day["room"], day["slot_minutes"], day["starts"]) == ("sala nr 34", 20, "09:00")
    assert created.created_by == "coordinator@um.torun.pl"
    detail = text(client.get(response.headers["Location"], headers=staff(ctx)))
    assert created.title in detail and "sala nr 34" in detail and "87-100 Toruń" in detail
    assert "Otwórz konsultację" in detail and f"/documents/drafts/new?consultation={consultation_id}" in detail
    assert '<span class="nowrap">9:00–17:00</span>' in detail  # hours in the Polish form, as on the public page
    assert "Publiczna strona konsultacji" not in detail  # a draft has no public page yet


def test_errors_are_summarised_and_what_was_typed_is_kept(ctx, client):
    response = client.post(BASE + "/new", headers=staff(ctx), data=form_for_new(
        title="", contact_email="nie-adres", **{"day-0-ends": "08:00", "day-0-booking_time": "25:99"}))
    body = text(response)
    assert response.status_code == 422
    assert 'class="error-summary"' in body and 'href="#f-title"' in body and 'href="#f-contact_email"' in body
    assert '<a href="#f-title">Tytuł: To pole jest wymagane.</a>' in body  # named by the field's label
    assert '<a href="#f-day-0-booking_time">Dyżur 1: ' in body
    assert 'href="#f-day-0-booking_time"' in body and 'aria-invalid="true"' in body
    assert 'value="56 611 87 24"' in body and "sala nr 34" in body  # nothing typed is lost
    response = client.post(BASE + "/new", headers=staff(ctx), data=form_for_new(**{"day-0-ends": "08:00"}))
    assert response.status_code == 422 and 'href="#f-day-0-ends"' in text(response)
    assert "Dyżur musi skończyć się po jego rozpoczęciu." in text(response)


def test_add_another_duty_day_posts_back_with_one_more_row_and_saves_nothing(ctx, client):
    before = len(handlers.list_all_consultations(ctx))
    response = client.post(BASE + "/new", headers=staff(ctx), data=form_for_new(action="add_day"))
    body = text(response)
    assert response.status_code == 200
    assert 'id="f-day-2-date"' in body and "autofocus" in body and "sala nr 34" in body
    assert len(handlers.list_all_consultations(ctx)) == before


def test_the_coordinator_opens_closes_early_with_a_reason_and_starts_the_review(ctx, client):
    draft = handlers.create_consultation(ctx, announcement(), actor="k")
    url = f"{BASE}/{draft.id}"
    response = client.post(url + "/step", data={"step": "open"}, headers=staff(ctx))
    assert response.status_code == 303 and handlers.get_consultation(ctx, draft.id).state == "open"
    assert published(ctx, draft.id)[-1]["state"] == "open"
    page = text(client.get(url, headers=staff(ctx)))
    assert f'<a href="/intake/c/{draft.id}">Publiczna strona konsultacji</a>' in page
    assert 'name="reason"' in page and "Zamknij konsultację" in page
    client.post(url + "/step", data={"step": "close", "reason": ""}, headers=staff(ctx))
    assert handlers.get_consultation(ctx, draft.id).state == "open"
    assert "wymaga podania powodu" in text(client.get(url, headers=staff(ctx)))
    client.post(url + "/step", data={"step": "close", "reason": "Projekt wycofany"}, headers=staff(ctx))
    client.post(url + "/step", data={"step": "start_review"}, headers=staff(ctx))
    page = text(client.get(url, headers=staff(ctx)))
    assert handlers.get_consultation(ctx, draft.id).state == "in_review"
    assert "Projekt wycofany" in page and "w trakcie rozpatrywania" in page
    assert page.count("<tr>") >= 5  # the history: created, opened, closed, review started


def test_unknown_or_forbidden_steps_change_nothing(ctx, client):
    draft = handlers.create_consultation(ctx, announcement(), actor="k")
    client.post(f"{BASE}/{draft.id}/step", data={"step": "publish_report"}, headers=staff(ctx))
    client.post(f"{BASE}/{draft.id}/step", data={"step": "close", "reason": "x"}, headers=staff(ctx))
    assert handlers.get_consultation(ctx, draft.id, include_drafts=True).state == "draft"


def test_editing_an_open_consultation_shows_what_is_frozen_and_refuses_shortening(ctx, client):
    consultation = handlers.create_consultation(ctx, announcement(draft=False), actor="k")
    url = f"{BASE}/{consultation.id}/edit"
    page = text(client.get(url, headers=staff(ctx)))
    assert 'name="late_policy"' not in page and 'name="opens_on"' not in page  # frozen once open and started
    assert "Można go tylko przedłużyć" in page
    form = {k: v for k, v in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page)}
    assert form["title"] == consultation.title
    data = form_for_new(title=consultation.title, closes_on=(consultation.closes_at - timedelta(days=2))
                        .astimezone(WARSAW).date().isoformat(), topics="Procedury konkursowe\nZawartość programu współpracy")
    for i, day in enumerate(consultation.duty_days):
        data.update({f"day-{i}-{k}": str(day[k]) for k in ("date", "starts", "ends", "place", "room", "slot_minutes")})
        data[f"day-{i}-booking_date"], data[f"day-{i}-booking_time"] = day["booking_deadline"][:10], day[
            "booking_deadline"][11:16]
    data.pop("day-1-place"), data.pop("day-1-date")
    data["day-1-date"] = consultation.duty_days[1]["date"]
    data["day-1-place"] = consultation.duty_days[1]["place"]
    response = client.post(url, data=data, headers=staff(ctx))
    assert response.status_code == 422 and 'href="#f-closes_on"' in text(response)
    data["closes_on"] = (consultation.closes_at + timedelta(days=7)).astimezone(WARSAW).date().isoformat()
    data["contact_phone"] = "56 611 00 00"
    response = client.post(url, data=data, headers=staff(ctx))
    assert response.status_code == 303, text(response)
    edited = handlers.get_consultation(ctx, consultation.id)
    assert edited.contact_phone == "56 611 00 00" and edited.closes_at > consultation.closes_at
    assert edited.late_policy == "flag" and published(ctx, consultation.id)[-1]["revision"] == 2


def test_reviewers_cannot_reach_the_coordinators_pages(ctx, client):
    draft = handlers.create_consultation(ctx, announcement(), actor="k")
    reviewer = staff(ctx, "reviewer")
    assert client.get(f"{BASE}/{draft.id}", headers=reviewer).status_code == 200
    for method, path in (("get", "/new"), ("post", "/new"), ("get", f"/{draft.id}/edit"), ("post", f"/{draft.id}/step")):
        assert getattr(client, method)(BASE + path, headers=reviewer).status_code == 403, path
    assert client.get(BASE).status_code in (302, 401)


def test_an_unknown_consultation_is_a_404_page(ctx, client):
    response = client.get(f"{BASE}/nope", headers=staff(ctx))
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_with_the_session_cookie_every_form_needs_its_csrf_token(ctx, app):
    from services.common.auth import SESSION_KEY, StaffIdentity, session_claims

    client = app.test_client()
    with client.session_transaction() as session:
        session[SESSION_KEY] = session_claims(StaffIdentity("u-1", "koordynator@um.torun.pl", "coordinator"))
    draft = handlers.create_consultation(ctx, announcement(), actor="k")
    page = text(client.get(f"{BASE}/{draft.id}"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"{BASE}/{draft.id}/step", data={"step": "open"}).status_code == 400
    assert handlers.get_consultation(ctx, draft.id, include_drafts=True).state == "draft"
    assert client.post(f"{BASE}/{draft.id}/step", data={"step": "open", "csrf_token": token}).status_code == 303
    assert handlers.get_consultation(ctx, draft.id).state == "open"
    new_form = text(client.get(f"{BASE}/new"))
    edit_form = text(client.get(f"{BASE}/{draft.id}/edit"))
    for page in (new_form, edit_form):
        assert page.count('name="csrf_token"') == page.count("<form")


def test_the_public_page_shows_the_new_fields_of_the_announcement(ctx, client):
    consultation = handlers.create_consultation(ctx, announcement(draft=False), actor="k")
    body = text(client.get(f"/intake/c/{consultation.id}"))
    for needle in ("Wydział Komunikacji Społecznej i Informacji Urzędu Miasta Torunia", "sala nr 34",
                   'href="tel:566118724"', "87-100 Toruń", "Podstawa prawna", "art. 5a ust. 1"):
        assert needle in body, needle
    draft = handlers.create_consultation(ctx, announcement(), actor="k")
    assert client.get(f"/intake/c/{draft.id}").status_code == 404


def test_a_coordinator_starts_next_years_consultation_from_this_one(ctx, client):
    source = handlers.create_consultation(ctx, announcement(), actor="k")  # opened yesterday
    detail = text(client.get(f"{BASE}/{source.id}", headers=staff(ctx)))
    assert f'href="{BASE}/new?from={source.id}"' in detail and "Nowa konsultacja na wzór tej" in detail
    response = client.get(f"{BASE}/new?from={source.id}", headers=staff(ctx))
    page = text(response)
    assert response.status_code == 200
    assert f"Formularz wypełniono danymi konsultacji „{source.title}”" in page
    assert "przesunięto o 52 tyg., na ten sam dzień tygodnia rok później" in page
    next_title = source.title.replace("na 2025 r.", "na 2026 r.")
    first_day = date.fromisoformat(source.duty_days[0]["date"]) + timedelta(weeks=52)
    assert f'value="{next_title}"' in page and f'value="{first_day.isoformat()}"' in page
    assert 'value="56 611 87 24"' in page and "sala nr 34" in page and "Procedury konkursowe" in page
    # What the coordinator sees is what is saved: the page's own form, posted back.
    [form] = [f for f in lxml_html.fromstring(page).forms if "title" in f.fields]
    posted = {}
    for name, value in form.form_values():
        posted.setdefault(name, []).append(value)
    posted["action"] = ["save"]
    response = client.post(f"{BASE}/new", data=posted, headers=staff(ctx))
    assert response.status_code == 303, text(response)
    created = handlers.get_consultation(ctx, response.headers["Location"].rsplit("/", 1)[-1], include_drafts=True)
    assert created.id != source.id and created.state == "draft" and created.title == next_title
    assert created.topics == source.topics and created.postal_address == source.postal_address
    assert [d["date"] for d in created.duty_days] == [
        (date.fromisoformat(d["date"]) + timedelta(weeks=52)).isoformat() for d in source.duty_days]
    assert created.opens_at.astimezone(WARSAW).date() == source.opens_at.astimezone(WARSAW).date() + timedelta(weeks=52)
    assert handlers.get_consultation(ctx, source.id, include_drafts=True).title == source.title  # untouched


def test_a_copy_is_for_coordinators_of_a_consultation_that_exists(ctx, client):
    source = handlers.create_consultation(ctx, announcement(), actor="k")
    assert client.get(f"{BASE}/new?from={source.id}", headers=staff(ctx, "reviewer")).status_code == 403
    response = client.get(f"{BASE}/new?from=nope", headers=staff(ctx))
    assert response.status_code == 404 and response.mimetype == "text/html"
    reviewer_view = text(client.get(f"{BASE}/{source.id}", headers=staff(ctx, "reviewer")))
    assert "na wzór tej" not in reviewer_view


def test_the_console_warns_of_a_duty_day_and_a_deadline_when_the_office_is_shut(ctx, client):
    today = now().astimezone(WARSAW).date()
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    sunday = saturday + timedelta(days=1)
    draft = handlers.create_consultation(ctx, announcement(
        closes_at=domain.end_of_day(sunday + timedelta(weeks=1), WARSAW),
        duty_days=(domain.DutyDay(saturday, time(10), time(14), "Centrum Organizacji Pozarządowych",
                                  datetime.combine(today, time(23), WARSAW)),)), actor="k")
    body = text(client.get(f"{BASE}/{draft.id}", headers=staff(ctx)))
    assert "Przed otwarciem proszę sprawdzić" in body
    assert f"Dyżur {local_date(saturday)} wypada w weekend lub w dzień ustawowo wolny od pracy" in body
    assert f"Termin zgłaszania uwag, {local_date(sunday + timedelta(weeks=1))}, wypada w weekend" in body
