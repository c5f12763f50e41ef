"""R4 of issue 9 on the real processes: the four services (gunicorn web + worker each, Celery inside the workers)
on a RabbitMQ node of the test's own, the broker killed with `kill -9` and restarted, no process restarted.

After the node accepts connections again the test submits a comment every second and measures how long until one
submitted after the restart has been taken by every hop: intake's relay (in the web process) publishes
`submission.received`, review's consumer lists the comment, notify's consumer stages the receipt and its Celery
worker sends it to the SMTP server; then a decision taken in review after the restart reaches intake's status page
(review's relay, intake's consumer). Every submission accepted before and during the outage gets exactly one
receipt.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import requests

from tests.e2e.cluster import Cluster, cluster_env, start_cluster
from tests.e2e.test_slice import open_consultation, submit
from tests.support.chaos import RabbitNode
from tests.support.infra import SmtpSink, wait_until

pytestmark = [pytest.mark.chaos, pytest.mark.rabbitmq, pytest.mark.postgres, pytest.mark.s3, pytest.mark.smtp]

RECOVERY_GOAL = 30.0
OUTAGE = float(os.environ.get("CHAOS_R4_OUTAGE", "5"))


@pytest.fixture
def cluster(node: RabbitNode, postgres, s3_server, smtp: SmtpSink, tmp_path: Path) -> Iterator[Cluster]:
    env = cluster_env(broker_url=node.url, postgres=postgres, s3_server=s3_server, smtp=smtp,
                      data_dir=tmp_path / "var", prefix="r4", UWAGI_RATE_LIMIT_CLIENT="off",
                      UWAGI_RATE_LIMIT_RECIPIENT="off")
    workdir = tmp_path / "cluster"
    workdir.mkdir()
    cluster = start_cluster(workdir, env)
    yield cluster
    cluster.stop_all()


def comment_in_review(cluster: Cluster, consultation_id: str, reference: str) -> dict | None:
    page = requests.get(cluster.api("review", "/comments"), params={"consultation": consultation_id, "limit": 200},
                        headers=cluster.staff, timeout=10).json()
    return next((c for c in page["items"] if c["reference"] == reference), None)


def intake_status(cluster: Cluster, receipt: dict) -> str:
    status = requests.get(cluster.api("intake", f"/submissions/{receipt['reference']}"),
                          params={"token": receipt["status_token"]}, timeout=10).json()
    return status["comments"][0]["status"]


def test_r4_after_a_broker_restart_every_process_consumes_and_publishes_again_within_30_s(node, cluster, smtp):
    consultation_id = open_consultation(cluster, "Restart brokera")
    accepted: dict[str, dict] = {}  # e-mail -> receipt

    def submit_one(tag: str) -> dict:
        email = f"r4-{tag}-{uuid.uuid4().hex[:8]}@example.org"
        accepted[email] = submit(cluster, consultation_id, email, f"Uwaga {tag}.")
        return accepted[email]

    first = submit_one("before")
    wait_until(lambda: smtp.to(next(iter(accepted))), timeout=60, what="the first receipt before the kill")
    # Review and notify consume the submission side by side: the receipt may arrive first.
    wait_until(lambda: comment_in_review(cluster, consultation_id, first["reference"]), timeout=30,
               what="the first comment in review before the kill")

    node.kill()
    killed_at = time.monotonic()
    for n in range(3):
        submit_one(f"outage{n}")
    time.sleep(OUTAGE)
    node.start()
    up_at = time.monotonic()

    # A submission a second after the restart, until one has made every hop.
    probes: list[tuple[str, dict]] = []
    receipt_after = review_after = None
    deadline = up_at + 120
    while time.monotonic() < deadline and (receipt_after is None or review_after is None):
        receipt = submit_one(f"after{len(probes)}")
        probes.append((next(reversed(accepted)), receipt))
        time.sleep(1)
        for email, probe in probes:
            if receipt_after is None and smtp.to(email):
                receipt_after = time.monotonic() - up_at
            if review_after is None and comment_in_review(cluster, consultation_id, probe["reference"]):
                review_after = time.monotonic() - up_at
    assert receipt_after is not None and review_after is not None, "no submission after the restart got through"

    # A decision after the restart: review's relay publishes it, intake's consumer shows it on the status page.
    comment = comment_in_review(cluster, consultation_id, first["reference"])
    decided_at = time.monotonic()
    response = requests.post(cluster.api("review", f"/comments/{comment['id']}/decision"), headers=cluster.staff,
                             json={"decision": "accepted", "justification": "Po restarcie brokera."}, timeout=10)
    assert response.status_code == 200, response.text
    wait_until(lambda: intake_status(cluster, first) == "accepted", timeout=60, interval=0.5,
               what="intake to learn of the decision taken after the restart")
    decision_after = time.monotonic() - up_at
    decision_took = time.monotonic() - decided_at

    wait_until(lambda: all(smtp.to(email) for email in accepted), timeout=120, interval=0.5,
               what="a receipt for every accepted submission")
    time.sleep(3)  # a duplicate e-mail gets every chance to arrive
    counts = {email: len(smtp.to(email)) for email in accepted}
    print(f"\nR4 (processes) figures: broker_down_s={up_at - killed_at:.1f} "
          f"receipt_of_a_new_submission_after_s={receipt_after:.1f} review_lists_it_after_s={review_after:.1f} "
          f"decision_reaches_intake_after_s={decision_after:.1f} (took {decision_took:.1f}) "
          f"submissions={len(accepted)} receipts={sum(counts.values())}")
    assert receipt_after <= RECOVERY_GOAL and review_after <= RECOVERY_GOAL
    assert decision_after <= RECOVERY_GOAL + 5  # the decision is taken only after the probes got through
    assert set(counts.values()) == {1}, {e: c for e, c in counts.items() if c != 1}
