"""The triage console pages: `/review/queue` and `/review/comments/<id>`. Thin: parse, call one handler, render.

Forms post back and redirect (post/redirect/get), so the pages work without
JavaScript; `static/triage.js` only adds keyboard shortcuts.
"""

from __future__ import annotations

from typing import Any, Callable
from urllib.parse import urlencode

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from services.common.auth import current_staff, requires_role
from services.common.web import DomainError
from services.review import approval, decisions, triage, triage_handlers
from services.review.triage import FILTER_NAMES, QueueFilters
from services.review.triage_schemas import AssigneeIn, NoteIn, QueueArgs, QueueFilterArgs, ReanchorIn

blp = Blueprint("triage_pages", __name__, url_prefix="/review")


def N_(message: str) -> str:
    """Marks a message for the catalog; it is translated where it is shown."""
    return message


# What the keyboard does; listed on both pages, read by static/triage.js from data-key attributes.
QUEUE_SHORTCUTS = (("j", N_("Next comment in the list")), ("k", N_("Previous comment in the list")),
                   ("o", N_("Open the selected comment (also Enter)")), ("/", N_("Search")),
                   ("?", N_("Show or hide this list")))
COMMENT_SHORTCUTS = (("n", N_("Next comment")), ("p", N_("Previous comment")),
                     ("d", N_("Decide (go to the decision form)")), ("a", N_("Anchor to another unit")),
                     ("m", N_("Write an internal note")), ("u", N_("Back to the list")),
                     ("?", N_("Show or hide this list")))


def _ctx() -> Any:
    return current_app.extensions["uwagi"]


def _field_errors(exc: ValidationError) -> dict[str, str]:
    """One translated message per field (marshmallow's own messages are English, for the API)."""
    names = exc.messages.keys() if isinstance(exc.messages, dict) else ["form"]
    return {str(name): _("This value is not valid.") for name in names}


def _paging(args: Any) -> tuple[int, int]:
    try:
        loaded = QueueArgs(only=("page", "per_page")).load(
            {k: args[k] for k in ("page", "per_page") if args.get(k)})
        return loaded["page"], loaded["per_page"]
    except ValidationError:
        return 1, triage.DEFAULT_PER_PAGE


def _queue_url(filters: QueueFilters, **extra: Any) -> str:
    args = {**filters.query_args(), **{k: v for k, v in extra.items() if v is not None}}
    return url_for("triage_pages.queue") + ("?" + urlencode(args) if args else "")


@blp.get("/queue")
@requires_role("reviewer")
def queue() -> Any:
    """The queue. Submitted filters are remembered for this staff member; a bare visit restores them."""
    staff, args = current_staff(), request.args
    loader = QueueFilterArgs().load
    errors: dict[str, str] = {}
    new = None
    if "reset" not in args and any(name in args for name in FILTER_NAMES):
        try:
            new = QueueFilters.from_loaded(loader(args))
        except ValidationError as exc:
            errors = _field_errors(exc)
    filters = triage_handlers.queue_filters(_ctx(), staff, new, loader=loader, reset="reset" in args)
    page_number, per_page = _paging(args)
    page = triage_handlers.queue_page(_ctx(), staff, filters, page=page_number, per_page=per_page)
    choices = triage_handlers.queue_choices(_ctx(), filters.consultation)
    return render_template(
        "review/triage/queue.html", page=page, filters=filters, choices=choices, errors=errors,
        options=_filter_options(choices), selected=_selected(filters, page.per_page), queue_url=_queue_url,
        shortcuts=QUEUE_SHORTCUTS, channels=CHANNEL_LABELS, statuses=STATUS_LABELS, status_words=status_words,
    ), (422 if errors else 200)


