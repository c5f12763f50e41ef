"""A reviewer's decision stays inside review until a coordinator approves it (separate processes, real bus)."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from tests.e2e.test_slice import open_consultation, review_comment, submit
from tests.support.infra import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.s3, pytest.mark.smtp]


def comment_status(cluster, receipt: dict) -> str:
    status = requests.get(cluster.api("intake", f"/submissions/{receipt['reference']}"),
                          params={"token": receipt["status_token"]}, timeout=10).json()
    return status["comments"][0]["status"]


def test_a_proposal_reaches_the_other_services_only_once_approved(cluster):
    reviewer_token = cluster.run("users", "create", "--email", f"recenzent-{uuid.uuid4().hex[:6]}@e2e.example",
                                 "--role", "reviewer").strip()
    reviewer = {"Authorization": f"Bearer {reviewer_token}"}
    consultation_id = open_consultation(cluster, title="Konsultacje z zatwierdzaniem decyzji")
    receipt = submit(cluster, consultation_id, f"jan-{uuid.uuid4().hex[:6]}@example.org", "Dopisać seniorów.")
    comment = review_comment(cluster, consultation_id, receipt["reference"])

    proposed = requests.post(cluster.api("review", f"/comments/{comment['id']}/decision"), headers=reviewer,
                             json={"decision": "rejected", "justification": "Poza zakresem Programu."}, timeout=10)
    assert proposed.status_code == 200 and proposed.json()["approval_state"] == "proposed", proposed.text
    # The relay and consumers move an event in well under a second here; a proposal must not move at all.
    time.sleep(3)
    assert comment_status(cluster, receipt) == "received"

    approved = requests.post(cluster.api("review", f"/comments/{comment['id']}/approval"), headers=cluster.staff,
                             json={}, timeout=10)
    assert approved.status_code == 200 and approved.json()["approval_state"] == "approved", approved.text
    wait_until(lambda: comment_status(cluster, receipt) == "rejected", timeout=30, what="intake to learn the approval")
