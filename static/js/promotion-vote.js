// The vote page of a recommendation round: shows, while the figures are typed, the quorum and the votes
// a candidate needs, and flags figures that cannot be true. Only a guide: the server decides.
(function () {
  const form = document.querySelector("[data-vote-form]");
  if (!form) return;
  const [num, den] = form.dataset.quorum.split("/").map(Number);
  const basisIsPresent = form.dataset.passBasis === "present";
  const field = (name) => form.querySelector(`[name="${name}"]`);
  const number = (input) => (input && input.value !== "" ? Number(input.value) : null);
  const show = (key, text, state) => {
    const element = form.querySelector(`[data-show="${key}"]`);
    if (!element) return;
    element.textContent = text;
    element.classList.remove("text-bg-success", "text-bg-danger", "text-bg-light");
    element.classList.add(state === true ? "text-bg-success" : state === false ? "text-bg-danger" : "text-bg-light");
  };
  const words = form.dataset;

  function update() {
    const voting = number(field("voting_members"));
    const present = number(field("present_members"));
    // More than voting × num/den present: the smallest whole number above it.
    const quorum = voting === null ? null : Math.floor((voting * num) / den) + 1;
    const quorumMet = quorum === null || present === null ? null : present >= quorum && present <= voting;
    show("quorum", quorum === null ? "—" : words.quorumText.replace("{n}", quorum), quorumMet);
    const basis = basisIsPresent ? present : voting;
    const needed = basis === null ? null : Math.floor(basis / 2) + 1;
    show("needed", needed === null ? "—" : words.neededText.replace("{n}", needed), null);
    form.querySelectorAll("[data-candidate]").forEach((row) => {
      const id = row.dataset.candidate;
      const votesFor = number(field(`for-${id}`));
      const against = number(field(`against-${id}`));
      const abstaining = number(field(`abstaining-${id}`));
      const key = `result-${id}`;
      if (votesFor === null || against === null || abstaining === null || needed === null) {
        show(key, "—", null);
      } else if (present !== null && votesFor + against + abstaining > present) {
        show(key, words.tooManyText, false);
      } else {
        show(key, votesFor >= needed ? words.passText : words.failText, votesFor >= needed);
      }
    });
  }
  form.addEventListener("input", update);
  update();
})();
