// A long form's session timer (templates/includes/session_timer.html): the time left as the server
// counted it when the page was sent, a warning dialog before the end, and "Stay signed in", which
// asks the server to push the end back. Typing alone never reaches the server, so it does not count.
(function () {
  "use strict";

  var timer = document.querySelector("[data-session-timer]");
  if (!timer) { return; }
  var remaining = timer.querySelector("[data-session-remaining]");
  var status = timer.querySelector("[data-session-status]");
  var dialog = timer.querySelector("[data-session-warning]");
  var title = timer.querySelector("[data-session-warning-title]");
  var text = timer.querySelector("[data-session-warning-text]");
  var warnSeconds = parseInt(timer.getAttribute("data-warn-seconds"), 10) || 120;
  var deadline = 0;
  var warned = false;
  var ended = false;

  function words(seconds) {
    if (seconds >= 120) { return Math.ceil(seconds / 60) + " minutes"; }
    var minutes = Math.floor(seconds / 60);
    var rest = seconds % 60;
    var parts = [];
    if (minutes) { parts.push(minutes + (minutes === 1 ? " minute" : " minutes")); }
    if (rest || !minutes) { parts.push(rest + (rest === 1 ? " second" : " seconds")); }
    return parts.join(" ");
  }

  function secondsLeft() {
    return Math.max(0, Math.round((deadline - Date.now()) / 1000));
  }

  function openDialog() {
    if (dialog.open) { return; }
    if (typeof dialog.showModal === "function") { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
  }

  function closeDialog() {
    if (!dialog.open) { return; }
    if (typeof dialog.close === "function") { dialog.close(); } else { dialog.removeAttribute("open"); }
  }

  function end() {
    ended = true;
    remaining.textContent = "no more time";
    title.textContent = "Your session has ended";
    text.textContent = "For patients' privacy you were signed out. Your form is still on this page: send it " +
      "when you are ready, sign in again, and it will be waiting for you to check and sign anew.";
    Array.prototype.forEach.call(timer.querySelectorAll("[data-session-extend]"), function (button) {
      button.hidden = true;
    });
    openDialog();
  }

  function tick() {
    if (ended) { return; }
    var left = secondsLeft();
    if (left === 0) { end(); return; }
    remaining.textContent = words(left);
    if (left <= warnSeconds) {
      text.textContent = "You will be signed out in " + words(left) + " unless you stay signed in. " +
        "Your form stays on this page.";
      if (!warned) {
        warned = true;
        openDialog();
      }
    }
  }

  function start(seconds) {
    deadline = Date.now() + seconds * 1000;
    warned = false;
    tick();
  }

  function extend() {
    fetch(timer.getAttribute("data-extend-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {"X-CSRFToken": timer.getAttribute("data-csrf-token"), "Accept": "application/json"}
    }).then(function (response) {
      if (!response.ok) { throw new Error("signed out"); }
      return response.json();
    }).then(function (answer) {
      closeDialog();
      start(answer.seconds_left);
      status.textContent = "You stay signed in for " + words(answer.seconds_left) + " more.";
    }).catch(end);
  }

  timer.addEventListener("click", function (event) {
    if (event.target.closest("[data-session-extend]")) { extend(); }
    if (event.target.closest("[data-session-close]")) { closeDialog(); }
  });

  start(parseInt(timer.getAttribute("data-seconds-left"), 10) || 0);
  window.setInterval(tick, 1000);
})();
