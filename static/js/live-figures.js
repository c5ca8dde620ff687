// While the statistics dashboard shows figures kept from before a change and the worker computes
// them again (reports/cache.py), asks reports:unit-live every two seconds, for two minutes at most.
// Once newer figures are kept it stops and replaces the "updating" note by a link to them: never a
// reload by itself — with changes trickling in, the new figures would be stale again at once, and an
// endless reload would keep an unattended tab's session alive. It stops early if the computation
// ended without new figures (a failed task); the note's refresh link stays for that, and for a page
// without script.
(function () {
  const box = document.querySelector("[data-live-url]");
  if (!box) return;
  const note = box.querySelector("[data-live-note]");
  const ready = box.querySelector("[data-live-ready]");
  const shown = box.dataset.computedAt;
  const every = 2000;
  const until = Date.now() + 120000;
  async function poll() {
    try {
      const response = await fetch(box.dataset.liveUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (response.ok) {
        const state = await response.json();
        if (state.computed_at && state.computed_at !== shown) {
          note.hidden = true;
          ready.hidden = false;
          return;
        }
        if (!state.updating) return;
      }
    } catch (error) {
      // A passing network error: ask again at the next turn.
    }
    if (Date.now() < until) window.setTimeout(poll, every);
  }
  window.setTimeout(poll, every);
})();
