"""The JSON API of consultations: create (now or as a draft), edit, lifecycle steps, the staff views and log."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.unit.intake_console.support import WARSAW, now, published, staff


def body(**overrides):
    data = {
        "title": "Wspólnie o programie współpracy z NGO na 2025 r.", "stage": "II etap",
        "organiser": "Wydział Komunikacji Społecznej i Informacji Urzędu Miasta Torunia",
        "legal_basis": "art. 5a ust. 1 ustawy o działalności pożytku publicznego i o wolontariacie",
        "resolution": "uchwała Rady Miasta Torunia w sprawie konsultacji",
        "opens_at": (now() - timedelta(days=1)).isoformat(), "deadline": (now() + timedelta(days=20)).date().isoformat(),
        "channels": ["web", "email", "letter", "duty_hours"], "topics": ["Procedury konkursowe"],
        "contact_email": "konsultacje@um.torun.pl", "contact_phone": "56 611 87 24",
        "postal_address": "ul. Wały gen. Sikorskiego 8, 87-100 Toruń",
        "duty_days": [{"date": (now() + timedelta(days=5)).date().isoformat(), "starts": "09:00", "ends": "17:00",
                       "place": "Urząd Miasta Torunia", "room": "sala nr 34", "slot_minutes": 20,
                       "booking_deadline": (now() + timedelta(days=4)).isoformat()}],
        "late_policy": "flag", "decisions_need_approval": True, "outcome_notice": "at_publication", "draft": True,
    }
    data.update(overrides)
    return data


def test_a_coordinator_creates_a_draft_with_every_field_and_opens_it(ctx, client):
    response = client.post("/intake/api/v1/consultations", json=body(), headers=staff(ctx))
    assert response.status_code == 201, response.json
    created = response.json
    assert created["state"] == "draft" and created["is_open"] is False
    assert created["duty_days"][0]["room"] == "sala nr 34" and created["duty_days"][0]["slot_minutes"] == 20
    assert created["postal_address"].endswith("Toruń") and created["outcome_notice"] == "at_publication"
    closes_at = datetime.fromisoformat(created["closes_at"]).astimezone(WARSAW)
    assert closes_at.date().isoformat() == body()["deadline"] and (closes_at.hour, closes_at.minute) == (23, 59)
    assert client.get(f"/intake/api/v1/consultations/{created['id']}").status_code == 404  # not public yet
    assert client.get(f"/intake/api/v1/staff/consultations/{created['id']}", headers=staff(ctx, "reviewer")).json[
        "state"] == "draft"
    response = client.post(f"/intake/api/v1/consultations/{created['id']}/open", headers=staff(ctx))
    assert response.status_code == 200 and response.json["state"] == "open" and response.json["is_open"] is True
    assert client.get(f"/intake/api/v1/consultations/{created['id']}").status_code == 200
    assert published(ctx, created["id"])[0]["organiser"].startswith("Wydział")


def test_without_draft_the_create_endpoint_opens_at_once_as_before(ctx, client):
    response = client.post("/intake/api/v1/consultations", headers=staff(ctx), json={
        "title": "Program", "opens_at": now().isoformat(), "closes_at": (now() + timedelta(days=1)).isoformat()})
    assert response.status_code == 201 and response.json["state"] == "open"
    assert response.json["decisions_need_approval"] is True


def test_edit_changes_only_what_is_given(ctx, client):
    created = client.post("/intake/api/v1/consultations", json=body(draft=False), headers=staff(ctx)).json
    later = (now() + timedelta(days=30)).date().isoformat()
    response = client.patch(f"/intake/api/v1/consultations/{created['id']}", headers=staff(ctx),
                            json={"deadline": later, "topics": ["Procedury konkursowe", "Sport"]})
    assert response.status_code == 200, response.json
    assert response.json["topics"] == ["Procedury konkursowe", "Sport"] and response.json["title"] == created["title"]
    log = client.get(f"/intake/api/v1/staff/consultations/{created['id']}/log", headers=staff(ctx, "reviewer")).json
    assert [entry["action"] for entry in log] == ["created", "open", "edited"]
    assert set(log[-1]["changes"]) == {"closes_at", "topics"} and log[-1]["actor"] == "coordinator@um.torun.pl"


def test_edits_the_state_forbids_are_422_with_the_fields(ctx, client):
    created = client.post("/intake/api/v1/consultations", json=body(draft=False), headers=staff(ctx)).json
    response = client.patch(f"/intake/api/v1/consultations/{created['id']}", headers=staff(ctx),
                            json={"channels": ["web"], "late_policy": "refuse"})
    assert response.status_code == 422
    assert response.json["errors"] == {"channels": "cannot_remove", "late_policy": "frozen"}


def test_bad_input_is_a_clear_4xx(ctx, client):
    assert client.patch("/intake/api/v1/consultations/nope", headers=staff(ctx), json={"title": "Abc"}).status_code == 404
    created = client.post("/intake/api/v1/consultations", json=body(), headers=staff(ctx)).json
    response = client.patch(f"/intake/api/v1/consultations/{created['id']}", headers=staff(ctx),
                            json={"outcome_notice": "never", "state": "open"})
    assert response.status_code == 422 and {"outcome_notice", "state"} <= set(response.json["errors"]["json"])
    response = client.post("/intake/api/v1/consultations", headers=staff(ctx), json=body(duty_days=[{
        "date": "2099-10-08", "starts": "17:00", "ends": "09:00", "place": "sala", "booking_deadline":
        "2099-10-07T15:30:00+02:00"}]))
    assert response.status_code == 422 and response.json["errors"] == {"duty_days.0.ends": "ends_before_start"}


def test_lifecycle_steps_are_guarded(ctx, client):
    created = client.post("/intake/api/v1/consultations", json=body(draft=False), headers=staff(ctx)).json
    path = f"/intake/api/v1/consultations/{created['id']}"
    response = client.post(f"{path}/start-review", headers=staff(ctx))
    assert response.status_code == 409 and response.json["error"] == "not_allowed"
    response = client.post(f"{path}/close", headers=staff(ctx), json={})
    assert response.status_code == 409 and response.json["error"] == "reason_required"
    response = client.post(f"{path}/close", headers=staff(ctx), json={"reason": "Projekt wycofany"})
    assert response.status_code == 200 and response.json["state"] == "closed"
    response = client.post(f"{path}/start-review", headers=staff(ctx))
    assert response.status_code == 200 and response.json["state"] == "in_review"


def test_reviewers_read_but_only_coordinators_change(ctx, client):
    created = client.post("/intake/api/v1/consultations", json=body(), headers=staff(ctx)).json
    reviewer = staff(ctx, "reviewer")
    assert client.post("/intake/api/v1/consultations", json=body(), headers=reviewer).status_code == 403
    assert client.patch(f"/intake/api/v1/consultations/{created['id']}", json={}, headers=reviewer).status_code == 403
    assert client.post(f"/intake/api/v1/consultations/{created['id']}/open", headers=reviewer).status_code == 403
    listed = client.get("/intake/api/v1/staff/consultations", headers=reviewer)
    assert listed.status_code == 200 and created["id"] in {c["id"] for c in listed.json}
    assert client.get("/intake/api/v1/staff/consultations").status_code == 401
