"""E-mail intake: raw mail (IMAP, the drop folder, files) to submissions. See README, "E-mail intake"."""


class Refusal(Exception):
    """Something in a mail we will not read; `code` is stable for logs and scripts, `reason` says it to a person."""

    def __init__(self, code: str, reason: str):
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
