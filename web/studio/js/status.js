// Status: the service's /health report (ready, each model's state, repairs) and its queues.

import { apiKey, problemDetail } from "./api.js";

const $ = (id) => document.getElementById(id);

function term(list, name, value) {
  const dt = document.createElement("dt");
  dt.textContent = name;
  const dd = document.createElement("dd");
  dd.textContent = value;
  list.append(dt, dd);
}

function yesNo(value) {
  const cell = document.createElement("td");
  cell.textContent = value ? "yes" : "no";
  cell.className = value ? "yes" : "no";
  return cell;
}

/** Fills the swapper pickers with the swappers this server runs, its default first. */
export function fillSwappers(report) {
  const swappers = report.swappers;
  if (!swappers) return;
  for (const select of document.querySelectorAll("[data-swapper-select]")) {
    const kept = select.value;
    select.replaceChildren();
    for (const name of swappers.available) {
      const option = document.createElement("option");
      option.value = name;
      option.textContent = name === swappers.default ? `${name} (default)` : name;
      select.append(option);
    }
    select.value = swappers.available.includes(kept) ? kept : swappers.default;
  }
}

/** Reads /health (a 503 still carries the report) and shows it. */
export async function refreshStatus() {
  const box = $("status-error");
  box.hidden = true;
  let report;
  try {
    const headers = new Headers();
    if (apiKey()) headers.set("Authorization", `Bearer ${apiKey()}`);
    const response = await fetch("/health", { headers });
    const type = response.headers.get("content-type") || "";
    if (!type.startsWith("application/json")) throw new Error(await problemDetail(response));
    report = await response.json();
  } catch (error) {
    box.textContent = `The status could not be read: ${error.message}`;
    box.hidden = false;
    return null;
  }
  const summary = $("status-summary");
  summary.replaceChildren();
  term(summary, "State", report.status);
  term(summary, "Version", report.version);
  term(summary, "ONNX Runtime", `${report.onnxruntime_version} on ${report.execution_provider}`);
  term(summary, "Up for", `${Math.round(report.uptime_s)} s`);
  term(summary, "Model repairs", String(report.model_reloads));
  if (report.queue && report.queue.jobs) {
    const jobs = report.queue.jobs;
    term(summary, "Video jobs", `${jobs.queued} queued, ${jobs.running} running, ${jobs.succeeded} done, ${jobs.failed} failed`);
  }
  term(summary, "Pictures waiting", String(report.picture_queue ?? 0));
  if (report.requests) term(summary, "Requests", `${report.requests.total ?? 0} served`);
  const rows = $("status-models").querySelector("tbody");
  rows.replaceChildren();
  for (const [name, model] of Object.entries(report.models || {})) {
    const row = document.createElement("tr");
    const role = document.createElement("th");
    role.scope = "row";
    role.textContent = model.role ? `${name} (${model.role})` : name;
    const problem = document.createElement("td");
    problem.textContent = model.problem || "";
    row.append(role, yesNo(model.ready), yesNo(model.valid), problem);
    rows.append(row);
  }
  if (report.live) {
    const n = report.live.sessions.length;
    $("status-live").textContent = `${n} of ${report.live.max} running` + report.live.sessions
      .map((s) => ` · ${s.id.slice(0, 8)}: ${s.fps_sent.toFixed(1)} fps, ${s.delay_p95_ms.toFixed(0)} ms p95`).join("");
  }
  fillSwappers(report);
  return report;
}

export function setUpStatus() {
  $("status-refresh").addEventListener("click", refreshStatus);
}
