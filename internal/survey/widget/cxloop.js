/* cxloop web intercept: shows cxloop surveys inside the page.
 * <script async src="https://CXLOOP/v1/web/cxloop.js" data-write-key="WK"></script>
 * Optional: data-consent="wait" (nothing is stored or sent until cxloop.consent()).
 * Hand-written, no dependencies; see docs/web.md. */
(function () {
  'use strict';
  var w = window, d = document;
  if (w.cxloop && w.cxloop.version) return;
  var me = d.currentScript || d.querySelector('script[src*="/v1/web/cxloop.js"]');
  if (!me) return;
  var key = me.getAttribute('data-write-key') || '';
  var base = me.getAttribute('data-api-host') || new URL(me.src, location.href).origin;
  var waiting = me.getAttribute('data-consent') === 'wait';
  var started = false, ready = false, who = null, surveys = [], open = null, own = null, pending = [];

  var queued = Array.isArray(w.cxloop) ? w.cxloop : [];
  var api = w.cxloop = {
    version: 1,
    // consent starts the widget on a page that said data-consent="wait".
    consent: function () { waiting = false; start(); },
    // page and track tell the widget about a page view or an event when
    // the page does not use analytics.js.
    page: function () { seen('page'); },
    track: function (name) { seen('track', name); },
    // reset forgets the widget's own anonymous id.
    reset: function () { own = null; try { localStorage.removeItem('cxloop_aid'); } catch (e) { /* private mode */ } },
    // push runs a call queued as ['track', 'Checkout Started'] (the page's
    // window.cxloop = window.cxloop || [] before the script loaded).
    push: function (c) { if (c && typeof api[c[0]] === 'function' && c[0] !== 'push') api[c[0]].apply(api, [].slice.call(c, 1)); }
  };

  function post(path, body) {
    body.writeKey = key;
    return fetch(base + '/v1/web/' + path, {
      method: 'POST', headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify(body), keepalive: path === 'dismiss', credentials: 'omit'
    }).then(function (r) {
      return r.json().then(function (j) { return { ok: r.ok, body: j }; });
    });
  }

  // ownId is the widget's anonymous id, kept in localStorage (only once
  // the page allows: start() runs after consent when it waits for it).
  function ownId() {
    if (own) return own;
    try { own = localStorage.getItem('cxloop_aid'); } catch (e) { /* storage blocked */ }
    if (!own) {
      own = 'cx-' + (w.crypto && crypto.randomUUID ? crypto.randomUUID() : Date.now().toString(36) + Math.random().toString(36).slice(2));
      try { localStorage.setItem('cxloop_aid', own); } catch (e) { /* storage blocked */ }
    }
    return own;
  }

  // analytics is window.analytics once it is ready (analytics.js), or null.
  function analytics(cb) {
    var a = w.analytics;
    if (!a || typeof a.ready !== 'function') return cb(null);
    var done = false;
    var t = setTimeout(function () { if (!done) { done = true; cb(null); } }, 3000);
    a.ready(function () {
      if (done) return;
      done = true; clearTimeout(t);
      cb(w.analytics && w.analytics.user ? w.analytics : a);
    });
  }

  function identify(a) {
    var u = a && a.user ? Promise.resolve().then(function () { return a.user(); }) : Promise.resolve(null);
    return u.then(function (x) {
      var id = x && x.id && x.id(), anon = x && x.anonymousId && x.anonymousId();
      return { userId: id ? String(id) : '', anonymousId: anon ? String(anon) : (id ? '' : ownId()) };
    }, function () { return { userId: '', anonymousId: ownId() }; });
  }

  function load() {
    var langs = (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || '']).slice(0, 10);
    return post('surveys', { userId: who.userId, anonymousId: who.anonymousId, languages: langs, url: location.href }).then(function (r) {
      surveys = r.ok ? r.body.surveys || [] : [];
    }, function () { surveys = []; });
  }

  function start() {
    if (started || waiting || !key) return;
    started = true;
    var lib = null, a0 = w.analytics;
    // Listen at once (analytics.js keeps calls made before it loaded, in
    // order): events tracked while the widget gets ready are kept in pending.
    if (a0 && typeof a0.on === 'function') {
      a0.on('page', function () { seen('page'); });
      a0.on('track', function (name) { seen('track', name); });
      a0.on('identify', function () {
        if (ready) identify(lib || w.analytics).then(function (v) { who = v; return load(); });
      });
    }
    analytics(function (a) {
      lib = a;
      identify(a).then(function (v) {
        who = v;
        return load();
      }).then(function () {
        ready = true;
        seen('page');
        var q = pending; pending = [];
        q.forEach(function (e) { seen(e[0], e[1]); });
      });
    });
  }

  // matches says whether the page's address fits a trigger's URL pattern:
  // a glob with * against the whole address or its path, else a part of it.
  function matches(p) {
    if (!p) return true;
    var href = location.href, path = location.pathname + location.search;
    if (p.indexOf('*') < 0) return href.indexOf(p) >= 0;
    var re = new RegExp('^' + p.split('*').map(function (s) { return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'); }).join('.*') + '$');
    return re.test(href) || re.test(path) || re.test(location.pathname);
  }

  function seen(type, name) {
    if (!ready) { if (pending.length < 50) pending.push([type, name]); return; }
    surveys.forEach(function (s) {
      var t = s.trigger;
      if (s.armed || !matches(t.url)) return;
      if (type === 'page' ? t.event !== 'page' : t.event !== name) return;
      s.armed = true;
      setTimeout(function () { t.exitIntent ? onExit(s) : show(s); }, t.delayMs || 0);
    });
  }

  function onExit(s) {
    function out(e) {
      if (e.relatedTarget || e.clientY > 0) return;
      d.removeEventListener('mouseout', out);
      show(s);
    }
    d.addEventListener('mouseout', out);
  }

  function show(s) {
    if (open) { s.armed = false; return; }
    open = s;
    post('show', { surveyId: s.id, userId: who.userId, anonymousId: who.anonymousId, url: location.href }).then(function (r) {
      if (r.ok && r.body.shown) render(s, r.body.token);
      else open = null;
    }, function () { open = null; });
  }

  function esc(s) {
    return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) {
      return '&#' + c.charCodeAt(0) + ';';
    });
  }

  var CSS = ':host{all:initial!important;display:block!important;position:fixed!important;z-index:2147483647!important;' +
    'bottom:16px!important;right:16px!important;left:auto!important;top:auto!important;width:min(380px,calc(100vw - 32px))!important;' +
    'max-height:calc(100vh - 32px)!important;margin:0!important;padding:0!important;border:0!important;transform:none!important;' +
    'visibility:visible!important;opacity:1!important}' +
    ':host([dir=rtl]){right:auto!important;left:16px!important}' +
    '@media (max-width:480px){:host{bottom:8px!important;right:8px!important;width:calc(100vw - 16px)!important}:host([dir=rtl]){left:8px!important}}' +
    '*{box-sizing:border-box;margin:0;padding:0;font:inherit;color:inherit;letter-spacing:normal;text-transform:none}' +
    '.box{position:relative;display:block;max-height:inherit;overflow:auto;background:#fff;color:#1f2328;' +
    'font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans Arabic",Tahoma,sans-serif;text-align:start;' +
    'border:1px solid #d0d7de;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.18);padding:16px}' +
    'form{display:block}' +
    'p.intro{margin:0 28px 10px 0}[dir=rtl] p.intro{margin:0 0 10px 28px}' +
    'fieldset,.q{display:block;border:0;margin:0 0 14px;min-width:0}' +
    'legend,.q>label{display:block;font-weight:600;margin:0 28px 8px 0;padding:0}[dir=rtl] legend,[dir=rtl] .q>label{margin:0 0 8px 28px}' +
    '.scale{display:flex;gap:3px}.scale label{flex:1 1 0;min-width:0;position:relative;display:block}' +
    '.choices label{display:flex;gap:8px;align-items:center;padding:4px 0}' +
    'input[type=radio].s{position:absolute;opacity:0;inset:0;width:100%;height:100%;margin:0;cursor:pointer}' +
    '.scale span{display:block;text-align:center;padding:7px 0;border:1px solid #8c959f;border-radius:6px;font-size:14px;background:#fff}' +
    '.scale input:checked+span{background:var(--cxloop-accent,#0b5cd5);border-color:var(--cxloop-accent,#0b5cd5);color:#fff}' +
    '.scale input:focus-visible+span,input:focus-visible,textarea:focus-visible,button:focus-visible{outline:3px solid var(--cxloop-accent,#0b5cd5);outline-offset:2px}' +
    '.ends{display:flex;justify-content:space-between;font-size:12px;color:#57606a;margin-top:4px}' +
    'textarea{display:block;width:100%;min-height:64px;border:1px solid #8c959f;border-radius:6px;padding:6px;background:#fff;resize:vertical}' +
    'button{cursor:pointer;border-radius:6px;border:1px solid transparent}' +
    'button.send{display:inline-block;background:var(--cxloop-accent,#0b5cd5);color:#fff;padding:8px 16px;font-weight:600}' +
    'button.x{position:absolute;top:8px;right:8px;width:32px;height:32px;background:transparent;font-size:22px;line-height:1;color:#57606a}' +
    '[dir=rtl] button.x{right:auto;left:8px}' +
    '.err{color:#b42318;margin:0 0 10px}.opt{font-weight:400;color:#57606a}' +
    '.thanks{margin:4px 28px 4px 0}[dir=rtl] .thanks{margin:4px 0 4px 28px}';

  function scale(name, min, max) {
    var h = '<div class="scale">';
    for (var n = min; n <= max; n++) {
      h += '<label><input class="s" type="radio" name="' + esc(name) + '" value="' + n + '"><span>' + n + '</span></label>';
    }
    return h + '</div>';
  }

  function question(q, i, s) {
    var id = 'cxq' + i, opt = q.optional ? ' <span class="opt">(' + esc(s.words.optional) + ')</span>' : '';
    switch (q.type) {
      case 'text':
        return '<div class="q"><label id="' + id + 'l" for="' + id + '">' + esc(q.text) + opt + '</label><textarea id="' + id + '" name="' + esc(q.id) + '" maxlength="5000"></textarea></div>';
      case 'single':
      case 'multi':
        return '<fieldset' + (q.type === 'single' ? ' role="radiogroup"' : '') + ' aria-labelledby="' + id + '"><legend id="' + id + '">' + esc(q.text) + opt + '</legend><div class="choices">' +
          q.choices.map(function (c) {
            return '<label><input type="' + (q.type === 'single' ? 'radio' : 'checkbox') + '" name="' + esc(q.id) + '" value="' + esc(c.id) + '">' + esc(c.text) + '</label>';
          }).join('') + '</div></fieldset>';
      case 'acsi':
        return q.items.map(function (it, j) {
          return '<fieldset role="radiogroup" aria-labelledby="' + id + '-' + j + '"><legend id="' + id + '-' + j + '">' + esc(it.text) + '</legend>' +
            scale(q.id + '.' + it.id, q.min, q.max) + '<div class="ends" aria-hidden="true"><span>' + esc(q.low) + '</span><span>' + esc(q.high) + '</span></div></fieldset>';
        }).join('');
    }
    return '<fieldset role="radiogroup" aria-labelledby="' + id + '" aria-describedby="' + id + 'e"><legend id="' + id + '">' + esc(q.text) + opt + '</legend>' +
      scale(q.id, q.min, q.max) + '<div class="ends" id="' + id + 'e"><span>' + q.min + ' = ' + esc(q.low) + '</span><span>' + q.max + ' = ' + esc(q.high) + '</span></div></fieldset>';
  }

  function answers(form, s) {
    var out = {};
    s.questions.forEach(function (q) {
      var v;
      if (q.type === 'text') {
        v = form.elements[q.id].value.trim();
        if (v) out[q.id] = v;
      } else if (q.type === 'multi') {
        v = [].filter.call(form.querySelectorAll('input[name="' + q.id + '"]'), function (x) { return x.checked; }).map(function (x) { return x.value; });
        if (v.length) out[q.id] = v;
      } else if (q.type === 'acsi') {
        v = {};
        q.items.forEach(function (it) {
          var c = form.querySelector('input[name="' + q.id + '.' + it.id + '"]:checked');
          if (c) v[it.id] = +c.value;
        });
        if (Object.keys(v).length) out[q.id] = v;
      } else {
        v = form.querySelector('input[name="' + q.id + '"]:checked');
        if (v) out[q.id] = q.type === 'single' ? v.value : +v.value;
      }
    });
    return out;
  }

  function render(s, token) {
    var back = d.activeElement, done = false;
    var host = d.createElement('cxloop-survey');
    host.setAttribute('dir', s.dir);
    var root = host.attachShadow({ mode: 'open' });
    var first = s.questions[0] || {};
    var label = s.intro ? 'cxt' : first.type === 'text' ? 'cxq0l' : first.type === 'acsi' ? 'cxq0-0' : 'cxq0';
    root.innerHTML = '<style>' + CSS + '</style><div class="box" role="dialog" aria-modal="false" aria-labelledby="' + label + '" lang="' + esc(s.language) + '" dir="' + esc(s.dir) + '">' +
      (s.intro ? '<p class="intro" id="cxt">' + esc(s.intro) + '</p>' : '') +
      '<form novalidate><p class="err" role="alert" hidden></p>' + s.questions.map(function (q, i) { return question(q, i, s); }).join('') +
      '<button class="send" type="submit">' + esc(s.words.submit) + '</button></form>' +
      '<button class="x" type="button" aria-label="' + esc(s.words.close) + '">\u00d7</button></div>';
    var box = root.querySelector('.box'), form = root.querySelector('form'), err = root.querySelector('.err');

    function close(dismissed) {
      if (!host.parentNode) return;
      host.parentNode.removeChild(host);
      open = null;
      if (dismissed && !done) post('dismiss', { token: token }).catch(function () {});
      if (back && back.focus && d.contains(back)) back.focus();
    }
    box.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' || e.key === 'Esc') { e.preventDefault(); close(true); }
    });
    root.querySelector('.x').addEventListener('click', function () { close(true); });
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var btn = form.querySelector('.send');
      btn.disabled = true;
      post('answer', { token: token, answers: answers(form, s), language: s.language }).then(function (r) {
        btn.disabled = false;
        if (!r.ok) {
          var f = r.body.error && r.body.error.field || '', qid = f.replace(/^answers\./, '').split('.')[0];
          err.textContent = r.body.error ? r.body.error.message : 'Error';
          err.hidden = false;
          var bad = qid && form.querySelector('[name="' + qid + '"],[name^="' + qid + '."]');
          (bad || err).focus && (bad || err).focus();
          return;
        }
        done = true;
        form.outerHTML = '<p class="thanks" role="status" tabindex="-1">' + esc(r.body.thanks || s.words.thanks) + '</p>';
        root.querySelector('.thanks').focus();
        setTimeout(function () { close(false); }, 6000);
      }, function () { btn.disabled = false; });
    });
    d.body.appendChild(host);
    var target = root.querySelector('input,textarea');
    (target || root.querySelector('.x')).focus();
  }

  queued.forEach(api.push);
  if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', start);
  else start();
})();
