"""Dead letters retried and discarded by the admin, against the real RabbitMQ."""

from __future__ import annotations

import json
import uuid

import pytest
from kombu import Connection

from services.common.admin_events import DISCARD, RETRY, letter_key, list_dead_letters, settle_dead_letter
from services.common.bus import DEAD_EXCHANGE, REASON_HEADER, BrokerPublisher, dead_queue, events_queue
from services.common.web import Conflict, NotFound

pytestmark = [pytest.mark.rabbitmq]


def envelope(kind: str) -> dict:
    return {"id": str(uuid.uuid4()), "type": "comment.decided", "version": 1, "occurred_at": "2024-10-22T10:00:00+00:00",
            "producer": "review", "data": {"kind": kind}}


def test_a_dead_letter_is_retried_into_its_own_services_queue_and_another_discarded(rabbit):
    service = f"svc{uuid.uuid4().hex[:8]}"
    url = rabbit.url()
    with Connection(url) as conn:
        events_queue(service, ["comment.decided"]).bind(conn.default_channel).declare()
        dead_queue(service).bind(conn.default_channel).declare()
    first, second = envelope("first"), envelope("second")
    publisher = BrokerPublisher(url)
    for letter in (first, second):
        publisher.publish_batch([letter], exchange=DEAD_EXCHANGE, routing_key=f"{service}.events",
                                headers={REASON_HEADER: f"permanent error on {letter['data']['kind']}"})
    with Connection(url) as conn:  # a body that is not JSON at all
        conn.Producer(exchange=DEAD_EXCHANGE).publish(b"\xff not json", routing_key=f"{service}.events",
                                                      headers={REASON_HEADER: "invalid message"})
    publisher.close()

    listed = list_dead_letters(url, service)
    assert [letter.envelope.get("id") for letter in listed[:2]] == [first["id"], second["id"]]
    assert [letter.retryable for letter in listed] == [True, True, False]
    assert len(list_dead_letters(url, service)) == 3  # looking takes nothing away

    retried = settle_dead_letter(url, service, letter_key(json.dumps(first, ensure_ascii=False)), RETRY)
    assert retried.envelope["id"] == first["id"]
    with Connection(url) as conn:
        back = events_queue(service, ["comment.decided"]).bind(conn.default_channel).get(no_ack=True, accept=None)
        assert json.loads(back.body)["id"] == first["id"]
        assert events_queue(service, ["comment.decided"]).bind(conn.default_channel).get(no_ack=True) is None

    unreadable = listed[2]
    with pytest.raises(Conflict):
        settle_dead_letter(url, service, unreadable.key, RETRY)
    settle_dead_letter(url, service, unreadable.key, DISCARD)
    with pytest.raises(NotFound):
        settle_dead_letter(url, service, unreadable.key, DISCARD)
    assert [letter.envelope["id"] for letter in list_dead_letters(url, service)] == [second["id"]]
    with Connection(url) as conn:
        for queue in (events_queue(service, []), dead_queue(service)):
            queue.bind(conn.default_channel).delete()
