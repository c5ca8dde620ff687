// The member list's unit filter: a search-as-you-type choice (Tom Select) over the units in the
// user's scope, loaded from the server as the user types. The page renders only the chosen unit, so
// it costs the same for a township of 10 units and a city of 60,000; without JavaScript the plain
// <select> still carries a unit chosen through the URL.
(function () {
  const select = document.querySelector("select[data-unit-search]");
  if (!select || typeof TomSelect === "undefined") return;
  const texts = select.dataset;
  const escapeHtml = (text) =>
    text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

  new TomSelect(select, {
    valueField: "value",
    labelField: "text",
    // The server matched the name; the options it sent for earlier searches are narrowed the same way,
    // and shown in tree order like its answer.
    searchField: ["name"],
    sortField: [{ field: "path" }, { field: "$score" }],
    maxOptions: 50,
    plugins: { clear_button: { title: escapeHtml(texts.clear) } },
    placeholder: texts.placeholder,
    preload: "focus", // with nothing typed, the top of the user's tree
    shouldLoad: () => true,
    loadThrottle: 250,
    load(query, callback) {
      const url = `${texts.unitSearch}?${new URLSearchParams({ q: query })}`;
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((response) => (response.ok ? response.json() : { results: [] }))
        .then((data) => callback(data.results))
        .catch(() => callback());
    },
    // Once a unit is picked, leave the field: a search answered late would otherwise open the list
    // again over the Search button.
    onItemAdd() {
      this.blur();
    },
    render: {
      loading: () => `<div class="no-results text-muted">${escapeHtml(texts.loading)}</div>`,
      no_results: () => `<div class="no-results">${escapeHtml(texts.noResults)}</div>`,
    },
  });
})();
