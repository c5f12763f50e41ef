"""E-mail intake: raw mail (IMAP, the drop folder, files) to submissions. See README, "E-mail intake"."""

import re

_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(text: str) -> str:
    """Text a UTF-8 store takes. pypdf and RTF's `\\u` give a character beyond the Basic Multilingual Plane (Gothic
    letters, an emoji) as UTF-16 halves, sometimes the first half alone (Tika's testPDFVarious.pdf), and the mail
    parser keeps a byte it could not decode as a half: a pair is the character again, a lone half U+FFFD. NUL,
    which PostgreSQL refuses in text, goes; so do the characters no reader sees but every search trips on: a byte
    order mark that Notepad and some webmail put before the text, soft hyphens pasted from Word and zero-width
    spaces from Outlook's HTML ("pro\u00adgram" is not found by "program")."""
    if _SURROGATE.search(text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text.translate(_UNSEEN)


_UNSEEN = dict.fromkeys(map(ord, "\x00\ufeff\u00ad\u200b"))


class Refusal(Exception):
    """Something in a mail we will not read; `code` is stable for logs and scripts, `reason` says it to a person."""

    def __init__(self, code: str, reason: str):
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
