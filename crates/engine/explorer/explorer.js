// The execution explorer: a list of executions and, for one, its header,
// its operations on a timeline, its history, and what can be done to it.
// Everything comes from the explorer's own JSON routes; live changes come as
// server-sent events, so the page never needs a reload.

const main = document.getElementById("main");
const live = document.getElementById("live");

/** State that outlives a render: the list's filters and pages. */
const listState = { filters: { function: "", status: "", after: "", before: "", search: "" }, markers: [null], page: 0 };
let functions = [];
let current = null; // the execution shown, while one is
let selected = null; // the operation selected on its timeline
let ticker = null; // redraws a running execution's timeline every second

// ---------------------------------------------------------------- helpers

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { "Content-Type": "application/json", "X-Orders-Explorer": "1", ...(options.headers || {}) },
  });
  const text = await response.text();
  const body = text ? JSON.parse(text) : {};
  if (!response.ok) throw new Error(body.message || body.Message || `${response.status} ${response.statusText}`);
  return body;
}

const post = (path, body) => api(path, { method: "POST", body: JSON.stringify(body ?? {}) });

function time(ms) {
  if (ms === null || ms === undefined) return "–";
  return new Date(ms).toISOString().replace("T", " ").replace("Z", "");
}

function duration(ms) {
  if (ms === null || ms === undefined) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function status(value) {
  return el("span", { class: `status ${value}` }, value.replace("_", " ").toLowerCase());
}

function pretty(text) {
  if (text === null || text === undefined) return "";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return String(text);
  }
}

function copyButton(text, what) {
  return el("button", {
    type: "button",
    "aria-label": `Copy ${what}`,
    onclick: async (event) => {
      await navigator.clipboard?.writeText(text).catch(() => {});
      event.target.textContent = "Copied";
      setTimeout(() => (event.target.textContent = "Copy"), 1200);
    },
  }, "Copy");
}

const seconds = (value) => (value === undefined || value === null ? null : Math.round(value * 1000));
const running = (value) => ["RUNNING", "PAUSING", "PAUSED"].includes(value);

// ---------------------------------------------------------------- routing

function route() {
  clearInterval(ticker);
  ticker = null;
  const hash = decodeURIComponent(location.hash.slice(1));
  if (hash.startsWith("/execution/")) {
    showExecution(hash.slice("/execution/".length));
  } else {
    current = null;
    showList();
  }
}

window.addEventListener("hashchange", route);

// ---------------------------------------------------------------- the list

async function loadFunctions() {
  functions = (await api("/api/functions")).functions;
}

function filterControls() {
  const f = listState.filters;
  const onchange = (key) => (event) => {
    f[key] = event.target.value;
    listState.markers = [null];
    listState.page = 0;
    renderRows();
  };
  return el("form", { class: "filters", role: "search", onsubmit: (event) => event.preventDefault() },
    el("label", {}, "Function",
      el("select", { id: "filter-function", onchange: onchange("function") },
        el("option", { value: "" }, "all"),
        functions.map((fn) => el("option", { value: fn.name, selected: fn.name === f.function }, fn.name)))),
    el("label", {}, "Status",
      el("select", { id: "filter-status", onchange: onchange("status") },
        el("option", { value: "" }, "all"),
        ["RUNNING", "PAUSING", "PAUSED", "SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"].map((s) =>
          el("option", { value: s, selected: s === f.status }, s.replace("_", " ").toLowerCase())))),
    el("label", {}, "Started after", el("input", { type: "datetime-local", id: "filter-after", value: f.after, onchange: onchange("after") })),
    el("label", {}, "Started before", el("input", { type: "datetime-local", id: "filter-before", value: f.before, onchange: onchange("before") })),
    el("label", {}, "Name or ARN",
      el("input", { type: "search", id: "filter-search", value: f.search, placeholder: "search", oninput: debounce(onchange("search"), 250) })));
}

function debounce(action, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => action(...args), ms);
  };
}

