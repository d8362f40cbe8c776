"""The segmentation policy page (`/segmentation`): the zones and ordered rules in force, the
policy's YAML in an editor with "Check" (problems listed with their place, nothing saved),
"Save" (refused while there are errors; warnings shown) and "Back to the default", and a
preview of what the policy — or the draft being edited — would have flagged over the stored
flows of the last days."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from civicshield import telemetry
from civicshield.accounts import Permission
from civicshield.core.errors import Invalid
from civicshield.core.i18n import N_
from civicshield.telemetry import PolicyCheck, Preview
from civicshield.web.deps import require
from civicshield.web.page import Page

__all__ = ["router"]

router = APIRouter()
ReadPage = Annotated[Page, Depends(require(Permission.RULES_READ))]
ManagePage = Annotated[Page, Depends(require(Permission.RULES_MANAGE))]
_DAYS = (1, 7, 30)
_MESSAGES = {
    "saved": N_("The policy was saved; continuous detection uses it from its next batch."),
    "reset": N_("Back to the default policy."),
    "checked": N_("No errors: the policy can be saved."),
}


def _render(
    page: Page,
    *,
    text: str | None = None,
    checked: PolicyCheck | None = None,
    preview: Preview | None = None,
    days: int = 7,
    message: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    state = telemetry.current_policy(page.runtime.settings)
    shown = checked or state.check
    return page.render(
        "segmentation/policy.html",
        status=status,
        nav_key="segmentation",
        state=state,
        text=state.text if text is None else text,
        checked=shown,
        draft=text is not None,
        preview=preview,
        days=days,
        day_choices=_DAYS,
        message=message,
        error=error,
        may_edit=page.can(Permission.RULES_MANAGE),
        may_preview=page.can(Permission.EVENTS_READ),
    )


@router.get("/segmentation")
def policy_page(page: ReadPage) -> Response:
    done = page.query("done")
    key = _MESSAGES.get(done)
    return _render(page, message=page.gettext(key) if key else "")


@router.post("/segmentation")
def policy_action(page: ReadPage) -> Response:
    """`action`: check (anyone who reads), save or reset (rules:manage), preview (events:read)."""
    action, text = page.field("action"), page.field("policy")
    days = int(page.field("days", "7")) if page.field("days", "7").isdigit() else 7
    days = days if days in _DAYS else 7
    checked = telemetry.check_policy_text(text) if text.strip() else None
    if action in ("save", "reset") and not page.can(Permission.RULES_MANAGE):
        return _render(page, text=text, error=page.gettext(N_("You may not change the policy.")),
                       status=403)  # fmt: skip
    if action == "reset":
        with page.runtime.session() as session:
            telemetry.reset_policy(
                session, page.runtime.settings, actor=page.actor, clock=page.runtime.clock
            )
        return page.redirect("/segmentation?done=reset")
    if checked is None:
        return _render(page, text=text, error=page.gettext(N_("The policy is empty.")), status=422)
    if action == "save":
        try:
            with page.runtime.session() as session:
                telemetry.save_policy(
                    session, page.runtime.settings, text, actor=page.actor,
                    clock=page.runtime.clock,
                )  # fmt: skip
        except Invalid:
            error = page.gettext(N_("The policy has errors; nothing was saved."))
            return _render(page, text=text, checked=checked, status=422, error=error)
        return page.redirect("/segmentation?done=saved")
    if action == "preview" and page.can(Permission.EVENTS_READ):
        if checked.policy is None or checked.errors:
            error = page.gettext(N_("Fix the errors to preview the policy."))
            return _render(page, text=text, checked=checked, status=422, error=error)
        found = telemetry.preview_policy(
            page.runtime.settings, checked.policy, now=page.runtime.clock.now(), days=days
        )
        return _render(page, text=text, checked=checked, preview=found, days=days)
    ok = not checked.errors
    message = _MESSAGES["checked"]  # looked up first: a literal key would be extracted
    return _render(page, text=text, checked=checked, status=200 if ok else 422,
                   message=page.gettext(message) if ok else "")  # fmt: skip
