// Keyboard shortcuts for the triage pages. Everything they do is also a link, button or form field.
(function () {
  "use strict";
  function typing(event) {
    var t = event.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(t.tagName));
  }
  function focusTarget(name) {
    var el = document.querySelector('[data-shortcut-target="' + name + '"]');
    if (el) { el.focus(); if (el.scrollIntoView) { el.scrollIntoView({block: "center"}); } }
    return !!el;
  }
  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-queue] [data-row]"));
  var current = -1;
  function select(index) {
    if (!rows.length) { return; }
    index = Math.max(0, Math.min(rows.length - 1, index));
    if (current >= 0) { rows[current].classList.remove("selected"); }
    current = index;
    rows[current].classList.add("selected");
    var link = rows[current].querySelector("a");
    if (link) { link.focus(); }
  }
  function follow(key) {
    var link = document.querySelector('a[data-key="' + key + '"]');
    if (link) { window.location.href = link.href; return true; }
    return false;
  }
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event)) { return; }
    var key = event.key, handled = true;
    if (key === "?") {
      var list = document.getElementById("shortcuts");
      if (list) { list.hidden = !list.hidden; }
    } else if (rows.length && key === "j") { select(current + 1); }
    else if (rows.length && key === "k") { select(current - 1); }
    else if (rows.length && (key === "o" || key === "Enter") && current >= 0) {
      window.location.href = rows[current].getAttribute("data-href");
    } else if (key === "/") { handled = focusTarget("search"); }
    else if (key === "d") {
      var decision = document.getElementById("decision");
      if (decision) {
        var field = decision.querySelector("input, select, textarea, button");
        (field || decision).focus();
      } else { handled = false; }
    } else if (key === "a") { handled = focusTarget("anchor"); }
    else if (key === "m") { handled = focusTarget("note"); }
    else if (key === "n" || key === "p" || key === "u") { handled = follow(key); }
    else { handled = false; }
    if (handled) { event.preventDefault(); }
  });
}());
