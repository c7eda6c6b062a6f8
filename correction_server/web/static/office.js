// The office console's live regions: an element with data-poll="SECONDS" is fetched again from
// the same page every SECONDS and replaced in place (the glance, an action's progress). When the
// fresh copy no longer asks to be polled (an action is done), polling stops. Without JavaScript,
// the page's "update now" link does the same.
(function () {
  "use strict";
  function poll(region) {
    var seconds = parseFloat(region.getAttribute("data-poll")) || 20;
    window.setTimeout(function () {
      fetch(window.location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" })
        .then(function (answer) { return answer.ok ? answer.text() : Promise.reject(answer.status); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(region.id);
          if (!fresh) { return; }
          region.replaceWith(fresh);
          if (fresh.hasAttribute("data-poll")) { poll(fresh); }
          else if (region.hasAttribute("data-done-reload")) { window.location.reload(); }
        })
        .catch(function () { poll(region); });
    }, seconds * 1000);
  }
  document.querySelectorAll("[data-poll]").forEach(poll);
})();
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
