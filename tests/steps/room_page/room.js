// The room view: asks /api/room every 2 seconds and redraws the grid.
// Every name and text goes in with textContent, never as HTML, so none can run as script.
"use strict";

function cell(row, text, className) {
  const td = document.createElement(row.id === "head" ? "th" : "td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function minutes(seconds) {
  const m = Math.floor(seconds / 60);
  return m < 60 ? m + " min" : Math.floor(m / 60) + " h " + (m % 60) + " min";
}

function draw(room) {
  document.getElementById("summary").textContent = room.summary;
  const head = document.getElementById("head");
  head.replaceChildren();
  cell(head, "Learner");
  for (const step of room.steps) cell(head, "Step " + step.n).title = step.title;
  cell(head, "On the step for");
  cell(head, "Hand");
  const seats = Object.entries(room.learners);
  // Raised hands on top, the oldest first; then by name.
  seats.sort(([a, x], [b, y]) => (!!y.hand - !!x.hand)
    || (x.hand && y.hand ? x.hand.since - y.hand.since : 0) || a.localeCompare(b));
  const body = document.getElementById("seats");
  body.replaceChildren();
  for (const [name, seat] of seats) {
    const row = document.createElement("tr");
    body.appendChild(row);
    if (seat.hand) row.className = "hand";
    cell(row, (seat.hand ? "⚑ " : "") + name, "name");
    for (const step of room.steps) {
      if (seat.passed.includes(step.n)) cell(row, "✔", "passed");
      else if (step.n === seat.step && seat.failing) {
        cell(row, "✘ " + seat.failing, "failing").title = seat.failing;
      } else if (step.n === seat.step) cell(row, "…", "working");
      else cell(row, "");
    }
    cell(row, seat.step === null ? "done" : minutes(room.now - seat.since), "time");
    cell(row, seat.hand ? seat.hand.text || "help!" : "", "note");
  }
}

async function update() {
  try {
    const answer = await fetch("/api/room", {cache: "no-store"});
    draw(await answer.json());
    document.getElementById("status").textContent = "";
  } catch (error) {
    document.getElementById("status").textContent = "The room does not answer; trying again.";
  }
}

update();
setInterval(update, 2000);
