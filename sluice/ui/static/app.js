// The pages of `sluice ui` (sluice/ui/server.py): plain JavaScript, no framework, no network but this
// server's own /api/ (sluice/ui/api.py). The graph's layout is computed by the server
// (sluice/ui/layout.py); this file only draws it as SVG and keeps it live from server-sent events.
"use strict";

const app = document.getElementById("app");
const ARGS = JSON.parse(app.dataset.args || "{}");
const PHASES = ["Pending", "Running", "Succeeded", "Failed", "Error"];

function esc(text) {
  return String(text == null ? "" : text).replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "onclick" || k === "onsubmit" || k === "onchange") node[k] = v;
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

async function getJSON(url, options) {
  const res = await fetch(url, options);
  let body = {};
  try { body = await res.json(); } catch (e) { body = { error: res.statusText }; }
  if (!res.ok) throw new Error(body.error || res.statusText);
  return body;
}

function badge(phase, shown) {
  return el("span", { class: `phase phase-${esc(phase)}`, "data-phase": phase }, shown || phase);
}

function since(stamp) {
  if (!stamp) return "";
  const s = Math.max(0, (Date.now() - Date.parse(stamp)) / 1000);
  if (s < 60) return `${Math.floor(s)}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

function span(a, b) {
  if (!a) return "";
  const s = Math.max(0, ((b ? Date.parse(b) : Date.now()) - Date.parse(a)) / 1000);
  return s < 60 ? `${Math.round(s)}s` : s < 3600 ? `${Math.floor(s / 60)}m ${Math.round(s % 60)}s`
    : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

function problem(text) {
  let box = document.getElementById("problem");
  if (!box) { box = el("div", { id: "problem", class: "problem" }); app.prepend(box); }
  box.textContent = text || "";
  box.hidden = !text;
}

// --- the list ------------------------------------------------------------------------------------

function listPage() {
  const q = new URLSearchParams(location.search);
  const form = el("form", { class: "filters", id: "filters" },
    el("label", {}, "namespace ", el("input", { name: "namespace", value: q.get("namespace") ?? "", placeholder: "(default; empty: all)" })),
    el("label", {}, "label ", el("input", { name: "label", value: q.get("label") || "", placeholder: "key=value,..." })),
    el("span", { class: "phases" }, PHASES.map((p) => el("label", {},
      el("input", { type: "checkbox", name: "phase", value: p, checked: (q.get("phase") || "").split(",").includes(p) }), ` ${p}`))),
    el("button", { type: "submit" }, "Filter"));
  const table = el("table", { class: "workflows", id: "workflows" });
  app.append(el("h1", {}, "Workflows"), form, table);
  form.onsubmit = (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const next = new URLSearchParams();
    if (q.has("namespace") || data.get("namespace")) next.set("namespace", data.get("namespace"));
    if (data.get("label")) next.set("label", data.get("label"));
    const phases = data.getAll("phase");
    if (phases.length) next.set("phase", phases.join(","));
    location.search = next.toString();
  };
  const api = new URLSearchParams();
  for (const k of ["namespace", "label", "phase"]) if (q.has(k)) api.set(k, q.get(k));
  async function refresh() {
    try {
      const { items } = await getJSON(`/api/workflows?${api}`);
      problem("");
      table.replaceChildren(el("tr", {}, ["Name", "Namespace", "Status", "Started", "Duration", "Progress", "Message"].map((h) => el("th", {}, h))),
        ...items.map((w) => el("tr", { "data-name": w.name },
          el("td", {}, el("a", { href: `/workflows/${encodeURIComponent(w.namespace)}/${encodeURIComponent(w.name)}` }, w.name)),
          el("td", {}, w.namespace), el("td", {}, badge(w.phase, w.shownPhase)), el("td", { title: w.startedAt || "" }, since(w.startedAt)),
          el("td", {}, w.duration), el("td", {}, w.progress || ""), el("td", { class: "message" }, w.message || ""))));
      if (!items.length) table.append(el("tr", {}, el("td", { colspan: 7, class: "empty" }, "No workflows found.")));
    } catch (e) { problem(e.message); }
  }
  refresh();
  setInterval(refresh, 3000);
}

// --- one workflow: graph, details, logs, actions ---------------------------------------------------

const SVGNS = "http://www.w3.org/2000/svg";
const TIMINGS = (window.sluiceTimings = { renders: [] });

function drawGraph(graph, selected) {
  const parts = [`<svg xmlns="${SVGNS}" id="graph" width="${graph.width}" height="${graph.height}" viewBox="0 0 ${graph.width} ${graph.height}">`];
  for (const g of graph.groups) {
    if (g.collapsed) continue;
    parts.push(`<g class="group group-${g.kind}" data-group="${esc(g.id)}"${g.collapsible ? " data-collapsible" : ""}><rect x="${g.x}" y="${g.y}" width="${g.w}" height="${g.h}" rx="8"/>` +
      `<text x="${g.x + 8}" y="${g.y + 12}">${esc(g.label)}${g.collapsible ? " (collapse)" : ""}</text></g>`);
  }
  const at = new Map(graph.nodes.map((n) => [n.id, n]));
  // every edge in one path element: thousands of edges cost one node of the document, not thousands
  const curves = [];
  for (const [a, b] of graph.edges) {
    const p = at.get(a), c = at.get(b);
    if (!p || !c) continue;
    const x1 = p.x + p.w / 2, y1 = p.y + p.h, x2 = c.x + c.w / 2, y2 = c.y, m = (y1 + y2) / 2;
    curves.push(`M${x1},${y1} C${x1},${m} ${x2},${m} ${x2},${y2}`);
  }
  parts.push(`<g class="edges"><path d="${curves.join(" ")}"/></g>`);
  for (const n of graph.nodes) {
    const cls = `node type-${esc(n.type)} phase-${esc(n.phase)}${n.id === selected ? " selected" : ""}`;
    const attrs = `class="${cls}" data-id="${esc(n.id)}" data-phase="${esc(n.phase)}" data-name="${esc(n.displayName)}" data-message="${esc(n.message || "")}"`;
    if (n.type === "StepGroup" || n.type === "TaskGroup") {
      parts.push(`<g ${attrs}><title>${esc(n.name)}: ${esc(n.phase)}</title><circle cx="${n.x + n.w / 2}" cy="${n.y + n.h / 2}" r="${n.w / 2}"/></g>`);
      continue;
    }
    const label = n.displayName.length > 24 ? n.displayName.slice(0, 23) + "…" : n.displayName;
    const sub = n.type === "Collapsed" ? Object.entries(n.counts).map(([k, v]) => `${v} ${k}`).join(", ") : n.type;
    parts.push(`<g ${attrs}${n.group ? ` data-group="${esc(n.group)}"` : ""}><title>${esc(n.name)}: ${esc(n.phase)}${n.message ? " — " + esc(n.message) : ""}</title>` +
      `<rect x="${n.x}" y="${n.y}" width="${n.w}" height="${n.h}" rx="${n.h / 2}"/>` +
      `<circle class="dot" cx="${n.x + 16}" cy="${n.y + n.h / 2}" r="7"/>` +
      `<text x="${n.x + 30}" y="${n.y + 17}">${esc(label)}</text><text class="sub" x="${n.x + 30}" y="${n.y + 31}">${esc(sub)}</text></g>`);
  }
  parts.push("</svg>");
  return parts.join("");
}

function kv(rows) {
  const shown = rows.filter(([, v]) => v !== undefined && v !== null && v !== "");
  return el("table", { class: "kv" }, shown.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v instanceof Node ? v : String(v)))));
}

function ioTable(title, io, link) {
  if (!io) return null;
  const rows = [];
  for (const p of io.parameters || []) rows.push([`parameter ${p.name}`, p.value ?? (p.valueFrom && p.valueFrom.default) ?? ""]);
  for (const a of io.artifacts || []) {
    const where = a.path || (a.s3 && a.s3.key) || "";
    rows.push([`artifact ${a.name}`, a.s3 ? el("a", { href: link(a.name), download: true, "data-artifact": a.name }, where) : where]);
  }
  if (io.result !== undefined) rows.push(["result", io.result]);
  if (io.exitCode !== undefined) rows.push(["exit code", io.exitCode]);
  return rows.length ? el("section", {}, el("h3", {}, title), kv(rows)) : null;
}

function workflowPage() {
  const { namespace, name } = ARGS;
  const base = `/api/workflows/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
  const q = new URLSearchParams(location.search);
  let selected = q.get("node");
  const expand = new Set((q.get("expand") || "").split(",").filter(Boolean));
  let state = null, events = null, logs = null, drawnShape = null;

  const head = el("div", { class: "wf-head" });
  const actionsBar = el("div", { class: "actions", id: "actions" });
  const graphBox = el("div", { class: "graph", id: "graph-box" });
  const side = el("aside", { class: "details", id: "details", hidden: true });
  const dialog = el("dialog", { id: "confirm" });
  app.append(head, actionsBar, el("div", { class: "wf-body" }, graphBox, side), dialog);

  graphBox.onclick = (ev) => {
    const node = ev.target.closest("[data-id]");
    const group = ev.target.closest(".group");
    if (node && node.classList.contains("type-Collapsed")) { toggleGroup(node.dataset.group, true); return; }
    if (group && group.hasAttribute("data-collapsible") && !node) { toggleGroup(group.dataset.group, false); return; }
    if (node) select(node.dataset.id);
  };

  function toggleGroup(id, open) {
    if (open) expand.add(id); else expand.delete(id);
    const next = new URLSearchParams(location.search);
    if (expand.size) next.set("expand", [...expand].join(",")); else next.delete("expand");
    history.replaceState(null, "", `?${next}`);
    connect();
  }

  function select(id) {
    selected = id;
    const next = new URLSearchParams(location.search);
    if (id) next.set("node", id); else next.delete("node");
    history.pushState(null, "", `?${next}`);
    markSelected();
    showDetails(true);
  }

  function markSelected() {
    for (const old of graphBox.querySelectorAll(".node.selected")) old.classList.remove("selected");
    if (selected) graphBox.querySelector(`.node[data-id="${CSS.escape(selected)}"]`)?.classList.add("selected");
  }

  // Same shape (sluice/ui/layout.py): only phases and messages change, the nodes are updated in place.
  function patchGraph(graph) {
    const shown = new Map([...graphBox.querySelectorAll(".node")].map((g) => [g.dataset.id, g]));
    for (const n of graph.nodes) {
      const g = shown.get(n.id);
      if (!g || (g.dataset.phase === n.phase && g.dataset.message === (n.message || ""))) continue;
      g.classList.replace(`phase-${g.dataset.phase}`, `phase-${n.phase}`);
      g.dataset.phase = n.phase;
      g.dataset.message = n.message || "";
      const title = g.querySelector("title");
      if (title) title.textContent = `${n.name}: ${n.phase}${n.message ? " — " + n.message : ""}`;
      const sub = g.querySelector("text.sub");
      if (sub && n.type === "Collapsed") sub.textContent = Object.entries(n.counts).map(([k, v]) => `${v} ${k}`).join(", ");
    }
    markSelected();
  }
  window.onpopstate = () => { selected = new URLSearchParams(location.search).get("node"); markSelected(); showDetails(true); };

  function render() {
    if (!state) return;
    const s = state.summary;
    head.replaceChildren(el("h1", {}, name, " ", badge(s.phase, s.shownPhase)),
      kv([["namespace", s.namespace], ["started", s.startedAt], ["finished", s.finishedAt], ["duration", s.duration],
        ["progress", s.progress], ["message", s.message]]));
    const t0 = performance.now();
    if (drawnShape === state.graph.shape) patchGraph(state.graph, selected);
    else {
      const scroll = [graphBox.scrollLeft, graphBox.scrollTop];
      graphBox.innerHTML = drawGraph(state.graph, selected);
      [graphBox.scrollLeft, graphBox.scrollTop] = scroll;
      drawnShape = state.graph.shape;
    }
    renderActions();
    // timings read by benchmarks/bench_ui.py: the first graph's paint (after the frame that shows it)
    TIMINGS.renders.push(performance.now() - t0);
    if (TIMINGS.firstGraphPainted === undefined) {
      TIMINGS.firstGraphPainted = null;
      requestAnimationFrame(() => setTimeout(() => { TIMINGS.firstGraphPainted = performance.now(); }, 0));
    }
  }

  async function showDetails(newNode) {
    if (!selected || !state) { side.hidden = true; return; }
    const hiddenIn = state.graph.hidden && state.graph.hidden[selected];
    if (hiddenIn && !expand.has(hiddenIn)) { toggleGroup(hiddenIn, true); return; }
    let node;
    try { node = await getJSON(`${base}/nodes/${encodeURIComponent(selected)}`); } catch (e) { problem(e.message); return; }
    side.hidden = false;
    const keep = newNode ? null : side.querySelector("#logs");
    const keptContainer = newNode ? null : side.querySelector("#container");
    side.replaceChildren(...[
      el("div", { class: "close" }, el("button", { onclick: () => select(null) }, "×")),
      el("h2", {}, node.displayName || node.name, " ", badge(node.phase)),
      kv([["ID", node.id], ["name", node.name], ["type", node.type], ["template", node.templateName || (node.templateRef && node.templateRef.template)],
        ["pod", node.podName], ["host", node.hostNodeName], ["started", node.startedAt], ["finished", node.finishedAt],
        ["duration", span(node.startedAt, node.finishedAt)], ["message", node.message], ["progress", node.progress]]),
      ioTable("Inputs", node.inputs, (a) => `${base}/artifacts/${encodeURIComponent(node.id)}/inputs/${encodeURIComponent(a)}`),
      ioTable("Outputs", node.outputs, (a) => `${base}/artifacts/${encodeURIComponent(node.id)}/outputs/${encodeURIComponent(a)}`),
      node.type === "Pod" ? el("section", {}, el("h3", {}, "Logs ",
        // a cluster's pods also have Argo's init and wait containers
        keptContainer || el("select", { id: "container", onchange: () => followLogs(node.id) },
          ...(document.getElementById("mode").textContent.startsWith("cluster") ? ["main", "init", "wait"] : ["main"])
            .map((c) => el("option", { value: c }, c))), " ",
        el("button", { id: "follow", onclick: () => followLogs(node.id) }, "follow")),
        keep || el("pre", { id: "logs", class: "logs" })) : null].filter(Boolean));
    if (newNode && node.type === "Pod") followLogs(node.id);
  }

  function followLogs(id) {
    if (logs) logs.close();
    const pre = side.querySelector("#logs");
    if (!pre) return;
    pre.textContent = "";
    const container = side.querySelector("#container")?.value || "main";
    logs = new EventSource(`${base}/logs?node=${encodeURIComponent(id)}&follow=1&container=${encodeURIComponent(container)}`);
    logs.addEventListener("line", (ev) => {
      const { line } = JSON.parse(ev.data);
      const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      pre.append(line + "\n");
      if (atEnd) pre.scrollTop = pre.scrollHeight;
    });
    logs.addEventListener("end", () => { logs.close(); pre.dataset.done = "1"; });
    logs.addEventListener("problem", (ev) => { pre.append(`(${JSON.parse(ev.data).error})\n`); logs.close(); });
    logs.onerror = () => { if (logs) logs.close(); };
  }

  const LABELS = { resume: "Resume", "stop-node": "Reject", stop: "Stop", terminate: "Terminate", retry: "Retry", resubmit: "Resubmit" };
  const EXPLAIN = {
    resume: "Resume the suspended step (the approval gate): the workflow goes on.",
    "stop-node": "Fail the suspended step: the workflow does not go on past it.",
    stop: "Stop the workflow: running steps are stopped, exit handlers still run.",
    terminate: "Terminate the workflow: running steps are stopped, no exit handler runs.",
    retry: "Retry the workflow: its failed steps run again.",
    resubmit: "Submit this workflow again, as a new workflow.",
  };

  function waitingNode() {
    const waiting = state.waiting || [];
    return waiting.find((n) => n.id === selected) || waiting[0] || null;
  }

  function renderActions() {
    actionsBar.replaceChildren(...Object.entries(state.actions || {}).filter(([, ok]) => ok)
      .map(([a]) => el("button", { class: `action action-${a}`, "data-action": a, onclick: () => confirmAction(a) }, LABELS[a] || a)));
  }

  function confirmAction(action) {
    const gate = (action === "resume" || action === "stop-node") ? waitingNode() : null;
    const supplied = gate && action === "resume" ? ((gate.outputs && gate.outputs.parameters) || []).filter((p) => p.valueFrom && "supplied" in p.valueFrom) : [];
    const fields = supplied.map((p) => el("label", { class: "param" }, `${p.name} `,
      el("input", { name: p.name, value: p.value ?? p.valueFrom.default ?? "", "data-param": p.name })));
    const form = el("form", { method: "dialog" },
      el("h2", {}, `${LABELS[action]} ${name}${gate ? ` / ${gate.displayName}` : ""}?`),
      el("p", {}, EXPLAIN[action]), ...fields,
      el("menu", {}, el("button", { value: "cancel", type: "submit", id: "cancel" }, "Cancel"),
        el("button", { value: "ok", type: "submit", id: "confirm-ok", class: "danger" }, `Yes, ${LABELS[action].toLowerCase()}`)));
    dialog.replaceChildren(form);
    dialog.onclose = async () => {
      if (dialog.returnValue !== "ok") return;
      const parameters = {};
      for (const input of form.querySelectorAll("[data-param]")) parameters[input.dataset.param] = input.value;
      try {
        const res = await getJSON(`${base}/${action}`, { method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ node: gate ? gate.id : null, parameters }) });
        flash(res.message);
        if (res.name && res.name !== name) location.href = `/workflows/${encodeURIComponent(namespace)}/${encodeURIComponent(res.name)}`;
        else if (!events) connect();
      } catch (e) { problem(e.message); }
    };
    dialog.returnValue = "";
    dialog.showModal();
  }

  function flash(text) {
    const box = el("div", { class: "flash", id: "flash" }, text);
    document.getElementById("flash")?.remove();
    app.prepend(box);
    setTimeout(() => box.remove(), 8000);
  }

  function connect() {
    if (events) events.close();
    const qs = expand.size ? `?expand=${encodeURIComponent([...expand].join(","))}` : "";
    events = new EventSource(`${base}/events${qs}`);
    events.addEventListener("workflow", (ev) => {
      const first = !state;
      state = JSON.parse(ev.data);
      problem("");
      render();
      app.dataset.phase = state.summary.phase;
      if (selected) showDetails(first);
    });
    events.addEventListener("end", () => { events.close(); events = null; app.dataset.live = "ended"; });
    events.addEventListener("problem", (ev) => problem(JSON.parse(ev.data).error));
    // A dropped stream is reopened; so is a workflow not there yet (a run just started writes its
    // status a moment later): the problem is shown meanwhile.
    events.onerror = async () => {
      events.close(); events = null;
      try { await getJSON(base); } catch (e) { problem(e.message); }
      setTimeout(() => { if (!events) connect(); }, 2000);
    };
  }
  connect();
}

