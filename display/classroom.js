// Classroom view: one tile per unit under pianocam/+/status; a tile opens that unit's view.
"use strict";

(async () => {
  const { fmt, el } = Pianocam;
  const PLAYING_MS = 8000;  // a note within this long means "playing"
  const s = await Pianocam.settings();
  Pianocam.bindForm(s);
  const units = new Map();  // unit id -> {status, session, metrics, calibration, technique: {hand: msg}, lastNote}

  function unit(id) {
    if (!units.has(id)) units.set(id, { id, technique: {}, lastNote: null, notesSeen: 0 });
    return units.get(id);
  }

  // Playing: online, and a note lately or a fresh session message that says so.
  function isPlaying(u) {
    if (!u.status || u.status.state !== "online") return false;
    const now = Date.now();
    return (u.lastNote && now - u.lastNote < PLAYING_MS) ||
      (u.session && u.session.playing === true && now - u.sessionAt < PLAYING_MS);
  }

  function techniqueText(u) {
    const hands = ["left", "right"].filter((h) => u.technique[h]);
    const other = Object.keys(u.technique).filter((h) => h !== "left" && h !== "right");
    return [...hands, ...other].map((h) => {
      const t = u.technique[h];
      const adv = t.probabilities && t.probabilities.advanced;
      return el("span", { class: `tech ${t.label || ""}` },
        el("b", {}, h === "left" ? "L " : h === "right" ? "R " : ""),
        fmt.label(t.label), adv != null ? el("small", {}, ` ${fmt.pct(adv)}`) : null);
    });
  }

  const tiles = new Map();  // unit id -> its <a> tile, updated in place so a click is never lost to a redraw

  function fillTile(a, u) {
    const st = u.status || {};
    const online = st.state === "online";
    const playing = isPlaying(u);
    const ses = u.session;
    const notes = ses && ses.notes != null ? ses.notes : u.notesSeen || 0;
    const cal = u.calibration && u.calibration.state;
    const tech = techniqueText(u);
    a.className = `tile ${online ? "online" : "offline"} ${playing ? "playing" : "idle"}`;
    a.href = "index.html" + Pianocam.carry(s, { unit: u.id });
    a.dataset.unit = u.id;
    a.replaceChildren(
      el("div", { class: "tile-head" },
        el("span", { class: "tile-room" }, st.room || u.id),
        el("span", { class: "pill small", "data-state": online ? "online" : "offline" }, online ? "online" : "offline")),
      el("div", { class: "tile-id" }, u.id),
      el("div", { class: "tile-activity" }, el("span", { class: "dot" }), !online ? "Offline" : playing ? "Playing" : "Idle",
         playing && u.last ? el("span", { class: "tile-last" }, " · last ", el("b", {}, u.last.name || ""),
                                ` ${u.last.hand ? u.last.hand[0].toUpperCase() : ""}${u.last.finger ?? ""}`) : null),
      el("div", { class: "tile-stats" },
        el("div", { class: "tile-notes" }, el("span", { class: "tile-big" }, String(notes)), el("small", {}, "notes")),
        el("div", { class: "tile-tech" }, ...(tech.length ? tech : [el("span", { class: "dim" }, "no technique yet")]))),
      ses && ses.practice ? el("div", { class: "tile-practice", "data-exercise": ses.practice.exercise },
        el("b", {}, ses.practice.exercise), ` · ${ses.practice.played}/${ses.practice.notes} · `,
        el("span", { class: "tile-score" }, ses.practice.fingering_as_written != null
          ? `${fmt.pct(ses.practice.fingering_as_written)} fingering as written` : "fingering –"),
        ses.practice.right_notes != null ? ` · ${fmt.pct(ses.practice.right_notes)} right notes` : "") : null,
      el("div", { class: "tile-foot" },
        u.metrics && online ? `${fmt.num(u.metrics.fps, 0)} fps` : st.ts ? `last seen ${fmt.ago(Date.now() - Date.parse(st.ts))}` : "",
        cal && cal !== "ok" ? el("span", { class: "warn" }, `calibration ${cal}`) : null));
  }

  function render() {
    const list = [...units.values()].filter((u) => u.status);
    list.sort((a, b) => (a.status.room || a.id).localeCompare(b.status.room || b.id));
    const box = document.getElementById("tiles");
    for (const [id, a] of tiles) if (!units.has(id) || !units.get(id).status) { a.remove(); tiles.delete(id); }
    document.getElementById("no-units").hidden = list.length > 0;
    list.forEach((u, i) => {
      let a = tiles.get(u.id);
      if (!a) tiles.set(u.id, (a = el("a", {})));
      fillTile(a, u);
      if (box.children[i + 1] !== a) box.insertBefore(a, box.children[i + 1] || null);  // child 0 is #no-units
    });
    const online = list.filter((u) => u.status.state === "online").length;
    const playing = list.filter(isPlaying).length;
    document.getElementById("summary").textContent = list.length
      ? `${list.length} unit${list.length === 1 ? "" : "s"} · ${online} online · ${playing} playing` : "waiting for units…";
  }

  let pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; render(); });
  }

  Pianocam.connect(s, ["+/status", "+/session", "+/metrics", "+/calibration", "+/technique", "+/note"], (id, kind, p) => {
    if (!id) return;
    if (kind === "status" && !p) { units.delete(id); schedule(); return; }  // retained status cleared: unit retired
    const u = unit(id);
    switch (kind) {
      case "status": u.status = p; break;
      case "session": u.session = p; u.sessionAt = Date.now(); break;
      case "metrics": u.metrics = p; break;
      case "calibration": u.calibration = p; break;
      case "technique": if (p) u.technique[p.hand || "both"] = p; break;
      case "note": if (p) { u.lastNote = Date.now(); u.last = p; u.notesSeen++; } break;
      default: return;
    }
    schedule();
  });
  setInterval(render, 1000);
  render();
})();
