// Polls an import's progress and reloads the page when the background work is done.
(function () {
  const box = document.querySelector("[data-progress-url]");
  if (!box) return;
  const bar = box.querySelector(".progress-bar");
  const working = ["queued", "checking", "committing"];
  async function poll() {
    try {
      const response = await fetch(box.dataset.progressUrl, { headers: { Accept: "application/json" } });
      const state = await response.json();
      bar.style.width = state.percent + "%";
      bar.textContent = state.percent + "%";
      box.setAttribute("aria-valuenow", state.percent);
      if (!working.includes(state.status)) {
        window.location.reload();
        return;
      }
    } catch (error) {
      // A passing network error: try again on the next tick.
    }
    window.setTimeout(poll, 1000);
  }
  window.setTimeout(poll, 1000);
})();
