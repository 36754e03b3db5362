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
 */
'use strict';
(function () {
  var TOKEN_KEY = 'wxgate.token';
  var UNACKED_KEY = 'wxgate.unacked';
  var BACKOFF_MIN = 500, BACKOFF_MAX = 10000;
  var RETRY_CODES = { busy: 1, rate_limited: 1 };
  var disabled = false;		/* the operator turned the public chat off */

  var log = document.getElementById('log');
  var input = document.getElementById('input');
  var sendBtn = document.getElementById('send');
  var form = document.getElementById('form');
  var statusEl = document.getElementById('status');

  var ws = null, ready = false, everOnline = false, historyShown = false;
  var nextId = 1, calls = {}, backoff = BACKOFF_MIN, retryTimer = null;
  var replies = {};		/* client_msg_id -> assistant bubble */
  var mine = {};		/* client_msg_id -> user bubble */
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
    statusEl.textContent = label || state;
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
    d.textContent = text;
    log.appendChild(d);
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

  function startSession() {
    var token = fetchItem(localStorage, TOKEN_KEY);
    if (!token) { openSession(); return; }
    call('session.resume', { token: token }, function (r) {
      if (r.ok) online(); else openSession();
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
        notice('The public chat is turned off.');
        if (ws) ws.close();
      } else {
        setStatus('error', 'unavailable');
        if (ws) ws.close();
      }
    });
  }

  function online() {
    ready = true; everOnline = true; backoff = BACKOFF_MIN;
    setStatus('online');
    if (!historyShown && log.childElementCount === 0) {
      historyShown = true;
      call('chat.history', { limit: 50 }, function (r) {
        if (r.ok && r.result && Array.isArray(r.result.messages))
          showHistory(r.result.messages);
        resendUnacked();
      });
    } else {
      resendUnacked();
    }
  }

  function showHistory(list) {
    var waiting = {};
    unacked.forEach(function (m) { waiting[m.text] = 1; });
    list.forEach(function (t) {
      if (!t || typeof t.text !== 'string') return;
      if (t.role === 'user' && waiting[t.text]) return;
      bubble(t.role === 'user' ? 'user' : 'assistant', t.text);
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
      if (r.ok) return;
      var code = r.error && r.error.code;
      if (code === 'session_expired') {
        /* A fresh session; online() sends the unacknowledged again. */
        ready = false;
        store(localStorage, TOKEN_KEY, null);
        openSession();
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
      notice('Not sent: ' + String((r.error && r.error.message) || code || 'error'));
    });
  }

  function replyBubble(id) {
    if (!replies[id]) replies[id] = bubble('assistant', '');
    return replies[id];
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
      if (typeof m.text === 'string')
        replyBubble(id).appendChild(document.createTextNode(m.text));
      break;
    case 'chat.done':
      b = replyBubble(id);
      if (typeof m.text === 'string') b.textContent = m.text;
      ack(id);
      break;
    case 'chat.error':
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
    var m = { id: randomId(), text: text };
    unacked.push(m);
    saveUnacked();
    mine[m.id] = bubble('user', text);
    mine[m.id].classList.add('pending');
    log.scrollTop = log.scrollHeight;
    input.value = '';
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

  form.addEventListener('submit', function (e) { e.preventDefault(); send(); input.focus(); });
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
  connect();
})();