async function showList() {
  document.title = "Executions · orders";
  main.replaceChildren(
    el("h1", {}, "Executions"),
    filterControls(),
    el("div", { id: "rows" }, el("p", { class: "notice" }, "Loading…")),
  );
  await renderRows();
}

async function renderRows() {
  const rows = document.getElementById("rows");
  if (!rows) return;
  const f = listState.filters;
  const query = new URLSearchParams();
  if (f.function) query.set("function", f.function);
  if (f.status) query.set("status", f.status);
  if (f.after) query.set("startedAfter", new Date(f.after).toISOString());
  if (f.before) query.set("startedBefore", new Date(f.before).toISOString());
  if (f.search) query.set("search", f.search);
  const marker = listState.markers[listState.page];
  if (marker) query.set("marker", marker);
  let page;
  try {
    page = await api(`/api/executions?${query}`);
  } catch (error) {
    rows.replaceChildren(el("p", { class: "error", role: "alert" }, error.message));
    return;
  }
  listState.markers[listState.page + 1] = page.nextMarker ?? null;
  const table = el("table", { id: "executions", "aria-label": "Executions" },
    el("thead", {}, el("tr", {},
      ["Status", "Function", "Name", "Started", "Duration", "Invocations"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, page.executions.map((execution) => {
      const open = () => (location.hash = `#/execution/${encodeURIComponent(execution.arn)}`);
      return el("tr", {
        class: "execution",
        tabindex: 0,
        "data-arn": execution.arn,
        "data-name": execution.name,
        "data-status": execution.status,
        onclick: open,
        onkeydown: (event) => { if (event.key === "Enter") open(); },
      },
        el("td", {}, status(execution.status)),
        el("td", {}, execution.function),
        el("td", {}, el("a", { href: `#/execution/${encodeURIComponent(execution.arn)}` }, execution.name)),
        el("td", { class: "mono" }, time(execution.start)),
        el("td", { class: "number" }, duration((execution.end ?? Date.now()) - execution.start)),
        el("td", { class: "number" }, execution.invocations));
    })));
  rows.replaceChildren(
    page.executions.length ? table : el("p", { class: "empty" }, "No execution matches."),
    el("nav", { class: "pager", "aria-label": "Pages" },
      el("button", { type: "button", disabled: listState.page === 0, onclick: () => { listState.page -= 1; renderRows(); } }, "Newer"),
      el("span", {}, `page ${listState.page + 1}`),
      el("button", { type: "button", disabled: !page.nextMarker, onclick: () => { listState.page += 1; renderRows(); } }, "Older")));
}

// ---------------------------------------------------------------- one execution

async function showExecution(arn) {
  if (!current || current.arn !== arn) {
    selected = null;
    main.replaceChildren(el("p", { class: "notice" }, "Loading…"));
  }
  let detail;
  try {
    detail = await api(`/api/executions/${encodeURIComponent(arn)}`);
  } catch (error) {
    main.replaceChildren(el("p", { class: "error", role: "alert" }, error.message), el("a", { href: "#/" }, "All executions"));
    return;
  }
  current = { arn, ...detail };
  renderExecution();
  clearInterval(ticker);
  ticker = running(detail.execution.status) ? setInterval(() => renderTimeline(), 1000) : null;
}

function renderExecution() {
  const { execution } = current;
  document.title = `${execution.name} · ${execution.status}`;
  const end = execution.end ?? Date.now();
  const focusInside = main.contains(document.activeElement) ? document.activeElement?.id : null;
  main.replaceChildren(
    el("p", {}, el("a", { href: "#/" }, "← All executions")),
    el("h1", {}, execution.name, " ", status(execution.status)),
    el("dl", { class: "summary", id: "summary" },
      el("dt", {}, "Status"), el("dd", { id: "execution-status" }, status(execution.status)),
      el("dt", {}, "Function"), el("dd", {}, `${execution.function} (version ${execution.version})`),
      el("dt", {}, "ARN"), el("dd", { class: "mono" }, execution.arn, " ", copyButton(execution.arn, "the ARN")),
      el("dt", {}, "Started"), el("dd", { class: "mono" }, time(execution.start)),
      el("dt", {}, "Ended"), el("dd", { class: "mono" }, time(execution.end)),
      el("dt", {}, "Duration"), el("dd", {}, duration(end - execution.start)),
      el("dt", {}, "Invocations"), el("dd", {}, execution.invocations),
      execution.pause && [el("dt", {}, "Pause"), el("dd", {}, execution.pause.reason ?? "asked for", execution.pause.since ? "" : " (takes effect at the next checkpoint)")]),
    el("div", { class: "actions", role: "group", "aria-label": "Actions" },
      el("button", { type: "button", id: "action-stop", class: "danger", disabled: !running(execution.status), onclick: () => act("stop") }, "Stop"),
      el("button", { type: "button", id: "action-pause", disabled: execution.status !== "RUNNING", onclick: () => act("pause") }, "Pause"),
      el("button", { type: "button", id: "action-resume", disabled: !["PAUSING", "PAUSED"].includes(execution.status), onclick: () => act("resume") }, "Resume"),
      el("span", { class: "error", id: "action-error", role: "alert" })),
    el("div", { class: "payloads" },
      payloadBox("Input", execution.input, "input"),
      execution.result !== null && execution.result !== undefined && payloadBox("Result", execution.result, "result"),
      execution.error && payloadBox("Error", JSON.stringify(execution.error), "error")),
    el("section", { id: "timeline-section", "aria-labelledby": "timeline-title" },
      el("h2", { id: "timeline-title" }, "Timeline"),
      el("div", { class: "timeline", id: "timeline" }),
      legend()),
    el("div", { id: "operation-detail", "aria-live": "polite" }),
    el("h2", {}, "History"),
    eventsTable(current.events),
  );
  renderTimeline();
  renderOperationDetail();
  if (focusInside) document.getElementById(focusInside)?.focus();
}

function payloadBox(title, text, id) {
  const shown = pretty(text);
  return el("section", { class: "payload", "aria-label": title },
    el("header", {}, el("strong", {}, title), copyButton(shown, title.toLowerCase())),
    el("pre", { id: `payload-${id}` }, shown));
}

function legend() {
  return el("div", { class: "legend", "aria-label": "Legend" },
    el("span", { class: "l-step" }, "step"),
    el("span", { class: "l-context" }, "context (parallel, branch, child)"),
    el("span", { class: "l-wait" }, "wait"),
    el("span", { class: "l-callback" }, "callback"),
    el("span", { class: "l-invoke" }, "chained invoke"),
    el("span", { class: "l-failed" }, "failed attempt"),
    el("span", { class: "l-invocation" }, "invocation"));
}

async function act(action) {
  const error = document.getElementById("action-error");
  error.textContent = "";
  const body = action === "stop" ? { ErrorMessage: "Stopped from the explorer" } : { Reason: `${action} from the explorer` };
  try {
    await post(`/api/executions/${encodeURIComponent(current.arn)}/${action}`, body);
    await showExecution(current.arn);
  } catch (failure) {
    error.textContent = failure.message;
  }
}

/** The operations in tree order (each after its parent), with their depth. */
function operationTree(operations) {
  const byParent = new Map();
  for (const op of operations) {
    if (op.Type === "EXECUTION") continue;
    const parent = op.ParentId ?? null;
    if (!byParent.has(parent)) byParent.set(parent, []);
    byParent.get(parent).push(op);
  }
  const known = new Set(operations.map((op) => op.Id));
  const ordered = [];
  const visit = (parent, depth) => {
    for (const op of byParent.get(parent) ?? []) {
      ordered.push({ op, depth });
      visit(op.Id, depth + 1);
    }
  };
  visit(null, 0);
  for (const [parent, children] of byParent) {
    if (parent !== null && !known.has(parent)) children.forEach((op) => ordered.push({ op, depth: 0 }));
  }
  return ordered;
}

/** A step's attempts, from its history events: start, end, failed. */
function attempts(op, events) {
  const mine = events.filter((event) => event.Id === op.Id);
  const spans = [];
  let begun = null;
  for (const event of mine) {
    const at = seconds(event.EventTimestamp);
    if (event.EventType === "StepStarted") begun = at;
    if (event.EventType === "StepSucceeded" || event.EventType === "StepFailed") {
      spans.push({ start: begun ?? at, end: at, failed: event.EventType === "StepFailed" });
      begun = null;
    }
  }
  if (begun !== null) spans.push({ start: begun, end: null, failed: false });
  return spans;
}

function invocations(events) {
  return events
    .filter((event) => event.EventType === "InvocationCompleted")
    .map((event, index) => ({
      number: index + 1,
      start: seconds(event.InvocationCompletedDetails.StartTimestamp),
      end: seconds(event.InvocationCompletedDetails.EndTimestamp),
    }));
}

function renderTimeline() {
  const box = document.getElementById("timeline");
  if (!box || !current) return;
  const { execution, operations, events } = current;
  const rows = operationTree(operations);
  const now = Date.now();
  const start = execution.start;
  const end = Math.max(execution.end ?? now, ...operations.map((op) => seconds(op.EndTimestamp) ?? 0), start + 1);
  const labelWidth = 240;
  const width = Math.max(720, box.clientWidth - 16);
  const plot = width - labelWidth - 16;
  const rowHeight = 24;
  const top = 26;
  const height = top + rows.length * rowHeight + 8;
  const x = (ms) => labelWidth + ((ms - start) / (end - start)) * plot;
  const ticks = 6;
  const chart = svg("svg", { width, height, role: "img", "aria-labelledby": "timeline-title", id: "timeline-svg",
      "data-start-ms": start, "data-end-ms": end, "data-plot-px": plot },
    svg("defs", {}, svg("pattern", { id: "wait-hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
      svg("rect", { width: 6, height: 6, fill: "transparent" }),
      svg("line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: "var(--bar-wait)", "stroke-width": 3 }))),
    Array.from({ length: ticks + 1 }, (_, i) => {
      const at = start + ((end - start) * i) / ticks;
      return [
        svg("line", { class: "gridline", x1: x(at), x2: x(at), y1: top - 6, y2: height }),
        svg("text", { class: "axis", x: x(at), y: 12, "text-anchor": i === 0 ? "start" : i === ticks ? "end" : "middle" }, `+${duration(at - start)}`),
      ];
    }),
    invocations(events).map((invocation) => svg("g", { class: "invocation-band", "data-number": invocation.number },
      svg("rect", { class: "invocation", x: x(invocation.start), y: top - 4, width: Math.max(1, x(invocation.end) - x(invocation.start)), height: height - top + 4 }),
      svg("text", { class: "invocation-label", x: x(invocation.start) + 3, y: top + 6 }, `invocation ${invocation.number}`))),
    rows.map(({ op, depth }, index) => {
      const y = top + index * rowHeight;
      const opStart = seconds(op.StartTimestamp);
      const opEnd = seconds(op.EndTimestamp);
      const name = op.Name ?? op.Id;
      const segments = op.Type === "STEP" && attempts(op, events).length > 1
        ? attempts(op, events)
        : [{ start: opStart, end: opEnd, failed: false }];
      const select = () => {
        selected = op.Id;
        document.querySelectorAll("#timeline .row").forEach((row) => row.classList.toggle("selected", row.dataset.id === op.Id));
        renderOperationDetail();
      };
      return svg("g", {
        class: `row${selected === op.Id ? " selected" : ""}`,
        tabindex: 0,
        role: "button",
        "aria-label": `${op.Type.toLowerCase()} ${name}, ${op.Status.toLowerCase()}, ${duration((opEnd ?? now) - opStart)}`,
        "data-id": op.Id,
        "data-name": name,
        "data-type": op.Type,
        "data-parent": op.ParentId ?? "",
        onclick: select,
        onkeydown: (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); select(); } },
      },
        svg("title", {}, `${op.Type} ${name}: ${op.Status}`),
        svg("text", { class: "label", x: 6 + depth * 14, y: y + 16 }, name.length > 28 ? `${name.slice(0, 27)}…` : name),
        segments.map((segment, attempt) => {
          const left = x(segment.start);
          const right = x(segment.end ?? now);
          return svg("rect", {
            class: `bar ${op.Type}${segment.failed ? " attempt-failed" : ""}${segment.end === null ? " running" : ""}`,
            x: left, y: y + 4, width: Math.max(2, right - left), height: rowHeight - 8,
            "data-name": name, "data-attempt": attempt + 1,
            "data-start-ms": segment.start, "data-end-ms": segment.end ?? "",
          });
        }));
    }));
  box.replaceChildren(rows.length ? chart : el("p", { class: "empty" }, "No operation yet."));
}

function renderOperationDetail() {
  const box = document.getElementById("operation-detail");
  if (!box || !current) return;
  const op = current.operations.find((candidate) => candidate.Id === selected);
  if (!op) {
    box.replaceChildren(el("p", { class: "notice" }, "Select an operation on the timeline (click it, or Tab to it and press Enter) to see its details."));
    return;
  }
  const details = op.StepDetails ?? op.ContextDetails ?? op.CallbackDetails ?? op.ChainedInvokeDetails ?? op.WaitDetails ?? op.ExecutionDetails ?? {};
  const steps = op.Type === "STEP" ? attempts(op, current.events) : [];
  const callbackOpen = op.Type === "CALLBACK" && op.Status === "STARTED" && op.CallbackDetails?.CallbackId;
  box.replaceChildren(el("section", { class: "operation", id: "operation", "aria-label": `Operation ${op.Name ?? op.Id}` },
    el("h2", {}, op.Name ?? op.Id, " ", status(op.Status)),
    el("dl", {},
      el("dt", {}, "Type"), el("dd", {}, op.Type),
      el("dt", {}, "Sub type"), el("dd", {}, op.SubType ?? "–"),
      el("dt", {}, "Id"), el("dd", { class: "mono" }, op.Id),
      el("dt", {}, "Started"), el("dd", { class: "mono" }, time(seconds(op.StartTimestamp))),
      el("dt", {}, "Ended"), el("dd", { class: "mono" }, time(seconds(op.EndTimestamp))),
      el("dt", {}, "Duration"), el("dd", {}, duration((seconds(op.EndTimestamp) ?? Date.now()) - seconds(op.StartTimestamp))),
      op.Type === "STEP" && [el("dt", {}, "Attempts"), el("dd", {}, steps.length || 1)],
      op.WaitDetails?.ScheduledEndTimestamp && [el("dt", {}, "Wait ends"), el("dd", { class: "mono" }, time(seconds(op.WaitDetails.ScheduledEndTimestamp)))],
      op.CallbackDetails?.CallbackId && [el("dt", {}, "Callback id"), el("dd", { class: "mono", id: "callback-id" }, op.CallbackDetails.CallbackId)]),
    (op.ExecutionDetails?.InputPayload ?? null) !== null && el("pre", {}, pretty(op.ExecutionDetails.InputPayload)),
    details.Result !== undefined && [el("strong", {}, "Result"), el("pre", { id: "operation-result" }, pretty(details.Result))],
    details.Error && [el("strong", {}, "Error"), el("pre", { id: "operation-error" }, JSON.stringify(details.Error, null, 2))],
    callbackOpen && callbackForm(op.CallbackDetails.CallbackId)));
}

function callbackForm(callbackId) {
  const result = el("textarea", { id: "callback-result", "aria-label": "Callback result (JSON)", spellcheck: "false" }, '"approved"');
  const message = el("input", { id: "callback-error-message", "aria-label": "Failure message", placeholder: "why it failed" });
  const error = el("p", { class: "error", id: "callback-error", role: "alert" });
  const send = (kind, body) => async () => {
    error.textContent = "";
    try {
      await post(`/api/callbacks/${kind}`, { callbackId, ...body() });
      await showExecution(current.arn);
    } catch (failure) {
      error.textContent = failure.message;
    }
  };
  return el("form", { class: "callback-form", "aria-label": "Complete the callback", onsubmit: (event) => event.preventDefault() },
    el("label", {}, "Result (JSON)", result),
    el("div", { class: "actions" },
      el("button", { type: "button", id: "callback-succeed", class: "primary", onclick: send("succeed", () => ({ result: result.value })) }, "Send success"),
      el("button", { type: "button", id: "callback-heartbeat", onclick: send("heartbeat", () => ({})) }, "Send heartbeat")),
    el("label", {}, "Failure message", message),
    el("div", { class: "actions" },
      el("button", { type: "button", id: "callback-fail", class: "danger", onclick: send("fail", () => ({ errorMessage: message.value || "failed from the explorer" })) }, "Send failure")),
    error);
}

function eventsTable(events) {
  return el("table", { class: "events", id: "events", "aria-label": "History events" },
    el("thead", {}, el("tr", {}, ["#", "Event", "Operation", "Sub type", "Parent", "Time", "Details"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, events.map((event) => {
      const details = Object.entries(event).find(([key]) => key.endsWith("Details"));
      return el("tr", { "data-event-type": event.EventType },
        el("td", { class: "number" }, event.EventId),
        el("td", {}, event.EventType),
        el("td", {}, event.Name ?? event.Id),
        el("td", {}, event.SubType ?? ""),
        el("td", { class: "mono" }, event.ParentId ?? ""),
        el("td", { class: "mono" }, time(seconds(event.EventTimestamp))),
        el("td", { class: "details" }, details ? el("pre", {}, JSON.stringify(details[1], null, 1)) : ""));
    })));
}

// ---------------------------------------------------------------- starting one

const dialog = document.getElementById("start-dialog");
document.getElementById("start-open").addEventListener("click", async () => {
  await loadFunctions().catch(() => {});
  const select = document.getElementById("start-function");
  select.replaceChildren(...functions.filter((fn) => fn.durable).map((fn) =>
    el("option", { value: fn.qualified }, fn.qualified)));
  document.getElementById("start-error").textContent = "";
  dialog.showModal();
});
document.getElementById("start-cancel").addEventListener("click", () => dialog.close());
document.getElementById("start-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("start-error");
  error.textContent = "";
  const payload = document.getElementById("start-payload").value;
  try {
    JSON.parse(payload);
  } catch (failure) {
    error.textContent = `The payload is not JSON: ${failure.message}`;
    return;
  }
  try {
    const started = await post("/api/start", {
      function: document.getElementById("start-function").value,
      name: document.getElementById("start-name").value || null,
      payload,
    });
    dialog.close();
    location.hash = `#/execution/${encodeURIComponent(started.arn)}`;
  } catch (failure) {
    error.textContent = failure.message;
  }
});

// ---------------------------------------------------------------- live changes

function listen() {
  const source = new EventSource("/api/events");
  source.onopen = () => (live.textContent = "live");
  source.onerror = () => (live.textContent = "reconnecting…");
  const refreshList = debounce(() => renderRows(), 300);
  const refreshExecution = debounce(() => current && showExecution(current.arn), 150);
  source.onmessage = (message) => {
    const change = JSON.parse(message.data);
    if (current && change.arn === current.arn) refreshExecution();
    else if (!current) refreshList();
  };
}

await loadFunctions().catch((error) => main.replaceChildren(el("p", { class: "error", role: "alert" }, error.message)));
listen();
route();
