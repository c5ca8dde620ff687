// The tree page (branches/tree.html) shows two levels; a unit's children are fetched the first time
// the unit is opened (branches:tree-children), so the page stays small for a district of 6,000 units.
(function () {
  "use strict";
  const tree = document.querySelector("ul.tree");
  if (!tree) return;
  tree.addEventListener("show.bs.collapse", async (event) => {
    const list = event.target;
    const url = list.dataset.childrenUrl;
    if (!url || list.dataset.loaded) return;
    list.dataset.loaded = "1";
    const note = document.createElement("li");
    note.className = "text-muted small";
    note.textContent = tree.dataset.loadingText;
    list.replaceChildren(note);
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) throw new Error(response.status);
      list.innerHTML = await response.text();
    } catch (error) {
      delete list.dataset.loaded;
      note.className = "text-danger small";
      note.textContent = tree.dataset.errorText;
    }
  });
})();
