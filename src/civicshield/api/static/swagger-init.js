// Starts Swagger UI on /api/docs. The page's Content-Security-Policy forbids inline scripts,
// so the settings arrive as data- attributes of #swagger-ui.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  var csrfHeader = root.getAttribute("data-csrf-header") || "X-CSRF-Token";
  var csrfToken = root.getAttribute("data-csrf-token") || "";
  var unsafe = { POST: true, PUT: true, PATCH: true, DELETE: true };

  window.ui = window.SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    presets: [
      window.SwaggerUIBundle.presets.apis,
      window.SwaggerUIBundle.SwaggerUIStandalonePreset
    ],
    deepLinking: true,
    showExtensions: true,
    persistAuthorization: false,
    validatorUrl: null,
    // A signed-in browser's writes need the session's CSRF token (API tokens do not).
    requestInterceptor: function (request) {
      var method = (request.method || "GET").toUpperCase();
      if (csrfToken && unsafe[method]) {
        request.headers[csrfHeader] = csrfToken;
      }
      return request;
    }
  });
})();
