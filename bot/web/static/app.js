/* tthc-bot web chat: plain JS, no build step, no external resources.
   Bot and user text is only ever inserted with textContent / text nodes, never as HTML. */
(() => {
  "use strict";

  const API = "/api/ask";
  const INBOX = "/api/messages";
  const TIMEOUT_MS = 20000;
  const TYPING_DELAY_MS = 150;

  const T = {
    vi: {
      doc: "Trợ lý thủ tục hành chính — Ban Quản lý KCN/KKT",
      title1: "Trợ lý thủ tục hành chính", title2: "Ban Quản lý KCN/KKT",
      skip: "Chuyển đến ô nhập câu hỏi", label: "Câu hỏi của bạn",
      placeholder: "Nhập câu hỏi của bạn…",
      hint: "Nhấn Enter để gửi, Shift+Enter để xuống dòng.",
      send: "Gửi", reset: "Cuộc trò chuyện mới", log: "Cuộc trò chuyện",
      typing: "Trợ lý đang trả lời…", you: "Bạn", bot: "Trợ lý", choices: "Gợi ý",
      offline: "Không kết nối được với máy chủ. Bạn kiểm tra kết nối mạng rồi thử lại nhé.",
      timeout: "Máy chủ phản hồi quá lâu. Bạn vui lòng thử lại.",
      server: "Hệ thống đang bận hoặc gặp sự cố. Bạn vui lòng thử lại sau ít phút.",
      bad: "Xin lỗi, tôi chưa xử lý được câu hỏi này. Bạn thử diễn đạt lại ngắn gọn hơn nhé.",
      tooLong: "Câu hỏi quá dài. Bạn hãy rút gọn lại nhé.",
      retry: "Thử lại", newTab: "mở trong thẻ mới",
    },
    en: {
      doc: "Procedures assistant — Industrial & Economic Zones Board",
      title1: "Procedures assistant", title2: "Industrial & Economic Zones Board",
      skip: "Skip to the question box", label: "Your question",
      placeholder: "Type your question…",
      hint: "Press Enter to send, Shift+Enter for a new line.",
      send: "Send", reset: "New conversation", log: "Conversation",
      typing: "The assistant is typing…", you: "You", bot: "Assistant", choices: "Suggestions",
      offline: "Cannot reach the server. Please check your connection and try again.",
      timeout: "The server took too long to answer. Please try again.",
      server: "The service is busy or having a problem. Please try again in a few minutes.",
      bad: "Sorry, I could not process this question. Please try rephrasing it more briefly.",
      tooLong: "That question is too long. Please shorten it.",
      retry: "Try again", newTab: "opens in a new tab",
    },
  };

  const $ = (id) => document.getElementById(id);
  const chat = $("chat"), log = $("log"), typing = $("typing");
  const form = $("ask"), input = $("q"), sendBtn = $("send");

  // localStorage may be missing or throw (private mode, disabled storage): degrade to memory.
  const mem = {};
  const store = {
    get(k) { try { return window.localStorage.getItem(k); } catch (e) { return mem[k] || null; } },
    set(k, v) { try { window.localStorage.setItem(k, v); } catch (e) { mem[k] = v; } },
  };

  function newSession() {
    const bytes = new Uint8Array(16);
    if (window.crypto && crypto.getRandomValues) crypto.getRandomValues(bytes);
    else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    const id = "w-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    store.set("tthc.session", id);
    return id;
  }
  function loadSession() {
    const s = store.get("tthc.session");
    return s && /^[\w.-]{1,128}$/.test(s) ? s : newSession();
  }

  const saved = store.get("tthc.lang");
  const st = {
    session: loadSession(),
    lang: saved === "en" ? "en" : "vi",
    chosen: saved === "en" || saved === "vi", // the user picked a language: send it with every question
    replyLang: saved === "en" ? "en" : "vi", // language of the last answer: buttons keep it
    busy: false,
  };
  const t = (k) => T[st.lang][k];

  // ---- language ------------------------------------------------------------------------
  function applyLang() {
    document.documentElement.lang = st.lang;
    document.title = t("doc");
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll("[data-i18n-ph]").forEach((el) => { el.placeholder = t(el.dataset.i18nPh); });
    document.querySelectorAll("[data-i18n-label]").forEach((el) => {
      el.setAttribute("aria-label", t(el.dataset.i18nLabel));
      el.title = t(el.dataset.i18nLabel);
    });
    document.querySelectorAll("#langs .lang").forEach((b) => {
      b.setAttribute("aria-pressed", String(b.dataset.lang === st.lang));
    });
  }
  function setLang(lang) {
    st.lang = st.replyLang = lang;
    st.chosen = true;
    store.set("tthc.lang", lang);
    applyLang();
  }

  // ---- rendering -----------------------------------------------------------------------
  const URL_RE = /https?:\/\/[^\s<>"'«»“”]+/g;

  // Text with http(s) addresses turned into links; everything else stays plain text nodes.
  function linkify(parent, text) {
    let last = 0;
    for (const m of text.matchAll(URL_RE)) {
      let url = m[0];
      const trail = /[.,;:!?)\]}]+$/.exec(url);
      if (trail && !(trail[0].startsWith(")") && url.includes("("))) url = url.slice(0, -trail[0].length);
      if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      const a = document.createElement("a");
      a.href = url;
      a.textContent = url;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.title = t("newTab");
      parent.appendChild(a);
      last = m.index + url.length;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function safeImageUrl(raw) {
    if (typeof raw !== "string" || !raw) return null;
    if (/^data:image\/(png|jpeg|gif|webp);base64,[a-z0-9+/=\s]+$/i.test(raw)) return raw;
    try {
      const u = new URL(raw, window.location.href);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch (e) { return null; }
  }

  function clearChoices() {
    log.querySelectorAll(".choices").forEach((el) => el.remove());
  }

  function addMessage(who, text, extra) {
    const li = document.createElement("li");
    li.className = "msg " + who;
    const sr = document.createElement("span");
    sr.className = "sr";
    sr.textContent = t(who === "user" ? "you" : "bot") + ": ";
    li.appendChild(sr);
    const body = document.createElement("div");
    body.className = "text";
    linkify(body, String(text || ""));
    li.appendChild(body);
    if (extra && extra.image) {
      const src = safeImageUrl(extra.image.url);
      if (src) {
        const fig = document.createElement("figure");
        const img = document.createElement("img");
        img.src = src;
        img.alt = typeof extra.image.caption === "string" ? extra.image.caption : "";
        img.loading = "lazy";
        img.decoding = "async";
        img.addEventListener("error", () => fig.remove());
        if (/^https?:/i.test(src)) {
          // Tapping the picture opens it alone, to zoom in.
          const open = document.createElement("a");
          open.href = src;
          open.target = "_blank";
          open.rel = "noopener noreferrer";
          open.title = t("newTab");
          open.appendChild(img);
          fig.appendChild(open);
        } else {
          fig.appendChild(img);
        }
        if (img.alt) {
          const cap = document.createElement("figcaption");
          cap.textContent = img.alt;
          fig.appendChild(cap);
        }
        li.appendChild(fig);
      }
    }
    if (who === "error") li.setAttribute("role", "alert");
    log.appendChild(li);
    return li;
  }

  function addChoices(li, buttons) {
    const valid = (buttons || []).filter((b) => b && typeof b.label === "string" && typeof b.action === "string");
    if (!valid.length) return;
    const group = document.createElement("div");
    group.className = "choices";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", t("choices"));
    for (const b of valid) {
      const btn = document.createElement("button");
      btn.type = "button";
      btn.className = "chip";
      btn.textContent = b.label;
      btn.addEventListener("click", () => press(b));
      group.appendChild(btn);
    }
    li.appendChild(group);
  }

  function scrollTo(li) {
    // A long answer is shown from its start (with the question above it when that fits);
    // short ones simply keep the end of the chat in view.
    if (li && li.classList.contains("bot") && li.offsetHeight > chat.clientHeight * 0.7) {
      const q = li.previousElementSibling;
      const from = q && q.classList.contains("user") && q.offsetHeight < chat.clientHeight * 0.25 ? q : li;
      chat.scrollTop = from.offsetTop - log.offsetTop;
    } else {
      chat.scrollTop = chat.scrollHeight;
    }
  }

  let typingTimer = 0;
  function setBusy(on) {
    st.busy = on;
    sendBtn.setAttribute("aria-disabled", String(on));
    log.querySelectorAll(".chip").forEach((b) => { b.disabled = on; });
    clearTimeout(typingTimer);
    if (on) {
      typingTimer = setTimeout(() => { typing.hidden = false; scrollTo(null); }, TYPING_DELAY_MS);
    } else {
      typing.hidden = true;
    }
  }

  // ---- talking to the server -------------------------------------------------------------
  async function ask(text, lang, how) {
    if (st.busy) return;
    setBusy(true);
    const body = { text: text, session: st.session };
    if (lang) body.lang = lang;
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), TIMEOUT_MS);
    let data = null, problem = null, renew = false;
    try {
      const res = await fetch(API, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
        signal: ctrl.signal,
        cache: "no-store",
        credentials: "same-origin",
      });
      try { data = await res.json(); } catch (e) { data = null; }
      // A stored session id the server refuses: start a fresh one and try once more (below).
      renew = res.status === 400 && !!data && /session/i.test(String(data.error)) && !how.renewed;
      if (res.status === 413) problem = "tooLong";
      else if (res.status >= 400 && res.status < 500) problem = "bad";
      else if (!res.ok || !data || !data.reply) problem = "server";
    } catch (e) {
      problem = e && e.name === "AbortError" ? "timeout" : "offline";
    } finally {
      clearTimeout(timer);
      setBusy(false);
    }
    if (renew) {
      st.session = newSession();
      return ask(text, lang, Object.assign({}, how, { renewed: true }));
    }
    clearChoices();
    let li;
    if (problem) {
      li = addMessage("error", t(problem));
      if (problem !== "bad" && problem !== "tooLong") {
        addChoices(li, [{ label: t("retry"), action: text, retry: { lang: lang, how: how } }]);
      }
    } else {
      if (data.lang === "vi" || data.lang === "en") st.replyLang = data.lang;
      const reply = data.reply;
      li = addMessage("bot", typeof reply.text === "string" ? reply.text : "", { image: reply.image });
      addChoices(li, reply.buttons);
      if (data.intent === "handover" || data.intent === "status") setTimeout(fetchInbox, 0);  // new cadence
    }
    scrollTo(li);
    if (how.pressed) {
      // After a button: keyboard users continue typing; on touch screens do not pop the keyboard up.
      if (window.matchMedia && matchMedia("(pointer: coarse)").matches) {
        li.tabIndex = -1;
        li.focus({ preventScroll: true });
      } else {
        input.focus({ preventScroll: true });
      }
    }
  }

  function press(b) {
    if (st.busy) return;
    if (b.retry) return void ask(b.action, b.retry.lang, Object.assign({}, b.retry.how, { pressed: true }));
    const m = /^lang:(vi|en)$/.exec(b.action);
    if (m) setLang(m[1]);
    clearChoices();
    // A language switch is not something the user said: no "English" bubble, only the answer.
    if (!m) scrollTo(addMessage("user", b.label));
    // Buttons keep the language of the answer they came with (action strings are not prose).
    ask(b.action, m ? m[1] : st.chosen ? st.lang : st.replyLang, { pressed: true });
  }

  function submit() {
    const text = input.value.trim();
    if (!text) { input.focus(); return; }
    if (st.busy) return;
    input.value = "";
    grow();
    const li = addMessage("user", text);
    scrollTo(li);
    ask(text, st.chosen ? st.lang : null, {});
  }

  function grow() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 140) + "px";
  }

  // ---- wiring --------------------------------------------------------------------------
  form.addEventListener("submit", (e) => { e.preventDefault(); submit(); });
  input.addEventListener("keydown", (e) => {
    // Vietnamese input methods (Telex, VNI) compose words: Enter then belongs to the IME.
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submit();
    }
  });
  input.addEventListener("input", grow);

  $("langs").addEventListener("click", (e) => {
    const b = e.target.closest("button[data-lang]");
    if (!b || st.busy) return;
    const lang = b.dataset.lang;
    if (lang === st.lang) { setLang(lang); return; }
    press({ label: lang, action: "lang:" + lang });
  });

  $("reset").addEventListener("click", () => {
    if (st.busy) return;
    st.session = newSession();
    log.textContent = "";
    ask("menu:greeting", st.lang, {});
    input.focus({ preventScroll: true });
  });

  // Keep the question box above the on-screen keyboard (iOS Safari does not resize the layout).
  const vv = window.visualViewport;
  if (vv) {
    const fit = () => {
      const root = document.documentElement.style;
      root.setProperty("--app-h", vv.height + "px");
      root.setProperty("--app-top", vv.offsetTop + "px");
      if (document.activeElement === input) chat.scrollTop = chat.scrollHeight;
    };
    vv.addEventListener("resize", fit);
    vv.addEventListener("scroll", fit);
    fit();
  }

  // ---- messages the bot sends unasked ----------------------------------------------------
  // A staff reply during a handover, or a dossier's status change, waits on the server until
  // the page fetches it; the server says when to ask again (soon while talking to staff).
  let inboxTimer = 0;
  let inboxBusy = false;
  async function fetchInbox() {
    clearTimeout(inboxTimer);
    if (inboxBusy) return;
    let next = 30;
    if (!document.hidden) {
      inboxBusy = true;
      try {
        const res = await fetch(INBOX + "?session=" + encodeURIComponent(st.session), {
          cache: "no-store", credentials: "same-origin", headers: { Accept: "application/json" },
        });
        const data = res.ok ? await res.json() : null;
        if (data && typeof data.next === "number" && data.next >= 1) next = Math.min(data.next, 300);
        let li = null;
        for (const m of (data && Array.isArray(data.messages) ? data.messages : [])) {
          if (!m || typeof m.text !== "string" || !m.text) continue;
          li = addMessage("bot", m.text, {});
          if (Array.isArray(m.buttons) && m.buttons.length) { clearChoices(); addChoices(li, m.buttons); }
        }
        if (li) scrollTo(li);
      } catch (e) {
        // Offline or a server restart: try again later.
      } finally {
        inboxBusy = false;
      }
    }
    inboxTimer = setTimeout(fetchInbox, next * 1000);
  }
  document.addEventListener("visibilitychange", () => { if (!document.hidden) fetchInbox(); });

  applyLang();
  // A QR code or link may open a procedure at once: /?p=1.009664 (its national code).
  const opened = new URLSearchParams(window.location.search).get("p") || "";
  ask(/^\d\.\d{6}$/.test(opened) ? "p:" + opened + ":procedure" : "menu:greeting", st.lang, {});
  inboxTimer = setTimeout(fetchInbox, 1000);
  if (!(window.matchMedia && matchMedia("(pointer: coarse)").matches)) input.focus();
})();
