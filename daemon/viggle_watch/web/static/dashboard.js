// viggle-watch dashboard: drop files on a rule's card to render them (no framework).
// Each drop is one submission (POST /api/v1/submissions): the service writes the files into
// that rule's watch folder, under a temporary name renamed when complete, so they take the
// path any dropped file takes. The card then follows the submission until the intake decides.
(function () {
  "use strict";
  const csrf = document.body.dataset.csrf || "";

  function line(list, text, kind) {
    const li = document.createElement("li");
    li.textContent = text;
    if (kind) li.className = kind;
    list.prepend(li);
    return li;
  }

  async function follow(id, li, names) {
    for (let i = 0; i < 600; i++) {
      const answer = await fetch("/api/v1/submissions/" + encodeURIComponent(id), { credentials: "same-origin" });
      if (answer.ok) {
        const s = await answer.json();
        if (s.state === "accepted") {
          li.className = "accepted";
          li.textContent = names + ": queued as job " + (s.jobs || []).map(function (j) { return "#" + j; }).join(", ");
          return;
        }
        if (s.state === "duplicate") {
          li.className = "accepted";
          li.textContent = names + ": already rendered (job " + (s.duplicate_of || []).map(function (j) { return "#" + j; }).join(", ") + "): not paid again";
          return;
        }
        if (s.state === "refused") {
          li.className = "refused";
          li.textContent = names + ": refused: " + (s.reason || "see Needs a person");
          return;
        }
        li.textContent = names + ": " + (s.waits || "waiting for the intake") + "…";
      }
      await new Promise(function (r) { setTimeout(r, 1000); });
    }
  }

  async function submit(card, files) {
    const list = card.querySelector(".uploads");
    if (!files.length) return;
    const names = Array.from(files).map(function (f) { return f.name; }).join(", ");
    const li = line(list, names + ": uploading…", "");
    const body = new FormData();
    body.append("rule", card.dataset.rule);
    for (const f of files) body.append("file", f, f.name);
    let answer;
    try {
      answer = await fetch("/api/v1/submissions", {
        method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRF-Token": csrf },
      });
    } catch (e) {
      li.className = "refused";
      li.textContent = names + ": the upload failed (" + e + ")";
      return;
    }
    const said = await answer.json().catch(function () { return {}; });
    if (answer.status !== 202 && answer.status !== 200) {
      li.className = "refused";
      li.textContent = names + ": " + (said.detail || ("refused (" + answer.status + ")"));
      return;
    }
    li.textContent = names + ": handed to " + card.dataset.rule + "…";
    await follow(said.id, li, names);
  }

  document.addEventListener("dragover", function (e) {
    const card = e.target.closest && e.target.closest(".dropzone");
    if (card) { e.preventDefault(); card.classList.add("over"); }
  });
  document.addEventListener("dragleave", function (e) {
    const card = e.target.closest && e.target.closest(".dropzone");
    if (card) card.classList.remove("over");
  });
  document.addEventListener("drop", function (e) {
    const card = e.target.closest && e.target.closest(".dropzone");
    if (!card) return;
    e.preventDefault();
    card.classList.remove("over");
    submit(card, e.dataTransfer.files);
  });
  document.addEventListener("change", function (e) {
    const input = e.target;
    if (input.type !== "file" || !input.dataset.rule) return;
    submit(input.closest(".dropzone"), input.files).then(function () { input.value = ""; });
  });
})();
