"""A role change or deactivation in review revokes a staff token on the other services, through the real bus."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.support.infra import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.s3, pytest.mark.smtp]


def status(cluster, service: str, path: str, token: str) -> int:
    return requests.get(cluster.api(service, path), headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code


def test_a_role_change_and_a_deactivation_revoke_tokens_on_every_service(cluster):
    email = f"anna-{uuid.uuid4().hex[:6]}@um.example"
    coordinator_token = cluster.run("users", "create", "--email", email, "--role", "coordinator").strip()
    assert status(cluster, "notify", "/notifications", coordinator_token) == 200
    assert status(cluster, "documents", "/documents", coordinator_token) == 200

    reviewer_token = cluster.run("users", "create", "--email", email, "--role", "reviewer").strip()
    # Review knows at once; notify and documents as soon as staff.changed reaches them over RabbitMQ.
    assert status(cluster, "review", "/comments", coordinator_token) == 401
    wait_until(lambda: status(cluster, "notify", "/notifications", coordinator_token) == 401, timeout=30,
               what="notify to refuse the token issued before the role change")
    wait_until(lambda: status(cluster, "documents", "/documents", coordinator_token) == 401, timeout=30,
               what="documents to refuse the token issued before the role change")
    assert status(cluster, "notify", "/notifications", reviewer_token) == 403  # the new role is too weak there
    assert status(cluster, "documents", "/documents", reviewer_token) == 200

    cluster.run("users", "deactivate", "--email", email)
    assert status(cluster, "review", "/comments", reviewer_token) == 401
    wait_until(lambda: status(cluster, "documents", "/documents", reviewer_token) == 401, timeout=30,
               what="documents to refuse the token of a deactivated user")
    wait_until(lambda: requests.post(cluster.api("intake", "/consultations"), json={}, timeout=10,
                                     headers={"Authorization": f"Bearer {reviewer_token}"}).status_code == 401,
               timeout=30, what="intake to refuse the token of a deactivated user")
