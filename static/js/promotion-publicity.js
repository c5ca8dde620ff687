// The publicity form of a recommendation round: shows, as the start date is changed, the day the
// publicity ends (the N-th working day from the start, the start included when it is one). The
// working days come from the server in the page (weekends and recorded holidays left out, make-up
// days in), so no request is needed; only a guide: the server computes the end again when publicity
// starts.
(function () {
  const form = document.querySelector("[data-publicity-form]");
  const data = document.getElementById("publicity-calendar");
  if (!form || !data) return;
  const calendar = JSON.parse(data.textContent);
  const input = form.querySelector('[name="starts_on"]');
  const output = form.querySelector("[data-publicity-end]");
  if (!input || !output) return;

  // ISO dates (YYYY-MM-DD) compare as strings.
  function endOf(start) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(start) || start < calendar.from || start > calendar.to) return null;
    const first = calendar.working_days.findIndex((day) => day >= start);
    if (first === -1) return null;
    return calendar.working_days[first + calendar.days - 1] || null;
  }

  function update() {
    const start = input.value;
    const end = endOf(start);
    output.textContent = end
      ? form.dataset.endPattern.replace("{start}", start).replace("{end}", end)
      : form.dataset.unknownText;
    output.dataset.end = end || "";
  }
  input.addEventListener("input", update);
  input.addEventListener("change", update);
})();
