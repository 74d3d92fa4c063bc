// The progress bar of a city import: asks the server how far the work is every second and moves
// the <progress> bar; when the work is over, reloads the page, which then shows the preview or the
// result. Without JavaScript the page refreshes itself instead (a <meta> refresh in <noscript>).
(function () {
  "use strict";

  var box = document.querySelector("[data-import-status]");
  if (!box) {
    return;
  }
  var url = box.getAttribute("data-import-status");
  var bar = box.querySelector("progress");
  var label = box.querySelector("[data-import-label]");
  var delay = 1000;

  function show(status) {
    bar.max = Math.max(status.total, 1);
    if (status.saving) {
      bar.removeAttribute("value"); // an indeterminate bar while everything is written at once
    } else {
      bar.value = status.processed;
    }
    bar.textContent = status.processed + " / " + status.total;
    label.textContent = status.label;
  }

  function poll() {
    fetch(url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (status) {
        if (!status.running) {
          window.location.reload();
          return;
        }
        show(status);
        delay = 1000;
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        // The server is busy or restarting, or the session ended: ask less often.
        delay = Math.min(delay * 2, 15000);
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
})();
