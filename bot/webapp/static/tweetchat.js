// tweetchat: local times and countdowns on every page, and the live chat room.
// Everything people typed is put in the page with textContent, never as HTML.
"use strict";

(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);

  // -- times in the reader's zone, and countdowns -----------------------------------------
  const fmt = new Intl.DateTimeFormat(undefined, {
    weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit",
    timeZoneName: "short",
  });
  document.querySelectorAll("[data-local-time]").forEach((el) => {
    const when = new Date(el.dataset.localTime);
    if (isNaN(when)) return;
    el.textContent = "Your time: " + fmt.format(when);
    el.hidden = false;
  });
  let clockSkew = 0; // server time minus this browser's, learned from the room's state
  function countdownText(ms) {
    if (ms <= 0) return "Starting now";
    const s = Math.floor(ms / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600);
    const m = Math.floor(s % 3600 / 60), sec = s % 60;
    if (d > 0) return `Starts in ${d} day${d > 1 ? "s" : ""} ${h} h`;
    if (h > 0) return `Starts in ${h} h ${m} min`;
    return `Starts in ${m} min ${String(sec).padStart(2, "0")} s`;
  }
  function tickCountdowns() {
    document.querySelectorAll("[data-countdown]").forEach((el) => {
      const at = new Date(el.dataset.countdown);
      if (!isNaN(at)) el.textContent = countdownText(at - (Date.now() + clockSkew));
    });
  }
  tickCountdowns();
  setInterval(tickCountdowns, 1000);

  const roomEl = $("#room");
  if (roomEl) room(roomEl);

  // -- the room ---------------------------------------------------------------------------
  function room(root) {
    const chat = root.dataset.chat, hashtag = root.dataset.hashtag;
    const stream = $("#stream"), empty = $("#empty"), status = $("#status");
    const text = $("#text"), counter = $("#counter"), sendError = $("#send-error");
    const byId = new Map(); // message id -> {data, li}
    let key = localStorage.getItem("tweetchat.key");
    if (!key || key.length < 16) {
      const bytes = new Uint8Array(24);
      crypto.getRandomValues(bytes);
      key = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      localStorage.setItem("tweetchat.key", key);
    }
    let name = localStorage.getItem("tweetchat.name") || "";
    let me = null, session = null, lastId = null, question = null, answerLetter = "A";
    let maxChars = 1000, editSeconds = 300, replyTo = null, editing = null;
    let ws = null, retry = 0, nonce = 0, view = null;
    const older = $("#older");
    const pending = new Map();

    function setStatus(t) { status.textContent = t; }

    function connect() {
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      ws = new WebSocket(`${proto}//${location.host}/chats/${encodeURIComponent(chat)}/ws`);
      ws.onopen = () => {
        retry = 0;
        ws.send(JSON.stringify({ type: "join", key, name, since: lastId, view,
                                 session: session ? session.id : null }));
      };
      ws.onmessage = (ev) => {
        let data;
        try { data = JSON.parse(ev.data); } catch (e) { return; }
        handle(data);
      };
      ws.onclose = () => {
        setStatus("Reconnecting…");
        setTimeout(connect, Math.min(10000, 500 * 2 ** retry++));
      };
    }

    function send(obj) {
      if (!ws || ws.readyState !== WebSocket.OPEN) {
        showError("Not connected; trying again in a moment.");
        return false;
      }
      ws.send(JSON.stringify(obj));
      return true;
    }

    function handle(d) {
      switch (d.type) {
        case "state": return applyState(d);
        case "older":  // an earlier page, asked for with the button above the messages
          if (session && d.session === session.id) d.messages.forEach(addMessage);
          older.hidden = !d.more; older.disabled = false;
          return;
        case "message":
          if (d.session && (!session || session.id !== d.session)) {
            // A new session has begun: the room starts afresh.
            if (session) { stream.textContent = ""; byId.clear(); lastId = null; }
            older.hidden = true;
            session = { id: d.session, closed: false, status: "live" };
            showPhase();
          }
          return addMessage(d.message);
        case "edited": return updateText(d.message.id, d.message.text, true);
        case "redacted": return updateText(d.id, d.text, false);
        case "deleted": case "hidden": return removeMessage(d.id);
        case "restored": return d.message && addMessage(d.message);
        case "published":
          if (session && session.id === d.session) {
            session.closed = true; session.transcript = d.url; showPhase();
          }
          return;
        case "private_notice": return privateNotice(d.text);
        case "ack": return acked(d);
        case "error": return failed(d);
      }
    }

    function privateNotice(text) {
      const box = $("#private");
      $("#private-text").textContent = String(text || "");
      box.hidden = false;
      box.scrollIntoView({ block: "nearest" });
    }
    $("#private-close").addEventListener("click", () => { $("#private").hidden = true; });
    older.addEventListener("click", () => {
      let first = null;  // the oldest message shown: the page before it comes next
      for (const id of byId.keys()) if (first === null || id < first) first = id;
      if (first !== null && send({ type: "older", before: first, nonce: "o" + ++nonce })) {
        older.disabled = true;
      }
    });

    function applyState(s) {
      me = s.me; maxChars = s.max_chars; editSeconds = s.edit_seconds;
      if ($("#join-role") && s.role !== undefined) $("#join-role").value = s.role || "";
      answerLetter = s.answer_letter;
      clockSkew = new Date(s.now) - Date.now();
      if (s.reset) {
        stream.textContent = ""; byId.clear(); lastId = null;
        older.hidden = !s.more;
      }
      session = s.session; view = s.view;
      s.hidden.forEach(removeMessage);
      s.edited.forEach((e) => updateText(e.id, e.text, !!e.edited));
      s.messages.forEach(addMessage);
      setQuestion(s.question);
      showPhase();
    }

    function showPhase() {
      const live = !!(session && !session.closed);
      $("#before").hidden = !!live;
      $("#after").hidden = !(session && session.closed);
      if (session && session.closed) {
        setQuestion(null);
        const link = $("#transcript-link");
        if (me) {  // you posted: your CPD certificate, known to the server by your key
          $("#certificate-key").value = key;
          $("#certificate-session").value = String(session.id);
          $("#certificate-form").hidden = false;
        }
        if (session.transcript) {
          link.href = session.transcript; link.hidden = false;
          $("#after-text").textContent = "Thank you for joining. The transcript is ready.";
        }
      }
      setStatus(live ? (session.rehearsal ? "Rehearsal, live" : "Live now")
                     : session ? "Closed" : "Not started yet");
      $("#join").hidden = !!name;
      $("#compose").hidden = !(name && live);
      $("#me-name").textContent = name;
      empty.hidden = byId.size > 0 || !session;
    }

    function setQuestion(q) {
      question = q;
      const pin = $("#pinned");
      pin.hidden = !q;
      $("#tag-option").hidden = !q;
      if (!q) return;
      $("#pinned-label").textContent = "Q" + q.number;
      $("#pinned-text").textContent = q.text.replace(/^[QT]\d+\s*/, "");
      $("#tag-label").textContent = answerLetter + q.number;
    }

    function hhmm(iso) {
      return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    }

    function canChange(m) {
      return m.author_id === me && !m.host &&
        (Date.now() + clockSkew) - new Date(m.created) < editSeconds * 1000;
    }

    function render(m) {
      const li = document.createElement("li");
      li.className = "entry";
      li.id = "m-" + m.id;
      li.dataset.id = m.id;
      const art = document.createElement("article");
      art.className = "msg" + (m.host ? " host" : "") + (m.author_id === me ? " mine" : "");
      art.setAttribute("aria-label", (m.host ? "Host" : "Message") + " from " + m.author);
      const meta = document.createElement("p");
      meta.className = "meta";
      const who = document.createElement("bdi");
      who.className = "author";
      who.textContent = m.author;
      meta.append(who);
      if (m.host) {
        const b = document.createElement("span");
        b.className = "badge host"; b.textContent = "host";
        meta.append(" ", b);
      }
      if (m.role) {  // the role they declared (text only: never markup)
        const r = document.createElement("span");
        r.className = "badge role"; r.textContent = String(m.role);
        meta.append(" ", r);
      }
      const t = document.createElement("time");
      t.dateTime = m.created; t.textContent = hhmm(m.created);
      meta.append(" · ", t);
      const ed = document.createElement("span");
      ed.className = "edited"; ed.textContent = m.edited ? " · edited" : "";
      meta.append(ed);
      const body = document.createElement("p");
      body.className = "text"; body.dir = "auto"; body.textContent = m.text;
      const tools = document.createElement("div");
      tools.className = "tools";
      tools.append(button("Reply", "reply", () => startReply(m)));
      if (canChange(m)) {
        tools.append(button("Edit", "edit", () => startEdit(m)));
        tools.append(button("Delete", "delete", () => {
          if (confirm("Delete this message?")) send({ type: "delete", id: m.id, nonce: "d" + ++nonce });
        }));
      }
      art.append(meta, body, tools);
      const replies = document.createElement("ol");
      replies.className = "replies";
      li.append(art, replies);
      return li;
    }

    function button(label, cls, onClick) {
      const b = document.createElement("button");
      b.type = "button"; b.className = "link " + cls; b.textContent = label;
      b.addEventListener("click", onClick);
      return b;
    }

    function insertSorted(list, li) {
      const id = li.dataset.id;
      for (const child of list.children) {
        if (child.dataset.id > id) { list.insertBefore(li, child); return; }
      }
      list.append(li);
    }

    function addMessage(m) {
      if (byId.has(m.id)) return; // each message once, however it arrived
      const li = render(m);
      byId.set(m.id, { data: m, li });
      const parent = m.reply_to && byId.get(m.reply_to);
      const list = parent ? parent.li.querySelector(":scope > ol.replies") : stream;
      const stick = window.innerHeight + window.scrollY >= document.body.scrollHeight - 80;
      insertSorted(list, li);
      if (!lastId || m.id > lastId) lastId = m.id;
      if (m.host && m.question) setQuestion({ number: m.question, text: m.text });
      empty.hidden = true;
      if (stick && !parent) li.scrollIntoView({ block: "nearest" });
    }

    function updateText(id, t, edited) {
      const entry = byId.get(id);
      if (!entry) return;
      entry.data.text = t;
      entry.li.querySelector(":scope > article .text").textContent = t;
      if (edited) entry.li.querySelector(":scope > article .edited").textContent = " · edited";
    }

    function removeMessage(id) {
      const entry = byId.get(id);
      if (!entry) return;
      byId.delete(id);
      const replies = entry.li.querySelector(":scope > ol.replies");
      if (replies && replies.children.length) {
        // Keep the thread readable: the replies stay, the removed message says so.
        const art = entry.li.querySelector(":scope > article");
        art.textContent = "";
        art.className = "msg removed";
        const p = document.createElement("p");
        p.className = "meta"; p.textContent = "Message removed";
        art.append(p);
      } else {
        entry.li.remove();
      }
      if (replyTo && replyTo.id === id) cancelReply();
      empty.hidden = byId.size > 0;
    }

    // -- composing --------------------------------------------------------------------------
    function startReply(m) {
      editing = null; $("#editing").hidden = true;
      replyTo = m;
      $("#replying-text").textContent = "Replying to " + m.author + ": " +
        (m.text.length > 60 ? m.text.slice(0, 60) + "…" : m.text);
      $("#replying").hidden = false;
      text.focus();
    }
    function cancelReply() { replyTo = null; $("#replying").hidden = true; }
    function startEdit(m) {
      cancelReply();
      editing = m;
      $("#editing").hidden = false;
      text.value = m.text;
      updateCounter();
      text.focus();
    }
    function cancelEdit() { editing = null; $("#editing").hidden = true; text.value = ""; updateCounter(); }
    $("#cancel-reply").addEventListener("click", cancelReply);
    $("#cancel-edit").addEventListener("click", cancelEdit);

    function compose(raw) {
      let t = raw.trim();
      if (editing) return t;
      const tagRe = new RegExp("^" + answerLetter + "\\d+\\b", "i");
      if (question && $("#use-tag").checked && !replyTo && !tagRe.test(t)) {
        t = answerLetter + question.number + " " + t;
      }
      if ($("#use-hashtag").checked && !t.toLowerCase().includes(hashtag.toLowerCase())) {
        t = t + " " + hashtag;
      }
      return t;
    }
    function updateCounter() {
      const n = compose(text.value).length;
      counter.textContent = `${n} / ${maxChars}`;
      counter.classList.toggle("error", n > maxChars);
    }
    text.addEventListener("input", updateCounter);
    ["#use-tag", "#use-hashtag"].forEach((s) => $(s).addEventListener("change", updateCounter));
    text.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) $("#send-form").requestSubmit();
      if (e.key === "Escape") { cancelReply(); if (editing) cancelEdit(); }
    });

    function showError(msg) { sendError.textContent = msg; sendError.hidden = !msg; }

    $("#send-form").addEventListener("submit", (e) => {
      e.preventDefault();
      showError("");
      if (!text.value.trim()) { showError("Type a message first."); return; }
      const body = compose(text.value);
      const n = "s" + ++nonce;
      const msg = editing ? { type: "edit", id: editing.id, text: body, nonce: n }
                          : { type: "send", text: body, reply_to: replyTo ? replyTo.id : null, nonce: n };
      if (send(msg)) { pending.set(n, msg); $("#send-button").disabled = true; }
    });

    function acked(d) {
      if (d.name !== undefined) return;
      const msg = pending.get(d.nonce);
      pending.delete(d.nonce);
      $("#send-button").disabled = false;
      if (!msg) return;
      text.value = ""; cancelReply(); if (editing) cancelEdit();
      updateCounter();
      if (d.held) showError(d.held);
    }
    function failed(d) {
      $("#send-button").disabled = false;
      if (d.nonce) pending.delete(d.nonce);
      if (d.code === "no_older") { older.hidden = true; older.disabled = false; return; }
      older.disabled = false;
      if (d.code === "rate_limited" && !d.nonce && ws) {
        // The join itself was refused (too many from this network): join again once the
        // server says it may, instead of reconnecting at once into the same refusal.
        const refused = ws;
        refused.onclose = null;
        refused.close();
        setStatus("Waiting to join…");
        setTimeout(connect, 1000 * (d.retry_after || 10));
      }
      if (d.code === "bad_name") { name = ""; localStorage.removeItem("tweetchat.name"); showPhase(); }
      showError(d.error || "Something went wrong.");
      const jerr = $("#join-error");
      if (jerr && d.code === "bad_name") { jerr.textContent = d.error; jerr.hidden = false; }
    }

    // -- joining ----------------------------------------------------------------------------
    const joinInput = $("#join-name");
    joinInput.value = name;
    $("#join-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const v = joinInput.value.trim();
      if (!v) return;
      name = v;
      localStorage.setItem("tweetchat.name", name);
      send({ type: "name", name, nonce: "n" + ++nonce });
      const roleSelect = $("#join-role");
      if (roleSelect) send({ type: "role", role: roleSelect.value, nonce: "r" + ++nonce });
      showPhase();
      if (!$("#compose").hidden) text.focus();
    });
    $("#rename").addEventListener("click", () => {
      name = ""; showPhase(); joinInput.focus();
    });
    // Edit and delete go away when the window to change a message closes.
    setInterval(() => {
      byId.forEach(({ data, li }) => {
        if (data.author_id === me && !canChange(data)) {
          li.querySelectorAll(":scope > article .tools .edit, :scope > article .tools .delete")
            .forEach((b) => b.remove());
        }
      });
    }, 5000);

    updateCounter();
    connect();
  }
})();
