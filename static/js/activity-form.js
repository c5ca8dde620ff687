// The activity record form on a phone: the reason box only for the absent, a running count, one tap
// for "all present", the county topic only for themed League days, and for a new branch committee
// meeting only the committee's members on the list (the others are neither shown nor sent). When a
// record is edited, its list is what was recorded: every row stays shown and sent, whatever the kind.
(function () {
  "use strict";
  var form = document.getElementById("activity-form");
  if (!form) return;
  var kind = form.querySelector("[name=kind]");
  var topic = document.getElementById("county-topic");
  var summary = document.getElementById("attendance-summary");
  var rows = Array.prototype.slice.call(form.querySelectorAll(".attendance-list .attendance-row"));
  var hasCommittee = rows.some(function (row) { return row.dataset.committee === "1"; });
  var editing = form.dataset.editing === "1";

  function showRow(row) {
    var present = row.querySelector(".present-toggle").checked;
    row.classList.toggle("is-absent", !present);
    row.querySelector(".absence-reason").hidden = present;
  }

  function count() {
    if (!summary) return;
    var shown = rows.filter(function (row) { return !row.hidden; });
    var present = shown.filter(function (row) { return row.querySelector(".present-toggle").checked; });
    summary.textContent = summary.dataset.template
      ? summary.dataset.template.replace("%(present)s", present.length).replace("%(total)s", shown.length)
      : present.length + " / " + shown.length;
  }

  function followKind() {
    if (topic) {
      // Hidden and not sent unless the activity is a themed League day: a topic chosen by default
      // must not follow the record into another kind.
      var themed = kind.value === form.dataset.themedKind;
      topic.hidden = !themed;
      topic.querySelector("select").disabled = !themed;
    }
    var committeeOnly = !editing && hasCommittee && kind.value === form.dataset.committeeKind;
    rows.forEach(function (row) {
      var hide = committeeOnly && row.dataset.committee !== "1";
      row.hidden = hide;
      row.querySelectorAll("input").forEach(function (input) { input.disabled = hide; });
    });
    count();
  }

  form.querySelectorAll(".attendance-row").forEach(function (row) {
    showRow(row);
    row.querySelector(".present-toggle").addEventListener("change", function () { showRow(row); count(); });
  });
  var allPresent = document.getElementById("all-present");
  if (allPresent) {
    allPresent.addEventListener("click", function () {
      rows.forEach(function (row) {
        if (row.hidden) return;
        row.querySelector(".present-toggle").checked = true;
        showRow(row);
      });
      count();
    });
  }
  if (kind) kind.addEventListener("change", followKind);
  followKind();
})();
