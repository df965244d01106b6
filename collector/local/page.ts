/**
 * The events page (`/micro/ui`): every kept row, good and bad, in one list with filters (status, event type, app id,
 * schema, failure type, free text over the decoded event, time range), paging, a timeline of events per second and
 * a detail panel: the tracker payload decoded (base64 `ue_px`/`cx` too) beside the enriched row or bad row, for a
 * bad row each failure next to the parameter it concerns, and the original request. The filters and the page live
 * in the query string (a URL is shareable). It polls `/micro/all` every second and reloads when the sequence number
 * moved. Plain DOM, no framework, no build step; data is written with textContent only (event data is untrusted).
 * Keyboard: Tab/arrows move through rows, Enter opens one, Escape closes the detail, "/" goes to the search box.
 */
export const EVENTS_PAGE = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Waymark local · events</title>
<style>
  :root { --fg: #1d2433; --muted: #5d6b82; --line: #e3e8ef; --good: #137a4b; --bad: #b42318; --bg: #f7f9fc; --accent: #2952cc; --warn-bg: #fff4e5; }
  * { box-sizing: border-box; }
  html, body { max-width: 100%; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
  a { color: var(--accent); }
  :focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
  header { display: flex; align-items: center; gap: 8px 16px; padding: 12px 20px; background: #fff; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0; }
  .badge { padding: 2px 10px; border-radius: 999px; font-size: 12px; background: #eef2ff; color: var(--accent); }
  .count { font-weight: 600; }
  .count.good { color: var(--good); } .count.bad { color: var(--bad); }
  .spacer { flex: 1; }
  .live { font-size: 12px; color: var(--muted); }
  .live::before { content: "●"; color: var(--good); margin-right: 4px; }
  .live.off::before { color: var(--bad); }
  button, a.button { font: inherit; padding: 4px 12px; border: 1px solid var(--line); border-radius: 6px; background: #fff; color: var(--fg); cursor: pointer; text-decoration: none; }
  button:hover, a.button:hover { border-color: var(--accent); }
  button[disabled] { opacity: .5; cursor: default; }
  main { padding: 10px 20px 40px; }
  .note { color: var(--muted); font-size: 12.5px; margin: 6px 0; }
  #status:empty { display: none; }
  #timeline { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px 4px; margin: 8px 0; }
  #timeline h2 { font-size: 13px; margin: 0 0 4px; font-weight: 600; display: flex; gap: 8px; flex-wrap: wrap; }
  #timeline h2 small { font-weight: normal; color: var(--muted); }
  #timeline svg { display: block; width: 100%; height: 56px; }
  #timeline .axis { display: flex; justify-content: space-between; font-size: 11px; color: var(--muted); }
  #timeline rect.good { fill: #34a36c; } #timeline rect.bad { fill: #d9534f; } #timeline rect.hit { fill: transparent; cursor: pointer; }
  form#filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 8px 10px; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px; margin: 8px 0; }
  form#filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 2px; min-width: 0; }
  form#filters input, form#filters select { font: inherit; font-size: 13px; padding: 4px 6px; border: 1px solid var(--line); border-radius: 5px; min-width: 0; width: 100%; background: #fff; color: var(--fg); }
  form#filters .wide { grid-column: span 2; }
  form#filters .actions { display: flex; align-items: flex-end; gap: 6px; }
  .layout { display: block; }
  .list { min-width: 0; }
  table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); table-layout: fixed; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  th { font-size: 11.5px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); background: #fbfcfe; font-weight: 600; }
  col.c-seq { width: 52px; } col.c-time { width: 118px; } col.c-status { width: 74px; } col.c-event { width: 14%; } col.c-app { width: 10%; }
  col.c-user { width: 10%; } col.c-session { width: 10%; } col.c-what { width: 26%; } col.c-page { width: 14%; }
  tbody tr.row { cursor: pointer; }
  tbody tr.row:hover { background: #f3f6fb; }
  tbody tr.row.selected { background: #e8eefc; }
  tbody tr.row.bad td.status { color: var(--bad); font-weight: 600; }
  tbody tr.row.good td.status { color: var(--good); font-weight: 600; }
  .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
  td.what.bad { color: var(--bad); }
  .empty td { color: var(--muted); text-align: center; padding: 18px; white-space: normal; }
  nav.pager { display: flex; align-items: center; gap: 6px; flex-wrap: wrap; margin: 8px 0; }
  nav.pager .info { color: var(--muted); font-size: 12.5px; }
  #detail { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; min-width: 0; }
  #detail[hidden] { display: none; }
  #detail .head { display: flex; align-items: baseline; gap: 8px; flex-wrap: wrap; }
  #detail .head h2 { font-size: 16px; margin: 0; overflow-wrap: anywhere; }
  #detail h3 { font-size: 13px; margin: 14px 0 6px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
  #detail .cols { display: grid; grid-template-columns: minmax(0, 1fr); gap: 14px; }
  @container detail (min-width: 760px) { #detail .cols { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); } }
  #detail { container: detail / inline-size; }
  pre { margin: 0; max-height: 520px; overflow: auto; background: #0f172a; color: #e2e8f0; padding: 10px; border-radius: 6px; font-size: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
  table.params { table-layout: fixed; border: 1px solid var(--line); }
  table.params td { white-space: normal; overflow-wrap: anywhere; font-size: 12.5px; }
  table.params td.name { width: 30%; }
  table.params td.name small { display: block; color: var(--muted); font-family: system-ui, sans-serif; font-size: 11px; }
  table.params tr.failed td { background: #fdecea; }
  .failure { color: var(--bad); font-size: 12.5px; margin-top: 4px; }
  .failure::before { content: "⚠ "; }
  ul.failures { margin: 0; padding-left: 18px; color: var(--bad); }
  ul.failures li { overflow-wrap: anywhere; }
  dl.request { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 2px 10px; margin: 0; font-size: 12.5px; }
  dl.request dt { color: var(--muted); }
  dl.request dd { margin: 0; overflow-wrap: anywhere; }
  details summary { cursor: pointer; color: var(--accent); margin: 6px 0; }
  @media (min-width: 1100px) {
    .layout.open { display: grid; grid-template-columns: minmax(0, 4fr) minmax(0, 6fr); gap: 14px; align-items: start; }
    .layout.open #detail { position: sticky; top: 8px; max-height: calc(100vh - 16px); overflow: auto; }
    .layout.open col.c-user, .layout.open col.c-session, .layout.open col.c-page, .layout.open col.c-app { width: 0; }
    .layout.open .c-user, .layout.open .c-session, .layout.open .c-page, .layout.open .c-app { display: none; }
    .layout.open col.c-event { width: 30%; } .layout.open col.c-what { width: auto; }
  }
  @media (max-width: 1099px) {
    #detail:not([hidden]) { position: fixed; inset: 0; z-index: 10; border-radius: 0; overflow: auto; }
  }
  @media (max-width: 720px) {
    header { padding: 10px 12px; } main { padding: 8px 10px 30px; }
    .c-seq, .c-user, .c-session, .c-page, .c-app { display: none; }
    col.c-time { width: 76px; } col.c-status { width: 44px; } col.c-event { width: 34%; } col.c-what { width: auto; }
    form#filters { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
    form#filters .wide { grid-column: span 2; }
  }
</style>
</head>
<body>
<header>
  <h1>Waymark local · events</h1>
  <span class="badge" id="mode">…</span>
  <span><span class="count good" id="good-count">0</span> good</span>
  <span><span class="count bad" id="bad-count">0</span> bad</span>
  <span class="spacer"></span>
  <span class="live" id="live">live</span>
  <a class="button" href="/" target="_blank" rel="noopener">Demo site</a>
  <button type="button" id="replay-all" title="Enrich every kept bad row again, with the schemas as they are now">Replay bad rows</button>
  <button type="button" id="reset">Reset</button>
</header>
<main>
  <p class="note" id="retention"></p>
  <p class="note" id="status" role="status" aria-live="polite"></p>
  <section id="timeline" aria-labelledby="timeline-title">
    <h2 id="timeline-title">Events per second <small id="timeline-note">last 2 minutes, times in UTC · click a bar to see that second</small></h2>
    <svg id="timeline-svg" viewBox="0 0 1200 56" preserveAspectRatio="none" role="group" aria-label="events per second"></svg>
    <div class="axis"><span id="axis-start"></span><span id="axis-end"></span></div>
  </section>
  <form id="filters" role="search" aria-label="Filter events">
    <label>Status<select name="validEvents"><option value="">good and bad</option><option value="true">good only</option><option value="false">bad only</option></select></label>
    <label>Event type<input name="event_type" list="dl-event" placeholder="page_view, link_click" autocomplete="off"></label>
    <label>App id<input name="app_id" list="dl-app" autocomplete="off"></label>
    <label class="wide">Schema<input name="schema" list="dl-schema" placeholder="iglu:vendor/name (any version)" autocomplete="off"></label>
    <label>Failure type<input name="failure_type" list="dl-failure" placeholder="schema_violations" autocomplete="off"></label>
    <label class="wide">Search the decoded events<input name="q" type="search" placeholder="any text: a value, a field, a message ( / )" autocomplete="off"></label>
    <label>From (UTC)<input name="start" placeholder="2026-01-01T10:00:00Z" autocomplete="off"></label>
    <label>To (UTC)<input name="end" placeholder="2026-01-01T10:05:00Z" autocomplete="off"></label>
    <label>Per page<select name="pageSize"><option>20</option><option selected>50</option><option>100</option><option>500</option></select></label>
    <div class="actions"><button type="button" id="clear">Clear filters</button></div>
    <datalist id="dl-event"></datalist><datalist id="dl-app"></datalist><datalist id="dl-schema"></datalist><datalist id="dl-failure"></datalist>
  </form>
  <div class="layout" id="layout">
    <div class="list">
      <table id="events" aria-label="Events, newest first">
        <colgroup><col class="c-seq"><col class="c-time"><col class="c-status"><col class="c-event"><col class="c-app"><col class="c-user"><col class="c-session"><col class="c-what"><col class="c-page"></colgroup>
        <thead><tr><th class="c-seq">#</th><th class="c-time">Time (UTC)</th><th class="c-status">Status</th><th class="c-event">Event</th><th class="c-app">App id</th><th class="c-user">User</th><th class="c-session">Session</th><th class="c-what">Schema · details / failure</th><th class="c-page">Page</th></tr></thead>
        <tbody><tr class="empty"><td colspan="9">Loading…</td></tr></tbody>
      </table>
      <nav class="pager" aria-label="Pages">
        <button type="button" id="first" aria-label="Newest page">« Newest</button>
        <button type="button" id="prev" aria-label="Newer events">‹ Newer</button>
        <span class="info" id="page-info"></span>
        <button type="button" id="next" aria-label="Older events">Older ›</button>
        <button type="button" id="last" aria-label="Oldest page">Oldest »</button>
      </nav>
    </div>
    <section id="detail" aria-label="Event detail" hidden tabindex="-1"></section>
  </div>
</main>
<script>
(function () {
  'use strict';
  var FILTERS = ['validEvents', 'event_type', 'app_id', 'schema', 'failure_type', 'q', 'start', 'end'];
  var TIMELINE_SECONDS = 120;
  var LABELS = { e: 'event type', aid: 'app id', eid: 'event id', p: 'platform', tv: 'tracker version', tna: 'tracker namespace', url: 'page URL', page: 'page title', refr: 'referrer', duid: 'domain user id', sid: 'session id', vid: 'session index', uid: 'user id', nuid: 'network user id', dtm: 'created (device, ms)', stm: 'sent (ms)', ttm: 'true timestamp (ms)', tz: 'time zone', lang: 'language', res: 'screen', vp: 'viewport', ds: 'document size', cs: 'charset', cd: 'colour depth', cookie: 'cookies enabled', ue_pr: 'self-describing event (JSON)', ue_px: 'self-describing event (base64, decoded)', co: 'entities (JSON)', cx: 'entities (base64, decoded)', se_ca: 'category', se_ac: 'action', se_la: 'label', se_pr: 'property', se_va: 'value', pp_mix: 'scroll x min', pp_max: 'scroll x max', pp_miy: 'scroll y min', pp_may: 'scroll y max' };
  var state = { seq: -1, data: null, selected: null, selectedItem: null, replay: false };
  var $ = function (id) { return document.getElementById(id); };
  var form = $('filters');

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function time(iso) { return iso ? iso.slice(11, 23) : ''; }
  function shortId(id) { return id ? (id.length > 12 ? id.slice(0, 8) + '…' : id) : ''; }
  function shortSchema(s) { return s ? s.replace(/^iglu:/, '') : ''; }

  // ---- the query string: the filters and the page ----
  function params() { return new URLSearchParams(location.search); }
  function apiQuery(withPaging) {
    var p = params(), out = new URLSearchParams();
    FILTERS.forEach(function (k) { var v = p.get(k); if (v) out.set(k, v); });
    if (withPaging) { ['page', 'pageSize'].forEach(function (k) { var v = p.get(k); if (v) out.set(k, v); }); }
    return out;
  }
  function formToUrl(resetPage) {
    var p = params();
    FILTERS.concat(['pageSize']).forEach(function (k) {
      var v = form.elements[k].value.trim();
      if (v && !(k === 'pageSize' && v === '50')) p.set(k, v); else p.delete(k);
    });
    if (resetPage) p.delete('page');
    var qs = p.toString();
    history.replaceState(null, '', location.pathname + (qs ? '?' + qs : ''));
  }
  function urlToForm() {
    var p = params();
    FILTERS.concat(['pageSize']).forEach(function (k) { form.elements[k].value = p.get(k) || (k === 'pageSize' ? '50' : ''); });
  }
  function setPage(n) {
    var p = params();
    if (n <= 1) p.delete('page'); else p.set('page', String(n));
    var qs = p.toString();
    history.replaceState(null, '', location.pathname + (qs ? '?' + qs : ''));
    load();
  }

  function get(path) {
    return fetch(path, { cache: 'no-store' }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body && body.error ? body.error : path + ' answered ' + r.status);
        return body;
      });
    });
  }
  function say(text, bad) { var s = $('status'); s.textContent = text || ''; s.style.color = bad ? 'var(--bad)' : ''; }

  // ---- the list ----
  function what(item) {
    if (!item.valid) return (item.failureType || 'bad') + ': ' + (item.errors && item.errors.length ? item.errors[0] : '');
    var e = item.event || {};
    var s = shortSchema(item.schema);
    var d = '';
    if (item.eventType === 'struct') d = [e.se_category, e.se_action, e.se_label, e.se_property, e.se_value].filter(function (v) { return v !== undefined && v !== null; }).join(' · ');
    else if (item.eventType === 'unstruct') { for (var k in e) if (k.indexOf('unstruct_event_') === 0) { d = JSON.stringify(e[k]); break; } }
    else if (item.eventType === 'page_ping') d = 'scrolled to ' + (e.pp_yoffset_max || 0) + ' px';
    else d = e.page_title || '';
    return d ? s + ' · ' + d : s;
  }
  function cell(tr, cls, text, title) {
    var td = el('td', cls, text);
    if (title) td.title = title; else if (text) td.title = String(text);
    tr.appendChild(td);
    return td;
  }
  function renderRow(tbody, item) {
    var tr = el('tr', 'row ' + (item.valid ? 'good' : 'bad'));
    tr.dataset.seq = item.seq;
    tr.tabIndex = 0;
    tr.setAttribute('aria-label', (item.valid ? 'good ' : 'bad ') + (item.eventName || item.eventType || 'event') + ' at ' + item.received);
    if (state.selected === item.seq) tr.className += ' selected';
    cell(tr, 'c-seq mono', item.seq);
    cell(tr, 'c-time mono', time(item.received), item.received.replace('Z', ' UTC'));
    cell(tr, 'c-status status', item.valid ? 'good' : 'bad');
    cell(tr, 'c-event', item.eventName || item.eventType || '?');
    cell(tr, 'c-app mono', item.appId || '');
    var user = item.userId || item.domainUserId || item.networkUserId;
    cell(tr, 'c-user mono', item.userId || shortId(user), [item.userId && 'user_id ' + item.userId, item.domainUserId && 'domain_userid ' + item.domainUserId, item.networkUserId && 'network_userid ' + item.networkUserId].filter(Boolean).join('\n'));
    cell(tr, 'c-session mono', item.sessionId ? shortId(item.sessionId) + (item.sessionIndex ? ' #' + item.sessionIndex : '') : '', item.sessionId ? 'domain_sessionid ' + item.sessionId + (item.sessionIndex ? ', session ' + item.sessionIndex : '') : '');
    cell(tr, 'c-what what' + (item.valid ? '' : ' bad'), what(item));
    var url = item.pageUrl || '';
    var path = url.replace(/^[a-z]+:\/\/[^/]+/i, '');
    cell(tr, 'c-page mono', path || url, url);
    tr.addEventListener('click', function () { openDetail(item, tr); });
    tr.addEventListener('keydown', function (ev) {
      if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); openDetail(item, tr); }
      else if (ev.key === 'ArrowDown' && tr.nextElementSibling) { ev.preventDefault(); tr.nextElementSibling.focus(); }
      else if (ev.key === 'ArrowUp' && tr.previousElementSibling) { ev.preventDefault(); tr.previousElementSibling.focus(); }
    });
    tbody.appendChild(tr);
  }
  function fillDatalist(id, values) {
    var dl = $(id);
    while (dl.firstChild) dl.removeChild(dl.firstChild);
    values.forEach(function (v) { var o = el('option'); o.value = v; dl.appendChild(o); });
  }
  function render(data) {
    state.data = data;
    state.replay = data.replay;
    var tbody = $('events').tBodies[0];
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    if (!data.events.length) {
      var tr = el('tr', 'empty'), td = el('td', '', data.counts.total === 0 ? 'No events yet: open the demo site, or send events to this collector.' : 'No kept event matches these filters.');
      td.colSpan = 9; tr.appendChild(td); tbody.appendChild(tr);
    }
    data.events.forEach(function (item) { renderRow(tbody, item); });
    var from = data.totalItems === 0 ? 0 : (data.page - 1) * data.pageSize + 1;
    var to = Math.min(data.totalItems, data.page * data.pageSize);
    $('page-info').textContent = 'page ' + data.page + ' of ' + data.totalPages + ' · ' + from + '–' + to + ' of ' + data.totalItems + ' matching';
    $('first').disabled = $('prev').disabled = data.page <= 1;
    $('next').disabled = $('last').disabled = data.page >= data.totalPages;
    var r = data.retention, kept = r.kept.good + r.kept.bad, dropped = r.dropped.good + r.dropped.bad;
    $('retention').textContent = kept + ' rows kept (' + r.kept.good + ' good, ' + r.kept.bad + ' bad; at most ' + r.max.toLocaleString('en-US') + ' of each)' +
      (dropped > 0 ? ' · ' + dropped + ' older rows were dropped (' + r.dropped.good + ' good, ' + r.dropped.bad + ' bad) and are not shown' : ' · none dropped');
    $('retention').dataset.dropped = String(dropped);
    $('replay-all').hidden = !data.replay;
    $('replay-all').disabled = r.kept.bad === 0;
    fillDatalist('dl-event', data.facets.eventTypes);
    fillDatalist('dl-app', data.facets.appIds);
    fillDatalist('dl-schema', data.facets.schemas);
    fillDatalist('dl-failure', data.facets.failureTypes);
    document.body.dataset.seq = String(data.counts.seq);
  }

  // ---- the timeline ----
  function renderTimeline(t) {
    var svg = $('timeline-svg'), ns = 'http://www.w3.org/2000/svg';
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var lastMs = t.buckets.length ? Date.parse(t.buckets[t.buckets.length - 1].time) : 0;
    var end = Math.floor(Math.max(Date.now(), lastMs) / 1000) * 1000;
    var start = end - (TIMELINE_SECONDS - 1) * 1000;
    var byTime = {}, max = 1, total = 0;
    t.buckets.forEach(function (b) { var ms = Date.parse(b.time); if (ms >= start) { byTime[ms] = b; max = Math.max(max, b.good + b.bad); total += b.good + b.bad; } });
    var w = 1200 / TIMELINE_SECONDS;
    for (var i = 0; i < TIMELINE_SECONDS; i++) {
      var ms = start + i * 1000, b = byTime[ms];
      var x = i * w;
      if (b) {
        var hg = 52 * b.good / max, hb = 52 * b.bad / max;
        if (b.good) { var rg = document.createElementNS(ns, 'rect'); rg.setAttribute('class', 'good'); rg.setAttribute('x', x + 1); rg.setAttribute('width', Math.max(1, w - 2)); rg.setAttribute('y', 56 - hg); rg.setAttribute('height', hg); svg.appendChild(rg); }
        if (b.bad) { var rb = document.createElementNS(ns, 'rect'); rb.setAttribute('class', 'bad'); rb.setAttribute('x', x + 1); rb.setAttribute('width', Math.max(1, w - 2)); rb.setAttribute('y', 56 - hg - hb); rb.setAttribute('height', hb); svg.appendChild(rb); }
        var hit = document.createElementNS(ns, 'rect');
        hit.setAttribute('class', 'hit'); hit.setAttribute('x', x); hit.setAttribute('width', w); hit.setAttribute('y', 0); hit.setAttribute('height', 56);
        var title = document.createElementNS(ns, 'title');
        title.textContent = new Date(ms).toISOString().slice(11, 19) + ' UTC: ' + b.good + ' good, ' + b.bad + ' bad';
        hit.appendChild(title);
        var pick = (function (s) { return function () {
          form.elements.start.value = new Date(s).toISOString().replace('.000Z', 'Z');
          form.elements.end.value = new Date(s + 1000).toISOString().replace('.000Z', 'Z');
          formToUrl(true); load();
        }; })(ms);
        hit.setAttribute('tabindex', '0');
        hit.setAttribute('role', 'button');
        hit.setAttribute('aria-label', title.textContent + ': show this second');
        hit.addEventListener('click', pick);
        hit.addEventListener('keydown', (function (f) { return function (ev) { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); f(); } }; })(pick));
        svg.appendChild(hit);
      }
    }
    svg.setAttribute('role', 'group');
    svg.setAttribute('aria-label', total + ' matching events in the last ' + TIMELINE_SECONDS + ' seconds, at most ' + max + ' in one second');
    $('axis-start').textContent = new Date(start).toISOString().slice(11, 19) + ' UTC';
    $('axis-end').textContent = new Date(end).toISOString().slice(11, 19) + ' UTC';
  }

  // ---- the detail panel ----
  function section(parent, title) { parent.appendChild(el('h3', '', title)); }
  function pre(value) { return el('pre', 'mono', typeof value === 'string' ? value : JSON.stringify(value, null, 2)); }
  function failuresByField(item) {
    var by = {};
    (item.failures || []).forEach(function (f) { if (f.field) (by[f.field] = by[f.field] || []).push(f); });
    return by;
  }
  function paramsTable(item) {
    var p = item.payload, by = failuresByField(item);
    var table = el('table', 'params'), tbody = el('tbody');
    table.appendChild(tbody);
    // The parameters a failure concerns first, then the decoded event and entities, then the rest as sent.
    var names = Object.keys(p.parameters), rank = function (n) { return by[n] ? 0 : Object.prototype.hasOwnProperty.call(p.decoded, n) ? 1 : 2; };
    names = names.map(function (n, i) { return [rank(n), i, n]; }).sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; }).map(function (x) { return x[2]; });
    names.forEach(function (name) {
      var tr = el('tr'), n = el('td', 'name mono', name), v = el('td', 'value mono');
      tr.dataset.param = name;
      if (LABELS[name]) n.appendChild(el('small', '', LABELS[name]));
      if (Object.prototype.hasOwnProperty.call(p.decoded, name)) v.appendChild(pre(p.decoded[name]));
      else v.textContent = p.parameters[name];
      if (p.problems[name]) v.appendChild(el('div', 'failure', p.problems[name]));
      (by[name] || []).forEach(function (f) {
        tr.className = 'failed';
        v.appendChild(el('div', 'failure', f.message));
      });
      tr.appendChild(n); tr.appendChild(v); tbody.appendChild(tr);
    });
    return table;
  }
  function requestList(request) {
    var dl = el('dl', 'request');
    Object.keys(request).forEach(function (k) {
      var v = request[k];
      if (v === null || v === undefined || v === '') return;
      dl.appendChild(el('dt', '', k));
      dl.appendChild(el('dd', 'mono', typeof v === 'string' ? v : JSON.stringify(v)));
    });
    return dl;
  }
  function openDetail(item, tr) {
    state.selected = item.seq;
    state.selectedItem = item;
    state.returnFocus = tr || null;
    Array.prototype.forEach.call(document.querySelectorAll('#events tr.selected'), function (x) { x.classList.remove('selected'); });
    if (tr) tr.classList.add('selected');
    var d = $('detail');
    while (d.firstChild) d.removeChild(d.firstChild);
    d.dataset.seq = item.seq;
    d.dataset.valid = String(item.valid);
    var head = el('div', 'head');
    head.appendChild(el('h2', '', (item.valid ? '' : 'Bad row · ') + (item.eventName || item.eventType || item.failureType || 'event')));
    head.appendChild(el('span', 'note mono', '#' + item.seq + ' · received ' + item.received.replace('T', ' ').replace('Z', ' UTC')));
    var sp = el('span', 'spacer'); sp.style.flex = '1'; head.appendChild(sp);
    if (!item.valid && state.replay) {
      var rb = el('button', '', 'Replay this row');
      rb.type = 'button'; rb.id = 'replay-one';
      rb.addEventListener('click', function () { replay([item.seq]); });
      head.appendChild(rb);
    }
    var close = el('button', '', 'Close');
    close.type = 'button'; close.id = 'close-detail'; close.setAttribute('aria-label', 'Close the detail (Escape)');
    close.addEventListener('click', closeDetail);
    head.appendChild(close);
    d.appendChild(head);
    var facts = el('p', 'note');
    facts.id = 'detail-facts';
    facts.textContent = [item.appId && 'app ' + item.appId, item.userId && 'user ' + item.userId, item.domainUserId && 'domain user ' + item.domainUserId, item.sessionId && 'session ' + item.sessionId + (item.sessionIndex ? ' (#' + item.sessionIndex + ')' : ''), item.pageUrl && 'page ' + item.pageUrl, item.schema && shortSchema(item.schema)].filter(Boolean).join(' · ');
    d.appendChild(facts);
    if (!item.valid) {
      section(d, 'What failed (' + item.failureType + (item.processor ? ', in ' + item.processor : '') + ')');
      var ul = el('ul', 'failures');
      (item.failures || []).forEach(function (f) {
        var li = el('li', 'mono', f.text);
        if (f.field && item.payload && Object.prototype.hasOwnProperty.call(item.payload.parameters, f.field)) li.appendChild(el('span', 'note', ' (shown next to the parameter ' + f.field + ' below)'));
        ul.appendChild(li);
      });
      if (!(item.failures || []).length) ul.appendChild(el('li', '', 'no message'));
      d.appendChild(ul);
    }
    var cols = el('div', 'cols');
    var left = el('div', 'payload'), right = el('div', 'row');
    left.id = 'detail-payload'; right.id = 'detail-row';
    section(left, 'Tracker payload, decoded');
    if (item.payload && Object.keys(item.payload.parameters).length) left.appendChild(paramsTable(item));
    else left.appendChild(el('p', 'note', item.payload ? 'The original payload carries no tracker parameters.' : 'The original payload is not kept for this row (in Pub/Sub mode, good rows read back from the files of an earlier run have none).'));
    section(right, item.valid ? 'Enriched row (as BigQuery gets it)' : 'Bad row (as the dead-letter table gets it)');
    right.appendChild(pre(item.valid ? item.event : item.badRow));
    cols.appendChild(left); cols.appendChild(right);
    d.appendChild(cols);
    if (item.payload) {
      section(d, 'Original request');
      d.appendChild(requestList(item.payload.request));
    }
    d.hidden = false;
    $('layout').classList.add('open');
    if (!tr || window.matchMedia('(max-width: 1099px)').matches) d.focus();
  }
  function closeDetail() {
    state.selected = null; state.selectedItem = null;
    $('detail').hidden = true;
    $('layout').classList.remove('open');
    Array.prototype.forEach.call(document.querySelectorAll('#events tr.selected'), function (x) { x.classList.remove('selected'); });
    var back = state.returnFocus && document.body.contains(state.returnFocus) ? state.returnFocus : document.querySelector('#events tr.row');
    if (back) back.focus();
  }

  // ---- loading ----
  var loading = null;
  function load() {
    var q = apiQuery(true).toString(), tq = apiQuery(false);
    tq.set('interval', '1');
    loading = Promise.all([get('/micro/events' + (q ? '?' + q : '')), get('/micro/timeline?' + tq.toString())]).then(function (r) {
      render(r[0]);
      renderTimeline(r[1]);
      if (r[0].page > r[0].totalPages) { setPage(r[0].totalPages); return; }
      say('');
    }).catch(function (e) { say(e.message, true); });
    return loading;
  }
  function poll() {
    return get('/micro/all').then(function (all) {
      $('live').className = 'live';
      $('mode').textContent = all.mode === 'pubsub' ? 'Pub/Sub emulator → enricher → files' : 'in-process enrichment';
      $('good-count').textContent = all.good;
      $('bad-count').textContent = all.bad;
      if (all.seq === state.seq) return;
      state.seq = all.seq;
      return load();
    }).catch(function () { $('live').className = 'live off'; });
  }
  function replay(seqs) {
    say('Replaying…');
    return fetch('/micro/replay', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(seqs ? { seqs: seqs } : {}) })
      .then(function (r) { return r.json().then(function (b) { if (!r.ok) throw new Error(b.error || 'replay answered ' + r.status); return b; }); })
      .then(function (b) {
        say('Replayed ' + b.replayed + ' bad row' + (b.replayed === 1 ? '' : 's') + (b.rebuilt ? ' with the schemas rebuilt from disk' : '') + ': ' + b.good + ' now good, ' + b.stillBad + ' still bad' + (b.duplicates ? ', ' + b.duplicates + ' already kept as good' : '') + (b.skipped.length ? ', ' + b.skipped.length + ' skipped (' + b.skipped[0].reason + ')' : '') + '.');
        if (seqs && state.selected === seqs[0]) closeDetail();
        return poll();
      })
      .catch(function (e) { say(e.message, true); });
  }

  // ---- wiring ----
  var typing = null;
  form.addEventListener('input', function (ev) {
    clearTimeout(typing);
    var delay = ev.target.tagName === 'SELECT' ? 0 : 300;
    typing = setTimeout(function () { formToUrl(true); load(); }, delay);
  });
  form.addEventListener('submit', function (ev) { ev.preventDefault(); clearTimeout(typing); formToUrl(true); load(); });
  $('clear').addEventListener('click', function () { FILTERS.forEach(function (k) { form.elements[k].value = ''; }); formToUrl(true); load(); });
  $('first').addEventListener('click', function () { setPage(1); });
  $('prev').addEventListener('click', function () { setPage(state.data.page - 1); });
  $('next').addEventListener('click', function () { setPage(state.data.page + 1); });
  $('last').addEventListener('click', function () { setPage(state.data.totalPages); });
  $('replay-all').addEventListener('click', function () { replay(null); });
  $('reset').addEventListener('click', function () { closeDetail(); fetch('/micro/reset', { method: 'POST' }).then(poll); });
  document.addEventListener('keydown', function (ev) {
    if (ev.key === 'Escape' && !$('detail').hidden) { ev.preventDefault(); closeDetail(); }
    else if (ev.key === '/' && !/^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement.tagName)) { ev.preventDefault(); form.elements.q.focus(); }
  });
  window.addEventListener('popstate', function () { urlToForm(); load(); });
  urlToForm();
  poll();
  setInterval(poll, 1000);
})();
</script>
</body>
</html>
`;
