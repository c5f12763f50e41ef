"""A role change or deactivation in review revokes a staff token on the other services, through the real bus."""

from __future__ import annotations

import re
import time
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


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def browser_login(cluster, email: str, password: str) -> requests.Session:
    """A browser's view: one cookie jar for every service (cookies are not port-specific, like the gateway's one site)."""
    browser = requests.Session()
    page = browser.get(cluster.url("review", "/login"), timeout=10)
    response = browser.post(cluster.url("review", "/login"), timeout=10, allow_redirects=False, data={
        "email": email, "password": password, "csrf_token": csrf_of(page.text), "next": "/review/admin/users"})
    assert response.status_code == 302, response.text
    return browser


def test_an_admin_changes_a_role_in_the_console_and_the_old_token_stops_working_elsewhere(cluster):
    admin_email, user_email = f"admin-{uuid.uuid4().hex[:6]}@um.example", f"jan-{uuid.uuid4().hex[:6]}@um.example"
    cluster.run("users", "create", "--email", admin_email, "--role", "admin", "--password", "hasło administratora")
    token = cluster.run("users", "create", "--email", user_email, "--role", "coordinator").strip()
    assert status(cluster, "notify", "/notifications", token) == 200

    admin = browser_login(cluster, admin_email, "hasło administratora")
    # The session cookie set by review is honoured by notify's gate too.
    assert admin.get(cluster.api("notify", "/notifications"), timeout=10).status_code == 200
    users_page = admin.get(cluster.url("review", "/admin/users"), timeout=10).text
    user_id = re.search(rf'{re.escape(user_email)}</td>.*?/review/admin/users/([0-9a-f-]+)/role', users_page, re.S).group(1)
    changed = admin.post(cluster.url("review", f"/admin/users/{user_id}/role"), timeout=10, allow_redirects=False,
                         data={"role": "reviewer", "csrf_token": csrf_of(users_page)})
    assert changed.status_code == 303
    wait_until(lambda: status(cluster, "notify", "/notifications", token) == 401, timeout=30,
               what="notify to refuse the token after the role change in the console")


def test_a_password_reset_is_mailed_once_through_notify_and_the_link_works_once(cluster, e2e_smtp):
    email = f"ewa-{uuid.uuid4().hex[:6]}@um.example"
    cluster.run("users", "create", "--email", email, "--role", "reviewer", "--password", "pierwsze hasło ewy")
    browser = requests.Session()
    form = browser.get(cluster.url("review", "/password/forgot"), timeout=10).text
    sent = browser.post(cluster.url("review", "/password/forgot"), timeout=10,
                        data={"email": email, "csrf_token": csrf_of(form)})
    assert sent.status_code == 200 and "Jeżeli ten adres należy do aktywnego konta" in sent.text

    wait_until(lambda: e2e_smtp.to(email), timeout=45, what="the reset e-mail")
    body = e2e_smtp.to(email)[0].get_body(preferencelist=("plain",)).get_content()
    path = re.search(r"https?://[^/\s]+(/review/password/\S+)", body).group(1)
    link = cluster.url("review", path.removeprefix("/review"))
    page = browser.get(link, timeout=10)
    assert page.status_code == 200
    done = browser.post(link, timeout=10, allow_redirects=False, data={
        "password": "drugie hasło ewy", "password_again": "drugie hasło ewy", "csrf_token": csrf_of(page.text)})
    assert done.status_code == 302
    assert browser.get(link, timeout=10).status_code == 410
    browser_login(cluster, email, "drugie hasło ewy")
    time.sleep(2)  # a duplicate would have arrived by now
    assert len(e2e_smtp.to(email)) == 1
