// Swap a video: the upload with its progress, then the server's job list (so jobs survive a
// reload of the page), polled while any job is queued or running.

import { call, showError, upload } from "./api.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 1000;

let timer = null;

function duration(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return "";
  const s = Math.max(0, Math.round(seconds));
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

function figures(job) {
  const p = job.progress || {};
  const parts = [];
  if (p.frames_total) parts.push(`${p.frames_done} of ${p.frames_total} frames`);
  else parts.push(`${p.frames_done || 0} frames`);
  if (job.status === "running" && p.fps > 0) parts.push(`${p.fps.toFixed(1)} fps`);
  if (job.status === "running" && p.eta_s != null) parts.push(`about ${duration(p.eta_s)} left`);
  return parts.join(" · ");
}

/** The result, fetched with the key (a plain link cannot send it), saved under its name. */
async function download(job, link) {
  try {
    const response = await call(job.links.result);
    const blob = await response.blob();
    const disposition = response.headers.get("content-disposition") || "";
    const name = /filename="?([^";]+)"?/.exec(disposition);
    const url = URL.createObjectURL(blob);
    const save = document.createElement("a");
    save.href = url;
    save.download = name ? name[1] : link.download || "swapped.mp4";
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  } catch (error) {
    showError($("job-error"), error);
  }
}

function jobItem(job) {
  const item = document.createElement("li");
  item.className = "job";
  item.dataset.jobId = job.id;

  const head = document.createElement("div");
  head.className = "job-head";
  const name = document.createElement("span");
  name.className = "job-name";
  name.textContent = job.input_name || job.id;
  const status = document.createElement("span");
  status.className = "job-status";
  status.dataset.status = job.status;
  status.textContent = job.status;
  head.append(name, status);

  const bar = document.createElement("progress");
  bar.setAttribute("data-testid", "job-progress");
  bar.setAttribute("aria-label", `Progress of ${name.textContent}`);
  const p = job.progress || {};
  if (job.status === "succeeded") {
    bar.max = 1;
    bar.value = 1;
  } else if (p.frames_total) {
    bar.max = p.frames_total;
    bar.value = Math.min(p.frames_done || 0, p.frames_total);
  } else if (job.status !== "running") {
    bar.max = 1;
    bar.value = 0;
  }
  const facts = document.createElement("div");
  facts.className = "job-figures";
  facts.textContent = figures(job);

  const actions = document.createElement("div");
  actions.className = "job-actions";
  if (job.status === "succeeded") {
    const link = document.createElement("a");
    link.setAttribute("data-testid", "job-download");
    link.href = job.links.result;
    link.download = "";
    link.textContent = "Download";
    link.addEventListener("click", (e) => {
      e.preventDefault();
      download(job, link);
    });
    actions.append(link);
  }
  const finished = ["succeeded", "failed", "cancelled"].includes(job.status);
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "secondary";
  remove.textContent = finished ? "Delete" : "Cancel";
  remove.setAttribute("aria-label", `${remove.textContent} ${name.textContent}`);
  remove.addEventListener("click", async () => {
    remove.disabled = true;
    try {
      await call(job.links.self, { method: "DELETE" });
      await refresh();
    } catch (error) {
      showError($("job-error"), error);
      remove.disabled = false;
    }
  });
  actions.append(remove);

  item.append(head, bar, facts);
  if (job.error) {
    const why = document.createElement("p");
    why.className = "error";
    why.textContent = job.error;
    item.append(why);
  }
  item.append(actions);
  return item;
}

export async function refresh() {
  clearTimeout(timer);
  let jobs = [];
  try {
    jobs = (await (await call("/v1/jobs?limit=50")).json()).jobs;
  } catch (error) {
    showError($("job-error"), error);
    timer = setTimeout(refresh, POLL_MS * 5);
    return;
  }
  $("jobs").replaceChildren(...jobs.map(jobItem));
  $("jobs-empty").hidden = jobs.length > 0;
  if (jobs.some((j) => j.status === "queued" || j.status === "running")) timer = setTimeout(refresh, POLL_MS);
}

async function submit(event) {
  event.preventDefault();
  const errorBox = $("job-error");
  showError(errorBox, null);
  const source = $("job-source").files[0];
  const input = $("job-input").files[0];
  if (!source || !input) {
    showError(errorBox, new Error("Choose a source face and a video first."));
    return;
  }
  const form = new FormData();
  form.append("source", source);
  form.append("input", input);
  if ($("job-all").checked) form.append("all_faces", "true");
  if ($("job-mouth").checked) form.append("mouth_mask", "true");
  const swapper = $("job-swapper").value;
  if (swapper) form.append("swapper", swapper);
  const button = $("job-submit");
  const bar = $("job-upload");
  button.disabled = true;
  bar.hidden = false;
  bar.previousElementSibling.hidden = false;
  bar.value = 0;
  $("job-state").textContent = `Uploading ${input.name}…`;
  try {
    const job = await upload("/v1/jobs", form, (sent, total) => {
      if (total > 0) bar.value = sent / total;
    });
    bar.value = 1;
    $("job-state").textContent = `${input.name} uploaded: the job is ${job.status}.`;
    await refresh();
  } catch (error) {
    $("job-state").textContent = "";
    showError(errorBox, error);
  } finally {
    button.disabled = false;
    bar.hidden = true;
    bar.previousElementSibling.hidden = true;
  }
}

export function setUpVideo() {
  $("job-form").addEventListener("submit", submit);
}
