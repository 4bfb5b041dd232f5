// Live: the visitor's camera to the server over WebRTC (signalled the WHIP way: one SDP offer
// POSTed, the answer back), the swapped video into the page, switches while it runs, and an
// overlay with the figures of both ends.

import { call, showError } from "./api.js";

const $ = (id) => document.getElementById(id);

let pc = null;
let camera = null;
let session = null;
let timer = null;
let snapshotUrl = null;

async function listCameras() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
  const select = $("live-camera");
  const kept = select.value;
  const devices = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "videoinput");
  select.replaceChildren(new Option("Default camera", ""));
  devices.forEach((d, i) => select.append(new Option(d.label || `Camera ${i + 1}`, d.deviceId)));
  select.value = [...select.options].some((o) => o.value === kept) ? kept : "";
}

async function sourceId(file) {
  const form = new FormData();
  form.append("source", file);
  return (await (await call("/v1/sources", { method: "POST", body: form })).json()).id;
}

function gathered(connection, ms) {
  if (connection.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (connection.iceGatheringState === "complete") resolve();
    };
    connection.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, ms);
  });
}

/** Figures from the browser's own counters: what it receives and how late it shows it. */
async function browserFigures() {
  const figures = {};
  if (!pc) return figures;
  const stats = await pc.getStats();
  const mime = (report) => (report.codecId && stats.get(report.codecId) ? stats.get(report.codecId).mimeType : undefined);
  stats.forEach((report) => {
    if (report.type === "inbound-rtp" && report.kind === "video") {
      figures.codec = mime(report);
      figures.fps = report.framesPerSecond || 0;
      figures.framesDecoded = report.framesDecoded || 0;
      if (report.jitterBufferEmittedCount > 0) {
        figures.jitterMs = (1000 * report.jitterBufferDelay) / report.jitterBufferEmittedCount;
      }
      if (report.framesDecoded > 0) figures.decodeMs = (1000 * report.totalDecodeTime) / report.framesDecoded;
      figures.width = report.frameWidth;
      figures.height = report.frameHeight;
    }
    if (report.type === "outbound-rtp" && report.kind === "video") {
      figures.sentCodec = mime(report);
      figures.sentFps = report.framesPerSecond || 0;
      if (report.framesEncoded > 0) figures.encodeMs = (1000 * report.totalEncodeTime) / report.framesEncoded;
    }
  });
  return figures;
}

async function showFigures() {
  if (!session) return;
  try {
    const server = await (await call(session)).json();
    const browser = await browserFigures();
    const lines = [
      `fps ${(browser.fps || 0).toFixed(1)} shown · ${server.fps_sent.toFixed(1)} sent`,
      `delay server ${server.delay_p50_ms.toFixed(0)} ms (p95 ${server.delay_p95_ms.toFixed(0)})` +
        (browser.jitterMs != null ? ` · jitter buffer ${browser.jitterMs.toFixed(0)} ms` : ""),
      `faces ${server.faces}${server.swapping ? "" : " · swap off"}` +
        (browser.width ? ` · ${browser.width}×${browser.height}` : "") +
        (server.codec ? ` · ${server.codec === "h264" ? "H.264" : "VP8"}` : ""),
    ];
    const overlay = $("live-stats");
    overlay.textContent = lines.join("\n");
    overlay.dataset.server = JSON.stringify(server);
    overlay.dataset.browser = JSON.stringify(browser);
    if (server.ended) {
      $("live-state").textContent = `The session ended (${server.ended.replace("_", " ")}).`;
      await stop(false);
    }
  } catch (error) {
    if (error.status === 404) {
      $("live-state").textContent = "The session has ended.";
      await stop(false);
    }
  }
}

