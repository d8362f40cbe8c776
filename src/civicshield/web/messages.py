"""Messages the web layer shows that are not in templates: one-time notices after a redirect
(by key, so the cookie carries no text), labels for values that have none of their own, and
the domain's field messages.

Domains raise English messages; the ones a form can produce are listed here with `N_` so they
are extracted into the catalogues and `Page.gettext` can translate them. An unknown message
is shown in English rather than hidden.
"""

from __future__ import annotations

from civicshield.core.i18n import N_
from civicshield.jobs import JobStatus

__all__ = ["DOMAIN_MESSAGES", "FLASH", "FLASH_COOKIE", "JOB_STATUS", "TEMPLATE_GLOBALS"]

FLASH_COOKIE = "cs_flash"

FLASH: dict[str, str] = {
    "saved": N_("Your changes were saved."),
    "user_created": N_("The user was created."),
    "user_updated": N_("The user was updated."),
    "user_enabled": N_("The account is active again."),
    "user_disabled": N_("The account was disabled and its sessions and tokens ended."),
    "totp_disabled": N_("Two-factor login was turned off."),
    "totp_enabled": N_("Two-factor login is on. You will be asked for a code at each login."),
    "password_changed": N_("Your password was changed. Other sessions were signed out."),
    "token_revoked": N_("The token was revoked."),
    "job_retried": N_("The job was queued again."),
    "job_cancelled": N_("The job was cancelled."),
    "job_queued": N_("The job was queued."),
    "catalog_queued": N_("The rule catalogue is being built. Reload this page in a minute."),
    "peer_added": N_("Peer added."),
    "peer_subscribed": N_("Subscribed."),
    "peer_removed": N_("Peer removed."),
    "logged_out": N_("You have signed out."),
    "login_expired": N_("Your sign-in expired. Please sign in again."),
    "enrolment_expired": N_("The two-factor set-up expired. Please start again."),
}

# English messages raised by the domains that forms show next to a field.
DOMAIN_MESSAGES: tuple[str, ...] = (
    N_("use at least 12 characters"),
    N_("do not use a common password or one containing the username"),
    N_("use more different characters"),
    N_("choose at least one sector"),
    N_("leave empty for this role"),
    N_("wrong password"),
    N_("code does not match"),
    N_("you cannot change your own role or disable yourself"),
    N_("two-factor login is not enabled for this user"),
    N_("administrators must keep two-factor login on"),
)

# Labels for values the templates show that carry no label of their own.
JOB_STATUS: dict[str, str] = {
    JobStatus.QUEUED.value: N_("Queued"),
    JobStatus.RUNNING.value: N_("Running"),
    JobStatus.SUCCEEDED.value: N_("Succeeded"),
    JobStatus.FAILED.value: N_("Failed"),
    JobStatus.CANCELLED.value: N_("Cancelled"),
}

TEMPLATE_GLOBALS = {"JOB_STATUS": JOB_STATUS}
