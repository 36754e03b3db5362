/*
 * The binding page: /bind/<token>.  Asks bind.start over the web chat's
 * WebSocket and shows the states the hub relays: the WeChat QR code
 * (an SVG the worker drew, shown as an image), scanned, confirmed, a
 * new code when one expired, or why the binding ended.  Text goes into
 * the DOM through textContent only; the CSP forbids inline script.
 * The socket stays open until the bot is ready: closing the page
 * cancels the binding.
 */
'use strict';
(function () {
  var zh = /^zh/i.test(navigator.language || '');
  var T = zh ? {
    connecting: '正在连接…', starting: '正在生成二维码…',
    scan: '请用微信扫描二维码，然后在手机上确认。',
    refreshed: '二维码已过期，这是新的二维码，请重新扫描。',
    scanned: '已扫描，请在手机上确认。',
    confirmed: '已确认：你的机器人已就绪，在微信里给它发消息吧。',
    busy: '此链接正在使用中，或同时绑定的人太多，请稍后再试。',
    invalid: '此链接无效。', expired: '此链接已过期。',
    used: '此链接已被使用。', revoked: '此链接已被撤销。',
    full: '无法再创建机器人，请联系发送链接的人。',
    timeout: '二维码未在规定时间内确认，请重试。',
    failed: '出错了，请稍后再试。', lost: '连接已断开，请重试。'
  } : {
    connecting: 'Connecting\u2026', starting: 'Preparing your QR code\u2026',
    scan: 'Scan this QR code with WeChat, then confirm on your phone.',
    refreshed: 'The code expired \u2014 here is a new one. Scan it with WeChat.',
    scanned: 'Scanned \u2014 confirm on your phone.',
    confirmed: 'Confirmed \u2014 your bot is ready: write to it in WeChat.',
    busy: 'This link is in use right now, or many people are binding at once. Try again in a minute.',
    invalid: 'This link is not valid.', expired: 'This link has expired.',
    used: 'This link was already used.', revoked: 'This link was revoked.',
    full: 'No room for another bot: ask whoever sent the link.',
    timeout: 'The code was not confirmed in time. Try again.',
    failed: 'Something went wrong. Try again in a minute.',
    lost: 'The connection was lost. Try again.'
  };
  var ENDED = { busy: 1, invalid: 1, expired: 1, used: 1, revoked: 1,
    full: 1, timeout: 1, failed: 1, lost: 1 };
  var RETRY = { busy: 1, timeout: 1, failed: 1, lost: 1 };
  var m = /^\/bind\/([A-Za-z0-9_-]{1,64})\/?$/.exec(location.pathname);
  var status = document.getElementById('status');
  var box = document.getElementById('qr-box');
  var img = document.getElementById('qr');
  var link = document.getElementById('qr-link');
  var retry = document.getElementById('retry');
  var shown = false, done = false, sock = null;

  if (zh) {
    document.documentElement.lang = 'zh-CN';
    document.getElementById('title').textContent = '你的微信机器人';
    document.getElementById('intro').textContent =
      '用微信“扫一扫”扫描下方二维码，并在手机上确认。机器人归你所有，在微信里给它发消息即可。';
    document.getElementById('note').textContent =
      '机器人就绪前请不要关闭此页面。关闭页面会取消绑定，链接仍可再次使用。';
    link.textContent = '在这台手机上？在微信中打开二维码';
    retry.textContent = '重试';
  }

  function say(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }

  function show(ev) {
    var s = ev.state;
    if (s === 'starting') {
      say('starting', T.starting);
    } else if (s === 'scan' && typeof ev.svg === 'string') {
      img.src = 'data:image/svg+xml;charset=utf-8,' +
        encodeURIComponent(ev.svg);
      if (typeof ev.url === 'string' && /^https?:\/\//.test(ev.url))
        link.href = ev.url;
      box.hidden = false;
      say(shown ? 'refreshed' : 'scan', shown ? T.refreshed : T.scan);
      shown = true;
    } else if (s === 'scanned') {
      say('scanned', T.scanned);
    } else if (s === 'confirmed') {
      done = true;
      box.hidden = true;
      say('confirmed', T.confirmed);
      if (sock) sock.close();
    } else if (ENDED[s]) {
      done = true;
      box.hidden = true;
      say('ended', T[s]);
      status.dataset.why = s;
      retry.hidden = !RETRY[s];
      if (sock) sock.close();
    }
  }

  function start() {
    var proto = location.protocol === 'https:' ? 'wss://' : 'ws://';
    done = false;
    shown = false;
    retry.hidden = true;
    delete status.dataset.why;
    say('connecting', T.connecting);
    sock = new WebSocket(proto + location.host + '/ws');
    sock.onopen = function () {
      sock.send(JSON.stringify({ id: 1, method: 'bind.start',
        params: { id: m[1] } }));
    };
    sock.onmessage = function (e) {
      var msg;
      try { msg = JSON.parse(e.data); } catch (err) { return; }
      if (msg.event === 'bind.state') show(msg);
      else if (msg.id === 1 && msg.ok && msg.result) show(msg.result);
      else if (msg.id === 1 && !msg.ok)
        show({ state: msg.error && msg.error.code === 'rate_limited' ?
          'busy' : 'failed' });
    };
    sock.onclose = function () {
      sock = null;
      if (!done) show({ state: 'lost' });
    };
  }

  retry.addEventListener('click', start);
  if (!m) { show({ state: 'invalid' }); return; }
  start();
})();
