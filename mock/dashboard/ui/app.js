// idpmock dashboard: a client of the admin API (/__mock/...), nothing more.
// Plain ES module, no dependencies, no network beyond the mock itself.

const API = "/__mock";
const TOKEN_KEY = "idpmock.adminToken";
const THEME_KEY = "idpmock.theme";
const ROW = 30; // px, every traffic row has this height (virtualised list)
const KEEP = 20000; // entries kept in the page at most

const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...kids) => {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === "class") n.className = v;
    else if (k === "text") n.textContent = v;
    else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
    else if (k === "style") Object.assign(n.style, v); // an object: the CSP refuses style attributes
    else n.setAttribute(k, v === true ? "" : v);
  }
  for (const c of kids.flat(Infinity)) if (c != null && c !== false) n.append(c.nodeType ? c : String(c));
  return n;
};

// ---------- admin API, with the token asked once per tab ----------

class APIError extends Error {
  constructor(status, doc) {
    super((doc && doc.message) || `HTTP ${status}`);
    this.status = status;
    this.doc = doc;
  }
}

let tokenPrompt = null;
function askToken(again) {
  if (tokenPrompt) return tokenPrompt;
  const dlg = $("#token-dialog");
  $("#token-msg").textContent = again ? "That token was refused; try again." : "";
  $("#token-input").value = "";
  tokenPrompt = new Promise((resolve) => {
    dlg.addEventListener("close", () => {
      sessionStorage.setItem(TOKEN_KEY, $("#token-input").value.trim());
      tokenPrompt = null;
      resolve();
    }, { once: true });
  });
  dlg.showModal();
  return tokenPrompt;
}

async function api(method, path, body, opts = {}) {
  for (let attempt = 0; ; attempt++) {
    const headers = { Accept: opts.accept || "application/json" };
    const tok = sessionStorage.getItem(TOKEN_KEY);
    if (tok) headers.Authorization = "Bearer " + tok;
    let payload;
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = typeof body === "string" ? body : JSON.stringify(body);
    }
    const r = await fetch(API + path, { method, headers, body: payload, signal: opts.signal, cache: "no-store" });
    if (r.status === 401 && attempt < 5) {
      await askToken(attempt > 0 || !!tok);
      continue;
    }
    if (!r.ok) {
      let doc = null;
      try { doc = await r.json(); } catch { /* not JSON */ }
      throw new APIError(r.status, doc);
    }
    if (opts.raw) return r;
    if (r.status === 204) return null;
    return r.json();
  }
}

function toast(msg, bad) {
  const t = $("#toast");
  t.textContent = msg;
  t.className = "toast show" + (bad ? " bad" : "");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.className = "toast"), 4000);
}
const failed = (what) => (e) => toast(`${what}: ${e.message}${issueText(e.doc)}`, true);
function issueText(doc) {
  if (!doc || !doc.issues) return "";
  return " (" + doc.issues.map((i) => [i.field, i.message].filter(Boolean).join(": ")).join("; ") + ")";
}

// ---------- formatting ----------