async function start() {
  const errorBox = $("live-error");
  showError(errorBox, null);
  const file = $("live-source").files[0];
  if (!file) {
    showError(errorBox, new Error("Choose a source face first."));
    return;
  }
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    showError(errorBox, new Error("This page cannot use a camera here: open it over HTTPS, or on localhost."));
    return;
  }
  $("live-start").disabled = true;
  try {
    $("live-state").textContent = "Preparing the source face…";
    const id = await sourceId(file);
    const [width, height] = $("live-size").value.split("x").map(Number);
    const device = $("live-camera").value;
    camera = await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { width: { ideal: width }, height: { ideal: height }, frameRate: { ideal: 30 },
        ...(device ? { deviceId: { exact: device } } : {}) },
    });
    listCameras();
    pc = new RTCPeerConnection();
    const transceiver = pc.addTransceiver(camera.getVideoTracks()[0], { direction: "sendrecv" });
    const codecs = (RTCRtpReceiver.getCapabilities && RTCRtpReceiver.getCapabilities("video")) || null;
    if (codecs && transceiver.setCodecPreferences) {
      // The chosen codec first, the other after it: the server takes both, and sends back
      // the one the browser sends. H.264 in the packetization mode that splits frames.
      const chosen = $("live-codec").value;
      const of = (mime) => codecs.codecs.filter((c) => c.mimeType.toLowerCase() === mime
        && (mime !== "video/h264" || /packetization-mode=1/.test(c.sdpFmtpLine || "")));
      // With RTX, so a packet the network lost is sent again on its own stream.
      const preferred = [...of(chosen), ...of(chosen === "video/vp8" ? "video/h264" : "video/vp8"), ...of("video/rtx")];
      if (!of(chosen).length) showError(errorBox, new Error(`This browser cannot send ${chosen.slice(6).toUpperCase()}; the other codec is used.`));
      if (preferred.length) transceiver.setCodecPreferences(preferred);
    }
    pc.addEventListener("track", (event) => {
      $("live-video").srcObject = new MediaStream([event.track]);
    });
    pc.addEventListener("connectionstatechange", () => {
      if (pc && pc.connectionState === "failed") {
        showError(errorBox, new Error("The connection to the server failed: UDP to the server may be blocked (see the README's Live section)."));
        stop(true);
      }
    });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc, 2000);
    $("live-state").textContent = "Connecting…";
    const params = new URLSearchParams({ source: id });
    if ($("live-all").checked) params.set("all_faces", "true");
    if ($("live-mouth").checked) params.set("mouth_mask", "true");
    if ($("live-swapper").value) params.set("swapper", $("live-swapper").value);
    const response = await call(`/v1/live?${params}`, {
      method: "POST", headers: { "Content-Type": "application/sdp" }, body: pc.localDescription.sdp,
    });
    session = response.headers.get("location");
    await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
    if (!$("live-swap").checked) await control({ swap: false });
    $("live-state").textContent = "Live.";
    $("live-stop").disabled = false;
    $("live-snapshot").disabled = false;
    timer = setInterval(showFigures, 1000);
  } catch (error) {
    $("live-state").textContent = "";
    showError(errorBox, error);
    await stop(true);
  }
}

async function stop(tellServer = true) {
  clearInterval(timer);
  timer = null;
  const ending = session;
  session = null;
  if (tellServer && ending) {
    try { await call(ending, { method: "DELETE" }); } catch (_) { /* it has ended already */ }
  }
  if (pc) pc.close();
  pc = null;
  if (camera) camera.getTracks().forEach((t) => t.stop());
  camera = null;
  $("live-start").disabled = false;
  $("live-stop").disabled = true;
  $("live-snapshot").disabled = true;
}

async function control(change) {
  if (!session) return;
  try {
    await call(session, { method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify(change) });
  } catch (error) {
    showError($("live-error"), error);
  }
}

function snapshot() {
  const video = $("live-video");
  if (!video.videoWidth) return;
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  canvas.toBlob((blob) => {
    if (snapshotUrl) URL.revokeObjectURL(snapshotUrl);
    snapshotUrl = URL.createObjectURL(blob);
    const link = $("live-snapshot-link");
    link.href = snapshotUrl;
    link.hidden = false;
    link.click();
  }, "image/png");
}

export function setUpLive() {
  $("live-start").addEventListener("click", start);
  $("live-stop").addEventListener("click", async () => {
    await stop(true);
    $("live-state").textContent = "Stopped.";
  });
  $("live-snapshot").addEventListener("click", snapshot);
  $("live-swap").addEventListener("change", (e) => control({ swap: e.target.checked }));
  $("live-mouth").addEventListener("change", (e) => control({ mouth_mask: e.target.checked }));
  $("live-all").addEventListener("change", (e) => control({ all_faces: e.target.checked }));
  window.addEventListener("pagehide", () => stop(true));
  listCameras();
}
