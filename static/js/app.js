// Behaviour for every page, loaded from a file: the Content-Security-Policy forbids inline script.
(function () {
  "use strict";

  // Formsets: a button with data-formset-add="prefix" clones the empty form of that formset.
  function addFormsetRow(prefix) {
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var template = document.getElementById(prefix + "-empty-form");
    var target = document.getElementById(prefix + "-rows");
    if (!total || !template || !target) { return; }
    var index = parseInt(total.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    var wrapper = document.createElement("div");
    wrapper.innerHTML = html;
    while (wrapper.firstElementChild) {
      target.appendChild(wrapper.firstElementChild);
    }
    total.value = String(index + 1);
    var inputs = target.querySelectorAll("input, select, textarea");
    if (inputs.length) { inputs[inputs.length - 1].focus(); }
  }

  // Barcode scan fields: a scanner types the code and then Enter. Enter moves on to the next scan
  // field (then to the first box left unticked) instead of submitting a half-checked form.
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (event.key !== "Enter" || !field.matches || !field.matches("input[data-scan]")) { return; }
    event.preventDefault();
    var form = field.form;
    if (!form) { return; }
    var scans = Array.prototype.slice.call(form.querySelectorAll("input[data-scan]"));
    var next = scans.slice(scans.indexOf(field) + 1).filter(function (input) { return !input.value; })[0]
      || form.querySelector("input[type=checkbox]:not(:checked)")
      || form.querySelector("button[type=submit]");
    if (next) { next.focus(); }
  });

  // A form's one-time token (input[data-form-token]). Back after sending it shows the form again
  // as a new page with a new token, but the browser puts back what was typed: sent again, that
  // would be a second prescription. So the token sent is remembered for the tab, and a form that
  // comes back filled in takes it again: the server then shows what it already made.
  function sentTokenKey() { return "sent-form-token:" + window.location.pathname; }

  document.addEventListener("submit", function (event) {
    var token = event.target.querySelector && event.target.querySelector("input[data-form-token]");
    if (token) {
      try { window.sessionStorage.setItem(sentTokenKey(), token.value); } catch (ignored) { /* storage off */ }
    }
  });

  window.addEventListener("pageshow", function () {
    var token = document.querySelector("input[data-form-token]");
    if (!token || !token.form) { return; }
    var typed = Array.prototype.some.call(
      token.form.querySelectorAll("input:not([type=hidden]):not([type=checkbox]), textarea"),
      function (field) { return field.value !== field.defaultValue; }
    );
    var sent = null;
    try { sent = window.sessionStorage.getItem(sentTokenKey()); } catch (ignored) { /* storage off */ }
    if (typed && sent) { token.value = sent; }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-formset-add]");
    if (button) {
      event.preventDefault();
      addFormsetRow(button.getAttribute("data-formset-add"));
    }
    var confirmable = event.target.closest("[data-confirm]");
    if (confirmable && !window.confirm(confirmable.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // A table wider than the screen scrolls inside its box; that box then takes keyboard focus (so the
  // arrow keys scroll it) and is named after the table's caption for screen readers.
  function markScrollingTables(root) {
    var boxes = root.querySelectorAll(".table-responsive");
    Array.prototype.forEach.call(boxes, function (box) {
      if (box.scrollWidth <= box.clientWidth) {
        if (box.hasAttribute("data-scrolls")) {
          box.removeAttribute("data-scrolls");
          box.removeAttribute("tabindex");
          box.removeAttribute("role");
          box.removeAttribute("aria-label");
        }
        return;
      }
      if (box.hasAttribute("tabindex")) { return; }
      var caption = box.querySelector("caption");
      box.setAttribute("data-scrolls", "");
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", caption ? caption.textContent.trim() : "Table");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { markScrollingTables(document); });
  window.addEventListener("resize", function () { markScrollingTables(document); });
  document.addEventListener("htmx:afterSwap", function (event) { markScrollingTables(event.target); });
})();
