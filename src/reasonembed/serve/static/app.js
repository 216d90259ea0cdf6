// The search page: POST /search and render the ranked results (text only, never HTML from the server).
"use strict";

const $ = (id) => document.getElementById(id);
const keyInput = $("api-key");
keyInput.value = localStorage.getItem("reasonembed-api-key") || "";
keyInput.addEventListener("change", () => localStorage.setItem("reasonembed-api-key", keyInput.value));

function headers() {
  const h = { "Content-Type": "application/json" };
  if (keyInput.value) h["Authorization"] = "Bearer " + keyInput.value;
  return h;
}

async function loadStatus() {
  try {
    const r = await fetch("/healthz");
    const s = await r.json();
    $("status").textContent = `${s.model} · ${s.documents} documents · ${s.index_kind || "no index"}` +
      (s.auth ? " · API key required" : "");
    $("hybrid-label").hidden = !s.hybrid_available;
    if (s.auth) $("key-box").open = true;
  } catch (err) {
    $("status").textContent = "server unreachable";
  }
}

function render(data) {
  const list = $("results");
  list.replaceChildren();
  for (const hit of data.results) {
    const li = document.createElement("li");
    li.className = "hit";
    li.dataset.docid = hit.id;
    const head = document.createElement("div");
    head.className = "hit-head";
    const id = document.createElement("span");
    id.className = "doc-id";
    id.textContent = hit.id;
    const score = document.createElement("span");
    score.className = "score";
    score.textContent = hit.score.toFixed(4);
    head.append(id, score);
    const snippet = document.createElement("p");
    snippet.className = "snippet";
    snippet.textContent = hit.snippet;
    li.append(head, snippet);
    list.append(li);
  }
  $("message").textContent = data.results.length ? "" : "no results";
  document.body.dataset.state = "done";
}

$("search-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  document.body.dataset.state = "searching";
  $("message").textContent = "";
  const body = { query: $("query").value, k: Number($("k").value) || 10 };
  if (!$("hybrid-label").hidden) body.hybrid = $("hybrid").checked;
  try {
    const r = await fetch("/search", { method: "POST", headers: headers(), body: JSON.stringify(body) });
    const data = await r.json();
    if (!r.ok) {
      $("results").replaceChildren();
      $("message").textContent = (data.error && data.error.message) || `error ${r.status}`;
      document.body.dataset.state = "error";
      return;
    }
    render(data);
  } catch (err) {
    $("message").textContent = "request failed: " + err;
    document.body.dataset.state = "error";
  }
});

loadStatus();
