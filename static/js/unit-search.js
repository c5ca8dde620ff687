// Unit pickers that search as the user types (branches/unit_search.py): each select[data-unit-search]
// becomes a Tom Select over the units its picker offers, loaded from the server as the user types.
// `data-unit-for` names the picker's purpose; the server works out which units that means for the
// user. The page renders only the chosen unit, so it costs the same for a township of 10 units and
// a city of 60,000; without JavaScript the plain <select> still carries the unit chosen.
(function () {
  if (typeof TomSelect === "undefined") return;
  const escapeHtml = (text) =>
    text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

  document.querySelectorAll("select[data-unit-search]").forEach((select) => {
    const texts = select.dataset;
    new TomSelect(select, {
      valueField: "value",
      labelField: "text",
      // The server matched the name or the code; the options it sent for earlier searches are
      // narrowed the same way, and shown in tree order like its answer.
      searchField: ["name", "code"],
      sortField: [{ field: "path" }, { field: "$score" }],
      maxOptions: 50,
      plugins: { clear_button: { title: escapeHtml(texts.clear) } },
      placeholder: texts.placeholder,
      preload: "focus", // with nothing typed, the top of the user's tree
      shouldLoad: () => true,
      loadThrottle: 250,
      load(query, callback) {
        const url = `${texts.unitSearch}?${new URLSearchParams({ for: texts.unitFor, q: query })}`;
        fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then((response) => (response.ok ? response.json() : { results: [] }))
          .then((data) => callback(data.results))
          .catch(() => callback());
      },
      // Once a unit is picked, leave the field: a search answered late would otherwise open the list
      // again over the button below it.
      onItemAdd() {
        this.blur();
      },
      render: {
        loading: () => `<div class="no-results text-muted">${escapeHtml(texts.loading)}</div>`,
        no_results: () => `<div class="no-results">${escapeHtml(texts.noResults)}</div>`,
      },
    });
  });
})();
