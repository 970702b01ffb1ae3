/*! Ombud cookie banner. Apache-2.0. docs/banner.md says how to embed it.
 *
 * <script src="https://ombud.example/consent/banner.js" data-ombud-lang="sv" defer></script>
 *
 * 1. Pushes the Consent Mode v2 default (all denied) into dataLayer, first and synchronously.
 * 2. Fetches its texts and categories from <its own origin>/consent/banner.json.
 * 3. Restores the stored choice (cookie `ombud_consent`), or asks: a modal dialog naming
 *    the categories, "accept all" and "reject all" alike, and a settings layer.
 * 4. Runs the tags marked data-ombud-category only if consented, deletes the cookies of
 *    refused categories, sends the choice to the ledger (retries, then sendBeacon) and
 *    leaves a button on the page to change the choice at any time.
 */
(() => {
  'use strict';
  const w = window, d = document, nav = navigator;

  // --- 1. Consent Mode default: first, synchronously --------------------------------------
  // gtag.js reads Arguments objects from the dataLayer, not arrays: hence `arguments`.
  w.dataLayer = w.dataLayer || [];
  function gtag() { w.dataLayer.push(arguments); }
  gtag('consent', 'default', {
    ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied',
    analytics_storage: 'denied', functionality_storage: 'denied',
    personalization_storage: 'denied', security_storage: 'granted',
  });

  const me = d.currentScript || d.querySelector('script[src*="/consent/banner.js"]');
  // Ombud may live under a path prefix: everything before /consent/banner.js.
  const base = me.src.replace(/\/consent\/banner\.js([?#].*)?$/, '');
  const EVENTS = base + '/api/v1/consent/events';
  const lang = (me.getAttribute('data-ombud-lang') || d.documentElement.lang || nav.language || 'sv')
    .slice(0, 2).toLowerCase();
  const gpc = nav.globalPrivacyControl === true;
  const COOKIE = 'ombud_consent';
  const MARK = 'ombud_consent_mark'; // localStorage: what the choice was made on, and when
  const OUTBOX = 'ombud_outbox'; // localStorage: events the ledger has not acknowledged yet

  // Used when banner.json does not say: which Consent Mode signals a category grants,
  // and the cookies its usual tags set (deleted when the category is refused).
  const SIGNALS = {
    statistics: ['analytics_storage'],
    marketing: ['ad_storage', 'ad_user_data', 'ad_personalization'],
  };
  const TRACKERS = { statistics: ['_ga', '_ga_*', '_gid'], marketing: ['_fbp', '_gcl_*', '_uet*', 'li_*'] };
  // banner.json's `wording` says everything; only labels and the GPC sentence fall back.
  const FALLBACK = {
    sv: {
      accept_all: 'Acceptera alla', reject_all: 'Neka alla', settings: 'Inställningar',
      save: 'Spara mina val', always_on: 'Alltid på', reopen: 'Cookieinställningar',
      cookies: 'Cookies', policy_link: 'Integritetspolicy',
      gpc: 'Din webbläsare signalerar Global Privacy Control (GPC). Därför använder vi inga ' +
        'cookies för marknadsföring.',
    },
    en: {
      accept_all: 'Accept all', reject_all: 'Reject all', settings: 'Settings',
      save: 'Save my choices', always_on: 'Always on', reopen: 'Cookie settings',
      cookies: 'Cookies', policy_link: 'Privacy notice',
      gpc: 'Your browser signals Global Privacy Control (GPC). We therefore use no cookies ' +
        'for marketing.',
    },
  };

  let cfg; // banner.json: register_version, text_digest, language, gpc_purposes, content
  let shown; // banner.json's content: what is shown (wording, categories, policy_path)
  let cats = []; // every category, [{id, name, required, purposes, ...}]
  let given = {}; // category id -> true when its tags may run
  let visitor; // the random visitor id of the consent cookie
  let root, dialog, second, boxes, bSettings, bSave, reopen, opener, layer2, reopened;

  // --- small helpers ------------------------------------------------------------------------
  const t = (key) => (shown.wording || {})[key] || (FALLBACK[cfg.language || lang] || FALLBACK.en)[key] || '';
  const optional = () => cats.filter((c) => !c.required);
  const purposesOf = (c) => (c.purposes && c.purposes.length ? c.purposes : [c.id]);
  // GPC refuses the purposes banner.json names (marketing and profiling), as the ledger does.
  const gpcBlocks = (c) => gpc && !c.required &&
    purposesOf(c).some((p) => (cfg.gpc_purposes || ['marketing']).includes(p));
  const store = (key, value) => {
    try {
      if (value === undefined) return JSON.parse(localStorage.getItem(key));
      localStorage.setItem(key, JSON.stringify(value));
    } catch (e) { /* storage blocked: the cookie alone still works */ }
    return null;
  };
  // An ISO 8601 duration (P12M, P1Y, P30D) in milliseconds; 0 when absent or unreadable.
  const ms = (iso) => {
    const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$/.exec(iso || '');
    return m ? 864e5 * (365 * (m[1] | 0) + 30.44 * (m[2] | 0) + 7 * (m[3] | 0) + (m[4] | 0)) : 0;
  };
  const uuid = () => (crypto.randomUUID ? crypto.randomUUID()
    : '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) =>
      (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16)));
  // Elements without innerHTML: register texts are inserted as text, never as markup.
  function h(tag, attrs, ...kids) {
    const el = d.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    el.append(...kids.flat(2).filter((k) => k != null && k !== ''));
    return el;
  }

  // --- delivery to the ledger: fetch keepalive, retries with backoff, sendBeacon ------------
  let outbox = store(OUTBOX) || [];
  const busy = new Set();
  const persist = () => store(OUTBOX, outbox);
  function post(body, tries) {
    busy.add(body);
    fetch(EVENTS, {
      method: 'POST', keepalive: true, credentials: 'omit',
      headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    }).then((r) => {
      // Retry what may pass later (5xx, 408, 429); a refusal (4xx) will not.
      if (r.status >= 500 || r.status === 408 || r.status === 429) throw r.status;
      if (!r.ok) console.warn('Ombud: the consent ledger refused the choice:', r.status);
      busy.delete(body);
      outbox = outbox.filter((b) => b !== body);
      persist();
    }).catch(() => {
      busy.delete(body);
      if (tries < 6) setTimeout(() => post(body, tries + 1), 1000 * 2 ** tries);
    });
  }
  function send(body) { outbox.push(body); persist(); post(body, 0); }
  outbox.forEach((b) => post(b, 0)); // left over from an earlier page
  w.addEventListener('pagehide', () => {
    // A keepalive fetch in flight outlives the page; what waits for a retry goes by beacon
    // (text/plain, so no preflight). Whatever could not be sent stays for the next page.
    outbox = outbox.filter((b) => !busy.has(b) && !(nav.sendBeacon && nav.sendBeacon(EVENTS, JSON.stringify(b))));
    persist();
  });

  // --- the consent cookie: v1.<visitor_id>.<register_version 12>.<purpose:1|0,...> -------
  function readCookie() {
    const m = d.cookie.match(/(?:^|;\s*)ombud_consent=([^;]*)/);
    const p = m ? m[1].split('.') : [];
    if (p.length !== 4 || p[0] !== 'v1' || !/^[0-9a-f-]{36}$/i.test(p[1])) return null;
    const choices = {};
    p[3].split(',').forEach((kv) => { const [k, v] = kv.split(':'); if (k) choices[k] = v === '1'; });
    return { id: p[1], rv: p[2], choices };
  }
  function writeCookie(purposes) {
    const list = Object.entries(purposes).map(([k, v]) => k + ':' + (v ? 1 : 0)).join(',');
    d.cookie = `${COOKIE}=v1.${visitor}.${cfg.register_version.slice(0, 12)}.${list}` +
      `; Max-Age=${Math.round(renewMs() / 1000)}; Path=/; SameSite=Lax` +
      (location.protocol === 'https:' ? '; Secure' : '');
  }
  const renewMs = () => ms(cfg.renew_after) || ms('P12M');
  // What a choice was made on: the consent section's version, else the texts shown.
  const marker = () => cfg.consent_version || cfg.text_digest;

  // Ask again when the consent section changed, a category is new, or renew_after passed.
  function stale(st) {
    const mark = store(MARK) || {};
    return (st.rv !== cfg.register_version.slice(0, 12) && mark.m !== marker()) ||
      optional().some((c) => purposesOf(c).some((p) => !(p in st.choices))) ||
      (mark.t && Date.now() - mark.t > renewMs());
  }

  // --- honouring a choice: Consent Mode, prior-blocked tags, cookies ------------------------
  function apply(next) {
    given = next;
    const update = {};
    cats.forEach((c) => (c.consent_mode || SIGNALS[c.id] || []).forEach((s) => {
      update[s] = update[s] === 'denied' || !next[c.id] ? 'denied' : 'granted';
    }));
    gtag('consent', 'update', update);
    activate();
    cats.forEach((c) => { if (!next[c.id]) purge(c); });
    w.dispatchEvent(new CustomEvent('ombud:consent', { detail: { ...next } }));
  }

  // Tags wait as <script type="text/plain" data-ombud-category="statistics">,
  // <img|iframe data-ombud-category="marketing" data-src="...">; several space-separated
  // categories all need consent. A script is replaced by a live copy, in document order.
  function activate() {
    d.querySelectorAll('[data-ombud-category]').forEach((el) => {
      const ok = el.getAttribute('data-ombud-category').split(/\s+/).every((id) => given[id]);
      if (!ok || el.ombudDone) return;
      if (el.tagName === 'SCRIPT') {
        if (el.type !== 'text/plain') return;
        const s = d.createElement('script');
        for (const a of el.attributes) if (a.name !== 'type' && a.name !== 'data-src') s.setAttribute(a.name, a.value);
        const src = el.getAttribute('data-src') || el.getAttribute('src');
        if (el.dataset.ombudType) s.type = el.dataset.ombudType;
        s.nonce = el.nonce;
        s.async = false; // run in document order, like the page wrote them
        if (src) s.src = src; else s.text = el.text;
        el.replaceWith(s);
      } else if (el.dataset.src) {
        el.ombudDone = true;
        el.src = el.dataset.src;
      }
    });
  }

  // Delete the first-party cookies of a refused category: its cookie list in banner.json
  // (`*` is a wildcard) and the usual trackers, on this host and every parent domain.
  function purge(c) {
    const names = (c.cookies || []).map((k) => k.name).concat(TRACKERS[c.id] || []);
    const res = names.map((n) => new RegExp('^' + n.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*') + '$'));
    // Host-only, then www.example.se, example.se, ... (the browser ignores a public suffix).
    const parts = location.hostname.split('.');
    const domains = [''];
    for (let i = 0; i < parts.length - 1; i++) domains.push('; Domain=.' + parts.slice(i).join('.'));
    d.cookie.split(/;\s*/).forEach((kv) => {
      const n = kv.split('=')[0];
      if (n && n !== COOKIE && res.some((re) => re.test(n))) {
        domains.forEach((domain) => { d.cookie = `${n}=; Max-Age=0; Path=/${domain}`; });
      }
    });
  }

  // A choice: {category: bool}; method "banner" or "banner_settings". The cookie and the
  // ledger keep it per purpose. `since`: when consent was asked for (renew_after counts).
  function choose(next, method, since = Date.now()) {
    const all = {};
    const purposes = {};
    cats.forEach((c) => {
      all[c.id] = c.required || (!!next[c.id] && !gpcBlocks(c));
      if (!c.required) purposesOf(c).forEach((p) => { purposes[p] = purposes[p] !== false && all[c.id]; });
    });
    writeCookie(purposes);
    store(MARK, { m: marker(), t: since });
    send({
      visitor_id: visitor, choices: purposes, method, language: cfg.language || lang,
      register_version: cfg.register_version, text_digest: cfg.text_digest, gpc,
    });
    apply(all);
    if (root && !root.hidden) close();
  }

  // --- the dialog -----------------------------------------------------------------------------
  function build() {
    const btn = (key, onclick, hidden) => h('button', { type: 'button', class: 'ombud-btn', onclick, hidden }, t(key));
    const everything = (value) => () => {
      const next = {};
      cats.forEach((c) => { next[c.id] = value; });
      choose(next, layer2 ? 'banner_settings' : 'banner');
    };
    const recipients = (c, long) => (c.recipients || [])
      .map((r) => r.name + (long && r.third_country ? ` (${t('third_country')})` : '')).join(', ');
    const privacy = base + (shown.policy_path || '/privacy?lang=' + (cfg.language || lang));
    const first = h('div', { id: 'ombud-desc' },
      h('p', null, t('intro')),
      h('ul', null, cats.map((c) => h('li', null, h('strong', null, c.name),
        c.required ? ` (${t('always_on')})` : recipients(c) && ` (${recipients(c)})`))),
      h('p', null, t('withdrawal')),
      gpc ? h('p', { class: 'ombud-gpc' }, t('gpc')) : null,
      h('p', null, h('a', { href: privacy }, t('policy_link'))));
    boxes = [];
    second = h('div', { hidden: true }, cats.map((c) => {
      const box = h('input', {
        type: 'checkbox', id: 'ombud-c-' + c.id, 'data-c': c.id, 'data-required': c.required,
        disabled: c.required || gpcBlocks(c), 'aria-describedby': 'ombud-d-' + c.id,
      });
      boxes.push(box);
      const cookies = c.cookies || [];
      return h('div', { class: 'ombud-cat' },
        h('label', { for: box.id }, box, ' ', c.name, c.required ? ` (${t('always_on')})` : ''),
        h('div', { id: 'ombud-d-' + c.id },
          h('p', null, c.description),
          recipients(c) && h('p', null, `${t('recipients')}: ${recipients(c, true)}`),
          gpcBlocks(c) ? h('p', { class: 'ombud-gpc' }, t('gpc')) : null),
        cookies.length ? h('details', null, h('summary', null, `${t('cookies')} (${cookies.length})`),
          h('ul', null, cookies.map((k) => h('li', null, h('code', null, k.name),
            [k.provider, k.duration, k.purpose].filter((x) => x && typeof x === 'string').map((x) => ' · ' + x))))) : null);
    }));
    bSettings = btn('settings', () => { show(true); (boxes.find((b) => !b.disabled) || dialog).focus(); });
    bSave = btn('save', () => {
      const next = {};
      boxes.forEach((b) => { next[b.dataset.c] = b.checked; });
      choose(next, 'banner_settings');
    }, true);
    dialog = h('div', {
      class: 'ombud-dialog', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'ombud-title',
      'aria-describedby': 'ombud-desc', tabindex: '-1', onkeydown: keys,
    }, h('h2', { id: 'ombud-title' }, t('title')), first, second,
    h('div', { class: 'ombud-btns' }, btn('accept_all', everything(true)), btn('reject_all', everything(false)), bSettings, bSave));
    root = h('div', { class: 'ombud-root', lang: cfg.language || lang, hidden: true }, dialog);
    // Withdrawal as easy as giving: this button stays on every page once a choice is made.
    reopen = h('button', {
      type: 'button', class: 'ombud-reopen', 'aria-label': t('reopen'), title: t('reopen'),
      lang: cfg.language || lang, hidden: true, onclick: () => open(true),
    });
    reopen.innerHTML = '<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true"><path fill="currentColor" fill-rule="evenodd" d="M12 2a10 10 0 1 0 10 10 4 4 0 0 1-5-5 4 4 0 0 1-5-5zM8 10.5a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3zm7 3a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3zm-5 3a1 1 0 1 1 0 2 1 1 0 0 1 0-2z"/></svg>';
    d.head.append(h('style', { nonce: me.nonce || null }, CSS));
    d.body.append(root, reopen);
    // Focus never leaves an open dialog, whatever moved it.
    d.addEventListener('focusin', (e) => { if (!root.hidden && !dialog.contains(e.target)) dialog.focus(); });
    // The site's own links: <a href="#ombud-settings"> or any [data-ombud-open].
    d.addEventListener('click', (e) => {
      if (e.target.closest && e.target.closest('[data-ombud-open],a[href="#ombud-settings"]')) {
        e.preventDefault();
        open(true);
      }
    });
  }

  function show(settings) {
    layer2 = settings;
    second.hidden = !settings;
    bSettings.hidden = settings;
    bSave.hidden = !settings;
  }

  // `again`: reopened after a choice, straight to the settings with the current choice.
  function open(again) {
    reopened = again;
    opener = d.activeElement;
    boxes.forEach((b) => { b.checked = 'required' in b.dataset || !!given[b.dataset.c]; });
    show(again);
    root.hidden = false;
    dialog.focus();
  }

  function close() {
    root.hidden = true;
    reopen.hidden = false;
    if (opener && opener !== d.body && d.contains(opener)) opener.focus();
  }

  function keys(e) {
    if (e.key === 'Escape') {
      // Escape never chooses: it steps back from the settings, or closes a reopened dialog.
      e.preventDefault();
      if (reopened) close();
      else if (layer2) { show(false); bSettings.focus(); }
      return;
    }
    if (e.key !== 'Tab') return;
    const f = [...dialog.querySelectorAll('a[href],button,input,summary')]
      .filter((el) => !el.disabled && el.getClientRects().length);
    const i = f.indexOf(d.activeElement);
    if (e.shiftKey && i <= 0) { e.preventDefault(); f[f.length - 1].focus(); }
    else if (!e.shiftKey && i === f.length - 1) { e.preventDefault(); f[0].focus(); }
  }

  // Neutral on purpose: accept and reject share one style (PTS 2023: no emphasis of accept),
  // and the buttons stick to the dialog's bottom, so that both show on a small screen too.
  const CSS = `.ombud-root{position:fixed;inset:0;z-index:2147483646;display:flex;align-items:flex-end;
justify-content:center;background:rgba(0,0,0,.4);font:16px/1.45 system-ui,sans-serif}
.ombud-root[hidden],.ombud-root [hidden],.ombud-reopen[hidden]{display:none!important}
.ombud-dialog{box-sizing:border-box;width:100%;max-width:44rem;max-height:90vh;overflow:auto;margin:1rem;
padding:1.25rem 1.5rem 0;border-radius:8px;background:var(--ombud-bg,#fff);color:var(--ombud-fg,#111);
box-shadow:0 4px 24px rgba(0,0,0,.3);text-align:left}
.ombud-dialog:focus{outline:none}
.ombud-dialog h2{font-size:1.25rem;margin:0 0 .5rem}
.ombud-dialog p,.ombud-dialog ul{margin:.5rem 0}
.ombud-dialog a{color:inherit;text-decoration:underline}
.ombud-cat{border-top:1px solid #bbb;padding:.5rem 0}
.ombud-cat label{font-weight:600}
.ombud-gpc{font-style:italic}
.ombud-btns{display:flex;flex-wrap:wrap;gap:.5rem;position:sticky;bottom:0;margin-top:.5rem;
padding:.75rem 0 1.25rem;background:var(--ombud-bg,#fff)}
.ombud-btn,.ombud-reopen{font:inherit;font-weight:600;cursor:pointer;border:2px solid currentColor;
border-radius:6px;background:var(--ombud-bg,#fff);color:var(--ombud-fg,#111)}
.ombud-btn{flex:1 1 7rem;padding:.6rem .75rem}
.ombud-reopen{position:fixed;left:1rem;bottom:1rem;z-index:2147483645;width:2.75rem;height:2.75rem;
padding:0;border-radius:50%;display:grid;place-items:center}
.ombud-dialog :focus-visible,.ombud-reopen:focus-visible{outline:3px solid #1a5fb4;outline-offset:2px}
@media (max-width:30rem){.ombud-dialog{margin:.5rem;padding:1rem 1rem 0}}`;

  // --- start -----------------------------------------------------------------------------------
  function start(json) {
    cfg = json;
    shown = json.content || json; // the texts shown, nested or beside the versions
    cats = shown.categories || [];
    const st = readCookie();
    visitor = st ? st.id : uuid();
    build();
    if (st && !stale(st)) {
      const next = {};
      cats.forEach((c) => {
        next[c.id] = c.required || (purposesOf(c).every((p) => st.choices[p]) && !gpcBlocks(c));
      });
      reopen.hidden = false;
      // GPC turned on since a marketing consent: the ledger learns of the refusal too
      // (without restarting the renew_after clock of the rest).
      if (optional().some((c) => gpcBlocks(c) && purposesOf(c).every((p) => st.choices[p]))) {
        choose(next, 'banner', (store(MARK) || {}).t);
      } else apply(next);
    } else {
      open(false);
    }
    w.ombud = { open: () => open(true), consent: (id) => !!given[id] };
  }

  const ready = (fn) => (d.readyState === 'loading' ? d.addEventListener('DOMContentLoaded', fn) : fn());
  const texts = `${base}/consent/banner.json?lang=${encodeURIComponent(lang)}`;
  fetch(texts, { credentials: 'omit' })
    .then((r) => { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
    .then((json) => ready(() => start(json)))
    // Without its texts the banner cannot ask; nothing runs then, which is the safe side.
    .catch((e) => console.error('Ombud banner, ' + texts + ':', e));
})();
