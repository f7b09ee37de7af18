// Sound for high-priority alarms in the control room (rempart.access.alarms). Browsers mute a
// page until a person interacts with it, so the sound stays off until the operator presses
// "Allow alarm sound" (#alarm-sound); the choice is remembered in this browser. While any
// unacknowledged high-priority alarm is listed (li[data-priority=high][data-unacknowledged]),
// a short two-tone beep plays every 2 seconds (Web Audio: no sound file to load).
(function () {
  "use strict";
  var button = document.getElementById("alarm-sound");
  if (!button) { return; }
  var Context = window.AudioContext || window.webkitAudioContext;
  var audio = null;
  var KEY = "rempart.alarmSound";

  function enabled() { return button.getAttribute("aria-pressed") === "true"; }
  function show(on) {
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.textContent = on ? button.dataset.on : button.dataset.off;
    button.classList.toggle("primary", on);
  }
  function beep() {
    if (!audio) { return; }
    [880, 660].forEach(function (hz, i) {
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = hz; gain.gain.value = 0.2;
      osc.connect(gain); gain.connect(audio.destination);
      var start = audio.currentTime + i * 0.25;
      osc.start(start); osc.stop(start + 0.2);
    });
  }
  button.addEventListener("click", function () {
    var on = !enabled();
    if (on && Context && !audio) { audio = new Context(); }
    if (audio && audio.state === "suspended") { audio.resume(); }
    show(on);
    try { window.localStorage.setItem(KEY, on ? "1" : "0"); } catch (e) { /* private mode */ }
    if (on) { beep(); }
  });
  // remembered "on" still needs a click to start audio (autoplay rules): the first click
  // anywhere on the page starts it.
  var remembered = false;
  try { remembered = window.localStorage.getItem(KEY) === "1"; } catch (e) { remembered = false; }
  if (remembered) {
    show(true);
    document.addEventListener("click", function start() {
      if (Context && !audio) { audio = new Context(); }
      document.removeEventListener("click", start);
    });
  }
  window.setInterval(function () {
    if (!enabled()) { return; }
    if (document.querySelector('#alarm-list li[data-priority="high"][data-unacknowledged]')) { beep(); }
  }, 2000);
})();
