// Live progress of a build: poll its JSON, update the bar and the state, reload when it has finished.
// The page works without this script: it shows the state at load time and a reload shows the news.
(function () {
  "use strict";
  var box = document.querySelector("[data-build-status]");
  if (!box) { return; }
  var url = box.getAttribute("data-build-status");
  var bar = box.querySelector("progress");
  var percent = box.querySelector("[data-build-percent]");
  var state = box.querySelector("[data-build-state]");
  var labels = JSON.parse(box.getAttribute("data-build-labels"));
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (build) {
        if (!build) { return; }
        if (bar) { bar.value = build.progress; }
        if (percent) { percent.textContent = build.progress + "%"; }
        if (state && labels[build.state]) { state.textContent = labels[build.state]; }
        if (build.state === "done" || build.state === "failed") {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  if (box.getAttribute("data-build-finished") !== "true") { window.setTimeout(poll, 1000); }
}());
