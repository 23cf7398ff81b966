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

  function jobLinks(ids) {
    return (ids || []).map(function (j) { return "#" + j; }).join(", ");
  }

  function renamed(s) {
    const moved = (s.files || []).filter(function (f) { return f.name !== f.sent_as; });
    return moved.map(function (f) { return " (saved as " + f.name + ")"; }).join("");
  }

  async function finish(ids, li, names) {
    // follow the jobs to their end: done (with a link), or what stopped them
    const ends = { done: "done", failed: "failed", cancelled: "cancelled", review: "held for review", uncertain: "uncertain: needs a person" };
    for (let i = 0; i < 1800; i++) {
      const states = [];
      for (const id of ids) {
        const answer = await fetch("/api/v1/jobs/" + id, { credentials: "same-origin" });
        if (answer.ok) states.push((await answer.json()).state);
      }
      li.textContent = "";
      const link = document.createElement("a");
      link.href = "/jobs/" + ids[0];
      link.textContent = "job " + jobLinks(ids);
      li.append(names + ": ", link, " " + states.join(", "));
      if (states.length === ids.length && states.every(function (s) { return s in ends; })) {
        li.className = states.every(function (s) { return s === "done"; }) ? "accepted" : "refused";
        li.lastChild.textContent = " " + states.map(function (s) { return ends[s]; }).join(", ");
        return;
      }
      await new Promise(function (r) { setTimeout(r, 2000); });
    }
  }

  async function follow(id, li, names) {
    for (let i = 0; i < 600; i++) {
      const answer = await fetch("/api/v1/submissions/" + encodeURIComponent(id), { credentials: "same-origin" });
      if (answer.ok) {
        const s = await answer.json();
        const shown = names + renamed(s);
        if (s.state === "accepted") {
          li.className = "";
          li.textContent = shown + ": queued as job " + jobLinks(s.jobs);
          await finish(s.jobs, li, shown);
          return;
        }
        if (s.state === "duplicate") {
          li.className = "accepted";
          li.textContent = shown + ": the same render as job " + jobLinks(s.duplicate_of) + ": not paid again";
          return;
        }
        if (s.state === "refused") {
          li.className = "refused";
          li.textContent = "refused: " + (s.reason || shown + ": see Needs a person");
          return;
        }
        li.textContent = shown + ": waiting for " + (s.waits || "the intake") + "…";
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
      const detail = typeof said.detail === "string" ? said.detail : "refused (" + answer.status + ")";
      li.textContent = detail.indexOf(names) >= 0 ? detail : names + ": " + detail;
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
    if (input.classList && input.classList.contains("all")) {  // select every job on the page
      input.closest("form").querySelectorAll("input[name=ids]").forEach(function (box) { box.checked = input.checked; });
      return;
    }
    if (input.type !== "file" || !input.dataset.rule) return;
    submit(input.closest(".dropzone"), input.files).then(function () { input.value = ""; });
  });
})();
