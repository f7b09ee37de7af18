// Small behaviours without inline scripts (the content security policy forbids them).
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target && target.classList && target.classList.contains("autosubmit") && target.form) {
    target.form.submit();
  }
});
document.body.addEventListener("htmx:configRequest", function (event) {
  var token = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (token) { event.detail.headers["X-CSRFToken"] = token.value; }
});
