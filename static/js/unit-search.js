// Pickers that search as the user types (branches/searched_choices.py): each select[data-unit-search]
// becomes a Tom Select over what its picker offers (units, Party organizations, accounts), loaded
// from its kind's endpoint as the user types. `data-unit-for` names the picker's purpose; the server
// works out which rows that means for the user. The page renders only the row chosen, so it costs the
// same for 10 rows or 60,000; without JavaScript the plain <select> still carries the row chosen.
(function () {
  if (typeof TomSelect === "undefined") return;
  const escapeHtml = (text) =>
    text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

  document.querySelectorAll("select[data-unit-search]").forEach((select) => {
    const texts = select.dataset;
    new TomSelect(select, {
      valueField: "value",
      labelField: "text",
      // The fields the server matched (a unit's name or code, an account's username, name or phone):
      // the choices it sent for earlier searches are narrowed the same way, and shown in its order.
      searchField: texts.searchFields.split(" "),
      sortField: [{ field: texts.sortField }, { field: "$score" }],
      maxOptions: 50,
      plugins: { clear_button: { title: escapeHtml(texts.clear) } },
      placeholder: texts.placeholder,
      preload: "focus", // with nothing typed, what the picker offers first (the top of a unit tree)
      shouldLoad: () => true,
      loadThrottle: 250,
      load(query, callback) {
        const url = `${texts.unitSearch}?${new URLSearchParams({ for: texts.unitFor, q: query })}`;
        fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then((response) => (response.ok ? response.json() : { results: [] }))
          .then((data) => callback(data.results))
          .catch(() => callback());
      },
      // Once a row is picked, leave the field: a search answered late would otherwise open the list
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