def _filter_options(choices: triage_handlers.QueueChoices) -> dict[str, list[tuple[str, str]]]:
    """The (value, label) options of each filter control, "any" first."""
    return {
        "consultation": [("", _("All consultations"))] + [(c.id, c.title) for c in choices.consultations],
        "status": [("", _("Any status"))] + [(s, _(STATUS_LABELS.get(s, s))) for s in choices.statuses],
        "topic": [("", _("Any topic"))] + [(t, t) for t in choices.topics],
        "channel": [("", _("Any channel"))] + [(k, _(v)) for k, v in CHANNEL_LABELS.items()],
        "unit": [("", _("The whole document"))] + [
            (u.unit_id, f"{u.label} – {u.text[:40]}" if u.kind == "chapter" else u.label) for u in choices.units],
        "assignee": [("", _("Anyone or no one")), (triage.UNASSIGNED, _("Not assigned"))]
                    + [(e, choices.assignee_labels.get(e, e)) for e in choices.assignees],
        "late": [("", _("On time or late")), ("1", _("Late only")), ("0", _("On time only"))],
        "sort": [(k, _(v)) for k, v in SORT_LABELS.items()],
        "per_page": [(str(n), str(n)) for n in triage.PER_PAGE_CHOICES],
    }


def _selected(filters: QueueFilters, per_page: int) -> dict[str, str]:
    late = "" if filters.late is None else ("1" if filters.late else "0")
    return {"consultation": filters.consultation or "", "status": filters.status or "", "topic": filters.topic or "",
            "channel": filters.channel or "", "unit": filters.unit or "", "assignee": filters.assignee or "",
            "late": late, "sort": filters.sort, "per_page": str(per_page)}


@blp.post("/queue/assign")
@requires_role("coordinator")
def assign_selection() -> Any:
    """Assign the comments ticked in the queue to one reviewer (or to no one)."""
    def act() -> str:
        outcome = decisions.assign_many(_ctx(), request.form.getlist("comment"), _assignee(), current_staff())
        return _("%(count)s comment(s) assigned.", count=len(outcome.done))

    return _form_action(url_for("triage_pages.queue"), act)


@blp.post("/consultations/<consultation_id>/chapters/assign")
@requires_role("coordinator")
def assign_chapter(consultation_id: str) -> Any:
    def act() -> str:
        assignee = _assignee()
        changed = triage_handlers.assign_chapter(_ctx(), consultation_id, request.form.get("chapter", ""), assignee,
                                                 current_staff())
        if assignee is None:
            return _("The chapter has no assigned reviewer any more.")
        return _("The chapter is assigned to %(who)s; %(count)s current comment(s) changed hands.",
                 who=assignee, count=changed)

    return _form_action(url_for("triage_pages.queue"), act)


@blp.get("/comments/<comment_id>")
@requires_role("reviewer")
def comment(comment_id: str) -> Any:
    return comment_page(comment_id, request.args.get("pos"), here=request.full_path.rstrip("?"))


