// The copy view: keyboard-first marking, autosave with versions, annotation layer as SVG.
// Plain JavaScript, no build step. Everything typed is kept in localStorage until the server
// acknowledges it, so a lost connection or a closed tab loses nothing.
"use strict";
(() => {
  const boot = JSON.parse(document.getElementById("boot").textContent);
  const words = JSON.parse(document.getElementById("words").textContent);
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const $ = (sel) => document.querySelector(sel);
  const $$ = (sel) => Array.from(document.querySelectorAll(sel));
  const SVGNS = "http://www.w3.org/2000/svg";
  const backupKey = "massicot:copy:" + boot.copy_id;
  const SAVE_DELAY_MS = 400;

  // ------------------------------------------------------------------ state
  let server = boot.state; // last state the server acknowledged
  let version = server.version;
  const local = {
    appreciation: server.appreciation,
    comments: server.comments.slice(),
    layers: JSON.parse(JSON.stringify(server.layers)),
    special: null, // "AB" / "00" / "" waiting to be sent
  };
  let fieldsDirty = false;
  const dirtyLayers = new Set();
  let inFlight = null;
  let timer = null;
  let retryTimer = null;
  let conflictOpen = false;
  let editable = boot.editable;
  const texts = boot.texts; // comment id -> text
  let bank = boot.bank;

  const markInputs = $$("input.mark");
  const appreciation = $("#appreciation");

  // ------------------------------------------------------------------ marks and totals
  function parseMark(text) {
    const raw = text.trim().replace(",", ".");
    if (raw === "") return { empty: true };
    if (!/^\d+(\.\d+)?$/.test(raw)) return { error: "« " + text + " » ?" };
    return { value: Number(raw) };
  }

  function checkInput(input) {
    const err = document.getElementById(input.id + "-err");
    const parsed = parseMark(input.value);
    let message = parsed.error || "";
    if (parsed.value !== undefined) {
      const max = Number(input.dataset.max);
      const step = Number(input.dataset.step);
      if (parsed.value > max) message = "0 – " + fmt(max);
      else if (Math.abs(parsed.value / step - Math.round(parsed.value / step)) > 1e-9)
        message = step === 0.5 ? "½" : "1";
    }
    err.textContent = message;
    input.setAttribute("aria-invalid", message ? "true" : "false");
    return message ? null : parsed;
  }

  function fmt(n) {
    return n === null || n === undefined ? "–" : String(n).replace(".", ",");
  }

  function localMarks() {
    const marks = {};
    for (const input of markInputs) {
      const parsed = checkInput(input);
      if (parsed === null) continue; // invalid: not sent, the server keeps its value
      marks[input.dataset.qid] = parsed.empty ? null : String(parsed.value);
    }
    return marks;
  }

  function updateTotals() {
    let total = 0;
    let complete = true;
    let any = false;
    for (const input of markInputs) {
      const parsed = parseMark(input.value);
      if (parsed.value !== undefined && !parsed.error) {
        total += parsed.value;
        any = true;
      } else complete = false;
    }
    const special = local.special !== null ? local.special : server.special;
    const totalOut = $("#total");
    const on20 = $("#mark20");
    if (special) {
      totalOut.textContent = special;
      if (on20) on20.textContent = special;
      return;
    }
    totalOut.textContent = any ? fmt(total) : "–";
    if (on20) {
      // Same rule as the server: nearest half point, a tie goes up.
      on20.textContent = complete ? fmt(Math.floor((total * 40) / boot.scheme_total + 0.5) / 2) : "–";
    }
  }

  function showMissing() {
    const missing = server.missing || [];
    const box = $("#missing");
    const label = words["state_" + server.status] || server.status;
    box.textContent = missing.length
      ? label + " — " + words.missing.replace("{what}", missing.map((m) => (m === "appreciation" ? words.appreciation_short : m)).join(", "))
      : label;
    box.className = "missing state-" + server.status;
  }

  // ------------------------------------------------------------------ saving
  function setStatus(kind, text) {
    const el = $("#save-status");
    el.textContent = text || words[kind] || kind;
    el.dataset.state = kind;
  }

  function showError(message) {
    const box = $("#error-box");
    box.hidden = !message;
    box.textContent = message || "";
  }

  function isDirty() {
    return fieldsDirty || dirtyLayers.size > 0 || local.special !== null;
  }

  function backup() {
    try {
      localStorage.setItem(
        backupKey,
        JSON.stringify({
          base: version,
          marks: Object.fromEntries(markInputs.map((i) => [i.dataset.qid, i.value])),
          appreciation: appreciation ? appreciation.value : "",
          comments: local.comments,
          layers: Object.fromEntries([...dirtyLayers].map((p) => [p, local.layers[p] || []])),
        })
      );
    } catch (e) {
      /* storage full or disabled: the autosave still runs */
    }
  }

  function changed() {
    if (!editable) return;
    fieldsDirty = true;
    updateTotals();
    backup();
    setStatus("pending");
    clearTimeout(timer);
    timer = setTimeout(flush, SAVE_DELAY_MS);
  }

  function layerChanged(pageId) {
    dirtyLayers.add(String(pageId));
    changed();
  }

  async function flush() {
    clearTimeout(timer);
    timer = null;
    if (!editable || conflictOpen) return !isDirty();
    while (inFlight) await inFlight;
    if (!isDirty()) return true;
    inFlight = sendOnce();
    const ok = await inFlight;
    inFlight = null;
    if (ok && isDirty()) return flush();
    return ok;
  }

  async function sendOnce() {
    const body = {
      version: version,
      marks: localMarks(),
      appreciation: appreciation.value,
      comments: local.comments,
    };
    const sentSpecial = local.special;
    if (sentSpecial !== null) body.special = sentSpecial;
    const sentLayers = [...dirtyLayers];
    if (sentLayers.length) {
      body.layers = {};
      for (const p of sentLayers) body.layers[p] = local.layers[p] || [];
    }
    fieldsDirty = false;
    dirtyLayers.clear();
    local.special = null;
    setStatus("saving");
    const restore = () => {
      fieldsDirty = true;
      for (const p of sentLayers) dirtyLayers.add(p);
      if (sentSpecial !== null && local.special === null) local.special = sentSpecial;
    };
    let res;
    try {
      res = await fetch("/api/marking/copies/" + encodeURIComponent(boot.copy_id), {
        method: "PUT",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify(body),
        credentials: "same-origin",
      });
    } catch (e) {
      restore();
      setStatus("offline");
      clearTimeout(retryTimer);
      retryTimer = setTimeout(flush, 3000);
      return false;
    }
    if (res.ok) {
      server = await res.json();
      version = server.version;
      showError("");
      showMissing();
      updateSpecial();
      updateTotals();
      if (!isDirty()) {
        try {
          localStorage.removeItem(backupKey);
        } catch (e) {
          /* ignore */
        }
        setStatus("saved");
      }
      return true;
    }
    restore();
    let err = {};
    try {
      err = await res.json();
    } catch (e) {
      err = { message: res.status + " " + res.statusText };
    }
    const message = err.message || err.detail || res.status + " " + res.statusText;
    if (res.status === 409 && err.current) {
      showConflict(err.current, message);
    } else if (res.status === 423) {
      editable = false;
      showError(message);
      setStatus("pending");
    } else if (res.status >= 500 || res.status === 429) {
      setStatus("offline");
      clearTimeout(retryTimer);
      retryTimer = setTimeout(flush, 3000);
    } else {
      // A refusal (a mark outside the barème...) or an expired login: say it, keep the input.
      fieldsDirty = false; // do not resend the same refused save in a loop
      showError(message);
      setStatus("pending");
    }
    return false;
  }

  // ------------------------------------------------------------------ conflict
  function showConflict(current, message) {
    conflictOpen = true;
    const rows = [];
    const mine = localMarks();
    for (const input of markInputs) {
      const qid = input.dataset.qid;
      const label = document.querySelector('label[for="' + input.id + '"]').textContent;
      const saved = current.marks[qid];
      const yours = mine[qid] === undefined ? input.value : mine[qid];
      if (String(yours ?? "") !== String(saved ?? "") && !(yours && saved !== undefined && Number(yours) === saved))
        rows.push([label, fmt(yours), fmt(saved)]);
    }
    if ((appreciation.value || "") !== (current.appreciation || ""))
      rows.push([words.appreciation, appreciation.value, current.appreciation]);
    if (JSON.stringify(local.comments) !== JSON.stringify(current.comments))
      rows.push([words.comments, local.comments.map((c) => texts[c]).join(" · "), current.comments.map((c) => texts[c]).join(" · ")]);
    for (const page of boot.pages) {
      const a = (local.layers[page.id] || []).length;
      const b = (current.layers[String(page.id)] || []).length;
      if (JSON.stringify(local.layers[page.id] || []) !== JSON.stringify(current.layers[String(page.id)] || [])) {
        // Same count, different items: some were moved or their text changed.
        const mine = a === b ? words.layer_changed.replace("{n}", a) : String(a);
        rows.push([words.annotations + " – " + words.page.replace("{n}", page.position + 1), mine, String(b)]);
      }
    }
    if ((current.special || null) !== (server.special || null)) rows.push(["AB / 00", fmt(server.special), fmt(current.special)]);
    const tbody = $("#conflict-rows");
    tbody.textContent = "";
    for (const [what, a, b] of rows) {
      const tr = document.createElement("tr");
      for (const cell of [what, a, b]) {
        const td = document.createElement("td");
        td.textContent = cell === undefined || cell === null ? "–" : cell;
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
    }
    $("#conflict-message").textContent = message;
    const box = $("#conflict");
    box.hidden = false;
    box.dataset.current = JSON.stringify(current);
    setStatus("pending");
    $("#keep-mine").focus();
  }

  function closeConflict() {
    conflictOpen = false;
    $("#conflict").hidden = true;
  }

  $("#keep-mine").addEventListener("click", () => {
    const current = JSON.parse($("#conflict").dataset.current);
    version = current.version;
    server = current;
    fieldsDirty = true;
    for (const page of boot.pages) dirtyLayers.add(String(page.id));
    closeConflict();
    flush();
  });

  $("#take-saved").addEventListener("click", () => {
    const current = JSON.parse($("#conflict").dataset.current);
    applyServerState(current);
    closeConflict();
    try {
      localStorage.removeItem(backupKey);
    } catch (e) {
      /* ignore */
    }
    setStatus("saved");
  });

  function applyServerState(state) {
    server = state;
    version = state.version;
    for (const input of markInputs) {
      const v = state.marks[input.dataset.qid];
      input.value = v === undefined ? "" : fmt(v);
      checkInput(input);
    }
    appreciation.value = state.appreciation;
    local.comments = state.comments.slice();
    local.layers = JSON.parse(JSON.stringify(state.layers));
    local.special = null;
    fieldsDirty = false;
    dirtyLayers.clear();
    renderComments();
    renderAllLayers();
    updateTotals();
    updateSpecial();
    showMissing();
  }

  // ------------------------------------------------------------------ AB / 00, deliberately
  function updateSpecial() {
    const confirmBtn = $("#confirm-special");
    const withdrawBtn = $("#withdraw-special");
    if (!confirmBtn) return;
    const on = Boolean(server.special);
    confirmBtn.hidden = on;
    withdrawBtn.hidden = !on;
  }

  const confirmBtn = $("#confirm-special");
  if (confirmBtn) {
    confirmBtn.addEventListener("click", () => {
      const mark = confirmBtn.dataset.mark;
      const question = words.confirm.replace("{mark}", mark).replace("{copy}", boot.copy_id);
      if (!window.confirm(question)) return;
      local.special = mark;
      changed();
      flush();
    });
    $("#withdraw-special").addEventListener("click", () => {
      local.special = "";
      changed();
      flush();
    });
  }

  // ------------------------------------------------------------------ comments on the copy
  function renderComments() {
    const list = $("#copy-comments");
    list.textContent = "";
    local.comments.forEach((cid, index) => {
      const li = document.createElement("li");
      const span = document.createElement("span");
      span.textContent = texts[cid] || "#" + cid;
      li.appendChild(span);
      if (editable) {
        const btn = document.createElement("button");
        btn.type = "button";
        btn.className = "small";
        btn.textContent = words.remove;
        btn.setAttribute("aria-label", words.remove + " : " + span.textContent);
        btn.addEventListener("click", () => {
          local.comments.splice(index, 1);
          renderComments();
          changed();
        });
        li.appendChild(btn);
      }
      list.appendChild(li);
    });
  }

  // ------------------------------------------------------------------ the comment bank
  let bankCursor = 0;
  let placing = null; // comment id chosen for the "place on page" tool

  function bankMatches() {
    const filter = ($("#bank-filter") || { value: "" }).value.trim().toLowerCase();
    return bank.filter((e) => !filter || e.text.toLowerCase().includes(filter) || String(bank.indexOf(e) + 1) === filter);
  }

  function renderBank() {
    const list = $("#bank-list");
    if (!list) return;
    list.textContent = "";
    const matches = bankMatches();
    if (bankCursor >= matches.length) bankCursor = Math.max(0, matches.length - 1);
    $("#bank-empty").hidden = bank.length > 0;
    matches.forEach((entry, i) => {
      const li = document.createElement("li");
      li.dataset.commentId = entry.id;
      li.className = i === bankCursor ? "current" : "";
      const text = document.createElement("span");
      text.className = "bank-text";
      text.textContent = entry.text;
      li.appendChild(text);
      if (entry.shared) {
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = words.shared;
        li.appendChild(badge);
      }
      const insert = document.createElement("button");
      insert.type = "button";
      insert.className = "small";
      insert.textContent = words.insert;
      insert.addEventListener("click", () => insertComment(entry.id));
      li.appendChild(insert);
      const place = document.createElement("button");
      place.type = "button";
      place.className = "small";
      place.textContent = words.place;
      place.addEventListener("click", () => {
        placing = entry.id;
        setTool("comment");
      });
      li.appendChild(place);
      if (entry.mine) {
        const edit = document.createElement("button");
        edit.type = "button";
        edit.className = "small";
        edit.textContent = words.edit;
        edit.addEventListener("click", () => editBankEntry(entry, li));
        li.appendChild(edit);
      }
      list.appendChild(li);
    });
  }

  function insertComment(id) {
    if (!editable) return;
    if (!local.comments.includes(id)) local.comments.push(id);
    renderComments();
    changed();
  }

  async function bankRequest(method, url, body) {
    const res = await fetch(url, {
      method,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: body ? JSON.stringify(body) : undefined,
      credentials: "same-origin",
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.message || data.detail || res.statusText);
    return data;
  }

  function editBankEntry(entry, li) {
    const input = document.createElement("input");
    input.value = entry.text;
    input.className = "bank-edit";
    input.setAttribute("aria-label", words.edit);
    li.replaceChildren(input);
    input.focus();
    input.addEventListener("keydown", async (e) => {
      if (e.key === "Escape") renderBank();
      if (e.key !== "Enter") return;
      e.preventDefault();
      try {
        const updated = await bankRequest("PUT", "/api/marking/comments/" + entry.id, { text: input.value });
        entry.text = updated.text;
        texts[entry.id] = updated.text;
        renderBank();
        renderComments();
        renderAllLayers();
        showError("");
      } catch (err) {
        showError(err.message);
      }
    });
  }

  const bankFilter = $("#bank-filter");
  if (bankFilter) {
    bankFilter.addEventListener("input", () => {
      bankCursor = 0;
      renderBank();
    });
    bankFilter.addEventListener("keydown", (e) => {
      const matches = bankMatches();
      if (e.key === "ArrowDown") {
        bankCursor = Math.min(matches.length - 1, bankCursor + 1);
        renderBank();
        e.preventDefault();
      } else if (e.key === "ArrowUp") {
        bankCursor = Math.max(0, bankCursor - 1);
        renderBank();
        e.preventDefault();
      } else if (e.key === "Enter" && matches[bankCursor]) {
        e.preventDefault();
        insertComment(matches[bankCursor].id);
        bankFilter.value = "";
        bankCursor = 0;
        renderBank();
      }
    });
    $("#bank-add").addEventListener("click", addBankEntry);
    $("#bank-new").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        addBankEntry();
      }
    });
  }

  async function addBankEntry() {
    const box = $("#bank-new");
    const text = box.value.trim();
    if (!text) return;
    try {
      const entry = await bankRequest("POST", "/api/marking/papers/" + boot.paper_id + "/comments", { text });
      bank.push(entry);
      texts[entry.id] = entry.text;
      box.value = "";
      renderBank();
      showError("");
    } catch (err) {
      showError(err.message);
    }
  }

  // ------------------------------------------------------------------ annotation layer
  let tool = "none";
  let zoom = 1;
  let turn = 0;
  const history = []; // {page, before, after}
  const redoStack = [];
  // The annotation the select tool (or the keyboard) acts on: moved by dragging or by the arrow
  // keys, its text edited with Enter. {page, id}, or null.
  let selected = null;
  let lastTouched = null; // the item last created or changed: the first one S selects
  const STEP = 0.005; // an arrow key moves by half a percent of the page; with Shift, ten times that
  const BIG_STEP = 0.05;

  function setTool(name) {
    if (!editable && name !== "none") return;
    tool = name;
    for (const b of $$(".tool")) b.setAttribute("aria-pressed", String(b.dataset.tool === name));
    document.body.dataset.tool = name;
    if (name !== "select" && selected) select(null);
  }

  function itemOf(ref) {
    if (!ref) return null;
    return (local.layers[ref.page] || []).find((i) => i.id === ref.id) || null;
  }

  function select(ref) {
    const previous = selected;
    const next = ref && itemOf(ref) ? { page: String(ref.page), id: ref.id } : null;
    // Drawing again replaces the item's elements: not when it is already the selected one, or a
    // double click on it would land on an element that no longer exists.
    if (next && previous && next.page === previous.page && next.id === previous.id) return;
    selected = next;
    if (previous) renderLayer(previous.page);
    if (selected && (!previous || previous.page !== selected.page)) renderLayer(selected.page);
    announceSelection();
  }

  function announceSelection() {
    const box = $("#selection-status");
    if (!box) return;
    const item = itemOf(selected);
    if (!item) {
      box.textContent = "";
      return;
    }
    const page = boot.pages.find((p) => String(p.id) === selected.page);
    let what = words["kind_" + item.kind] || item.kind;
    if (item.kind === "text") what += " « " + item.text + " »";
    if (item.kind === "comment") what += " « " + (texts[item.comment_id] || "") + " »";
    box.textContent = words.selected.replace("{what}", what).replace("{n}", page ? page.position + 1 : "?");
  }

  // Every item of the copy in reading order (page, then drawing order): what S walks through.
  function allItems() {
    const out = [];
    for (const page of boot.pages)
      for (const item of local.layers[String(page.id)] || []) out.push({ page: String(page.id), id: item.id });
    return out;
  }

  function selectNext(backwards) {
    const items = allItems();
    if (!items.length) return;
    let index;
    const at = selected ? items.findIndex((r) => r.page === selected.page && r.id === selected.id) : -1;
    if (at >= 0) index = (at + (backwards ? items.length - 1 : 1)) % items.length;
    else {
      const last = lastTouched ? items.findIndex((r) => r.page === lastTouched.page && r.id === lastTouched.id) : -1;
      index = last >= 0 ? last : backwards ? items.length - 1 : 0;
    }
    select(items[index]);
    const fig = document.querySelector('.page[data-page-id="' + items[index].page + '"]');
    const g = fig && fig.querySelector('g.item[data-id="' + items[index].id + '"]');
    if (g) g.scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  // The page's coordinates an item occupies (its anchor, the corners of a highlight, every point
  // of a stroke): a move is cut short so that all of them stay on the page.
  function extent(item) {
    if (item.kind === "pen") return { xs: item.points.map((p) => p[0]), ys: item.points.map((p) => p[1]) };
    if (item.kind === "highlight") return { xs: [item.x, item.x + item.w], ys: [item.y, item.y + item.h] };
    return { xs: [item.x], ys: [item.y] };
  }

  function clampMove(item, dx, dy) {
    const { xs, ys } = extent(item);
    const fit = (d, vs) => Math.min(1 - Math.max(...vs), Math.max(-Math.min(...vs), d));
    return [fit(dx, xs), fit(dy, ys)];
  }

  function moveItem(item, dx, dy) {
    [dx, dy] = clampMove(item, dx, dy);
    if (item.kind === "pen") item.points = item.points.map(([x, y]) => [round(x + dx), round(y + dy)]);
    else {
      item.x = round(item.x + dx);
      item.y = round(item.y + dy);
      if (item.kind === "highlight") {
        // Rounding must not push the far edge off the page.
        item.x = Math.min(item.x, round(1 - item.w));
        item.y = Math.min(item.y, round(1 - item.h));
      }
    }
  }

  function moveSelected(dx, dy) {
    if (!editable || !itemOf(selected)) return;
    const ref = selected;
    edit(ref.page, (items) => moveItem(items.find((i) => i.id === ref.id), dx, dy));
  }

  function editText(ref) {
    const item = itemOf(ref);
    if (!editable || !item || item.kind !== "text") return;
    const fig = document.querySelector('.page[data-page-id="' + ref.page + '"]');
    askText(fig, item.x, item.y, item.text, (text) =>
      edit(ref.page, (items) => {
        items.find((i) => i.id === item.id).text = text;
      })
    );
  }

  function newId() {
    return Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
  }

  function edit(pageId, mutate) {
    const key = String(pageId);
    const before = JSON.stringify(local.layers[key] || []);
    const items = JSON.parse(before);
    mutate(items);
    const after = JSON.stringify(items);
    if (after === before) return;
    local.layers[key] = items;
    history.push({ page: key, before, after });
    redoStack.length = 0;
    const beforeIds = new Set(JSON.parse(before).map((i) => i.id));
    const touched = items.find((i) => !beforeIds.has(i.id)) || (selected && selected.page === key ? itemOf(selected) : null);
    if (touched) lastTouched = { page: key, id: touched.id };
    renderLayer(key);
    layerChanged(key);
    announceSelection();
  }

  function undo() {
    const step = history.pop();
    if (!step) return;
    redoStack.push(step);
    local.layers[step.page] = JSON.parse(step.before);
    renderLayer(step.page);
    layerChanged(step.page);
    announceSelection();
  }

  function redo() {
    const step = redoStack.pop();
    if (!step) return;
    history.push(step);
    local.layers[step.page] = JSON.parse(step.after);
    renderLayer(step.page);
    layerChanged(step.page);
    announceSelection();
  }

  function svgEl(name, attrs, parent) {
    const el = document.createElementNS(SVGNS, name);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (parent) parent.appendChild(el);
    return el;
  }

  const DEFAULT_COLOUR = { tick: "green", highlight: "yellow" };
  const COLOURS = { red: "#c8102e", green: "#17803d", blue: "#1f4fbf", black: "#111", yellow: "#ffd400" };

  function renderLayer(pageId) {
    const fig = document.querySelector('.page[data-page-id="' + pageId + '"]');
    if (!fig) return;
    const img = fig.querySelector("img");
    const svg = fig.querySelector("svg.layer");
    const w = img.clientWidth || 1;
    const h = img.clientHeight || 1;
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    svg.setAttribute("width", w);
    svg.setAttribute("height", h);
    svg.textContent = "";
    const unit = w / 100;
    for (const item of local.layers[String(pageId)] || []) {
      const g = svgEl("g", { "data-id": item.id, class: "item item-" + item.kind }, svg);
      const colour = COLOURS[item.colour || DEFAULT_COLOUR[item.kind]] || COLOURS.red;
      const x = item.x * w;
      const y = item.y * h;
      if (item.kind === "tick") {
        svgEl("path", { d: `M${x - 2 * unit},${y} l${1.5 * unit},${2 * unit} l${3 * unit},${-4 * unit}`, stroke: colour, "stroke-width": unit * 0.6, fill: "none", "stroke-linecap": "round" }, g);
      } else if (item.kind === "cross") {
        const s = 1.6 * unit;
        svgEl("path", { d: `M${x - s},${y - s} L${x + s},${y + s} M${x + s},${y - s} L${x - s},${y + s}`, stroke: colour, "stroke-width": unit * 0.6, fill: "none", "stroke-linecap": "round" }, g);
      } else if (item.kind === "pen") {
        svgEl("polyline", { points: item.points.map(([px, py]) => px * w + "," + py * h).join(" "), stroke: colour, "stroke-width": Math.max(1.5, item.width * w), fill: "none", "stroke-linejoin": "round", "stroke-linecap": "round" }, g);
      } else if (item.kind === "highlight") {
        svgEl("rect", { x: item.x * w, y: item.y * h, width: item.w * w, height: item.h * h, fill: colour, "fill-opacity": 0.35 }, g);
      } else if (item.kind === "text" || item.kind === "comment") {
        const content = item.kind === "text" ? item.text : texts[item.comment_id] || "#" + item.comment_id;
        const size = 2.2 * unit;
        const lines = wrap(content, 38);
        const box = svgEl("rect", { x: x - 0.4 * unit, y: y - size, width: 0, height: lines.length * size * 1.2 + 0.4 * unit, fill: item.kind === "comment" ? "#fff6cc" : "#fff", "fill-opacity": 0.9, stroke: colour, "stroke-width": 1 }, g);
        const text = svgEl("text", { x, y, fill: colour, "font-size": size, "font-family": "system-ui, sans-serif" }, g);
        lines.forEach((line, i) => {
          const t = svgEl("tspan", { x, dy: i === 0 ? 0 : size * 1.2 }, text);
          t.textContent = line;
        });
        try {
          box.setAttribute("width", text.getBBox().width + 0.8 * unit);
        } catch (e) {
          box.setAttribute("width", content.length * size * 0.5);
        }
      }
      if (selected && selected.page === String(pageId) && selected.id === item.id) {
        g.setAttribute("data-selected", "true");
        try {
          const b = g.getBBox();
          const pad = 0.6 * unit;
          svgEl("rect", { class: "selection", x: b.x - pad, y: b.y - pad, width: b.width + 2 * pad, height: b.height + 2 * pad }, g);
        } catch (e) {
          /* not laid out yet (image still loading): drawn again on load */
        }
      }
    }
  }

  function wrap(text, width) {
    const out = [];
    let line = "";
    for (const word of String(text).split(/\s+/)) {
      if (line && (line + " " + word).length > width) {
        out.push(line);
        line = word;
      } else line = line ? line + " " + word : word;
    }
    out.push(line);
    return out;
  }

  function renderAllLayers() {
    for (const page of boot.pages) renderLayer(String(page.id));
  }

  function pointIn(svg, event) {
    const pt = svg.createSVGPoint();
    pt.x = event.clientX;
    pt.y = event.clientY;
    const p = pt.matrixTransform(svg.getScreenCTM().inverse());
    const vb = svg.viewBox.baseVal;
    const clamp = (v) => Math.min(1, Math.max(0, v));
    return [clamp(p.x / (vb.width || 1)), clamp(p.y / (vb.height || 1))];
  }

  function askText(fig, x, y, initial, done) {
    const input = document.createElement("input");
    input.className = "text-entry";
    input.maxLength = 1000; // the server's bound (correction_server/annotations.py MAX_TEXT)
    input.value = initial || "";
    input.style.left = x * 100 + "%";
    input.style.top = y * 100 + "%";
    input.setAttribute("aria-label", words.text_entry);
    fig.querySelector(".page-inner").appendChild(input);
    input.focus();
    input.select();
    let finished = false;
    const finish = (keep) => {
      // Enter removes the field, and a removed field may still report a blur: act once.
      if (finished) return;
      finished = true;
      const value = input.value.trim();
      input.remove();
      if (keep && value) done(value);
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        finish(true);
      } else if (e.key === "Escape") {
        e.preventDefault();
        finish(false);
      }
      e.stopPropagation();
    });
    input.addEventListener("blur", () => finish(true), { once: true });
  }

  for (const fig of $$(".page")) {
    const pageId = fig.dataset.pageId;
    const svg = fig.querySelector("svg.layer");
    const img = fig.querySelector("img");
    img.addEventListener("load", () => renderLayer(pageId));
    let drawing = null;
    let dragging = null;
    svg.addEventListener("pointerdown", (e) => {
      if (!editable || tool === "none") return;
      const [x, y] = pointIn(svg, e);
      const hit = e.target.closest("[data-id]");
      if (tool === "select") {
        e.preventDefault();
        // A click on the page takes the focus off the toolbar button that chose the tool, so
        // that Enter then edits the selected text box instead of pressing that button again.
        const focused = document.activeElement;
        if (focused && focused.closest && focused.closest(".toolbar")) focused.blur();
        if (!hit) {
          select(null);
          return;
        }
        select({ page: pageId, id: hit.dataset.id });
        svg.setPointerCapture(e.pointerId);
        dragging = { id: hit.dataset.id, start: [x, y], moved: false };
      } else if (tool === "text" && hit && itemOf({ page: pageId, id: hit.dataset.id })?.kind === "text") {
        // Clicking an existing text box with the text tool edits it rather than stacking a new one.
        e.preventDefault();
        editText({ page: pageId, id: hit.dataset.id });
      } else if (tool === "tick" || tool === "cross") {
        edit(pageId, (items) => items.push({ id: newId(), kind: tool, x, y }));
      } else if (tool === "comment") {
        if (placing === null) return;
        const cid = placing;
        edit(pageId, (items) => items.push({ id: newId(), kind: "comment", x, y, comment_id: cid }));
      } else if (tool === "text") {
        e.preventDefault();
        askText(fig, x, y, "", (text) => edit(pageId, (items) => items.push({ id: newId(), kind: "text", x, y, text })));
      } else if (tool === "erase") {
        const target = e.target.closest("[data-id]");
        if (target) edit(pageId, (items) => items.splice(items.findIndex((i) => i.id === target.dataset.id), 1));
      } else if (tool === "pen" || tool === "highlight") {
        svg.setPointerCapture(e.pointerId);
        drawing = { start: [x, y], points: [[x, y]] };
      }
    });
    svg.addEventListener("pointermove", (e) => {
      if (dragging) {
        // Live feedback by a transform of the drawn item; the model changes once, on release.
        const p = pointIn(svg, e);
        const item = itemOf({ page: pageId, id: dragging.id });
        if (!item) return;
        const [dx, dy] = clampMove(item, p[0] - dragging.start[0], p[1] - dragging.start[1]);
        dragging.moved = dragging.moved || Math.abs(dx) > 0.001 || Math.abs(dy) > 0.001;
        const vb = svg.viewBox.baseVal;
        const g = svg.querySelector('g.item[data-id="' + dragging.id + '"]');
        if (g) g.setAttribute("transform", "translate(" + dx * vb.width + "," + dy * vb.height + ")");
        return;
      }
      if (!drawing) return;
      const p = pointIn(svg, e);
      drawing.points.push(p);
      // Live feedback without touching the model until the stroke ends.
      const vb = svg.viewBox.baseVal;
      let preview = svg.querySelector(".preview");
      if (!preview) preview = svgEl(tool === "pen" ? "polyline" : "rect", { class: "preview", stroke: "#c8102e", fill: tool === "pen" ? "none" : "#ffd400", "fill-opacity": 0.35 }, svg);
      if (tool === "pen") preview.setAttribute("points", drawing.points.map(([a, b]) => a * vb.width + "," + b * vb.height).join(" "));
      else {
        const [x0, y0] = drawing.start;
        preview.setAttribute("x", Math.min(x0, p[0]) * vb.width);
        preview.setAttribute("y", Math.min(y0, p[1]) * vb.height);
        preview.setAttribute("width", Math.abs(p[0] - x0) * vb.width);
        preview.setAttribute("height", Math.abs(p[1] - y0) * vb.height);
      }
    });
    const endDrag = (e, keep) => {
      const d = dragging;
      dragging = null;
      const p = pointIn(svg, e);
      if (keep && d.moved) {
        const id = d.id;
        edit(pageId, (items) => moveItem(items.find((i) => i.id === id), p[0] - d.start[0], p[1] - d.start[1]));
        return;
      }
      const g = svg.querySelector('g.item[data-id="' + d.id + '"]');
      if (g) g.removeAttribute("transform");
    };
    svg.addEventListener("pointercancel", (e) => {
      if (dragging) endDrag(e, false);
    });
    svg.addEventListener("pointerup", (e) => {
      if (dragging) {
        endDrag(e, true);
        return;
      }
      if (!drawing) return;
      const d = drawing;
      drawing = null;
      const end = pointIn(svg, e);
      if (tool === "pen") {
        const points = d.points.filter((_, i) => i % Math.ceil(d.points.length / 1500) === 0).map(([a, b]) => [round(a), round(b)]);
        edit(pageId, (items) => items.push({ id: newId(), kind: "pen", points }));
      } else {
        const [x0, y0] = d.start;
        const w = Math.abs(end[0] - x0);
        const h = Math.abs(end[1] - y0);
        if (w > 0.002 && h > 0.002)
          edit(pageId, (items) => items.push({ id: newId(), kind: "highlight", x: Math.min(x0, end[0]), y: Math.min(y0, end[1]), w, h }));
        else renderLayer(pageId);
      }
    });
    svg.addEventListener("dblclick", (e) => {
      // With the select tool the pointer is captured by the layer, so the double click lands on
      // the layer itself: the item is then the one the first click selected.
      const target = e.target.closest("[data-id]");
      const id = target ? target.dataset.id : selected && selected.page === pageId ? selected.id : null;
      if (!editable || !id) return;
      editText({ page: pageId, id });
    });
  }

  function round(v) {
    return Math.round(v * 10000) / 10000;
  }

  function applyView() {
    const pages = $("#pages");
    pages.style.setProperty("--zoom", zoom);
    pages.dataset.turn = String(turn);
    requestAnimationFrame(renderAllLayers);
  }

  // ------------------------------------------------------------------ navigation
  async function go(target) {
    if (!target) return;
    const ok = await flush();
    if (!ok && editable) {
      showError(words.pending);
      return;
    }
    window.location.href = "/marking/copies/" + encodeURIComponent(target);
  }

  $("#next-copy").addEventListener("click", () => go(boot.next));
  $("#prev-copy").addEventListener("click", () => go(boot.prev));
  for (const b of $$(".tool")) b.addEventListener("click", () => setTool(b.dataset.tool));
  $("#undo").addEventListener("click", undo);
  $("#redo").addEventListener("click", redo);
  $("#zoom-in").addEventListener("click", () => {
    zoom = Math.min(3, zoom + 0.25);
    applyView();
  });
  $("#zoom-out").addEventListener("click", () => {
    zoom = Math.max(0.5, zoom - 0.25);
    applyView();
  });
  $("#rotate").addEventListener("click", () => {
    turn = (turn + 90) % 360;
    applyView();
  });

  // ------------------------------------------------------------------ keyboard
  markInputs.forEach((input, i) => {
    input.addEventListener("input", changed);
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.ctrlKey && !e.metaKey) {
        e.preventDefault();
        const nextInput = markInputs[i + 1];
        (nextInput || appreciation).focus();
        if (nextInput) nextInput.select();
      }
    });
  });
  appreciation.addEventListener("input", changed);

  function typing(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.isContentEditable);
  }

  document.addEventListener("keydown", (e) => {
    if (e.altKey && !e.ctrlKey && !e.metaKey) {
      const digit = /^Digit([1-9])$/.exec(e.code);
      if (digit) {
        const input = markInputs[Number(digit[1]) - 1];
        if (input) {
          e.preventDefault();
          input.focus();
          input.select();
        }
        return;
      }
      const actions = {
        KeyN: () => go(boot.next),
        KeyP: () => go(boot.prev),
        KeyA: () => appreciation.focus(),
        KeyC: () => bankFilter && bankFilter.focus(),
        KeyS: () => openDocuments(),
      };
      if (actions[e.code]) {
        e.preventDefault();
        actions[e.code]();
      }
      return;
    }
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
      e.preventDefault();
      go(boot.next);
      return;
    }
    if (typing(e.target)) {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    if ((e.ctrlKey || e.metaKey) && (e.key === "z" || e.key === "Z")) {
      e.preventDefault();
      if (e.shiftKey) redo();
      else undo();
      return;
    }
    if ((e.ctrlKey || e.metaKey) && (e.key === "y" || e.key === "Y")) {
      e.preventDefault();
      redo();
      return;
    }
    if (e.ctrlKey || e.metaKey) return;
    if (selected && itemOf(selected) && editable) {
      const arrows = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
      const arrow = arrows[e.key];
      if (arrow) {
        e.preventDefault();
        const step = e.shiftKey ? BIG_STEP : STEP;
        moveSelected(arrow[0] * step, arrow[1] * step);
        return;
      }
      // Enter on a focused button or link stays theirs (keyboard users press them that way).
      const pressable = e.target && e.target.closest && e.target.closest("button, a[href], select, summary");
      if ((e.key === "Enter" && !pressable) || e.key === "F2") {
        e.preventDefault();
        editText(selected);
        return;
      }
      if (e.key === "Delete" || e.key === "Backspace") {
        e.preventDefault();
        const ref = selected;
        select(null);
        edit(ref.page, (items) => items.splice(items.findIndex((i) => i.id === ref.id), 1));
        return;
      }
    }
    if (e.key === "s" || e.key === "S") {
      // S takes the select tool; pressed again, it walks to the next annotation (Shift+S: back).
      e.preventDefault();
      if (!editable) return;
      if (tool !== "select") setTool("select");
      selectNext(e.shiftKey);
      return;
    }
    const keys = { v: "tick", x: "cross", d: "pen", t: "text", h: "highlight", m: "comment", e: "erase" };
    const name = keys[e.key.toLowerCase()];
    if (name) {
      setTool(name);
      e.preventDefault();
    } else if (e.key === "Escape") {
      if (selected) select(null);
      else setTool("none");
    }
    else if (e.key === "+" || e.key === "=") $("#zoom-in").click();
    else if (e.key === "-") $("#zoom-out").click();
    else if (e.key === "r" || e.key === "R") $("#rotate").click();
  });

  window.addEventListener("resize", () => requestAnimationFrame(renderAllLayers));
  // A last attempt when the tab is hidden or closed; the localStorage copy covers the rest.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") flush();
  });
  window.addEventListener("beforeunload", (e) => {
    if (isDirty() || inFlight) {
      flush();
      e.preventDefault();
      e.returnValue = "";
    }
  });

  // ------------------------------------------------------------------ start
  function restoreBackup() {
    let saved = null;
    try {
      saved = JSON.parse(localStorage.getItem(backupKey) || "null");
    } catch (e) {
      saved = null;
    }
    if (!saved || !editable) return;
    for (const input of markInputs) if (saved.marks[input.dataset.qid] !== undefined) input.value = saved.marks[input.dataset.qid];
    appreciation.value = saved.appreciation;
    local.comments = saved.comments || local.comments;
    for (const [p, items] of Object.entries(saved.layers || {})) {
      local.layers[p] = items;
      dirtyLayers.add(p);
    }
    fieldsDirty = true;
    if (saved.base !== version) {
      // Typed on an older version of the copy: let the corrector choose.
      showConflict(server, words.pending);
    } else {
      changed();
    }
  }

  // ------------------------------------------------------------------ subject and model answer
  // The paper's PDFs open in a panel beside the copy (or in a tab, through their links).
  function openDocuments() {
    const panel = $("#documents-panel");
    if (!panel) return;
    panel.open = true;
    const first = panel.querySelector("button.show-document") || panel.querySelector("summary");
    if (first) first.focus();
  }
  for (const button of $$("button.show-document")) {
    button.addEventListener("click", () => {
      const frame = $("#document-frame");
      frame.src = button.dataset.src;
      frame.hidden = false;
    });
  }

  markInputs.forEach(checkInput);
  renderComments();
  renderBank();
  updateTotals();
  updateSpecial();
  showMissing();
  setTool("none");
  applyView();
  restoreBackup();
  // Warm the browser cache with the next copy's pages while this one is being read.
  for (const url of boot.next_images || []) {
    const im = new Image();
    im.decoding = "async";
    im.src = url;
  }
  if (editable && markInputs.length && !server.special && boot.copy_status !== "absent" && boot.copy_status !== "blank") {
    const first = markInputs.find((i) => !i.value) || markInputs[0];
    first.focus();
  }
})();
