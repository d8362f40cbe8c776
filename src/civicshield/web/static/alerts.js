/* Keyboard triage on the alert pages (loaded only there). Every key presses a control a mouse
   user has too: the same forms are submitted, so the server sees no difference. Keys never
   fire while typing in a field or with Ctrl/Alt/Meta held. No HTML is built from strings. */
(function () {
  "use strict";

  var STORE = "civicshield.alerts.selected";
  var selected = -1;

  function rows() {
    return Array.prototype.filter.call(
      document.querySelectorAll("[data-alert-row]"),
      function (row) { return row.offsetParent !== null; }  /* visible: its group is open */
    );
  }

  function select(index) {
    var all = rows();
    if (!all.length) { return; }
    selected = Math.max(0, Math.min(index, all.length - 1));
    all.forEach(function (row, i) {
      var on = i === selected;
      row.setAttribute("aria-selected", on ? "true" : "false");
      row.classList.toggle("is-selected", on);
      row.tabIndex = on ? 0 : -1;
    });
    var row = all[selected];
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
    try { window.sessionStorage.setItem(STORE, String(selected)); } catch (e) { /* private mode */ }
  }

  function current() {
    var all = rows();
    return selected >= 0 && selected < all.length ? all[selected] : null;
  }

  /* The checked rows, or else the selected one (checked now so the form carries it). */
  function target(form) {
    if (form.id !== "bulk-form") { return true; }
    if (form.querySelector("input[name=ids]:checked, input[name=group]:checked")) { return true; }
    var row = current();
    var box = row && row.querySelector("input[name=ids]");
    if (!box) { return false; }
    box.checked = true;
    return true;
  }

  function triageForm() {
    return document.getElementById("bulk-form") || document.getElementById("triage-form");
  }

  function press(action) {
    var form = triageForm();
    if (!form || !target(form)) { return; }
    var button = form.querySelector('button[data-action="' + action + '"]');
    if (!button) { return; }  /* not possible from this status */
    if (action === "close") {
      var resolution = form.querySelector("[data-close-resolution]");
      if (resolution && !resolution.value) {
        resolution.scrollIntoView({ block: "center" });
        resolution.focus();
        return;  /* choose a resolution, then Enter */
      }
    }
    form.requestSubmit(button);
  }

  function help() {
    var dialog = document.getElementById("key-help");
    if (dialog && !dialog.open) { dialog.showModal(); }
  }

  function typing(element) {
    if (!element) { return false; }
    var tag = element.tagName;
    return tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || element.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey || event.defaultPrevented) { return; }
    var dialog = document.getElementById("key-help");
    if (dialog && dialog.open) { return; }  /* Escape closes it natively */
    var element = event.target;
    /* Enter on the resolution: close with it (the form's own Enter would not). */
    if (event.key === "Enter" && element.hasAttribute && element.hasAttribute("data-close-resolution")) {
      event.preventDefault();
      var button = element.form && element.form.querySelector('button[data-action="close"]');
      if (button && element.value) { element.form.requestSubmit(button); }
      return;
    }
    if (typing(element)) { return; }
    var key = event.key;
    if (key === "j" || key === "k") {
      event.preventDefault();
      select(selected < 0 ? 0 : selected + (key === "j" ? 1 : -1));
    } else if (key === "a" || key === "e" || key === "x") {
      event.preventDefault();
      press({ a: "acknowledge", e: "escalate", x: "close" }[key]);
    } else if (key === "/") {
      var search = document.getElementById("f-q");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
    } else if (key === "?") {
      event.preventDefault();
      help();
    } else if (key === "s") {
      var reason = document.querySelector("[data-suppress-reason]");
      if (reason) {
        event.preventDefault();
        reason.scrollIntoView({ block: "center" });
        reason.focus();
        reason.select();
      }
    } else if (key === "o" || (key === "Enter" && !element.closest("a, button, summary"))) {
      var row = current();
      if (row) { event.preventDefault(); window.location.assign(row.getAttribute("data-href")); }
    }
  });

  document.addEventListener("click", function (event) {
    var opener = event.target.closest && event.target.closest("[data-key-help]");
    if (opener) { help(); }
  });

  /* After a triage step the page reloads: keep the place in the queue. */
  document.addEventListener("DOMContentLoaded", function () {
    var saved = -1;
    try { saved = parseInt(window.sessionStorage.getItem(STORE) || "-1", 10); } catch (e) { saved = -1; }
    if (saved >= 0 && rows().length && document.referrer.indexOf("/alerts") !== -1) { select(saved); }
  });
})();
