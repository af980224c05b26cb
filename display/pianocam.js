// The connection both views share: broker settings from the URL, config.json or the form;
// one MQTT.js client that reconnects by itself; messages parsed, checked and de-duplicated.
"use strict";

const Pianocam = (() => {
  const BASE_DEFAULT = "pianocam";
  const EVENT_KINDS = new Set(["note", "technique", "skill"]);  // journalled: may be replayed, de-duplicate on seq
  const SEEN_LIMIT = 2000;

  function defaultBroker() {
    // Served by Mosquitto's websockets listener (http_dir): the page and MQTT share one port.
    if (location.protocol === "http:" || location.protocol === "https:") {
      return (location.protocol === "https:" ? "wss://" : "ws://") + location.host;
    }
    return "ws://localhost:9001";
  }

  // Settings: the URL wins, then what `pianocam display --broker` serves as config.json,
  // then what the form saved in this browser, then the page's own host.
  async function settings() {
    const q = new URLSearchParams(location.search);
    let served = {};
    try {
      const r = await fetch("config.json", { cache: "no-store" });
      if (r.ok) served = await r.json();
    } catch (e) { /* Mosquitto serves no config.json: fine */ }
    let saved = {};
    try { saved = JSON.parse(localStorage.getItem("pianocam.broker") || "{}"); } catch (e) { saved = {}; }
    return {
      broker: q.get("broker") || served.broker || saved.broker || defaultBroker(),
      username: q.get("username") || saved.username || "",
      password: q.get("password") || sessionStorage.getItem("pianocam.password") || "",
      base: q.get("base") || served.base || BASE_DEFAULT,
      unit: q.get("unit") || "",
    };
  }

  // Query string that carries the connection to the other view (passwords stay in sessionStorage).
  function carry(s, extra) {
    const q = new URLSearchParams();
    const here = new URLSearchParams(location.search);
    for (const key of ["broker", "username", "base"]) if (here.get(key)) q.set(key, here.get(key));
    for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
    if (s.password) sessionStorage.setItem("pianocam.password", s.password);
    const text = q.toString();
    return text ? "?" + text : "";
  }

  // Wire the small connection form (a <dialog id="connect-dialog">) to the settings.
  function bindForm(s) {
    const dialog = document.getElementById("connect-dialog");
    const button = document.getElementById("connect-button");
    if (!dialog || !button) return;
    const form = dialog.querySelector("form");
    button.addEventListener("click", () => {
      form.broker.value = s.broker;
      form.username.value = s.username;
      form.password.value = s.password;
      if (form.unit) form.unit.value = s.unit;
      dialog.showModal();
    });
    form.addEventListener("submit", (ev) => {
      if (ev.submitter && ev.submitter.value === "cancel") return;
      ev.preventDefault();
      localStorage.setItem("pianocam.broker", JSON.stringify({ broker: form.broker.value.trim(),
                                                               username: form.username.value.trim() }));
      sessionStorage.setItem("pianocam.password", form.password.value);
      const q = new URLSearchParams(location.search);
      q.set("broker", form.broker.value.trim());
      if (form.username.value.trim()) q.set("username", form.username.value.trim()); else q.delete("username");
      q.delete("password");
      if (form.unit) { if (form.unit.value.trim()) q.set("unit", form.unit.value.trim()); else q.delete("unit"); }
      location.search = q.toString();
    });
  }

  // Shows the connection's state in #conn (data-state: connecting | connected | disconnected).
  function showConnection(state, detail) {
    const el = document.getElementById("conn");
    if (!el) return;
    el.dataset.state = state;
    el.textContent = state;
    el.title = detail || "";
    document.body.classList.toggle("is-disconnected", state !== "connected");
    const banner = document.getElementById("conn-banner");
    if (banner) {
      banner.hidden = state === "connected";
      banner.textContent = state === "connecting" ? `Connecting to ${detail}…`
        : `Disconnected from the broker${detail ? " (" + detail + ")" : ""} — reconnecting…`;
    }
  }

  // Connect and subscribe; onMessage(unitId, kind, payload) gets each parsed message once.
  function connect(s, topics, onMessage) {
    const seen = new Map();  // unit -> Set of seq, for events only
    showConnection("connecting", s.broker);
    const client = mqtt.connect(s.broker, {
      clientId: "pianocam-display-" + Math.random().toString(16).slice(2, 10),
      username: s.username || undefined,
      password: s.password || undefined,
      keepalive: 3,           // a broker gone silent (no TCP close) is noticed within ~1.5 keepalives
      reconnectPeriod: 1000,
      connectTimeout: 4000,
      clean: true,
      protocolVersion: 4,
    });
    let subscribed = false;
    client.on("connect", () => {
      showConnection("connected", s.broker);
      // MQTT.js renews its subscriptions on every reconnect; subscribe once.
      if (!subscribed) client.subscribe(topics.map((t) => `${s.base}/${t}`), { qos: 1 });
      subscribed = true;
    });
    const down = (why) => () => showConnection("disconnected", why);
    client.on("close", down("connection closed"));
    client.on("offline", down("broker unreachable"));
    client.on("reconnect", () => {
      if (!client.connected) showConnection("disconnected", "reconnecting");
    });
    client.on("error", (err) => showConnection("disconnected", err && err.message));
    client.on("message", (topic, data) => {
      const parts = topic.split("/");
      const baseDepth = s.base.split("/").length;
      const unitId = parts[baseDepth];
      const kind = parts.slice(baseDepth + 1).join("/");
      if (!data || !data.length) { onMessage(unitId, kind, null); return; }  // a cleared retained topic
      let payload;
      try { payload = JSON.parse(new TextDecoder().decode(data)); } catch (e) { return; }
      if (!payload || typeof payload !== "object") return;
      if (EVENT_KINDS.has(kind) && Number.isInteger(payload.seq)) {
        let set = seen.get(unitId);
        if (!set) seen.set(unitId, (set = new Set()));
        if (set.has(payload.seq)) return;
        set.add(payload.seq);
        if (set.size > SEEN_LIMIT) set.delete(set.values().next().value);
      }
      onMessage(unitId, kind, payload);
    });
    return client;
  }

  // Small formatting helpers shared by both views.
  const fmt = {
    pct: (p) => (p == null ? "–" : Math.round(p * 100) + "%"),
    num: (x, digits = 0) => (x == null || Number.isNaN(x) ? "–" : Number(x).toFixed(digits)),
    ago(ms) {
      if (ms == null) return "never";
      const s = Math.max(0, Math.round(ms / 1000));
      if (s < 60) return s + " s ago";
      if (s < 3600) return Math.round(s / 60) + " min ago";
      return Math.round(s / 3600) + " h ago";
    },
    duration(ms) {
      const s = Math.max(0, Math.floor(ms / 1000));
      const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
      return h ? `${h}:${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}`
               : `${m}:${String(sec).padStart(2, "0")}`;
    },
    hand: (h) => (h === "left" ? "Left" : h === "right" ? "Right" : "Hand ?"),
    label: (l) => (l ? l.charAt(0).toUpperCase() + l.slice(1) : "–"),
  };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "dataset") Object.assign(node.dataset, v);
      else node.setAttribute(k, v);
    }
    for (const c of children) if (c != null) node.append(c);
    return node;
  }

  return { settings, carry, bindForm, connect, showConnection, fmt, el };
})();
