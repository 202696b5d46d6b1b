// LaunchGate dashboard: the few behaviours htmx does not cover. No inline scripts (the
// pages' Content-Security-Policy forbids them), so everything is wired here by data-*.
(function () {
  "use strict";

  // Copy buttons: <button data-copy="#element-id">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.textContent.trim();
    var done = function () {
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = "Copy"; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallback(source, done); });
    } else {
      fallback(source, done);
    }
  });

  function fallback(source, done) {
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    try { if (document.execCommand("copy")) done(); } catch (e) { /* selected: Ctrl-C */ }
  }

  // Forms that undo something ask first: <form data-confirm="Revoke…?">.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // Fields shown for one choice only: <div data-show-when="provider=azure_openai">.
  function sync(root) {
    root.querySelectorAll("[data-show-when]").forEach(function (block) {
      var rule = block.getAttribute("data-show-when").split("=");
      var control = document.querySelector("[name='" + rule[0] + "']");
      if (!control) return;
      var on = control.type === "checkbox" ? control.checked : control.value === rule[1];
      block.hidden = !on;
      block.querySelectorAll("input, select, textarea").forEach(function (input) {
        input.disabled = !on;
      });
    });
  }
  document.addEventListener("change", function () { sync(document); });
  document.addEventListener("DOMContentLoaded", function () { sync(document); });
  document.addEventListener("htmx:afterSettle", function () { sync(document); });
})();
