// The signing page: a signature_pad on the canvas; on submit, the drawing goes into the hidden
// "signature" field as a PNG data URL. Without JavaScript the typed signature still works.
(function () {
  "use strict";
  var box = document.querySelector("[data-signature-pad]");
  var form = document.getElementById("endorsement-form");
  if (!box || !form || typeof SignaturePad === "undefined") { return; }
  var canvas = box.querySelector("canvas");
  var field = form.querySelector("input[name=signature]");
  var pad = new SignaturePad(canvas, { penColor: "#101830", backgroundColor: "rgba(0,0,0,0)" });

  function fit() {
    var ratio = Math.max(window.devicePixelRatio || 1, 1);
    var data = pad.toData();
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
    pad.clear();
    pad.fromData(data);
  }
  window.addEventListener("resize", fit);
  fit();
  box.querySelector("[data-clear]").addEventListener("click", function () { pad.clear(); });
  form.addEventListener("submit", function () {
    field.value = pad.isEmpty() ? "" : pad.toDataURL("image/png");
  });
})();