def comment_page(comment_id: str, pos: str | None, *, here: str, decision_form: dict | None = None,
                 decision_errors: dict | None = None) -> str:
    """The comment's page at position `pos` of the queue; with a decision form that was refused, shown in place
    with its errors and what was typed (decision_pages.decide)."""
    staff = current_staff()
    view = triage_handlers.comment_view(_ctx(), comment_id)
    filters = triage_handlers.queue_filters(_ctx(), staff, None, loader=QueueFilterArgs().load)
    position = _position(pos)
    previous = following = None
    following_position = None if position is None else position + 1
    if position is not None:
        previous = triage_handlers.queue_neighbour(_ctx(), staff, filters, position - 1)
        at_position = triage_handlers.queue_neighbour(_ctx(), staff, filters, position)
        # A comment decided from here may have left a filtered list ("new" only): the next one then stands in its
        # place, and "next" must not skip it
        if at_position is not None and at_position.id != comment_id:
            following, following_position = at_position, position
        else:
            following = triage_handlers.queue_neighbour(_ctx(), staff, filters, position + 1)
    return render_template(
        "review/triage/comment.html", view=view, c=view.comment, position=position, previous=previous,
        following=following, following_position=following_position, queue_url=_queue_url(filters, page=(position // triage.DEFAULT_PER_PAGE + 1)
                                                 if position is not None else None),
        shortcuts=COMMENT_SHORTCUTS, channels=CHANNEL_LABELS, statuses=STATUS_LABELS, status_words=status_words,
        here=here, decision_form_values=decision_form or {}, decision_errors=decision_errors or {},
    )


@blp.post("/comments/<comment_id>/anchor")
@requires_role("reviewer")
def reanchor(comment_id: str) -> Any:
    def act() -> str:
        unit = ReanchorIn().load({"unit": request.form.get("unit", "")})["unit"]
        triage_handlers.reanchor(_ctx(), comment_id, unit, current_staff())
        return _("The comment is anchored to the chosen unit.")

    return _form_action(url_for("triage_pages.comment", comment_id=comment_id), act)


@blp.post("/comments/<comment_id>/assign")
@requires_role("coordinator")
def assign(comment_id: str) -> Any:
    def act() -> str:
        decisions.assign_many(_ctx(), [comment_id], _assignee(), current_staff())
        return _("The assignment is saved.")

    return _form_action(url_for("triage_pages.comment", comment_id=comment_id), act)


@blp.post("/comments/<comment_id>/notes")
@requires_role("reviewer")
def add_note(comment_id: str) -> Any:
    def act() -> str:
        body = NoteIn().load({"body": request.form.get("body", "").strip()})["body"]
        triage_handlers.add_note(_ctx(), comment_id, body, current_staff())
        return _("The note is saved.")

    return _form_action(url_for("triage_pages.comment", comment_id=comment_id), act, anchor="#notes")


# --- helpers ---------------------------------------------------------------------------------


def _form_action(default_back: str, act: Callable[[], str], *, anchor: str = "") -> Any:
    """Run a form's action, flash its outcome (or the errors) and go back (post/redirect/get)."""
    back = _back_to(request.form.get("back"), default_back)
    try:
        flash(act(), "success")
    except ValidationError as exc:
        for name, message in _field_errors(exc).items():
            flash(_("%(field)s: %(message)s", field=_(FIELD_LABELS.get(name, name)), message=message), "error")
        return redirect(back, 303)
    except DomainError as exc:
        flash(_(DOMAIN_MESSAGES.get(exc.message, exc.message)), "error")
        return redirect(back, 303)
    return redirect(back + anchor, 303)


def _assignee() -> str | None:
    return AssigneeIn().load({"assignee": request.form.get("assignee") or None})["assignee"]


def _position(raw: str | None) -> int | None:
    if raw is None or not raw.isdecimal() or len(raw) > 7:
        return None
    return int(raw)


def _back_to(target: str | None, default: str) -> str:
    """Only this service's own paths: a form must not send people elsewhere."""
    if target and target.startswith("/review/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


SORT_LABELS = {
    "received": N_("Oldest first"), "-received": N_("Newest first"), "reference": N_("Reference (ascending)"),
    "-reference": N_("Reference (descending)"), "status": N_("Status"), "assignee": N_("Assignee"),
    "chapter": N_("Chapter"),
}
CHANNEL_LABELS = {"web": N_("Web form"), "email": N_("E-mail"), "letter": N_("Letter"),
                  "duty_hours": N_("Duty hours")}
STATUS_LABELS = {"new": N_("New"), "decided": N_("Decided")}
# A decided comment whose decision waits for a coordinator is not decided yet, whatever its stored status says
APPROVAL_LABELS = {approval.PROPOSED: N_("Proposed, awaiting approval"), approval.RETURNED: N_("Returned for correction")}


def status_words(comment: Any) -> str:
    """How a comment's state reads to staff: a proposal or a returned decision says so, not "decided"."""
    if comment.status == "decided" and getattr(comment, "approval_state", None) in APPROVAL_LABELS:
        return _(APPROVAL_LABELS[comment.approval_state])
    return _(STATUS_LABELS.get(comment.status, comment.status))
FIELD_LABELS = {"unit": N_("Unit"), "assignee": N_("Assignee"), "body": N_("Note")}
# The handlers' messages (English, for the API) as msgids for the pages.
DOMAIN_MESSAGES = {m: m for m in (
    N_("no such comment"), N_("no such unit in this consultation's draft"),
    N_("the assignee is not an active staff member"), N_("no such chapter in this consultation's draft"),
    N_("select at least one comment"), N_("a note needs 1 to 10,000 characters"),
)}
