"""Console pages of duplicate and campaign groups: `/review/groups` and `/review/groups/<id>`.

Thin views: parse the form with a schema, call one handler in services.review.groups, then redirect with a
message (post/redirect/get), or show the page again with the errors. Every page works without JavaScript,
and every form carries its CSRF token.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, flash, redirect, render_template, request
from flask_babel import gettext, ngettext
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from services.common.auth import current_staff, requires_role
from services.common.ui import N_
from services.common.web import DomainError
from services.review import decisions, groups
from services.review.decision_pages import CHECK_FIELD, DECISION_FIELD_ERRORS, DecisionForm

blp = Blueprint("review_group_pages", __name__, url_prefix="/review")

GROUPS_PER_PAGE = 50
MEMBERS_PER_PAGE = 100

# The handlers' messages, in words for the console (and in the catalogs).
MESSAGES = {
    "select at least one comment": N_("Select at least one comment."),
    "select at least one group": N_("Select at least one group."),
    "select at least two groups to merge": N_("Select at least two groups to merge."),
    "some selected comments are not members of this group": N_("Some selected comments are not members of this "
                                                               "group."),
    "select some members, not all of them: the rest stays in the group": N_(
        "Select some members, not all of them: the others stay in the group."),
    "choose another group to merge with": N_("Choose another group to merge with."),
    "groups of different consultations cannot be merged": N_("Groups of different consultations cannot be merged."),
    "no such group": N_("No such group."),
    f"at most {groups.MAX_SELECTION} at once": N_("Too many at once: select fewer."),
}


def _ctx() -> Any:
    return current_app.extensions["uwagi"]


def _message(exc: DomainError) -> str:
    # Some messages name what they refer to after a colon ("no such group: <ids>"); the page says it in words.
    known = MESSAGES.get(exc.message) or MESSAGES.get(exc.message.split(":", 1)[0])
    return gettext(known) if known else gettext(exc.message)


def _page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page", "1")), 100_000))
    except ValueError:
        return 1


def _page_url(page: int) -> str:
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    args["page"] = str(page)
    return f"{request.path}?{urlencode(args)}"


class _Selection(Schema):
    class Meta:
        unknown = EXCLUDE

    ids = fields.List(fields.String(validate=validate.Length(min=1, max=36)), load_default=list,
                      validate=validate.Length(max=groups.MAX_SELECTION))


def _selected(name: str) -> list[str]:
    try:
        return _Selection().load({"ids": request.form.getlist(name)})["ids"]
    except ValidationError:
        return []


@blp.get("/groups")
@requires_role("reviewer")
def group_list() -> Any:
    consultation = request.args.get("consultation") or None
    page = _page_number()
    items, total = groups.list_groups(_ctx(), consultation_id=consultation, limit=GROUPS_PER_PAGE,
                                      offset=(page - 1) * GROUPS_PER_PAGE)
    return render_template("review/groups/list.html", items=items, total=total, page=page,
                           per_page=GROUPS_PER_PAGE, page_url=_page_url, selected=consultation,
                           consultations=decisions.consultation_titles(_ctx()))


@blp.post("/groups/merge")
@requires_role("reviewer")
def merge_selected() -> Any:
    back = request.referrer if request.referrer and "/review/groups" in request.referrer else "/review/groups"
    try:
        target = groups.merge_selection(_ctx(), _selected("group_ids"), current_staff())
    except DomainError as exc:
        flash(_message(exc), "error")
        return redirect(back)
    flash(gettext("The groups are merged into this one."), "success")
    return redirect(f"/review/groups/{target}")


def _group_page(group_id: str, *, form: dict | None = None, errors: dict | None = None, status: int = 200) -> Any:
    page = _page_number()
    data = groups.group_page(_ctx(), group_id, limit=MEMBERS_PER_PAGE, offset=(page - 1) * MEMBERS_PER_PAGE)
    # The shared decision form reads a "panel"; for a group it starts blank and posts to the group.
    panel = SimpleNamespace(comment=SimpleNamespace(id=group_id, decision=None, decision_justification="",
                                                    final_text=None),
                            needs_approval=data.needs_approval, standards=data.standards)
    return render_template("review/groups/group.html", data=data, group=data.detail.summary,
                           members=data.detail.members, panel=panel, form=form or {}, errors=errors or {},
                           page=page, per_page=MEMBERS_PER_PAGE, page_url=_page_url), status


@blp.get("/groups/<group_id>")
@requires_role("reviewer")
def group_detail(group_id: str) -> Any:
    return _group_page(group_id)


@blp.post("/groups/<group_id>/split")
@requires_role("reviewer")
def split(group_id: str) -> Any:
    try:
        outcome = groups.split_group(_ctx(), group_id, _selected("comment_ids"), current_staff())
    except DomainError as exc:
        if exc.status == 404:
            raise
        flash(_message(exc), "error")
        return redirect(f"/review/groups/{group_id}")
    if outcome.new_group_id:
        flash(gettext("The selected comments now form a group of their own."), "success")
        return redirect(f"/review/groups/{outcome.new_group_id}")
    flash(gettext("The selected comment no longer belongs to a group."), "success")
    return redirect(f"/review/groups/{outcome.group_id}" if outcome.group_id else "/review/groups")


@blp.post("/groups/<group_id>/merge")
@requires_role("reviewer")
def merge_into(group_id: str) -> Any:
    try:
        groups.merge_groups(_ctx(), group_id, _selected("group_ids"), current_staff())
    except DomainError as exc:
        if exc.status == 404 and exc.message == "no such group":  # this group itself
            raise
        flash(_message(exc), "error")
        return redirect(f"/review/groups/{group_id}")
    flash(gettext("The groups are merged into this one."), "success")
    return redirect(f"/review/groups/{group_id}")


@blp.post("/groups/<group_id>/decision")
@requires_role("reviewer")
def decide(group_id: str) -> Any:
    try:
        data = DecisionForm().load(request.form.to_dict())
    except ValidationError as exc:
        return _group_page(group_id, form=request.form.to_dict(), status=422,
                           errors={name: [gettext(DECISION_FIELD_ERRORS.get(name, CHECK_FIELD))]
                                   for name in exc.messages})
    approve = {"now": True, "later": False}.get(data["approval"] or "")
    try:
        outcome = groups.decide_group(_ctx(), group_id, data["decision"], data["justification"], data["final_text"],
                                      current_staff(), approve=approve,
                                      standard_justification_id=data["standard_justification_id"])
    except DomainError as exc:
        if exc.status == 404:
            raise
        fields_with_errors = (exc.details or {}).get("json", {}) if isinstance(exc.details, dict) else {}
        errors = {name: [gettext(DECISION_FIELD_ERRORS.get(name, CHECK_FIELD))] for name in fields_with_errors}
        return _group_page(group_id, form=request.form.to_dict(), status=exc.status,
                           errors=errors or {"decision": [_message(exc)]})
    count = len(outcome.decided)
    flash(ngettext("The decision is applied to %(num)d comment of the group; each keeps its own record.",
                   "The decision is applied to %(num)d comments of the group; each keeps its own record.", count),
          "success")
    return redirect(f"/review/groups/{group_id}")
