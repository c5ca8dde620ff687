// Adds a row to a Django formset: clones the empty form from a <template>, numbers it, and counts it
// in the management form's TOTAL_FORMS. Without JavaScript the formset's spare rows still work.
(function () {
  document.querySelectorAll("[data-add-row]").forEach(function (button) {
    const rows = document.getElementById(button.dataset.addRow);
    const template = document.getElementById(button.dataset.template);
    const total = document.querySelector('input[name="' + button.dataset.prefix + '-TOTAL_FORMS"]');
    const max = document.querySelector('input[name="' + button.dataset.prefix + '-MAX_NUM_FORMS"]');
    button.addEventListener("click", function () {
      const index = parseInt(total.value, 10);
      if (max && index >= parseInt(max.value, 10)) return;
      const html = template.innerHTML.replace(/__prefix__/g, String(index));
      rows.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
    });
  });
})();
