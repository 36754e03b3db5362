/*
 * What the console's scripts share (console.js, thread.js and chat.js,
 * each loaded after this one): $ by id, el (its text as text, never as
 * markup), get (JSON; a 401 goes back to the login page) and post (the
 * session's CSRF token; a message to send as the body).
 */
"use strict";
var wxc = (function () {
  function $(id) { return document.getElementById(id); }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  function get(path) {
    return fetch(path, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.status === 401) { window.location.assign("/"); throw new Error("login"); }
        if (!r.ok) throw new Error(path + ": " + r.status);
        return r.json();
      });
  }

  function post(path, csrf, body) {
    var h = { "X-CSRF-Token": csrf };
    if (body !== undefined) h["Content-Type"] = "text/plain; charset=utf-8";
    return fetch(path, { method: "POST", credentials: "same-origin",
      headers: h, body: body })
      .then(function (r) {
        return r.json().then(function (b) { return { status: r.status, body: b }; });
      });
  }

  return { $: $, el: el, get: get, post: post };
})();
