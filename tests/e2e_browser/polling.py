"""Helpers of the browser tests that wait for something the server does in the background."""

from __future__ import annotations


def reloaded(page) -> bool:
    """Reload for a poll; a reload that loses a race with the page's own navigation just counts as not yet.

    `page.reload()` raises when the page navigates at the same moment (a form's redirect still arriving, a
    build page reloading itself when its build ends); going to the page's address again cannot tell either,
    so a poll built on this helper simply tries again."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        page.goto(page.url)
    except PlaywrightError:
        return False
    return True
