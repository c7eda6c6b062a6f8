// Starts Swagger UI on /docs (kept out of the page: the Content-Security-Policy allows no inline script).
"use strict";
(function () {
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: root.dataset.schema, dom_id: "#swagger-ui", deepLinking: true });
})();
