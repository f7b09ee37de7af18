// Count down to the next scheduled mode on the zone's mode banner (_mode_banner.html) and to a
// referral's expiry, and count up a referral's waiting time: every
// element with data-countdown="<ISO instant>" shows the time left, refreshed every second.
// The server renders the first value; the day unit comes translated from data-unit-day.
(function () {
  "use strict";
  function text(seconds, day) {
    seconds = Math.max(0, Math.floor(seconds));
    var d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600);
    var m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    function two(n) { return (n < 10 ? "0" : "") + n; }
    if (d) { return d + " " + day + " " + h + " h"; }
    if (h) { return h + " h " + two(m) + " min"; }
    if (m) { return m + " min " + two(s) + " s"; }
    return s + " s";
  }
  function tick() {
    // time waited since data-countup (a referral's waiting time)
    Array.prototype.forEach.call(document.querySelectorAll("[data-countup]"), function (node) {
      var since = Date.parse(node.dataset.countup);
      if (!isNaN(since)) { node.textContent = text((Date.now() - since) / 1000, "d"); }
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-countdown]"), function (node) {
      var at = Date.parse(node.dataset.countdown);
      if (isNaN(at)) { return; }
      node.textContent = text((at - Date.now()) / 1000, node.dataset.unitDay || "d");
      // data-warn-s: mark the row when the expiry is that close (a referral about to expire)
      var warn = Number(node.dataset.warnS || 0), row = node.closest("tr");
      if (warn && row) { row.classList.toggle("expiring", at - Date.now() <= warn * 1000); }
    });
  }
  tick();
  window.setInterval(tick, 1000);
})();
