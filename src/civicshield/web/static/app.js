/* CivicShield page behaviour. Everything here is an enhancement: every form also works as a
   plain post without JavaScript. No inline scripts or handlers (the CSP forbids them), and no
   HTML is ever built from strings. */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  /* HTMX requests carry the CSRF token as a header (forms also carry the hidden field). */
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrfToken();
  });

  /* Destructive actions ask first. Listening in the capture phase runs before HTMX's own
     submit handler, so a cancelled confirmation stops both the HTMX and the plain post. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) { return; }
    var message = form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  /* Theme switch without a reload: apply at once, save in the background. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-theme-switch")) { return; }
    var button = event.submitter;
    if (!button || !button.value || !window.fetch) { return; }
    event.preventDefault();
    var body = new FormData(form);
    body.set("theme", button.value);
    document.documentElement.setAttribute("data-theme", button.value);
    form.querySelectorAll("button[name=theme]").forEach(function (other) {
      other.setAttribute("aria-pressed", other === button ? "true" : "false");
    });
    window.fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "X-CSRF-Token": csrfToken() }
    }).then(function (response) {
      if (!response.ok) { window.location.reload(); }  /* show the state the server kept */
    }).catch(function () { window.location.reload(); });
  });
})();
