/*
 * The public chat page.  Speaks the webchat worker's JSON protocol over
 * one WebSocket: session.open/resume, chat.send, chat.history, and the
 * chat.delta/done/error events.  Untrusted text only ever goes into the
 * DOM through textContent; the CSP forbids inline script and eval.
 *
 * Nothing lost, nothing doubled: every message gets a random
 * client_msg_id and stays in the unacknowledged list (sessionStorage)
 * until its chat.done; after a reconnect it is re-sent with the same id
 * and the supervisor deduplicates.
 *
 * Replies are shown as "markdown-lite" (bold, italic, code, fenced
 * blocks, http/https links) built with createElement and text nodes
 * only: never innerHTML.  The stop button sends chat.abort for the
 * replies being written.  Strings are Chinese when navigator.language
 * is zh*, English when en*, else webchat.page.lang (default English).
 *
 * The operator's webchat.page (title, agent name, welcome, suggestions,
 * accent, footer, lang) comes from /page.json and goes in as text only;
 * the accent, a checked #rrggbb, as a CSS custom property; an avatar
 * only as "avatar": true, the picture then at /avatar.
 */
'use strict';
(function () {
  var TOKEN_KEY = 'wxgate.token';
  var UNACKED_KEY = 'wxgate.unacked';
  var BACKOFF_MIN = 500, BACKOFF_MAX = 10000;
  var RETRY_CODES = { busy: 1, rate_limited: 1 };
  var disabled = false;		/* the operator turned the public chat off */

  /* Strings: Chinese for zh*, English otherwise. */
  var STRINGS = {
    en: {
      send: 'Send', stop: 'Stop', placeholder: 'Message', message: 'Message',
      connecting: 'connecting', online: 'online', reconnecting: 'reconnecting\u2026',
      error: 'error', disabled: 'disabled', unavailable: 'unavailable',
      stopped: 'stopped', chatOff: 'The public chat is turned off.',
      notSent: 'Not sent: ', title: 'Chat',
      readOnly: 'This shared conversation is read-only.',
      ownChat: 'Start your own chat', copyLink: 'Copy link',
      copied: 'Copied', qrAlt: 'QR code of this link',
      suggestions: 'Suggested questions'
    },
    zh: {
      send: '\u53d1\u9001', stop: '\u505c\u6b62', placeholder: '\u8f93\u5165\u6d88\u606f',
      message: '\u6d88\u606f', connecting: '\u8fde\u63a5\u4e2d\u2026',
      online: '\u5728\u7ebf', reconnecting: '\u91cd\u65b0\u8fde\u63a5\u4e2d\u2026',
      error: '\u51fa\u9519', disabled: '\u5df2\u5173\u95ed', unavailable: '\u6682\u4e0d\u53ef\u7528',
      stopped: '\u5df2\u505c\u6b62', chatOff: '\u516c\u5f00\u804a\u5929\u5df2\u5173\u95ed\u3002',
      notSent: '\u672a\u53d1\u9001\uff1a', title: '\u804a\u5929',
      readOnly: '\u8fd9\u662f\u5206\u4eab\u7684\u5bf9\u8bdd\uff0c\u53ea\u80fd\u67e5\u770b\u3002',
      ownChat: '\u5f00\u59cb\u6211\u7684\u5bf9\u8bdd', copyLink: '\u590d\u5236\u94fe\u63a5',
      copied: '\u5df2\u590d\u5236', qrAlt: '\u6b64\u94fe\u63a5\u7684\u4e8c\u7ef4\u7801',
      suggestions: '\u63a8\u8350\u95ee\u9898'
    }
  };
  /* The browser's zh or en first; webchat.page.lang for the others. */
  function pickLang(fallback) {
    var l = String(navigator.language || '');
    if (/^zh/i.test(l)) return 'zh';
    if (/^en/i.test(l)) return 'en';
    return fallback === 'zh' ? 'zh' : 'en';
  }
  var LANG = pickLang('en');
  function t(key) {
    var s = STRINGS[LANG];
    return Object.prototype.hasOwnProperty.call(s, key) ? s[key] : String(key);
  }

  var log = document.getElementById('log');
  var input = document.getElementById('input');
  var sendBtn = document.getElementById('send');
  var form = document.getElementById('form');
  var statusEl = document.getElementById('status');
  var stopBtn = document.getElementById('stop');
  var titleEl = document.getElementById('title');
  var suggestEl = document.getElementById('suggest');
  var footerEl = document.getElementById('footer');
  var bannerEl = document.getElementById('banner');

  var PAGE = {};		/* /page.json, checked by pageText() */
  var readOnly = false;		/* a read-only share link */
  var historyDone = false;	/* chat.history answered (or not asked) */
  var welcomeEl = null;

  var ws = null, ready = false, everOnline = false, historyShown = false;
  var nextId = 1, calls = {}, backoff = BACKOFF_MIN, retryTimer = null;
  var replies = {};		/* client_msg_id -> assistant bubble */
  var mine = {};		/* client_msg_id -> user bubble */
  var raw = {};			/* client_msg_id -> reply text so far */
  var inflight = {};		/* client_msg_id -> 1 while its reply is written */
  var stopped = {};		/* client_msg_id -> 1 once aborted: drop late deltas */
  var unacked = loadUnacked();

  function store(s, k, v) {
    try {
      if (v === null) s.removeItem(k); else s.setItem(k, v);
    } catch (e) { /* private mode or quota: keep going in memory */ }
  }
  function fetchItem(s, k) {
    try { return s.getItem(k); } catch (e) { return null; }
  }
  function loadUnacked() {
    try {
      var v = JSON.parse(fetchItem(sessionStorage, UNACKED_KEY) || '[]');
      return Array.isArray(v) ? v.filter(function (m) {
        return m && typeof m.id === 'string' && typeof m.text === 'string';
      }) : [];
    } catch (e) { return []; }
  }
  function saveUnacked() {
    store(sessionStorage, UNACKED_KEY, JSON.stringify(unacked));
  }
  function ack(id) {
    unacked = unacked.filter(function (m) { return m.id !== id; });
    saveUnacked();
    if (mine[id]) mine[id].classList.remove('pending');
  }

  function setStatus(state, label) {
    statusEl.setAttribute('data-state', state);
    statusEl.textContent = t(label || state);
  }

  function nearBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  }
  /*
   * Whether the reader is at the newest message, as of their last scroll.
   * When the log shrinks (keyboard up, the input growing) it stays there.
   */
  var stuck = true;
  function keepBottom() { if (stuck) log.scrollTop = log.scrollHeight; }
  function bubble(role, text) {
    var stick = nearBottom();
    var d = document.createElement('div');
    d.className = 'msg ' + role;
    d.setAttribute('data-testid', 'message-' + role);
    d.textContent = unbidi(text);
    if (role === 'assistant' && PAGE.agent_name)
      d.setAttribute('data-name', PAGE.agent_name);
    log.appendChild(d);
    if (role === 'user') showSuggestions();
    if (stick) log.scrollTop = log.scrollHeight;
    return d;
  }
  function notice(text) { bubble('error', text); }

  function randomId() {
    var b = new Uint8Array(16), s = 'm-', i;
    crypto.getRandomValues(b);
    for (i = 0; i < b.length; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16);
    return s;
  }

  function call(method, params, cb) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    var id = nextId++;
    calls[id] = cb || function () {};
    ws.send(JSON.stringify({ id: id, method: method, params: params }));
    return true;
  }

  function connect() {
    if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; }
    if (ws && ws.readyState <= WebSocket.OPEN) return;
    setStatus(everOnline ? 'reconnecting' : 'connecting');
    var proto = location.protocol === 'https:' ? 'wss://' : 'ws://';
    var sock = new WebSocket(proto + location.host + '/ws');
    ws = sock;
    sock.onopen = function () { startSession(); };
    sock.onmessage = function (ev) {
      var m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (m && typeof m === 'object') handle(m);
    };
    sock.onclose = function () {
      if (ws !== sock) return;
      ws = null; ready = false; calls = {};
      if (disabled) return;
      sendBtn.disabled = false;
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    setStatus('reconnecting');
    var delay = backoff * (0.75 + Math.random() * 0.5);
    backoff = Math.min(backoff * 2, BACKOFF_MAX);
    retryTimer = setTimeout(connect, delay);
  }

  /* The server cannot answer now, not "no": reconnect later (onclose
   * backs off) rather than start anew or give up. */
  function comeBackLater(r) {
    var code = r.error && r.error.code;
    if (!RETRY_CODES[code] && code !== 'unavailable') return false;
    if (ws) ws.close();
    return true;
  }

  function startSession() {
    if (SHARE_ID) { openShare(); return; }	/* share link: see below */
    var token = fetchItem(localStorage, TOKEN_KEY);
    if (!token) { openSession(); return; }
    call('session.resume', { token: token }, function (r) {
      if (r.ok) online();
      else if (!comeBackLater(r)) openSession();
    });
  }

  function openSession() {
    call('session.open', {}, function (r) {
      if (r.ok && r.result && typeof r.result.token === 'string') {
        store(localStorage, TOKEN_KEY, r.result.token);
        online();
      } else if (r.error && r.error.code === 'disabled') {
        disabled = true;
        sendBtn.disabled = true;
        setStatus('error', 'disabled');
        notice(t('chatOff'));
        showSuggestions();
        if (ws) ws.close();
      } else {
        setStatus('error', 'unavailable');
        if (ws) ws.close();
      }
    });
  }

  /* ---- Share links (/s/<id>): share.open, read-only, copy link, QR. ---- */

  var SHARE_M = /^\/s\/([0-9a-f]{1,64})\/?$/.exec(location.pathname);
  var SHARE_ID = SHARE_M ? SHARE_M[1] : null;
  /* A link for new chats gives each visitor a session: kept per link. */
  var VISITOR_KEY = 'wxgate.share.' + SHARE_ID;
  var shareBar = document.getElementById('share');
  if (SHARE_ID && shareBar) {
    shareBar.hidden = false;
    document.getElementById('share-qr').src = '/s/' + SHARE_ID + '/qr.svg';
    document.getElementById('copy-link').addEventListener('click', function () {
      var b = this;
      if (!navigator.clipboard) return;
      navigator.clipboard.writeText(location.href).then(function () {
        b.textContent = t('copied');
        setTimeout(function () { b.textContent = t('copyLink'); }, 2000);
      }, function () { /* refused: the QR code still works */ });
    });
  }
  /* Someone else's conversation: say so, and offer one of their own. */
  function showReadOnly() {
    readOnly = true;
    bannerEl.hidden = false;
    if (welcomeEl) { welcomeEl.parentNode.removeChild(welcomeEl); welcomeEl = null; }
    showSuggestions();
  }
  function openShare() {
    var params = { id: SHARE_ID };
    var mineTok = fetchItem(localStorage, VISITOR_KEY);
    if (mineTok) params.visitor = mineTok;
    call('share.open', params, function (r) {
      if (r.ok && r.result) {
        if (typeof r.result.token === 'string')
          store(localStorage, VISITOR_KEY, r.result.token);
        if (r.result.read_only) {
          input.disabled = true; sendBtn.disabled = true;
          document.body.setAttribute('data-read-only', 'true');
          showReadOnly();
        }
        online();
      } else if (!comeBackLater(r)) {
        disabled = true;
        sendBtn.disabled = true;
        setStatus('error', 'unavailable');
        if (ws) ws.close();
      }
    });
  }
  /* ---- end share links ---- */

  function online() {
    ready = true; everOnline = true; backoff = BACKOFF_MIN;
    setStatus('online');
    /* The welcome bubble is the page's own, not history. */
    if (!historyShown && !log.querySelector('.msg:not(.welcome)')) {
      historyShown = true;
      call('chat.history', { limit: 50 }, function (r) {
        if (r.ok && r.result && Array.isArray(r.result.messages))
          showHistory(r.result.messages);
        historyDone = true;
        showSuggestions();
        resendUnacked();
      });
    } else {
      historyDone = true;
      showSuggestions();
      resendUnacked();
    }
  }

  function showHistory(list) {
    var waiting = {};
    unacked.forEach(function (m) { waiting[m.text] = 1; });
    list.forEach(function (t) {
      if (!t || typeof t.text !== 'string') return;
      if (t.role === 'user' && waiting[t.text]) return;
      if (t.role === 'user') bubble('user', t.text);
      else renderMarkdown(bubble('assistant', ''), t.text);
    });
    log.scrollTop = log.scrollHeight;
  }

  function resendUnacked() {
    unacked.forEach(function (m) {
      if (!mine[m.id]) {
        mine[m.id] = bubble('user', m.text);
        mine[m.id].classList.add('pending');
      }
      transmit(m);
    });
  }

  function transmit(m) {
    if (!ready) return;
    call('chat.send', { text: m.text, client_msg_id: m.id }, function (r) {
      if (r.ok) {
        var st = r.result && r.result.status;
        if ((st === 'accepted' || st === 'answering') &&
            unacked.some(function (u) { return u.id === m.id; }))
          setInflight(m.id, true);
        return;
      }
      var code = r.error && r.error.code;
      if (code === 'session_expired') {
        /* A fresh session; online() sends the unacknowledged again. */
        ready = false;
        store(localStorage, SHARE_ID ? VISITOR_KEY : TOKEN_KEY, null);
        startSession();
        return;
      }
      if (RETRY_CODES[code]) {
        var wait = Number(r.error.retry_after_ms) || 0;
        setTimeout(function () {
          if (unacked.some(function (u) { return u.id === m.id; })) transmit(m);
        }, Math.max(wait, 2000) + Math.random() * 2000);
        return;
      }
      ack(m.id);
      if (mine[m.id]) mine[m.id].classList.add('failed');
      notice(t('notSent') + String((r.error && r.error.message) || code || 'error'));
    });
  }

  function replyBubble(id) {
    if (!replies[id]) replies[id] = bubble('assistant', '');
    return replies[id];
  }

  /* ---- Page polish: the stop button. ---- */

  function anyInflight() {
    for (var k in inflight)
      if (Object.prototype.hasOwnProperty.call(inflight, k)) return true;
    return false;
  }
  function setInflight(id, on) {
    if (!id) return;
    if (on) inflight[id] = 1; else delete inflight[id];
    if (stopBtn) stopBtn.hidden = !anyInflight();
  }
  /* Ask the supervisor to stop every reply being written. */
  function stopReplies() {
    Object.keys(inflight).forEach(function (id) {
      call('chat.abort', { client_msg_id: id }, function (r) {
        /* not_running: it finished meanwhile; its chat.done says so. */
        if (!r.ok && r.error && r.error.code === 'not_running') setInflight(id, false);
      });
    });
  }
  function markStopped(id, b) {
    stopped[id] = 1;
    b.classList.add('stopped');
    b.setAttribute('data-stopped', 'true');
    b.setAttribute('data-note', t('stopped'));
  }

  /* ---- Page polish: markdown-lite, DOM APIs and text nodes only. ---- */

  var INLINE_RE = new RegExp([
    '`([^`\\n]+)`',				/* 1: `code` */
    '\\*\\*(?=\\S)([^*\\n]*?\\S)\\*\\*',		/* 2: **bold** */
    '\\*(?=[^*\\s])([^*\\n]*?[^*\\s])?\\*',	/* 3: *italic* */
    '\\[([^\\]\\n]+)\\]\\(([^()\\s]+)\\)',		/* 4, 5: [text](url) */
    '(https?://[^\\s<>"\'`\\u3000-\\u303f\\uff01-\\uff0f\\uff1a-\\uff20]+)'	/* 6: bare URL */
  ].join('|'), 'gi');

  /*
   * Bidi embeddings, overrides, isolates and marks (U+202A-E, U+2066-9,
   * U+200E/F, U+061C) can make "moc.elgoog//:sptth" read as a trusted
   * URL or reorder a reply; the text is shown without them.
   */
  var BIDI_RE = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;
  function unbidi(s) { return String(s).replace(BIDI_RE, ''); }

  /* An absolute http or https URL, or null. */
  function safeHref(s) {
    if (!/^https?:\/\//i.test(s)) return null;
    try {
      var u = new URL(s);
      return (u.protocol === 'http:' || u.protocol === 'https:') ? u.href : null;
    } catch (e) { return null; }
  }
  function link(href, text) {
    var a = document.createElement('a');
    a.href = href;
    a.rel = 'noopener noreferrer';
    a.target = '_blank';
    a.title = href;
    a.textContent = text;
    return a;
  }
  /* Does the visible text already say exactly where the link goes? */
  function showsTarget(text, href) {
    return text === href || text + '/' === href;
  }
  function styled(tag, text, nested) {
    var el = document.createElement(tag);
    if (nested) inline(el, text); else el.textContent = text;
    return el;
  }
  function inline(parent, text) {
    var re = new RegExp(INLINE_RE.source, 'gi'), last = 0, m, el, href, tail;
    while ((m = re.exec(text)) !== null) {
      el = null; tail = '';
      if (m[1] !== undefined) el = styled('code', m[1], false);
      else if (m[2] !== undefined) el = styled('strong', m[2], true);
      else if (m[0].charAt(0) === '*' && m[0].length > 2) el = styled('em', m[3] || '', true);
      else if (m[4] !== undefined) {
        href = safeHref(m[5]);
        if (href) el = link(href, m[4]);
        /* Link text may name another site: the real target follows it. */
        if (href && !showsTarget(m[4], href)) tail = ' (' + href + ')';
      } else if (m[6] !== undefined) {
        /* Sentence punctuation after a URL is not part of it. */
        var u = m[6].replace(/[.,;:!?'")\]]+$/, '');
        tail = m[6].slice(u.length);
        href = safeHref(u);
        /* A look-alike host shows as what it is (punycode). */
        if (href) el = link(href, showsTarget(u, href) ? u : href);
      }
      if (!el) continue;	/* not markup after all: stays text */
      if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      parent.appendChild(el);
      if (tail) parent.appendChild(document.createTextNode(tail));
      last = re.lastIndex;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }
  /* Fenced ``` blocks (an unclosed one runs to the end while streaming). */
  function renderMarkdown(el, text) {
    text = unbidi(text);
    /* The line breaks around a fence are the block's own edges. */
    var re = /\n?```[^\n`]*\n?([\s\S]*?)(?:```\n?|$)/g, last = 0, m, pre, code;
    while (el.firstChild) el.removeChild(el.firstChild);
    while ((m = re.exec(text)) !== null) {
      if (m[0] === '') { re.lastIndex++; continue; }
      if (m.index > last) inline(el, text.slice(last, m.index));
      pre = document.createElement('pre');
      code = document.createElement('code');
      code.textContent = m[1].replace(/\n$/, '');
      pre.appendChild(code);
      el.appendChild(pre);
      last = re.lastIndex;
    }
    if (last < text.length) inline(el, text.slice(last));
  }

  /* ---- Page polish: strings by navigator.language. ---- */

  function applyStrings() {
    document.documentElement.lang = LANG === 'zh' ? 'zh-CN' : 'en';
    if (!PAGE.agent_name && !PAGE.title) titleEl.textContent = t('title');
    if (!PAGE.title) document.title = t('title');
    document.getElementById('banner-text').textContent = t('readOnly');
    document.getElementById('own-chat').textContent = t('ownChat');
    document.getElementById('copy-link').textContent = t('copyLink');
    document.getElementById('share-qr').alt = t('qrAlt');
    suggestEl.setAttribute('aria-label', t('suggestions'));
    sendBtn.textContent = t('send');
    sendBtn.setAttribute('aria-label', t('send'));
    input.placeholder = t('placeholder');
    input.setAttribute('aria-label', t('message'));
    if (stopBtn) {
      stopBtn.textContent = t('stop');
      stopBtn.setAttribute('aria-label', t('stop'));
    }
    var st = statusEl.getAttribute('data-state');
    if (st) statusEl.textContent = t(st);
  }

  function handle(m) {
    if (Object.prototype.hasOwnProperty.call(m, 'id') && m.id !== null) {
      var cb = calls[m.id];
      delete calls[m.id];
      if (cb) cb(m);
      return;
    }
    if (Object.prototype.hasOwnProperty.call(m, 'id')) {
      notice(String((m.error && m.error.message) || 'error'));
      return;
    }
    var id = typeof m.client_msg_id === 'string' ? m.client_msg_id : '';
    var stick = nearBottom(), b;
    switch (m.event) {
    case 'chat.delta':
      if (typeof m.text === 'string' && !stopped[id]) {
        raw[id] = (raw[id] || '') + m.text;
        renderMarkdown(replyBubble(id), raw[id]);
        setInflight(id, true);
      }
      break;
    case 'chat.done':
      b = replyBubble(id);
      if (typeof m.text === 'string') { raw[id] = m.text; renderMarkdown(b, m.text); }
      if (m.aborted === true) markStopped(id, b);
      setInflight(id, false);
      ack(id);
      break;
    case 'chat.error':
      setInflight(id, false);
      ack(id);
      if (mine[id]) mine[id].classList.add('failed');
      notice(String(m.message || m.code || 'error'));
      break;
    default:
      return;
    }
    if (stick) log.scrollTop = log.scrollHeight;
  }

  function send() {
    var text = input.value.replace(/\s+$/, '');
    if (!text.trim()) return;
    input.value = '';
    sendText(text);
  }
  function sendText(text) {
    var m = { id: randomId(), text: text };
    unacked.push(m);
    saveUnacked();
    mine[m.id] = bubble('user', text);
    mine[m.id].classList.add('pending');
    log.scrollTop = log.scrollHeight;
    grow();
    if (ready) transmit(m); else connect();
  }

  function grow() {
    input.style.height = 'auto';
    input.style.height = Math.min(input.scrollHeight + 2, window.innerHeight * 0.4) + 'px';
    keepBottom();
  }

  /* Keep the input above the on-screen keyboard. */
  function fitViewport() {
    var vv = window.visualViewport;
    if (!vv) return;
    document.documentElement.style.setProperty('--app-h', vv.height + 'px');
    keepBottom();
  }

  /* ---- webchat.page: /page.json, applied as text only. ---- */

  /* A string the config checked, or null: never markup, never a URL. */
  function pageText(v) {
    return typeof v === 'string' && v.length > 0 ? unbidi(v) : null;
  }
  function loadPage() {
    if (!window.fetch) return;
    fetch('/page.json', { credentials: 'omit', cache: 'no-cache' })
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(applyPage, function () { /* the page keeps its own */ });
  }
  function applyPage(c) {
    if (!c || typeof c !== 'object') return;
    PAGE = {
      title: pageText(c.title), agent_name: pageText(c.agent_name),
      welcome: pageText(c.welcome), footer: pageText(c.footer),
      suggestions: Array.isArray(c.suggestions) ?
        c.suggestions.map(pageText).filter(Boolean).slice(0, 4) : []
    };
    if (c.lang === 'zh' || c.lang === 'en') LANG = pickLang(c.lang);
    /* Checked here too: a custom property takes any token. */
    if (typeof c.accent === 'string' && /^#[0-9a-f]{6}$/i.test(c.accent))
      document.documentElement.style.setProperty('--accent', c.accent);
    if (c.avatar === true) {
      var av = document.getElementById('avatar');
      av.src = '/avatar';
      av.hidden = false;
    }
    if (PAGE.title) document.title = PAGE.title;
    if (PAGE.agent_name || PAGE.title)
      titleEl.textContent = PAGE.agent_name || PAGE.title;
    if (PAGE.agent_name) {
      Array.prototype.forEach.call(log.querySelectorAll('.msg.assistant'),
        function (b) { b.setAttribute('data-name', PAGE.agent_name); });
    }
    if (PAGE.footer) { footerEl.textContent = PAGE.footer; footerEl.hidden = false; }
    if (PAGE.welcome && !readOnly && !welcomeEl) {
      welcomeEl = document.createElement('div');
      welcomeEl.className = 'msg assistant welcome';
      welcomeEl.setAttribute('data-testid', 'welcome');
      if (PAGE.agent_name) welcomeEl.setAttribute('data-name', PAGE.agent_name);
      welcomeEl.textContent = PAGE.welcome;
      log.insertBefore(welcomeEl, log.firstChild);
    }
    suggestEl.textContent = '';
    PAGE.suggestions.forEach(function (q) {
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'btn secondary';
      b.setAttribute('data-testid', 'suggestion');
      b.textContent = q;
      b.addEventListener('click', function () { sendText(q); });
      suggestEl.appendChild(b);
    });
    applyStrings();
    showSuggestions();
  }
  /* Until the visitor's first message, in a conversation of their own. */
  function showSuggestions() {
    suggestEl.hidden = !(PAGE.suggestions && PAGE.suggestions.length &&
      historyDone && !readOnly && !disabled && !log.querySelector('.msg.user'));
  }

  form.addEventListener('submit', function (e) { e.preventDefault(); send(); input.focus(); });
  if (stopBtn) stopBtn.addEventListener('click', stopReplies);
  applyStrings();
  input.addEventListener('keydown', function (e) {
    /* Never send while an IME (pinyin) is still composing. */
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      send();
    }
  });
  input.addEventListener('input', grow);
  log.addEventListener('scroll', function () { stuck = nearBottom(); }, { passive: true });
  if (window.ResizeObserver) new ResizeObserver(keepBottom).observe(log);
  if (window.visualViewport) {
    window.visualViewport.addEventListener('resize', fitViewport);
    window.visualViewport.addEventListener('scroll', fitViewport);
  }
  /* Mobile browsers drop sockets in the background: retry on return. */
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible' && !ws) { backoff = BACKOFF_MIN; connect(); }
  });
  window.addEventListener('online', function () { if (!ws) { backoff = BACKOFF_MIN; connect(); } });

  fitViewport();
  loadPage();
  connect();
})();
