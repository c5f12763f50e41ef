"""A campaign through the real services: copies sent to intake are grouped by review's worker, and one group
decision reaches every submitter's status page."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.e2e.test_slice import open_consultation
from tests.support.infra import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.s3, pytest.mark.smtp]

LETTER = ("Wnosimy o zwiększenie środków na małe granty do kwoty co najmniej 300 000 zł rocznie, ponieważ "
          "zapotrzebowanie organizacji działających w dzielnicach peryferyjnych rośnie z roku na rok.")


def send(cluster, consultation_id: str, name: str, proposal: str) -> dict:
    response = requests.post(cluster.api("intake", f"/consultations/{consultation_id}/submissions"), json={
        "submitter": {"name": name, "email": f"{uuid.uuid4().hex[:8]}@example.org", "publish_consent": False},
        "comments": [{"section": "§ 8 ust. 2", "proposal": proposal,
                      "justification": "Termin składania ofert jest zbyt krótki dla małych organizacji."}],
    }, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def test_campaign_copies_are_grouped_and_decided_together(cluster):
    consultation_id = open_consultation(cluster, title=f"Program współpracy {uuid.uuid4().hex[:6]}")
    receipts = [send(cluster, consultation_id, "Anna Nowak", LETTER),
                send(cluster, consultation_id, "Jan Kowalski", "Szanowni Państwo, " + LETTER),
                send(cluster, consultation_id, "Ewa Wójcik", LETTER.upper().replace(",", ""))]
    send(cluster, consultation_id, "Piotr Lis", "Proponujemy wydłużenie terminu rozliczenia dotacji do 60 dni.")

    def one_group_of_three():
        page = requests.get(cluster.api("review", "/groups"), params={"consultation": consultation_id},
                            headers=cluster.staff, timeout=10).json()
        return page["items"][0] if page["total"] == 1 and page["items"][0]["size"] == 3 else None

    group = wait_until(one_group_of_three, timeout=45, what="review to group the campaign")
    decided = requests.post(cluster.api("review", f"/groups/{group['id']}/decision"), headers=cluster.staff,
                            json={"decision": "rejected", "justification": "Wysokość środków określa budżet."},
                            timeout=30)
    assert decided.status_code == 200, decided.text
    assert sorted(decided.json()["decided"]) == sorted(group["member_ids"])

    def every_status_page_shows_the_decision():
        states = [requests.get(cluster.api("intake", f"/submissions/{r['reference']}"),
                               params={"token": r["status_token"]}, timeout=10).json()["comments"][0]["status"]
                  for r in receipts]
        return states == ["rejected"] * 3

    wait_until(every_status_page_shows_the_decision, timeout=45, what="each submitter's status page")