const pad = (n, w = 2) => String(n).padStart(w, "0");
function timeOf(iso) {
  const d = new Date(iso);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
function dateTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
function span(ms) {
  const neg = ms < 0;
  let s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  const parts = d ? [`${d}d`, `${h}h`] : h ? [`${h}h`, `${m}m`] : m ? [`${m}m`, `${s}s`] : [`${s}s`];
  return (neg ? "-" : "") + parts.join(" ");
}
const pretty = (v) => (typeof v === "string" ? v : JSON.stringify(v, null, 2));

// protocol is filled in by the server when it knows the face (rest,
// connect, grpc, grpc-web); older servers leave it out, so infer it.
function face(e) {
  if (e.protocol) return e.protocol;
  const ct = ((e.headers && (e.headers["Content-Type"] || e.headers["content-type"])) || [""])[0];
  if (/grpc-web/.test(ct)) return "grpc-web";
  if (/application\/grpc/.test(ct)) return "grpc";
  if (/^\/[a-z0-9_.]+\.[A-Za-z0-9]+Service\//.test(e.path)) return "connect";
  return "rest";
}
function statusClass(e) {
  if (e.status === 0) return "s0";
  return "s" + String(e.status)[0];
}
function problemField(e) {
  const is = e.problem && e.problem.issues;
  if (is && is.length) return is.map((i) => i.field || i.in).filter(Boolean).join(", ");
  return "";
}

// ---------- traffic ----------

const traffic = {
  loaded: false, // the first page is in; from then on, long polls
  all: [], // oldest first
  shown: [], // newest first, filtered
  cursor: 0,
  total: 0,
  selected: -1, // seq of the selected entry
  ops: [],
};

function matches(e, f) {
  if (f.vendor && e.vendor !== f.vendor) return false;
  if (f.op && e.operation !== f.op && !(e.nearest && e.nearest.operation === f.op)) return false;
  if (f.status === "invalid") { if (e.valid) return false; }
  else if (f.status === "0") { if (e.status !== 0) return false; }
  else if (f.status && String(e.status)[0] !== f.status) return false;
  if (f.text) {
    const hay = e._hay || (e._hay = [e.method, e.path, e.query, e.operation, e.vendor, e.status, e.override,
      e.problem && e.problem.message, problemField(e), e.nearest && e.nearest.operation,
      e.nearest && e.nearest.reasons && e.nearest.reasons.join(" ")].filter(Boolean).join(" ").toLowerCase());
    if (!hay.includes(f.text)) return false;
  }
  return true;
}

function filters() {
  return {
    vendor: $("#f-vendor").value, op: $("#f-op").value, status: $("#f-status").value,
    text: $("#f-text").value.trim().toLowerCase(),
  };
}

function refilter() {
  const f = filters();
  const out = [];
  for (let i = traffic.all.length - 1; i >= 0; i--) if (matches(traffic.all[i], f)) out.push(traffic.all[i]);
  traffic.shown = out;
  renderList(true);
}

function addEntries(entries) {
  if (!entries.length) return;
  const fresh = entries.filter((e) => e.seq > traffic.cursor);
  if (!fresh.length) return;
  traffic.all.push(...fresh);
  traffic.cursor = Math.max(traffic.cursor, fresh[fresh.length - 1].seq);
  if (traffic.all.length > KEEP) traffic.all.splice(0, traffic.all.length - KEEP);
  const f = filters();
  const add = fresh.filter((e) => matches(e, f)).reverse();
  if (traffic.shown.length + add.length > KEEP) refilter();
  else {
    traffic.shown = add.concat(traffic.shown);
    // Keep what the reader looks at in place when rows arrive above it.
    const vp = $("#viewport");
    if (vp.scrollTop > 0) vp.scrollTop += add.length * ROW;
    renderList(true);
  }
}

const cells = (e) => {
  let op = e.operation || "";
  let opClass = "op";
  let title = op;
  if (!e.valid && e.problem) {
    // The offending field first: that is what the reader came for.
    const is = (e.problem.issues || [])[0];
    op = "✗ " + (is ? `${is.field || is.in}${is.rule ? ` (${is.rule})` : ""}` : e.problem.message);
    title = `${e.operation || "no operation"}: ${e.problem.message}`;
    opClass += " bad";
  }
  else if (!e.operation) { op = e.nearest && e.nearest.operation ? `≈ ${e.nearest.operation}?` : "no operation"; opClass += " near"; }
  else if (e.override || e.prefer) { op += e.override ? ` · override ${e.override}` : " · Prefer"; opClass += " forced"; }
  return [
    el("span", { class: "t", text: timeOf(e.at) }),
    el("span", { class: "face", text: face(e) }),
    el("span", { class: "m", text: e.method }),
    el("span", { class: "p", text: e.path + (e.query ? "?" + e.query : ""), title: e.path }),
    el("span", { class: opClass, text: op, title }),
    el("span", { class: "st " + statusClass(e), text: e.status === 0 ? "drop" : e.status }),
    el("span", { class: "d", text: e.durationMs != null ? e.durationMs.toFixed(1) : "" }),
  ];
};

let drawn = { first: -1, last: -1, n: -1 };
function renderList(force) {
  const vp = $("#viewport");
  const n = traffic.shown.length;
  $("#spacer").style.height = n * ROW + "px";
  $("#empty").hidden = traffic.all.length > 0;
  $("#traffic-count").textContent = traffic.all.length;
  $("#shown").textContent = n === traffic.all.length ? `${n} requests` : `${n} of ${traffic.all.length}`;
  const first = Math.max(0, Math.floor(vp.scrollTop / ROW) - 10);
  const last = Math.min(n, Math.ceil((vp.scrollTop + vp.clientHeight) / ROW) + 10);
  if (!force && first === drawn.first && last === drawn.last && n === drawn.n) return;
  drawn = { first, last, n };
  const rows = [];
  for (let i = first; i < last; i++) {
    const e = traffic.shown[i];
    const sel = e.seq === traffic.selected;
    rows.push(el("div", {
      class: "row" + (e.valid ? "" : " invalid") + (sel ? " sel" : ""), role: "option", "aria-selected": sel ? "true" : "false",
      id: "e" + e.seq, "data-seq": e.seq, style: { transform: `translateY(${i * ROW}px)` },
    }, cells(e)));
  }
  $("#spacer").replaceChildren(...rows);
  const list = $("#list");
  if (traffic.selected >= 0 && $("#e" + traffic.selected)) list.setAttribute("aria-activedescendant", "e" + traffic.selected);
  else list.removeAttribute("aria-activedescendant");
}

function select(seq, scroll) {
  traffic.selected = seq;
  const i = traffic.shown.findIndex((e) => e.seq === seq);
  if (scroll && i >= 0) {
    const vp = $("#viewport");
    if (i * ROW < vp.scrollTop) vp.scrollTop = i * ROW;
    else if ((i + 1) * ROW > vp.scrollTop + vp.clientHeight) vp.scrollTop = (i + 1) * ROW - vp.clientHeight;
  }
  renderList(true);
  showDetail(traffic.all.find((e) => e.seq === seq));
}

function headerTable(h) {
  const names = Object.keys(h || {}).sort();
  if (!names.length) return el("p", { class: "muted", text: "no headers" });
  return el("table", { class: "kv" }, el("tbody", {}, names.map((k) =>
    el("tr", {}, el("th", { scope: "row", text: k }), el("td", { text: h[k].join(", ") })))));
}
function bodyBlock(b) {
  if (b === undefined || b === null || b === "") return el("p", { class: "muted", text: "no body" });
  return el("pre", { class: "code" }, highlight(pretty(b)));
}
// highlight marks JSON keys, strings and literals (and [REDACTED]) with spans.
function highlight(text) {
  const out = [];
  const re = /("(?:[^"\\]|\\.)*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
  let last = 0, m;
  while ((m = re.exec(text))) {
    if (m.index > last) out.push(text.slice(last, m.index));
    if (m[1]) {
      const cls = m[2] ? "k" : m[1].includes("[REDACTED]") ? "red" : "s";
      out.push(el("span", { class: cls, text: m[1] }));
      if (m[2]) out.push(m[2]);
    } else out.push(el("span", { class: m[3] ? "l" : "n", text: m[0] }));
    last = re.lastIndex;
  }
  out.push(text.slice(last));
  return out;
}

// vendorError sums up the error document the client got back.
function vendorError(e) {
  const b = e.responseBody;
  if (!b || typeof b !== "object") return el("p", { class: "muted small", text: "The client got the vendor's own error (see Response)." });
  const code = b.code ?? b.error ?? "";
  const msg = b.message ?? b.error_description ?? "";
  return el("p", { class: "small" }, "The client got ", el("strong", { text: `${e.status}` }), " with the vendor's error ",
    el("code", { text: [code, msg].filter((x) => x !== "").join(" · ") }), ".");
}

function showDetail(e) {
  const box = $("#detail");
  if (!e) { box.hidden = true; return; }
  const facts = [
    ["Seq", e.seq], ["Arrived", dateTime(e.at) + "." + pad(new Date(e.at).getMilliseconds(), 3)],
    ["Mock clock", dateTime(e.clock)], ["Vendor", e.vendor], ["Face", face(e)], ["Operation", e.operation],
    ["Status", e.status === 0 ? "connection dropped" : e.status],
    ["Duration", e.durationMs != null ? e.durationMs.toFixed(2) + " ms" : null],
    ["Override", e.override], ["Prefer", e.prefer], ["Fault", e.fault],
  ].filter(([, v]) => v !== undefined && v !== null && v !== "");
  const parts = [
    el("div", { class: "bar" },
      el("h2", {}, el("span", { class: "m", text: e.method }), " ", el("span", { class: "p", text: e.path })),
      el("button", { type: "button", class: "ghost", "aria-label": "Close details", onclick: () => { traffic.selected = -1; renderList(true); showDetail(null); $("#list").focus(); } }, "✕")),
    el("dl", { class: "facts" }, facts.map(([k, v]) => [el("dt", { text: k }), el("dd", { text: String(v) })])),
  ];
  if (e.problem) {
    parts.push(el("section", { class: "problem" },
      el("h3", { text: "Validation failed" }),
      el("p", { text: e.problem.message }),
      e.problem.issues ? el("ul", {}, e.problem.issues.map((i) =>
        el("li", {}, el("code", { text: i.field || i.in }), i.rule ? ` (${i.rule})` : "", ": " + i.message))) : null,
      vendorError(e)));
  }
  if (e.nearest && !e.operation) {
    const n = e.nearest;
    parts.push(el("section", { class: "nearest" },
      el("h3", { text: e.operation ? "Closest operation" : "No operation matched; the closest is" }),
      n.operation ? el("p", {}, el("code", { text: `${n.method || ""} ${n.path || ""}` }), " — ", el("strong", { text: n.operation })) : null,
      el("ul", {}, (n.reasons || []).map((r) => el("li", { text: r })))));
  }
  parts.push(
    el("h3", { text: "Request" }),
    e.query ? el("p", {}, el("code", { text: "?" + e.query })) : null,
    el("details", {}, el("summary", { text: `Headers (${Object.keys(e.headers || {}).length})` }), headerTable(e.headers)),
    el("details", { open: true }, el("summary", { text: "Body" }), bodyBlock(e.body)),
    el("h3", { text: "Response" }),
    e.responseHeaders ? [
      el("details", {}, el("summary", { text: `Headers (${Object.keys(e.responseHeaders).length})` }), headerTable(e.responseHeaders)),
      el("details", { open: true }, el("summary", { text: "Body" }), bodyBlock(e.responseBody)),
    ] : el("p", { class: "muted", text: e.status === 0 ? "The connection was closed without an answer." : "Not recorded." }),
  );
  box.replaceChildren(...parts.flat(Infinity).filter((p) => p != null));
  box.hidden = false;
}

let pollAbort = null;
async function poll() {
  const live = $("#live");
  for (;;) {
    try {
      pollAbort = new AbortController();
      const first = !traffic.loaded;
      const q = first ? "?limit=" + KEEP : `?since=${traffic.cursor}&waitMs=25000`;
      const doc = await api("GET", "/journal" + q, undefined, { signal: pollAbort.signal });
      if (doc.total < traffic.total && doc.total < traffic.all.length) {
        // The journal was cleared or reset elsewhere: start over.
        traffic.all = []; traffic.shown = []; traffic.cursor = 0; traffic.total = 0; traffic.loaded = false;
        renderList(true);
        continue;
      }
      traffic.total = doc.total;
      addEntries(doc.entries);
      if (first) {
        traffic.cursor = Math.max(traffic.cursor, doc.lastSeq || 0);
        traffic.loaded = true;
      }
      live.textContent = "live";
      live.className = "live on";
    } catch (e) {
      if (e.name === "AbortError") continue;
      live.textContent = e.status === 404 ? "journal off" : "offline";
      live.className = "live off";
      await new Promise((r) => setTimeout(r, e.status === 404 ? 30000 : 2000));
    }
  }
}
function restartTraffic() {
  traffic.all = []; traffic.shown = []; traffic.cursor = 0; traffic.total = 0; traffic.selected = -1; traffic.loaded = false;
  showDetail(null);
  renderList(true);
  if (pollAbort) pollAbort.abort();
}

function setupTraffic() {
  const vp = $("#viewport");
  let raf = 0;
  vp.addEventListener("scroll", () => { if (!raf) raf = requestAnimationFrame(() => { raf = 0; renderList(false); }); });
  new ResizeObserver(() => renderList(false)).observe(vp);
  $("#spacer").addEventListener("click", (ev) => {
    const row = ev.target.closest(".row");
    if (row) select(Number(row.dataset.seq), false);
  });
  $("#list").addEventListener("keydown", (ev) => {
    const n = traffic.shown.length;
    if (!n) return;
    let i = traffic.shown.findIndex((e) => e.seq === traffic.selected);
    const page = Math.max(1, Math.floor(vp.clientHeight / ROW) - 1);
    switch (ev.key) {
      case "ArrowDown": i = Math.min(n - 1, i + 1); break;
      case "ArrowUp": i = Math.max(0, i - 1); break;
      case "PageDown": i = Math.min(n - 1, i + page); break;
      case "PageUp": i = Math.max(0, i - page); break;
      case "Home": i = 0; break;
      case "End": i = n - 1; break;
      case "Escape": traffic.selected = -1; renderList(true); showDetail(null); return;
      default: return;
    }
    ev.preventDefault();
    select(traffic.shown[Math.max(0, i)].seq, true);
  });
  for (const id of ["#f-vendor", "#f-op", "#f-status"]) $(id).addEventListener("change", refilter);
  let typing = 0;
  $("#f-text").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(refilter, 120); });
  $("#filters").addEventListener("submit", (ev) => ev.preventDefault());
  $("#clear-journal").addEventListener("click", () =>
    api("DELETE", "/journal").then(() => { restartTraffic(); toast("Journal cleared"); }, failed("Clear")));
}

