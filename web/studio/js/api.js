// Talking to the service: the API key (asked for once, when the server wants one, and kept
// for this tab only), and every error as the problem+json `detail` the server wrote.

const KEY = "faceswap.apiKey";

/** An answer that was not a success, with the server's own words. */
export class ApiError extends Error {
  constructor(status, detail, retryAfter) {
    super(detail);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

export function apiKey() {
  return sessionStorage.getItem(KEY);
}

function authorise(headers) {
  const key = apiKey();
  if (key) headers.set("Authorization", `Bearer ${key}`);
  return headers;
}

/** Asks for the key in the page's dialog; resolves true when one was given. */
function askForKey(why) {
  const dialog = document.getElementById("key-dialog");
  const input = document.getElementById("key-input");
  document.getElementById("key-why").textContent = why;
  input.value = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      const given = dialog.returnValue === "ok" && input.value.trim() !== "";
      if (given) sessionStorage.setItem(KEY, input.value.trim());
      resolve(given);
    }, { once: true });
    dialog.showModal();
    input.focus();
  });
}

/** The problem's `detail`, or what the status says when the body is not a problem. */
export async function problemDetail(response) {
  const type = response.headers.get("content-type") || "";
  if (type.startsWith("application/problem+json") || type.startsWith("application/json")) {
    try {
      const problem = await response.json();
      if (problem && typeof problem.detail === "string") return problem.detail;
    } catch (_) { /* not JSON after all */ }
  }
  return `the server answered ${response.status} ${response.statusText}`;
}

function keyQuestion(detail) {
  return apiKey() ? `The key was not accepted (${detail}). Enter it again.` :
    "This server needs an API key. It is kept for this tab only.";
}

/** fetch() with the key; a 401 asks for the key and tries once more. */
export async function call(path, init = {}) {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(path, { ...init, headers: authorise(new Headers(init.headers || {})) });
    if (response.ok) return response;
    const detail = await problemDetail(response);
    if (response.status === 401 && attempt < 2 && await askForKey(keyQuestion(detail))) continue;
    throw new ApiError(response.status, detail, response.headers.get("retry-after"));
  }
}

/**
 * A form upload with its progress (fetch cannot report an upload's progress): resolves with
 * the parsed JSON answer; `onProgress(sent, total)` as the body goes out.
 */
export function upload(path, form, onProgress) {
  const send = () => new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", path);
    const key = apiKey();
    if (key) request.setRequestHeader("Authorization", `Bearer ${key}`);
    request.upload.addEventListener("progress", (e) => onProgress(e.loaded, e.lengthComputable ? e.total : 0));
    request.addEventListener("load", () => resolve(request));
    request.addEventListener("error", () => reject(new ApiError(0, "the upload failed: the connection to the server was lost")));
    request.addEventListener("timeout", () => reject(new ApiError(0, "the upload took too long")));
    request.send(form);
  });
  return (async () => {
    for (let attempt = 0; ; attempt++) {
      const request = await send();
      let body = null;
      try { body = JSON.parse(request.responseText); } catch (_) { /* not JSON */ }
      if (request.status >= 200 && request.status < 300) return body;
      const detail = body && typeof body.detail === "string" ? body.detail : `the server answered ${request.status}`;
      if (request.status === 401 && attempt < 2 && await askForKey(keyQuestion(detail))) continue;
      throw new ApiError(request.status, detail, request.getResponseHeader("retry-after"));
    }
  })();
}

/** Shows `error` (or hides the box when null) in the page's alert element `box`. */
export function showError(box, error) {
  if (!error) {
    box.hidden = true;
    box.textContent = "";
    return;
  }
  const retry = error.retryAfter ? ` Try again in ${error.retryAfter} s.` : "";
  box.textContent = `${error.message}${retry}`;
  box.hidden = false;
}
