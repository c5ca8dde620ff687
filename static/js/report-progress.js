// Polls an archived report's generation (reports:progress) and shows the report when it is done:
// the bar moves by itself, and the page reloads once the work has ended (ready or failed). A
// generation abandoned by its worker ("stalled") stops the polling and offers to ask again.
(function () {
  const box = document.querySelector("[data-progress-url]");
  if (!box) return;
  const meter = box.querySelector("[role=progressbar]");
  const bar = box.querySelector(".progress-bar");
  const message = box.querySelector("[data-progress-message]");
  const stalled = document.querySelector("[data-progress-stalled]");
  const working = ["queued", "running"];
  let delay = 1000;
  async function poll() {
    try {
      const response = await fetch(box.dataset.progressUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (response.ok) {
        const state = await response.json();
        if (state.status === "stalled" && stalled) {
          box.hidden = true;
          stalled.querySelector("[data-stalled-message]").textContent = state.message;
          stalled.hidden = false;
          return;
        }
        bar.style.width = state.percent + "%";
        bar.textContent = state.percent + "%";
        meter.setAttribute("aria-valuenow", state.percent);
        if (state.message && message) message.textContent = state.message;
        if (!working.includes(state.status)) {
          window.location.reload();
          return;
        }
        delay = 1000;
      }
    } catch (error) {
      // A passing network error: wait a little longer, then try again.
      delay = Math.min(delay * 2, 10000);
    }
    window.setTimeout(poll, delay);
  }
  window.setTimeout(poll, delay);
})();
