"""Broken e-mails never crash the importer: every real mail shape of the corpus, its bytes flipped at random
(seeded) and cut short, is imported, refused or ignored, with its row kept; parsing raises only `MailRefused`."""

from __future__ import annotations

import random

import pytest

from services.intake.mail.importer import import_mail
from services.intake.mail.parse import MailRefused, parse_mail
from tests.unit.intake_mail.conftest import CORPUS, now

MAILS = sorted(CORPUS.glob("*.eml"))


def _broken(raw: bytes, seed: int) -> list[bytes]:
    chance = random.Random(seed)
    out = []
    for _ in range(4):
        mutated = bytearray(raw)
        for _flip in range(chance.randint(1, 60)):
            mutated[chance.randrange(len(mutated))] = chance.choice(b"\0\r\n-=:;\"'<>\\{}\xff\x80=?QB")
        out.append(bytes(mutated))
    out.append(raw[:chance.randint(1, len(raw) - 1)])
    return out


@pytest.mark.parametrize("path", MAILS, ids=lambda path: path.name)
def test_a_broken_mail_is_imported_refused_or_ignored_never_an_error(ctx, consultation, path):
    for number, raw in enumerate(_broken(path.read_bytes(), seed=sum(path.name.encode()))):
        try:
            parse_mail(raw)
        except MailRefused:
            pass
        result = import_mail(ctx, raw, received_at=now(), source=f"fuzz:{path.name}:{number}",
                             consultation_id=consultation)
        assert result.status in ("created", "needs_review", "rejected", "ignored", "duplicate"), result
