// Ask before any action form with class "confirm-form" is sent (the server also requires the
// "I confirm" box and a reason). The question names the button pressed: a form may have two
// (Grant / Deny); a button's data-confirm gives the whole question. No inline script: the content security policy forbids it.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("confirm-form")) { return; }
    var button = event.submitter || form.querySelector("button");
    // data-confirm names the action, the plate and the lane ({plate}, {lane} from the form)
    var question = button && button.dataset.confirm
      ? button.dataset.confirm.replace("{plate}", form.dataset.plate || "–").replace("{lane}", form.dataset.lane || "")
      : (button ? button.textContent.trim() : "") + "?";
    if (!window.confirm(question)) {
      event.preventDefault();
    }
  });
})();
