"""No double booking under concurrency, enforced by PostgreSQL: 50 parallel requests, one slot, one 201."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import func, select
from werkzeug.serving import make_server

from services.common.db import upgrade
from services.common.settings import load_settings
from services.intake import app as intake_app
from services.intake import domain, handlers
from services.intake.models import Booking, DutySlot, Outbox

pytestmark = pytest.mark.postgres
WARSAW = ZoneInfo("Europe/Warsaw")


@pytest.fixture
def live_intake(tmp_path, postgres):
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_SECRET_KEY": "booking-race-secret-0123456789",
                              "INTAKE_DATABASE_URL": postgres.create_database("uwagi_booking"),
                              # fifty bookings from one address: the race is the point, not the rate limit
                              "UWAGI_RATE_LIMIT_CLIENT": "off"})
    upgrade("intake", settings.database_url("intake"))
    app = intake_app.create_app(ctx=intake_app.build(settings))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    thread.join(5)
    app.extensions["uwagi"].close()


def test_fifty_parallel_bookings_of_one_place_give_exactly_one_201(live_intake):
    base, app = live_intake
    ctx = app.extensions["uwagi"]
    assert ctx.db.is_postgres
    day = date.today() + timedelta(days=7)
    consultation = handlers.open_consultation(ctx, domain.OpenConsultation(
        title="Program współpracy – wyścig rezerwacji", opens_at=datetime.now(WARSAW) - timedelta(days=1),
        closes_at=domain.end_of_day(day + timedelta(days=7), WARSAW), topics=(), contact_email="k@um.example.pl",
        duty_days=(domain.DutyDay(day, time(9), time(9, 30), "Urząd Miasta, sala 34",
                                  datetime.combine(day - timedelta(days=1), time(15, 30), tzinfo=WARSAW)),),
    ), actor="test")
    slot_id = requests.get(f"{base}/intake/api/v1/consultations/{consultation.id}/slots", timeout=10).json()[0]["id"]
    barrier = threading.Barrier(50)

    def book(n: int) -> int:
        barrier.wait()  # all fifty leave the gate together
        return requests.post(f"{base}/intake/api/v1/consultations/{consultation.id}/bookings", timeout=30, json={
            "slot_id": slot_id, "name": f"Osoba {n}", "email": f"osoba{n}@example.pl"}).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = sorted(pool.map(book, range(50)))
    assert statuses.count(201) == 1, statuses
    assert statuses.count(409) == 49, statuses
    with ctx.db.transaction() as session:
        assert session.get(DutySlot, slot_id).booked == 1
        assert session.scalar(select(func.count()).select_from(Booking).where(Booking.slot_id == slot_id)) == 1
        assert session.scalar(select(func.count()).select_from(Outbox).where(Outbox.event_type == "booking.confirmed")) == 1
