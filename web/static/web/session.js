// A session's page: uploads with per-file progress, and the live event feed over the session's
// WebSocket, resuming after its last sequence on every reconnect. No framework, no build step;
// loaded as a static file (the page's CSP allows no inline script).
"use strict";

(function () {
  const root = document.getElementById("session");
  if (!root) return;
  const sessionId = root.dataset.sessionId;
  const filesBody = document.getElementById("files");
  const artifactsBody = document.getElementById("artifacts");
  const feedList = document.getElementById("feed");
  const feedState = document.getElementById("feed-state");
  const PARALLEL_UPLOADS = 3;
  const CLOSED_FOR_GOOD = new Set([4401, 4403, 4404, 4422]);

  // --- small helpers ---

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function humanSize(bytes) {
    const units = ["bytes", "KB", "MB", "GB", "TB"];
    let value = Number(bytes) || 0;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return unit === 0 ? `${value} bytes` : `${value.toFixed(1)} ${units[unit]}`;
  }

  function setCount(id, body) {
    const counter = document.getElementById(id);
    if (counter) counter.textContent = String(body.rows.length);
  }

  function csrfToken() {
    const field = document.querySelector("#upload-form [name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  // --- the lists ---

  function addFileRow(item) {
    const id = item.attachment_id;
    if (!id || filesBody.querySelector(`tr[data-id="${CSS.escape(id)}"]`)) return;
    const row = el("tr", { "data-id": id });
    const name = el("th", { scope: "row" });
    const link = el(
      "a",
      {
        href: `/api/sessions/${encodeURIComponent(sessionId)}/artifacts/${encodeURIComponent(id)}?mode=stream&download=true`,
      },
      item.name || id,
    );
    name.append(link);
    const created = item.created_at || new Date().toISOString();
    const time = el("time", { datetime: created }, created.replace("T", " ").slice(0, 19));
    const when = el("td");
    when.append(time);
    row.append(
      name,
      el("td", {}, item.mime_type || item.mime || ""),
      el("td", { class: "num", "data-bytes": String(item.size || 0) }, humanSize(item.size)),
      when,
    );
    filesBody.prepend(row);
    setCount("files-count", filesBody);
  }

  function removeFileRow(id) {
    const row = id && filesBody.querySelector(`tr[data-id="${CSS.escape(id)}"]`);
    if (row) row.remove();
    setCount("files-count", filesBody);
  }

  // Artifact rows come from the server (versions and links as on first load); several events
  // close together cost one reload.
  let rowsPending = null;
  function reloadArtifactRows() {
    if (rowsPending) return;
    rowsPending = setTimeout(async () => {
      rowsPending = null;
      try {
        const answer = await fetch(artifactsBody.dataset.rowsUrl, { credentials: "same-origin" });
        if (!answer.ok) return;
        const html = await answer.text();
        const parsed = new DOMParser().parseFromString(
          `<table><tbody>${html}</tbody></table>`,
          "text/html",
        );
        artifactsBody.replaceChildren(...parsed.querySelectorAll("tbody > tr"));
        setCount("artifacts-count", artifactsBody);
      } catch (error) {
        // The next event tries again.
      }
    }, 100);
  }

  // --- the live feed ---

  let after = Number(root.dataset.after) || 0;
  let socket = null;
  let retry = 0;
  let pinger = null;

  function state(text, kind) {
    feedState.textContent = text;
    feedState.className = `feed-state ${kind}`;
    root.dataset.feed = kind;
  }

  function describe(event) {
    const what = event.name || event.artifact_id || event.attachment_id || "";
    return `#${event.sequence} ${event.kind}${what ? `: ${what}` : ""}`;
  }

  function apply(event) {
    if (typeof event.sequence !== "number" || event.sequence <= after) return; // seen already
    after = event.sequence;
    root.dataset.after = String(after);
    const item = el("li", { "data-sequence": String(event.sequence) }, describe(event));
    feedList.prepend(item);
    while (feedList.children.length > 200) feedList.lastElementChild.remove();
    switch (event.kind) {
      case "attachment.created":
        addFileRow({ ...event, mime_type: event.mime });
        break;
      case "attachment.deleted":
        removeFileRow(event.attachment_id);
        break;
      case "artifact.created":
      case "artifact.version_created":
      case "artifact.updated":
      case "artifact.deleted":
        reloadArtifactRows();
        break;
      case "session.completed": {
        const status = document.getElementById("session-status");
        if (status) {
          status.textContent = "Completed";
          status.className = "status status-completed";
        }
        const button = document.getElementById("complete");
        if (button) button.closest("form").remove();
        break;
      }
      default:
        break;
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const url = `${scheme}//${location.host}${root.dataset.wsPath}?after=${after}`;
    state("connecting", "connecting");
    socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      retry = 0;
      state("live", "live");
      pinger = setInterval(() => {
        if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "ping" }));
      }, 25000);
    });
    socket.addEventListener("message", (message) => {
      let parsed;
      try {
        parsed = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      const events = (parsed.data && parsed.data.events) || [];
      for (const event of events) apply(event);
    });
    socket.addEventListener("close", (closed) => {
      clearInterval(pinger);
      if (CLOSED_FOR_GOOD.has(closed.code)) {
        state(`closed (${closed.code})`, "down");
        return;
      }
      // Back off, then resume after the last sequence seen: nothing is missed or repeated.
      const delay = Math.min(5000, 250 * 2 ** retry);
      retry += 1;
      state("reconnecting", "down");
      setTimeout(connect, delay);
    });
  }

  connect();

  // --- uploads ---

  const form = document.getElementById("upload-form");
  if (!form) return;
  const picker = document.getElementById("file-picker");
  const dropzone = document.getElementById("dropzone");
  const progressList = document.getElementById("upload-progress");
  const queue = [];
  let running = 0;

  function refusal(status, body) {
    let detail = "";
    try {
      const parsed = JSON.parse(body);
      if (Array.isArray(parsed.detail)) detail = parsed.detail.map((d) => d.msg).join("; ");
      else if (parsed.detail) detail = String(parsed.detail);
    } catch (error) {
      detail = "";
    }
    const reasons = {
      413: "Too large",
      415: "Unsupported type",
      422: "Refused",
      401: "Not signed in",
      403: "Not allowed",
      429: "Too many requests",
    };
    const lead = reasons[status] || (status ? "Failed" : "Connection lost");
    return `${lead}${status ? ` (${status})` : ""}${detail ? `: ${detail}` : ""}`;
  }

  function upload(file) {
    const item = el("li", { "data-name": file.name });
    const name = el("span", { class: "name" }, file.name);
    const status = el("span", { class: "state" }, "waiting");
    const bar = el("progress", { max: "100", value: "0", "aria-label": `Upload of ${file.name}` });
    item.append(name, status, bar);
    progressList.append(item);
    queue.push({ file, item, status, bar });
    pump();
  }

  function pump() {
    while (running < PARALLEL_UPLOADS && queue.length) {
      running += 1;
      send(queue.shift());
    }
  }

  function send({ file, item, status, bar }) {
    const body = new FormData();
    body.append("file", file, file.name);
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("X-CSRFToken", csrfToken());
    request.setRequestHeader("Accept", "application/json");
    status.textContent = "0%";
    request.upload.addEventListener("progress", (progress) => {
      if (!progress.lengthComputable) return;
      const percent = Math.floor((progress.loaded / progress.total) * 100);
      bar.value = percent;
      status.textContent = `${percent}%`;
    });
    const finish = () => {
      running -= 1;
      pump();
    };
    request.addEventListener("load", () => {
      if (request.status === 201 || request.status === 200) {
        bar.value = 100;
        status.textContent = "done";
        status.className = "state done";
        item.dataset.state = "done";
        try {
          addFileRow(JSON.parse(request.responseText));
        } catch (error) {
          // The live feed adds the row anyway.
        }
      } else {
        status.textContent = "refused";
        status.className = "state failed";
        item.dataset.state = "failed";
        const reason = el("span", { class: "reason", role: "alert" });
        reason.textContent = refusal(request.status, request.responseText);
        item.append(reason);
      }
      finish();
    });
    request.addEventListener("error", () => {
      status.textContent = "failed";
      status.className = "state failed";
      item.dataset.state = "failed";
      item.append(el("span", { class: "reason", role: "alert" }, refusal(0, "")));
      finish();
    });
    request.send(body);
  }

  picker.addEventListener("change", () => {
    for (const file of picker.files) upload(file);
    picker.value = "";
  });
  form.addEventListener("submit", (submitted) => {
    submitted.preventDefault();
    for (const file of picker.files) upload(file);
  });
  for (const name of ["dragenter", "dragover"]) {
    dropzone.addEventListener(name, (dragged) => {
      dragged.preventDefault();
      dropzone.classList.add("over");
    });
  }
  for (const name of ["dragleave", "drop"]) {
    dropzone.addEventListener(name, () => dropzone.classList.remove("over"));
  }
  dropzone.addEventListener("drop", (dropped) => {
    dropped.preventDefault();
    for (const file of dropped.dataTransfer.files) upload(file);
  });
})();
