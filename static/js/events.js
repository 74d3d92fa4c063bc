// The events' pages show times in the viewer's own zone. On the first visit (no "tz" cookie)
// this remembers the browser's zone and reloads once; the "Times shown in" form changes it.
(function () {
  "use strict";
  var hasChoice = document.cookie.split("; ").some(function (c) { return c.indexOf("tz=") === 0; });
  if (hasChoice) { return; }
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone) { return; }
  if (!/^[A-Za-z0-9_+\-\/]+$/.test(zone)) { return; }
  document.cookie = "tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
  var stored = document.cookie.split("; ").some(function (c) { return c.indexOf("tz=") === 0; });
  var form = document.querySelector("form[data-viewer-zone]");
  if (stored && form && form.getAttribute("data-viewer-zone") !== zone) {
    window.location.reload();
  }
})();
