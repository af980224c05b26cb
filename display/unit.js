// Unit view: one unit's keyboard with the played keys and fingers, last notes, technique, status and session.
"use strict";

(async () => {
  const { fmt, el } = Pianocam;
  const SVG = "http://www.w3.org/2000/svg";
  const NAMES = ["C", "C♯", "D", "D♯", "E", "F", "F♯", "G", "G♯", "A", "A♯", "B"];
  const BLACK = new Set([1, 3, 6, 8, 10]);
  const LIT_MS = 1600;      // how long a key stays lit when a note carries no offset
  const PLAYING_MS = 8000;  // a note within this long means "playing"
  const MAX_NOTES = 40;

  const s = await Pianocam.settings();
  if (!s.unit) {  // no unit chosen: the classroom lists them
    location.replace("classroom.html" + location.search);
    return;
  }
  Pianocam.bindForm(s);
  document.getElementById("classroom-link").href = "classroom.html" + Pianocam.carry(s);
  document.getElementById("unit-id").textContent = s.unit;
  document.title = `pianocam · ${s.unit}`;

  const state = { status: null, metrics: null, session: null, calibration: null, skill: null, report: null,
                  technique: {}, lastMessage: null, lastNote: null, notes: 0 };
  const VERDICTS = { right: "right", wrong_finger: "wrong finger", wrong_note: "wrong note", extra: "extra",
                     missed: "missed" };

  // --- keyboard -------------------------------------------------------------------------
  const WHITE_W = 24, WHITE_H = 124, BLACK_W = 14, BLACK_H = 78;
  const svg = document.getElementById("keyboard");
  const keys = new Map();  // pitch -> {g, timer}
  let range = null;

  function pitchName(p) { return NAMES[p % 12] + (Math.floor(p / 12) - 1); }
  function parseName(name) {
    const m = /^([A-G])([#♯b♭]?)(-?\d)$/.exec(name || "");
    if (!m) return null;
    const base = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 }[m[1]];
    const acc = m[2] === "#" || m[2] === "♯" ? 1 : m[2] ? -1 : 0;
    return (Number(m[3]) + 1) * 12 + base + acc;
  }

  function drawKeyboard(lo, hi) {
    while (BLACK.has(lo % 12)) lo--;
    while (BLACK.has(hi % 12)) hi++;
    range = [lo, hi];
    svg.replaceChildren();
    keys.clear();
    const whites = [], blacks = [];
    let x = 0;
    for (let p = lo; p <= hi; p++) {
      if (BLACK.has(p % 12)) blacks.push([p, x - BLACK_W / 2]);
      else { whites.push([p, x]); x += WHITE_W; }
    }
    svg.setAttribute("viewBox", `0 0 ${x} ${WHITE_H + 2}`);
    svg.style.setProperty("--white-count", whites.length);
    const key = (p, kx, w, h, cls) => {
      const g = document.createElementNS(SVG, "g");
      g.setAttribute("class", `key ${cls}`);
      g.dataset.pitch = p;
      const r = document.createElementNS(SVG, "rect");
      Object.entries({ x: kx + 0.5, y: 1, width: w - 1, height: h, rx: 3 }).forEach(([k, v]) => r.setAttribute(k, v));
      const c = document.createElementNS(SVG, "circle");
      const cy = h - (cls === "white" ? 20 : 15);
      Object.entries({ cx: kx + w / 2, cy, r: cls === "white" ? 10 : 8 }).forEach(([k, v]) => c.setAttribute(k, v));
      c.setAttribute("class", "dot");
      const t = document.createElementNS(SVG, "text");
      Object.entries({ x: kx + w / 2, y: cy + 1 }).forEach(([k, v]) => t.setAttribute(k, v));
      t.setAttribute("class", "finger");
      // In a practice session: the finger the score asks for, above the played one.
      const e = document.createElementNS(SVG, "text");
      Object.entries({ x: kx + w / 2, y: cy - (cls === "white" ? 18 : 15) }).forEach(([k, v]) => e.setAttribute(k, v));
      e.setAttribute("class", "expected-finger");
      g.append(r, c, t, e);
      if (cls === "white" && p % 12 === 0) {
        const label = document.createElementNS(SVG, "text");
        Object.entries({ x: kx + w / 2, y: h - 40 }).forEach(([k, v]) => label.setAttribute(k, v));
        label.setAttribute("class", "octave");
        label.textContent = pitchName(p);
        g.append(label);
      }
      svg.append(g);
      keys.set(p, { g, text: t, expected: e, timer: null });
    };
    whites.forEach(([p, kx]) => key(p, kx, WHITE_W, WHITE_H, "white"));
    blacks.forEach(([p, kx]) => key(p, kx, BLACK_W, BLACK_H, "black"));
  }

  function keyboardFromCalibration(cal) {
    const lowest = parseName(cal && cal.lowest);
    const count = cal && Number.isInteger(cal.keys) ? cal.keys : null;
    if (lowest != null && count) return [lowest, lowest + count - 1];
    return null;
  }

  function lightKey(note) {
    const p = note.pitch;
    if (!Number.isInteger(p)) return;
    if (!range || p < range[0] || p > range[1]) {
      drawKeyboard(Math.min(p, range ? range[0] : 36), Math.max(p, range ? range[1] : 96));
    }
    const k = keys.get(p);
    if (!k) return;
    const hand = note.hand === "left" || note.hand === "right" ? note.hand : "unknown";
    k.g.classList.remove("left", "right", "unknown", "fading", ...Object.keys(VERDICTS).map((v) => `verdict-${v}`));
    k.g.classList.add("lit", hand);
    k.text.textContent = note.played === false ? "" : Number.isInteger(note.finger) ? String(note.finger) : "?";
    const written = note.expected && Number.isInteger(note.expected.finger) ? note.expected.finger : null;
    k.expected.textContent = written != null ? `✎${written}` : "";
    if (note.verdict) k.g.classList.add(`verdict-${note.verdict}`);
    svg.querySelectorAll(".key.latest").forEach((g) => g.classList.remove("latest"));
    k.g.classList.add("latest");
    clearTimeout(k.timer);
    // Held as long as the note sounded, but never so briefly that a glance misses it.
    const held = note.offset != null && note.onset != null ? 1000 * (note.offset - note.onset) : LIT_MS;
    k.timer = setTimeout(() => { k.g.classList.remove("lit"); k.g.classList.add("fading"); },
                         Math.min(3000, Math.max(700, held)));
    followKey(k.g);
  }

  // On a narrow screen the keyboard scrolls sideways: keep the lit keys in view (both hands when they fit,
  // else the last one played), so the view does not jump between hands on every note.
  function followKey(latest) {
    const box = document.getElementById("keyboard-scroll");
    if (box.scrollWidth <= box.clientWidth + 2) return;
    const outer = box.getBoundingClientRect();
    const span = (g) => {
      const r = g.getBoundingClientRect();
      return [r.left - outer.left + box.scrollLeft, r.right - outer.left + box.scrollLeft];
    };
    let [lo, hi] = span(latest);
    for (const g of svg.querySelectorAll(".key.lit")) {
      const [a, b] = span(g);
      if (Math.max(hi, b) - Math.min(lo, a) <= box.clientWidth * 0.9) { lo = Math.min(lo, a); hi = Math.max(hi, b); }
    }
    box.scrollTo({ left: Math.max(0, (lo + hi) / 2 - box.clientWidth / 2), behavior: "smooth" });
  }

  // --- notes ------------------------------------------------------------------------------
  function fingerBadge(hand, finger, extraClass) {
    const h = hand === "left" || hand === "right" ? hand : "unknown";
    return el("span", { class: `badge ${h} ${extraClass || ""}`, title: `${fmt.hand(hand)}, finger ${finger ?? "unknown"}` },
              Number.isInteger(finger) ? String(finger) : "?");
  }

  function addNote(n) {
    state.notes++;
    state.lastNote = Date.now();
    const list = document.getElementById("notes");
    list.querySelector(".empty")?.remove();
    const name = n.name || (Number.isInteger(n.pitch) ? pitchName(n.pitch) : "?");
    const row = el("li", { class: "note", dataset: { pitch: n.pitch, hand: n.hand || "unknown", finger: n.finger ?? "", seq: n.seq ?? "" } },
      fingerBadge(n.hand, n.finger),
      el("span", { class: "note-name" }, name),
      el("span", { class: "note-hand" }, n.hand ? `${fmt.hand(n.hand)} ${Number.isInteger(n.finger) ? n.finger : "?"}`
                                                : "unknown"),
      // Confidence belongs to the finger assignment: none to show for a finger not assigned.
      el("span", { class: "note-conf", title: "confidence" },
         n.confidence != null && Number.isInteger(n.finger) ? fmt.pct(n.confidence) : ""),
      el("span", { class: "note-time" }, n.onset != null ? fmt.num(n.onset, 1) + " s" : ""));
    if (n.verdict) {  // a practice session: what the score asked for, and how it went
      row.classList.add(`verdict-${n.verdict}`);
      row.dataset.verdict = n.verdict;
      const e = n.expected;
      const unseen = n.finger_checked === false && n.verdict === "right" ? " · finger not checked" : "";
      row.append(el("span", { class: `verdict ${n.verdict}` }, (VERDICTS[n.verdict] || n.verdict) + unseen),
                 el("span", { class: "note-written", title: "as written" },
                    e ? `written ${e.finger ?? "–"}${e.pitch !== n.pitch ? " on " + pitchName(e.pitch) : ""}` +
                        ` · bar ${e.bar}` : ""));
    }
    list.prepend(row);
    while (list.children.length > MAX_NOTES) list.lastElementChild.remove();
    document.getElementById("notes-count").textContent = `${state.notes} seen`;
    document.getElementById("now-name").textContent = name;
    const finger = document.getElementById("now-finger");
    finger.replaceChildren(fingerBadge(n.hand, n.finger, "large"));
    document.getElementById("now-hint").textContent =
      `${n.hand ? fmt.hand(n.hand) + " hand" : "hand unknown"} · ` +
      `${Number.isInteger(n.finger) ? "finger " + n.finger : "finger unknown"}` +
      (n.verdict ? ` · written ${n.expected && n.expected.finger != null ? n.expected.finger : "–"} · ` +
                   (VERDICTS[n.verdict] || n.verdict) : "");
    document.getElementById("now").dataset.verdict = n.verdict || "";
    lightKey(n);
  }

  // --- technique gauges -------------------------------------------------------------------------
  function gaugeFor(hand) {
    let fig = document.querySelector(`.gauge[data-hand="${hand}"]`);
    if (!fig) {
      fig = el("figure", { class: "gauge", "data-hand": hand });
      document.querySelector(".gauges").append(fig);
    }
    return fig;
  }

  function arc(cx, cy, r, a0, a1) {
    const p = (a) => [cx + r * Math.cos(a), cy - r * Math.sin(a)];
    const [x0, y0] = p(a0), [x1, y1] = p(a1);
    return `M ${x0.toFixed(1)} ${y0.toFixed(1)} A ${r} ${r} 0 0 1 ${x1.toFixed(1)} ${y1.toFixed(1)}`;
  }

  function renderGauge(hand) {
    const fig = gaugeFor(hand);
    const t = state.technique[hand];
    const title = hand === "left" || hand === "right" ? `${fmt.hand(hand)} hand` : fmt.label(String(hand));
    const probs = (t && t.probabilities) || {};
    const advanced = probs.advanced != null ? probs.advanced
      : t && t.label && probs[t.label] != null ? probs[t.label] : null;
    const angle = Math.PI * (1 - (advanced ?? 0.5));
    const nx = 100 + 68 * Math.cos(angle), ny = 100 - 68 * Math.sin(angle);
    fig.className = `gauge ${t ? "has-data " + (t.label || "") : "empty"}`;
    fig.innerHTML = `
      <svg viewBox="0 0 200 118" class="dial" aria-hidden="true">
        <defs><linearGradient id="g-${hand}" x1="0" x2="1"><stop offset="0" stop-color="var(--beginner)"/>
          <stop offset="1" stop-color="var(--advanced)"/></linearGradient></defs>
        <path d="${arc(100, 100, 80, Math.PI, 0)}" class="track" stroke="url(#g-${hand})"/>
        ${t ? `<line x1="100" y1="100" x2="${nx.toFixed(1)}" y2="${ny.toFixed(1)}" class="needle"/>` : ""}
        <circle cx="100" cy="100" r="7" class="hub"/>
        <text x="12" y="116" class="end">beginner</text><text x="188" y="116" class="end" text-anchor="end">advanced</text>
      </svg>`;
    const cap = el("figcaption", {},
      el("div", { class: "gauge-hand" }, title),
      el("div", { class: "gauge-label" }, t ? fmt.label(t.label) : "waiting…"),
      el("div", { class: "gauge-prob" }, t && advanced != null ? `${fmt.pct(advanced)} advanced` : ""),
      el("div", { class: "gauge-window" }, t && t.window ? windowText(t.window) : ""));
    fig.append(cap);
  }

  function windowText(w) {
    const parts = [];
    if (w.frames != null) parts.push(`${w.frames} frames`);
    if (w.start != null && w.end != null) parts.push(`${fmt.num(w.start, 1)}–${fmt.num(w.end, 1)}\u00a0s`);
    return parts.join(" · ");
  }

  // --- status and session -----------------------------------------------------------------------
  function fact(label, value, cls, testid) {
    return [el("dt", {}, label), el("dd", { class: cls || "", "data-fact": testid || null }, value)];
  }

  function renderStatus() {
    const st = state.status, m = state.metrics, cal = state.calibration;
    if (st && st.room) {
      document.getElementById("room").textContent = st.room;
      document.title = `pianocam · ${st.room}`;
    } else if (st) {
      document.getElementById("room").textContent = s.unit;
    }
    const pill = document.getElementById("unit-state");
    const online = st && st.state === "online";
    pill.dataset.state = st ? st.state : "unknown";
    pill.textContent = st ? (online ? "online" : "offline") : "no status";
    document.body.classList.toggle("unit-offline", !!st && !online);

    const rows = [];
    rows.push(...fact("Unit", st ? (online ? "Online" : "Offline") : "–", online ? "ok" : st ? "bad" : "", "unit"));
    const source = st && st.source;
    rows.push(...fact("Camera", source ? `${fmt.label(source)}${st.source_kind ? " · " + st.source_kind : ""}` : "–",
                      source === "online" ? "ok" : source === "offline" ? "bad" : "", "source"));
    if (st && st.notes) rows.push(...fact("Notes from", String(st.notes).split(":")[0], "", "notes-source"));
    rows.push(...fact("Frame rate", m ? `${fmt.num(m.fps, 1)} fps` : "–", "", "fps"));
    const total = m && m.latency_ms && (m.latency_ms.total || m.latency_ms.track);
    rows.push(...fact("Latency", total ? `${fmt.num(total.p50, 0)} ms · p95 ${fmt.num(total.p95, 0)} ms` : "–", "", "latency"));
    rows.push(...fact("Dropped", m ? `${m.dropped_frames ?? 0} of ${m.frames ?? 0} frames` : "–",
                      m && m.dropped_frames > 0.05 * (m.frames || 1) ? "warn" : "", "dropped"));
    if (m && (m.queue_depth || m.queue_dropped)) {  // events waiting in the journal, or lost to its bounds
      rows.push(...fact("Journal", `${m.queue_depth ?? 0} waiting${m.queue_dropped ? ` · ${m.queue_dropped} dropped` : ""}`,
                        m.queue_dropped ? "warn" : "", "journal"));
    }
    if (m && m.cpu_temperature != null) {
      rows.push(...fact("CPU", `${fmt.num(m.cpu_temperature, 0)} °C`, m.cpu_temperature > 75 ? "warn" : "", "cpu"));
    }
    let calText = "–", calClass = "";
    if (cal) {
      calText = { ok: "OK", drifted: "Drifted — recalibrate", missing: "Missing — calibrate" }[cal.state] || fmt.label(cal.state);
      if (cal.mean_error_key_widths != null) calText += ` · ${fmt.num(cal.mean_error_key_widths, 2)} key widths`;
      calClass = cal.state === "ok" ? "ok" : cal.state === "drifted" ? "warn" : "bad";
    }
    rows.push(...fact("Calibration", calText, calClass, "calibration"));
    if (cal && cal.error) rows[rows.length - 1].title = cal.error;
    rows.push(...fact("Last message", fmt.ago(state.lastMessage ? Date.now() - state.lastMessage : null), "dim", "last"));
    document.getElementById("facts").replaceChildren(...rows);
  }

  function renderSession() {
    const ses = state.session;
    const playing = (state.lastNote && Date.now() - state.lastNote < PLAYING_MS) ||
      (ses && ses.playing && Date.now() - state.sessionAt < PLAYING_MS);
    document.getElementById("session-state").textContent =
      ses ? (ses.active ? (playing ? "playing" : "active") : "ended") : (playing ? "playing" : "");
    document.getElementById("session-notes").textContent = ses && ses.notes != null ? ses.notes : "–";
    const started = ses && ses.started ? Date.parse(ses.started) : NaN;
    document.getElementById("session-time").textContent =
      ses && ses.active && !Number.isNaN(started) ? fmt.duration(Date.now() - started) : "–";
    document.getElementById("session-unknown").textContent =
      ses && ses.unknown_share != null ? fmt.pct(ses.unknown_share) : "–";
    const per = (ses && ses.per_finger) || {};
    const cols = [];
    for (const f of [5, 4, 3, 2, 1]) cols.push(["left", f]);
    for (const f of [1, 2, 3, 4, 5]) cols.push(["right", f]);
    const count = (h, f) => Number((per[h] || {})[String(f)] || 0);
    const max = Math.max(1, ...cols.map(([h, f]) => count(h, f)));
    const bars = cols.map(([h, f]) => el("div", { class: `finger-col ${h}`, title: `${fmt.hand(h)} ${f}` },
      el("span", { class: "finger-n" }, String(count(h, f))),
      el("span", { class: "bar", style: `height:${Math.round(100 * count(h, f) / max)}%` }),
      el("span", { class: "finger-label" }, `${h === "left" ? "L" : "R"}${f}`)));
    document.getElementById("fingers").replaceChildren(...bars);
    if (state.skill && state.skill.level != null) {
      document.getElementById("session-state").textContent += ` · level ${state.skill.level}`;
    }
  }

  // --- practice against an exercise: running score from the session state, then the report -----------------
  function renderPractice() {
    const card = document.getElementById("practice-card");
    const run = state.session && state.session.practice;
    const rep = state.report;
    card.hidden = !run && !rep;
    if (card.hidden) return;
    const pct = (v) => (v == null ? "–" : fmt.pct(v));
    const title = (rep && rep.title) || (run && (run.title || run.exercise)) || "";
    document.getElementById("practice-title").textContent = title;
    const rows = [];
    if (run) {
      rows.push(...fact("Exercise", run.exercise, "", "exercise"));
      rows.push(...fact("Played", `${run.played} of ${run.notes} notes`, "", "played"));
      rows.push(...fact("Right notes", pct(run.right_notes), "", "right-notes"));
      rows.push(...fact("Fingering as written", pct(run.fingering_as_written),
                        run.fingering_as_written != null && run.fingering_as_written < 0.9 ? "warn" : "ok", "as-written"));
      rows.push(...fact("Wrong · missed · extra", `${run.wrong_notes} · ${run.missed} · ${run.extra}`, "", "errors"));
    }
    if (rep) {
      const t = rep.tempo || {};
      rows.push(...fact("Tempo", t.bpm != null ? `${fmt.num(t.bpm, 0)} bpm · varies ${fmt.pct(t.variation || 0)}` : "–",
                        "", "tempo"));
      const sp = rep.onset_spread || {};
      rows.push(...fact("Evenness", ["left", "right"].filter((h) => sp[h] != null)
                        .map((h) => `${fmt.hand(h)} ${fmt.pct(sp[h])}`).join(" · ") || "–", "", "evenness"));
      if (rep.synchrony) rows.push(...fact("Hands together", `${fmt.num(rep.synchrony.median_abs_ms, 0)} ms apart`, "", "sync"));
      const errors = rep.per_finger_errors || {};
      const worst = ["left", "right"].flatMap((h) => Object.entries(errors[h] || {}).filter(([, n]) => n > 0)
                                              .map(([f, n]) => `${h === "left" ? "L" : "R"}${f} ×${n}`));
      rows.push(...fact("Wrong fingers", worst.join(" · ") || "none", worst.length ? "warn" : "ok", "finger-errors"));
      const sk = rep.skill || {};
      rows.push(...fact("Skill", sk.score != null ? `${fmt.num(sk.score, 1)} / 10` : "–", "", "skill"));
      rows.push(...fact("Scored by", `${sk.rubric || "rubric"} (a rubric over these numbers)`, "dim", "rubric"));
    }
    document.getElementById("practice-facts").replaceChildren(...rows);
  }

  // --- commands: a button publishes cmd/<name> with a transaction id; the unit answers on cmd/<name>/response ---
  const COMMANDS = {
    start_session: ["New session", (r) => r.session && r.session.practice
      ? `practising ${r.session.practice.exercise}, ${r.session.practice.notes} notes` : "started; counts start from zero"],
    stop_session: ["End session", (r) => `ended after ${r.session && r.session.notes != null ? r.session.notes : "?"} notes`],
    check_calibration: ["Check calibration", () => "the next frame is compared with the key map"],
    recalibrate: ["Recalibrate", () => "the keys are mapped afresh from the next frame"],
  };
  const pending = new Map();  // transaction -> {name, timer}
  let client = null;

  function showCommand(text, cls) {
    const line = document.getElementById("command-result");
    line.textContent = text;
    line.className = `command-result ${cls || ""}`;
  }

  function sendCommand(name) {
    const [label] = COMMANDS[name];
    if (!client || !client.connected) { showCommand(`${label}: not sent, the page is not connected`, "bad"); return; }
    const transaction = `${name}-${Date.now().toString(36)}-${Math.random().toString(16).slice(2, 8)}`;
    // A unit that is offline, or a login the broker lets read but not publish, never answers.
    const timer = setTimeout(() => {
      pending.delete(transaction);
      showCommand(`${label}: no answer from the unit (offline, or this login may not send commands)`, "bad");
    }, 8000);
    pending.set(transaction, { name, timer });
    showCommand(`${label}: sent…`, "dim");
    const body = { transaction };
    const exercise = document.getElementById("exercise-name");
    const passage = document.getElementById("exercise-passage");
    if (name === "start_session" && exercise && exercise.value.trim()) {
      body.exercise = exercise.value.trim();
      if (passage && passage.value) body.passage = Number(passage.value);
    }
    client.publish(`${s.base}/${s.unit}/cmd/${name}`, JSON.stringify(body), { qos: 1 });
  }

  function commandAnswered(p) {
    const entry = p && pending.get(p.transaction);
    if (!entry) return;  // another viewer's command
    clearTimeout(entry.timer);
    pending.delete(p.transaction);
    const [label, describe] = COMMANDS[entry.name];
    if (p.ok) showCommand(`${label}: ${describe(p)}`, "ok");
    else showCommand(`${label} refused: ${p.error || "no reason given"}`, "bad");
  }

  function enableControls() {
    const online = state.status && state.status.state === "online" && document.getElementById("conn").dataset.state === "connected";
    document.querySelectorAll("#controls button").forEach((b) => { b.disabled = !online; });
  }

  document.querySelectorAll("#controls button").forEach((b) => {
    b.addEventListener("click", () => sendCommand(b.dataset.command));
  });

  // --- messages ---------------------------------------------------------------------------------
  drawKeyboard(36, 96);  // 61 keys from C2 until the calibration says otherwise
  renderGauge("left");
  renderGauge("right");
  renderStatus();
  renderSession();

  const kinds = ["status", "metrics", "note", "technique", "session", "calibration", "skill", "report", "cmd/+/response"];
  client = Pianocam.connect(s, kinds.map((k) => `${s.unit}/${k}`), (unitId, kind, p) => {
    if (unitId !== s.unit) return;
    if (kind.startsWith("cmd/")) { commandAnswered(p); return; }
    state.lastMessage = Date.now();
    switch (kind) {
      case "note": if (p) addNote(p); break;
      case "technique":
        if (p) { state.technique[p.hand || "both"] = p; renderGauge(p.hand || "both"); }
        break;
      case "calibration": {
        state.calibration = p;
        const r = keyboardFromCalibration(p);
        if (r && (!range || r[0] !== range[0] || r[1] !== range[1])) drawKeyboard(r[0], r[1]);
        renderStatus();
        break;
      }
      case "session":
        state.session = p; state.sessionAt = Date.now();
        if (p && p.active && p.practice && state.report && state.report.exercise !== p.practice.exercise) state.report = null;
        renderSession(); renderPractice(); break;
      case "skill": state.skill = p; renderSession(); break;
      case "report": state.report = p; renderPractice(); break;
      case "status": state.status = p; renderStatus(); enableControls(); break;
      case "metrics": state.metrics = p; renderStatus(); break;
    }
  });
  enableControls();
  setInterval(() => { renderStatus(); renderSession(); enableControls(); }, 1000);
})();
