// Swap a picture: a source face and a target, the target's faces found (/v1/detect) and
// numbered for the user to choose, the swap (/v1/swap) shown beside the original.

import { call, showError } from "./api.js";

const $ = (id) => document.getElementById(id);

let faces = [];
let chosen = new Set();
let resultUrl = null;

function picked(input) {
  return input.files && input.files.length > 0 ? input.files[0] : null;
}

function showPreview(img, file) {
  if (img.src && img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
  img.src = URL.createObjectURL(file);
  img.hidden = false;
}

function largest(list) {
  let best = 0;
  list.forEach((f, i) => {
    const area = (f.bbox[2] - f.bbox[0]) * (f.bbox[3] - f.bbox[1]);
    const top = (list[best].bbox[2] - list[best].bbox[0]) * (list[best].bbox[3] - list[best].bbox[1]);
    if (area > top) best = i;
  });
  return best;
}

function drawFaces(report) {
  const boxes = $("swap-boxes");
  const list = $("swap-face-list");
  boxes.replaceChildren();
  list.replaceChildren();
  faces.forEach((face, i) => {
    const [x1, y1, x2, y2] = face.bbox;
    const box = document.createElement("div");
    box.className = "box";
    box.style.left = `${(100 * x1) / report.width}%`;
    box.style.top = `${(100 * y1) / report.height}%`;
    box.style.width = `${(100 * (x2 - x1)) / report.width}%`;
    box.style.height = `${(100 * (y2 - y1)) / report.height}%`;
    const number = document.createElement("span");
    number.textContent = String(i + 1);
    box.append(number);
    box.dataset.face = String(i);
    boxes.append(box);

    const label = document.createElement("label");
    label.className = "check";
    const check = document.createElement("input");
    check.type = "checkbox";
    check.value = String(i);
    check.dataset.face = String(i);
    check.checked = chosen.has(i);
    check.addEventListener("change", () => {
      if (check.checked) chosen.add(i); else chosen.delete(i);
      $("swap-all").checked = chosen.size === faces.length;
      markChosen();
    });
    label.append(check, ` Face ${i + 1}`);
    list.append(label);
  });
  markChosen();
}

function markChosen() {
  for (const box of $("swap-boxes").children) box.classList.toggle("chosen", chosen.has(Number(box.dataset.face)));
  for (const check of $("swap-face-list").querySelectorAll("input")) check.checked = chosen.has(Number(check.dataset.face));
}

async function findFaces(file) {
  const state = $("swap-state");
  showError($("swap-error"), null);
  $("swap-faces").hidden = true;
  faces = [];
  chosen = new Set();
  state.textContent = "Looking for faces…";
  const form = new FormData();
  form.append("image", file);
  try {
    const report = await (await call("/v1/detect", { method: "POST", body: form })).json();
    faces = report.faces;
    if (faces.length === 0) {
      state.textContent = "";
      showError($("swap-error"), new Error("No face was found in the target picture: choose another."));
      return;
    }
    chosen = new Set([largest(faces)]);
    showPreview($("swap-target-preview"), file);
    drawFaces(report);
    $("swap-all").checked = faces.length === 1;
    $("swap-faces").hidden = false;
    state.textContent = `${faces.length} face${faces.length === 1 ? "" : "s"} found: choose which to replace.`;
  } catch (error) {
    state.textContent = "";
    showError($("swap-error"), error);
  }
}

async function runSwap() {
  const source = picked($("swap-source"));
  const target = picked($("swap-target"));
  const errorBox = $("swap-error");
  showError(errorBox, null);
  if (!source || !target) {
    showError(errorBox, new Error("Choose a source face and a target picture first."));
    return;
  }
  const form = new FormData();
  form.append("source", source);
  form.append("target", target);
  if (faces.length > 0 && chosen.size === 0) {
    showError(errorBox, new Error("Choose at least one face to replace."));
    return;
  }
  if (faces.length > 0 && chosen.size === faces.length) form.append("all_faces", "true");
  else if (chosen.size > 0) form.append("face", [...chosen].sort((a, b) => a - b).join(","));
  const swapper = $("swap-swapper").value;
  if (swapper) form.append("swapper", swapper);
  if ($("swap-mouth").checked) form.append("mouth_mask", "true");
  const button = $("swap-run");
  button.disabled = true;
  $("swap-state").textContent = "Swapping…";
  const started = performance.now();
  try {
    const response = await call("/v1/swap", { method: "POST", body: form });
    const blob = await response.blob();
    const total = performance.now() - started;
    if (resultUrl) URL.revokeObjectURL(resultUrl);
    resultUrl = URL.createObjectURL(blob);
    showPreview($("swap-original"), target);
    $("swap-result").src = resultUrl;
    $("swap-download").href = resultUrl;
    $("swap-compare").hidden = false;
    const server = Number(response.headers.get("x-processing-time-ms") || 0);
    const swapped = response.headers.get("x-faces-swapped") || "?";
    $("swap-state").textContent =
      `${swapped} face${swapped === "1" ? "" : "s"} swapped in ${server.toFixed(0)} ms on the server (${total.toFixed(0)} ms in all).`;
  } catch (error) {
    $("swap-state").textContent = "";
    showError(errorBox, error);
  } finally {
    button.disabled = false;
  }
}

export function setUpPicture() {
  $("swap-source").addEventListener("change", () => {
    const file = picked($("swap-source"));
    if (file) showPreview($("swap-source-preview"), file);
  });
  $("swap-target").addEventListener("change", () => {
    const file = picked($("swap-target"));
    if (file) findFaces(file);
  });
  $("swap-all").addEventListener("change", () => {
    chosen = $("swap-all").checked ? new Set(faces.map((_, i) => i)) : new Set();
    markChosen();
  });
  $("swap-run").addEventListener("click", runSwap);
}