// --- CronWorkflows and WorkflowTemplates (read only) ----------------------------------------------

function objectsPage() {
  const kind = ARGS.kind;
  const title = kind === "cronworkflows" ? "Cron workflows" : "Workflow templates";
  const table = el("table", { class: "objects", id: "objects" });
  const view = el("pre", { class: "object", id: "object", hidden: true });
  app.append(el("h1", {}, title), table, view);
  const q = new URLSearchParams(location.search);
  const api = q.has("namespace") ? `?namespace=${encodeURIComponent(q.get("namespace"))}` : "";
  getJSON(`/api/${kind}${api}`).then(({ items, mode }) => {
    if (mode === "local") {
      table.replaceWith(el("p", { class: "empty" }, `${title} live on a cluster: run \`sluice ui\` without --local to see them.`));
      return;
    }
    const cron = kind === "cronworkflows";
    table.replaceChildren(el("tr", {}, ["Name", "Namespace", cron ? "Schedule" : "Entrypoint", cron ? "Suspended" : "Templates", "Created"].map((h) => el("th", {}, h))),
      ...items.map((o) => el("tr", { "data-name": o.metadata.name, onclick: () => { view.hidden = false; view.textContent = JSON.stringify(o, null, 2); } },
        el("td", {}, o.metadata.name), el("td", {}, o.metadata.namespace || ""),
        el("td", {}, cron ? (o.spec.schedule || (o.spec.schedules || []).join(", ")) : (o.spec.entrypoint || "")),
        el("td", {}, cron ? String(!!o.spec.suspend) : String((o.spec.templates || []).length)),
        el("td", {}, since(o.metadata.creationTimestamp)))));
    if (!items.length) table.append(el("tr", {}, el("td", { colspan: 5, class: "empty" }, "None found.")));
  }).catch((e) => problem(e.message));
}

({ list: listPage, workflow: workflowPage, objects: objectsPage })[app.dataset.page]();