// ---------- operations and specs ----------

const specs = {}; // vendor → spec JSON (fetched once)
async function specOf(vendor) {
  if (!specs[vendor]) specs[vendor] = api("GET", `/openapi/${encodeURIComponent(vendor)}?format=json`);
  return specs[vendor];
}
// Finds an operation in a spec by operationId: its method, path and responses.
function findOp(spec, id) {
  for (const [path, item] of Object.entries(spec.paths || {})) {
    for (const [method, op] of Object.entries(item)) {
      if (op && typeof op === "object" && op.operationId === id) return { path, method, op };
    }
  }
  return null;
}
function resolveRef(spec, v) {
  for (let i = 0; v && v.$ref && i < 10; i++) {
    v = v.$ref.replace(/^#\//, "").split("/").reduce((o, k) => o && o[k.replace(/~1/g, "/").replace(/~0/g, "~")], spec);
  }
  return v;
}
// exampleBody is what the spec shows for an answer: its example, its first
// named example, or the schema's example.
function exampleBody(spec, resp) {
  resp = resolveRef(spec, resp);
  const content = resp && resp.content;
  if (!content) return undefined;
  const media = content["application/json"] || Object.values(content)[0];
  if (!media) return undefined;
  if (media.example !== undefined) return media.example;
  if (media.examples) {
    const first = Object.values(media.examples)[0];
    const ex = resolveRef(spec, first);
    if (ex && ex.value !== undefined) return ex.value;
  }
  const schema = resolveRef(spec, media.schema);
  if (schema && schema.example !== undefined) return schema.example;
  return undefined;
}

async function loadOperations() {
  const doc = await api("GET", "/operations");
  traffic.ops = doc.operations;
  const vendors = [...new Set(doc.operations.map((o) => o.vendor))];
  $("#f-vendor").replaceChildren(el("option", { value: "", text: "all" }), ...vendors.map((v) => el("option", { value: v, text: v })));
  const groups = vendors.map((v) => el("optgroup", { label: v },
    doc.operations.filter((o) => o.vendor === v).map((o) => el("option", { value: o.operation, "data-vendor": v, text: o.operation }))));
  $("#f-op").replaceChildren(el("option", { value: "", text: "all" }), ...groups.map((g) => g.cloneNode(true)));
  $("#o-op").replaceChildren(...groups);
  await fillStatuses();
  renderSpecs(vendors);
}

// ---------- control: clock, overrides, state ----------

let clockState = null;
async function loadClock() {
  clockState = await api("GET", "/clock");
  clockState._at = Date.now();
  showClock();
}
function mockNow() {
  if (!clockState) return Date.now();
  const base = Date.parse(clockState.now);
  return clockState.frozen ? base : base + (Date.now() - clockState._at);
}
function showClock() {
  if (!clockState) return;
  const now = new Date(mockNow()).toISOString();
  $("#clock").textContent = (clockState.frozen ? "❄ " : "") + dateTime(now);
  $("#clock").classList.toggle("moved", clockState.offset !== "0s" || clockState.frozen);
  $("#clock-now").textContent = dateTime(now);
  $("#clock-info").textContent = (clockState.frozen ? "Frozen. " : "Running. ") +
    (clockState.offset === "0s" ? "Wall-clock time." : `Offset from wall clock: ${clockState.offset}.`);
  $("#freeze").textContent = clockState.frozen ? "Unfreeze" : "Freeze";
}
async function changeClock(change) {
  try {
    clockState = await api("PUT", "/clock", change);
    clockState._at = Date.now();
    showClock();
    toast("Clock: " + dateTime(clockState.now));
    if (!$("#view-sessions").hidden) loadSessions();
  } catch (e) { failed("Clock")(e); }
}

async function fillStatuses() {
  const opt = $("#o-op").selectedOptions[0];
  if (!opt) return;
  const vendor = opt.dataset.vendor, id = opt.value;
  const sel = $("#o-status");
  let declared = [];
  try {
    const spec = await specOf(vendor);
    const found = findOp(spec, id);
    const responses = (found && found.op.responses) || {};
    declared = Object.keys(responses).filter((s) => /^\d{3}$/.test(s));
    // A "default" answer covers any other error status; offer the usual ones.
    const viaDefault = responses.default ? ["429", "500", "503"].filter((s) => !declared.includes(s)) : [];
    sel.replaceChildren(...declared.map((s) => el("option", { value: s, text: `${s} ${statusText[s] || ""}` })),
      ...viaDefault.map((s) => el("option", { value: s, text: `${s} ${statusText[s]} (default response)` })),
      el("option", { value: "", text: "none (delay or fault only)" }));
    const pick = declared.find((s) => s[0] !== "2") || declared[0];
    if (pick) sel.value = pick;
    sel.onchange = () => fillBody(spec, found);
    fillBody(spec, found);
  } catch (e) { failed("Spec")(e); }
}
function fillBody(spec, found) {
  const s = $("#o-status").value;
  const resp = found && s && (found.op.responses[s] || found.op.responses.default);
  const ex = resp ? exampleBody(spec, resp) : undefined;
  $("#o-body").value = ex === undefined ? "" : JSON.stringify(ex, null, 2);
  $("#o-hint").textContent = !s ? "" : ex === undefined
    ? `The spec has no example for ${s}: leave the body empty and the vendor's own error document is sent.`
    : `Pre-filled with the spec's example for ${s}; edit freely.`;
  const hdr = $("#o-headers");
  if (s === "429" && !hdr.value.trim()) hdr.value = "Retry-After: 2";
}
const statusText = { 200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
  404: "Not Found", 409: "Conflict", 412: "Precondition Failed", 415: "Unsupported Media Type", 429: "Too Many Requests",
  500: "Internal Server Error", 503: "Service Unavailable", 504: "Gateway Timeout" };

async function addOverride(ev) {
  ev.preventDefault();
  const msg = $("#o-msg");
  const spec = { operation: $("#o-op").value };
  const st = $("#o-status").value;
  if (st) spec.status = Number(st);
  if ($("#o-times").value) spec.times = Number($("#o-times").value);
  if ($("#o-delay").value) spec.delayMs = Number($("#o-delay").value);
  if ($("#o-fault").value) spec.fault = $("#o-fault").value;
  const headers = {};
  for (const line of $("#o-headers").value.split("\n")) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  if (Object.keys(headers).length) spec.headers = headers;
  const body = $("#o-body").value.trim();
  if (body) {
    try { spec.body = JSON.parse(body); } catch (e) { msg.textContent = "Body is not JSON: " + e.message; msg.className = "msg bad"; return; }
  }
  try {
    const o = await api("POST", "/overrides", spec);
    const who = o.times === 1 ? "the next call" : o.times ? `the next ${o.times} calls` : "every call";
    msg.textContent = `Override ${o.id} added: ${who} to ${o.operation} ${o.times === 1 ? "gets" : "get"} ${o.status || o.fault || "a delay"}.`;
    msg.className = "msg ok";
    loadOverrides();
  } catch (e) {
    msg.textContent = e.message + issueText(e.doc);
    msg.className = "msg bad";
  }
}

async function loadOverrides() {
  const doc = await api("GET", "/overrides");
  const box = $("#overrides");
  if (!doc.overrides.length) { box.replaceChildren(el("p", { class: "muted", text: "No overrides: every request reaches the vendor." })); return; }
  box.replaceChildren(el("div", { class: "scroll" }, el("table", { class: "grid" },
    el("thead", {}, el("tr", {}, ["Id", "Operation", "Answer", "Hits", "Left", "Source", ""].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, doc.overrides.map((o) => el("tr", { class: o.remaining === 0 ? "spent" : "" },
      el("td", {}, el("code", { text: o.id })), el("td", { text: o.operation }),
      el("td", { text: [o.status, o.fault, o.delayMs ? `+${o.delayMs} ms` : ""].filter(Boolean).join(" ") }),
      el("td", { text: o.hits }), el("td", { text: o.remaining == null ? "∞" : o.remaining }), el("td", { text: o.source }),
      el("td", {}, el("button", { type: "button", class: "ghost small", "aria-label": `Delete override ${o.id}`,
        onclick: () => api("DELETE", "/overrides/" + encodeURIComponent(o.id)).then(loadOverrides, failed("Delete")) }, "Delete"))))))));
}

async function downloadState() {
  try {
    const doc = await api("GET", "/state");
    const blob = new Blob([JSON.stringify(doc, null, 2)], { type: "application/json" });
    const a = el("a", { href: URL.createObjectURL(blob), download: `idpmock-state-${new Date().toISOString().replace(/[:.]/g, "-")}.json` });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  } catch (e) { failed("Download")(e); }
}
async function uploadState(ev) {
  const file = ev.target.files[0];
  ev.target.value = "";
  if (!file) return;
  try {
    await api("PUT", "/state", await file.text());
    toast(`State loaded from ${file.name}`);
    loadClock(); loadSessions();
  } catch (e) { failed("Upload")(e); }
}

// ---------- sessions ----------

// Vendors describe their sessions in their own state format; these views
// know the two vendors idpmock serves and show anything else as JSON.
const sessionViews = {
  pingone(doc) {
    return (doc.sessions || []).map((s) => {
      const expires = s.activeAt && s.idleTimeoutInMinutes != null ? Date.parse(s.activeAt) + s.idleTimeoutInMinutes * 60000 : null;
      return {
        id: s.id, group: `Environment ${s.environment && s.environment.id}`, user: s.user && s.user.id,
        details: [`idle timeout ${s.idleTimeoutInMinutes} min`, s.lastSignOn && s.lastSignOn.authenticators ? "signed on with " + s.lastSignOn.authenticators.join(", ") : ""],
        created: s.createdAt, active: s.activeAt, expires,
      };
    });
  },
  zitadel(doc) {
    return (doc.sessions || []).map((s) => {
      const f = s.factors || {};
      const factors = ["password", "intent", "totp", "otpSms", "otpEmail", "recoveryCode", "webAuthN"].filter((k) => f[k]);
      return {
        id: s.id, group: "Instance", user: f.user ? f.user.id : "(no user yet)",
        details: [factors.length ? "factors: user, " + factors.join(", ") : f.user ? "factors: user" : "no factors",
          s.terminated ? "token: terminated" : s.token ? "token: issued" : "token: none"],
        created: s.creationDate, active: s.changeDate, expires: s.expirationDate ? Date.parse(s.expirationDate) : null,
        terminated: s.terminated,
      };
    });
  },
};

async function loadSessions() {
  const box = $("#sessions");
  let st;
  try {
    [st] = await Promise.all([api("GET", "/state"), loadClock()]);
  } catch (e) {
    box.replaceChildren(el("p", { class: "bad", text: "Cannot read the state: " + e.message }));
    return;
  }
  const now = mockNow();
  const parts = [];
  for (const [vendor, doc] of Object.entries(st.vendors || {}).sort()) {
    const view = sessionViews[vendor];
    parts.push(el("h2", { class: "vendor", text: vendorName(vendor) }));
    if (!view || !doc) { parts.push(el("pre", { class: "code", text: pretty(doc) })); continue; }
    const rows = view(doc);
    if (!rows.length) { parts.push(el("p", { class: "muted", text: "No sessions." })); continue; }
    const groups = new Map();
    for (const r of rows) {
      const k = r.group + " · user " + r.user;
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k).push(r);
    }
    for (const [g, rs] of groups) {
      parts.push(el("h3", { class: "group", text: g }));
      parts.push(el("div", { class: "scroll" }, el("table", { class: "grid sessions", "data-vendor": vendor },
        el("thead", {}, el("tr", {}, ["Session", "Details", "Created", "Last change", "Expires", "Time left", ""].map((h) => el("th", { scope: "col", text: h })))),
        el("tbody", {}, rs.map((r) => {
          const left = r.expires == null ? null : r.expires - now;
          const state = r.terminated ? "terminated" : left != null && left <= 0 ? "expired" : "active";
          return el("tr", { class: "state-" + state, "data-session": r.id },
            el("td", {}, el("code", { text: r.id })),
            el("td", { text: r.details.filter(Boolean).join(" · ") }),
            el("td", { text: dateTime(r.created) }), el("td", { text: dateTime(r.active) }),
            el("td", { text: r.expires == null ? "never" : dateTime(new Date(r.expires).toISOString()) }),
            el("td", {}, el("span", { class: "pill " + state, "data-expires": state === "active" && r.expires != null ? r.expires : null,
              text: state === "active" ? (left == null ? "no expiry" : span(left)) : state })),
            el("td", {}, el("button", { type: "button", class: "ghost small", "aria-label": `Delete session ${r.id}`, onclick: () => deleteSession(vendor, r.id) }, "Delete")));
        })))));
    }
  }
  for (const v of st.unsupported || []) parts.push(el("h2", { class: "vendor", text: v }), el("p", { class: "muted", text: "This vendor cannot show its state." }));
  box.replaceChildren(...parts);
}

// tickSessions counts the time left down against the mock clock; a
// session that runs out shows as expired (the vendor expires it lazily).
function tickSessions() {
  if ($("#view-sessions").hidden) return;
  const now = mockNow();
  for (const p of document.querySelectorAll("#sessions .pill[data-expires]")) {
    const left = Number(p.dataset.expires) - now;
    if (left > 0) { p.textContent = span(left); continue; }
    p.textContent = "expired";
    p.className = "pill expired";
    delete p.dataset.expires;
    p.closest("tr").className = "state-expired";
  }
}

// deleteSession drops one session through the state document: the same
// round trip a script would do with GET and PUT /__mock/state. The clock is
// left out so it keeps running as it is.
async function deleteSession(vendor, id) {
  try {
    const st = await api("GET", "/state");
    const doc = st.vendors[vendor];
    doc.sessions = doc.sessions.filter((s) => s.id !== id);
    await api("PUT", "/state", { vendors: st.vendors });
    toast(`Session ${id} deleted`);
    loadSessions();
  } catch (e) { failed("Delete session")(e); }
}

const vendorName = (v) => ({ pingone: "PingOne", zitadel: "ZITADEL", admin: "idpmock admin API" })[v] || v;

// ---------- specs view ----------

async function renderSpecs(vendors) {
  const box = $("#specs");
  const cards = [];
  for (const v of [...vendors, "admin"]) {
    let spec;
    try { spec = await specOf(v); } catch (e) { cards.push(el("p", { class: "bad", text: `${v}: ${e.message}` })); continue; }
    const ops = [];
    for (const [path, item] of Object.entries(spec.paths || {})) {
      for (const [method, op] of Object.entries(item)) {
        if (!op || !op.operationId) continue;
        ops.push(el("tr", {}, el("td", {}, el("span", { class: "m", text: method.toUpperCase() })), el("td", {}, el("code", { text: path })),
          el("td", { text: op.operationId }), el("td", { class: "muted", text: Object.keys(op.responses || {}).join(" ") })));
      }
    }
    cards.push(el("section", { class: "card wide spec", "data-vendor": v },
      el("div", { class: "bar" },
        el("h2", {}, vendorName(v), " ", el("span", { class: "muted small", text: `${spec.info.title} · version ${spec.info.version}` })),
        el("div", { class: "btns" },
          el("button", { type: "button", onclick: () => openSpec(v, "yaml") }, "YAML"),
          el("button", { type: "button", onclick: () => openSpec(v, "json") }, "JSON"),
          el("a", { class: "button ghost", href: `${API}/openapi/${v}`, title: "Direct link (needs no token unless --admin-token is set)" }, "link"))),
      el("div", { class: "scroll" }, el("table", { class: "grid" },
        el("thead", {}, el("tr", {}, ["Method", "Path", "Operation", "Statuses"].map((h) => el("th", { scope: "col", text: h })))),
        el("tbody", {}, ops)))));
  }
  box.replaceChildren(el("p", { class: "muted", text: "The OpenAPI documents requests are validated against, served by GET /__mock/openapi/{vendor}." }), el("div", { class: "cards" }, cards));
}
async function openSpec(v, format) {
  try {
    const r = await api("GET", `/openapi/${v}?format=${format}`, undefined, { raw: true });
    const blob = new Blob([await r.text()], { type: format === "json" ? "application/json" : "text/plain" });
    window.open(URL.createObjectURL(blob), "_blank", "noopener");
  } catch (e) { failed("Spec")(e); }
}

// ---------- views, theme, start ----------

const loaders = { sessions: loadSessions, control: () => Promise.all([loadClock(), loadOverrides()]) };
function route() {
  const view = (location.hash.slice(1) || "traffic").split("/")[0];
  const name = loaders[view] || view === "traffic" || view === "specs" ? view : "traffic";
  for (const s of document.querySelectorAll(".view")) s.hidden = s.id !== "view-" + name;
  for (const a of document.querySelectorAll("[data-view]")) {
    if (a.dataset.view === name) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  document.body.dataset.view = name;
  if (loaders[name]) loaders[name]().catch(failed(name));
  if (name === "traffic") renderList(true);
}

function applyTheme() {
  const t = localStorage.getItem(THEME_KEY) || "auto";
  if (t === "auto") delete document.documentElement.dataset.theme; else document.documentElement.dataset.theme = t;
  $("#theme span").textContent = t;
}

function start() {
  applyTheme();
  $("#theme").addEventListener("click", () => {
    const order = ["auto", "light", "dark"];
    const cur = localStorage.getItem(THEME_KEY) || "auto";
    localStorage.setItem(THEME_KEY, order[(order.indexOf(cur) + 1) % 3]);
    applyTheme();
  });
  setupTraffic();
  window.addEventListener("hashchange", route);
  $("#o-op").addEventListener("change", fillStatuses);
  $("#override-form").addEventListener("submit", addOverride);
  $("#clear-overrides").addEventListener("click", () => api("DELETE", "/overrides").then(loadOverrides, failed("Delete")));
  for (const b of document.querySelectorAll("[data-advance]")) b.addEventListener("click", () => changeClock({ advance: b.dataset.advance }));
  $("#advance-form").addEventListener("submit", (ev) => { ev.preventDefault(); changeClock({ advance: $("#advance-by").value.trim() }); });
  $("#freeze").addEventListener("click", () => changeClock({ freeze: !(clockState && clockState.frozen) }));
  $("#clock-reset").addEventListener("click", () => changeClock({ reset: true }));
  $("#download-state").addEventListener("click", downloadState);
  $("#upload-state").addEventListener("change", uploadState);
  $("#refresh-sessions").addEventListener("click", loadSessions);
  let armed = 0;
  $("#reset-all").addEventListener("click", async () => {
    // A second click within 5 s confirms (no modal in the way, keyboard friendly).
    const b = $("#reset-all");
    if (!armed) {
      b.textContent = "Click again to reset everything";
      armed = setTimeout(() => { armed = 0; b.textContent = "Reset everything"; }, 5000);
      return;
    }
    clearTimeout(armed); armed = 0; b.textContent = "Reset everything";
    try {
      await api("POST", "/reset");
      restartTraffic();
      await Promise.all([loadClock(), loadOverrides()]);
      toast("Mock reset");
    } catch (e) { failed("Reset")(e); }
  });
  setInterval(() => { showClock(); tickSessions(); }, 1000);
  route();
  // The token (if any) is asked by the first call; the rest wait for it.
  loadClock().then(() => { loadOperations().catch(failed("Operations")); poll(); }, (e) => { failed("Clock")(e); poll(); });
}

start();
