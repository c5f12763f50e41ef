"""`make run` as a new user starts it: `uwagi run` in its own process on its embedded defaults (SQLite, the
in-process broker, mail written as .eml files), one submission through to the receipt file, then a clean stop."""

from __future__ import annotations

import email
import os
import re
import signal
import subprocess
import sys
import threading
from email import policy
from pathlib import Path

import pytest
import requests

from tests.support.infra import free_port, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

UWAGI = Path(sys.executable).with_name("uwagi")


def test_uwagi_run_takes_a_submission_and_writes_its_receipt(tmp_path: Path):
    port, data_dir = free_port(), tmp_path / "var"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("UWAGI_", "INTAKE_", "REVIEW_",
                                                                                   "DOCUMENTS_", "NOTIFY_"))}
    env.update({"UWAGI_PORT": str(port), "UWAGI_DATA_DIR": str(data_dir), "UWAGI_RELAY_INTERVAL": "0.2"})
    process = subprocess.Popen([str(UWAGI), "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, cwd=tmp_path)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)
    reader.start()
    try:
        def consultation_id() -> str | None:
            assert process.poll() is None, "uwagi run exited:\n" + "".join(output)
            found = re.search(r"Consultation: .* \(id ([0-9a-f-]+)\)", "".join(output))
            return found.group(1) if found else None

        consultation = wait_until(consultation_id, timeout=90, what="the start-up banner")
        base = f"http://127.0.0.1:{port}"
        assert requests.get(f"{base}/intake/healthz", timeout=10).status_code == 200

        response = requests.post(f"{base}/intake/api/v1/consultations/{consultation}/submissions", json={
            "submitter": {"name": "Jan Kowalski", "email": "jan.kowalski@example.org", "publish_consent": True},
            "comments": [{"section": "§ 3", "current_text": "Tekst obecny.", "proposal": "Tekst nowy.",
                          "justification": "Bo tak jest jaśniej."}],
        }, timeout=10)
        assert response.status_code == 201, response.text
        reference = response.json()["reference"]

        def receipt() -> email.message.EmailMessage | None:
            for path in (data_dir / "mail").glob("*.eml"):
                message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
                if "jan.kowalski@example.org" in str(message["To"]):
                    return message
            return None

        message = wait_until(receipt, timeout=60, what="the receipt .eml file")
        assert reference in message.get_body(("plain",)).get_content()
        # A newcomer finds sample comments to work on (tests/integration/test_demo_samples.py goes through them).
        assert "Samples:      9 comments in 7 submissions" in "".join(output)
        assert any("m.kowalczyk@example.org" in path.read_text(errors="replace")
                   for path in (data_dir / "mail").glob("*.eml"))
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(5)
    assert process.returncode == 0, "".join(output)
