// The controller's clock: ticks locally every second and, on a running clock, asks the server
// every 5 s to release what is due (the server decides; the page reloads when something went out).
(function () {
  const box = document.getElementById("clock");
  if (!box) return;
  const out = document.getElementById("clock-value");
  const start = Date.now();
  const base = parseFloat(box.dataset.seconds || "0");
  const running = box.dataset.running === "1";
  const csrf = (document.querySelector("input[name=csrfmiddlewaretoken]") || {}).value;
  const pad = (n) => String(n).padStart(2, "0");
  function show() {
    const s = Math.floor(base + (running ? (Date.now() - start) / 1000 : 0));
    out.textContent = `${Math.floor(s / 3600)}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
  }
  show();
  if (!running) return;
  setInterval(show, 1000);
  if (box.dataset.pacing !== "clock") return;
  setInterval(() => {
    fetch(box.dataset.tick, {
      method: "POST",
      headers: { "X-CSRFToken": csrf, Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" },
      body: "action=release_due",
      credentials: "same-origin",
    }).then((r) => r.json()).then((data) => { if (data.released && data.released.length) window.location.reload(); });
  }, 5000);
})();
