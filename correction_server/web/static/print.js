// The slip's "print" button (kept out of the page: the Content-Security-Policy allows no inline script).
"use strict";
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
