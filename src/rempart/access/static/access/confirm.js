// Ask before any action form with class "confirm-form" is sent (the server also requires the
// "I confirm" box and a reason). The question names the button pressed: a form may have two
// (Grant / Deny). No inline script: the content security policy forbids it.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("confirm-form")) { return; }
    var button = event.submitter || form.querySelector("button");
    if (!window.confirm((button ? button.textContent.trim() : "") + "?")) {
      event.preventDefault();
    }
  });
})();
