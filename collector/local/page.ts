/**
 * The events page (`/micro/ui`): the latest good and bad events in two tables, refreshed live. It polls
 * `/micro/all` every second and reloads the tables only when the sequence number moved. Data is written with
 * textContent only (event data is untrusted). Click a row to see the whole row or bad row as JSON.
 */
export const EVENTS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Waymark local · events</title>
<style>
  :root { --fg: #1d2433; --muted: #5d6b82; --line: #e3e8ef; --good: #137a4b; --bad: #b42318; --bg: #f7f9fc; --accent: #2952cc; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
  header { display: flex; align-items: center; gap: 16px; padding: 14px 24px; background: #fff; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0; }
  .badge { padding: 2px 10px; border-radius: 999px; font-size: 12px; background: #eef2ff; color: var(--accent); }
  .count { font-weight: 600; }
  .count.good { color: var(--good); } .count.bad { color: var(--bad); }
  .spacer { flex: 1; }
  .live { font-size: 12px; color: var(--muted); }
  .live::before { content: "●"; color: var(--good); margin-right: 4px; }
  .live.off::before { color: var(--bad); }
  button, a.button { font: inherit; padding: 5px 12px; border: 1px solid var(--line); border-radius: 6px; background: #fff; color: var(--fg); cursor: pointer; text-decoration: none; }
  button:hover, a.button:hover { border-color: var(--accent); }
  main { padding: 8px 24px 40px; }
  h2 { font-size: 15px; margin: 22px 0 8px; display: flex; gap: 8px; align-items: baseline; }
  h2 small { color: var(--muted); font-weight: normal; }
  table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
  th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); background: #fbfcfe; }
  tbody tr.row { cursor: pointer; }
  tbody tr.row:hover { background: #f3f6fb; }
  td.mono, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
  td.url { max-width: 260px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  td.nowrap { white-space: nowrap; }
  td.what { max-width: 360px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; color: var(--muted); }
  .tag { display: inline-block; margin: 1px 4px 1px 0; padding: 0 6px; border-radius: 4px; background: #f0f3f8; font-size: 12px; }
  .type { font-weight: 600; }
  .bad .type { color: var(--bad); }
  .good .type { color: var(--good); }
  ul.errors { margin: 0; padding-left: 18px; }
  pre { margin: 0; max-height: 420px; overflow: auto; background: #0f172a; color: #e2e8f0; padding: 12px; border-radius: 6px; font-size: 12px; }
  tr.detail td { background: #f8fafc; }
  .empty td { color: var(--muted); text-align: center; padding: 18px; }
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
  <button type="button" id="reset">Reset</button>
</header>
<main>
  <h2>Good events <small>latest first · enriched rows as BigQuery gets them · click a row for all its columns</small></h2>
  <table id="good" class="good">
    <thead><tr><th>#</th><th>Received</th><th>Event</th><th>Details</th><th>Schema</th><th>Page</th><th>Entities</th></tr></thead>
    <tbody><tr class="empty"><td colspan="7">No events yet: open the demo site, or send events to this collector.</td></tr></tbody>
  </table>
  <h2>Bad events <small>latest first · what failed, and the payload kept for replay</small></h2>
  <table id="bad" class="bad">
    <thead><tr><th>#</th><th>Received</th><th>Failure</th><th>Where</th><th>Messages</th></tr></thead>
    <tbody><tr class="empty"><td colspan="5">No bad events.</td></tr></tbody>
  </table>
</main>
<script>
(function () {
  var seq = -1, open = {};
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function time(iso) { return iso ? iso.slice(11, 19) : ''; }
  function shortSchema(s) { return s ? s.replace(/^iglu:/, '') : ''; }
  // The entity's column without contexts_; the vendor of the built-in entities (web_page, client_session) is left out
  // too. Other vendors stay: a column name cannot tell where a vendor ends and a name begins.
  function entityName(column) { return column.replace(/^contexts_(com_snowplowanalytics_snowplow_)?/, ''); }
  // What the event says, in a few words: the struct fields, the self-describing data, the title, the scroll depth.
  function what(g) {
    var e = g.event;
    if (g.eventType === 'struct') return [e.se_category, e.se_action, e.se_label, e.se_property, e.se_value].filter(function (v) { return v !== undefined && v !== null; }).join(' · ');
    if (g.eventType === 'unstruct') {
      for (var k in e) if (k.indexOf('unstruct_event_') === 0) return JSON.stringify(e[k]);
      return '';
    }
    if (g.eventType === 'page_ping') return 'scrolled to ' + (e.pp_yoffset_max || 0) + ' px';
    return e.page_title || '';
  }
  function detail(tbody, row, key, value, colspan) {
    row.addEventListener('click', function () {
      var next = row.nextSibling;
      if (next && next.className === 'detail') { tbody.removeChild(next); delete open[key]; return; }
      var tr = el('tr', 'detail'), td = el('td');
      td.colSpan = colspan;
      td.appendChild(el('pre', 'mono', JSON.stringify(value, null, 2)));
      tr.appendChild(td);
      tbody.insertBefore(tr, row.nextSibling);
      open[key] = true;
    });
    if (open[key]) row.click();
  }
  function fill(table, items, colspan, emptyText, render) {
    var tbody = table.tBodies[0];
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    if (!items.length) {
      var tr = el('tr', 'empty'), td = el('td', '', emptyText);
      td.colSpan = colspan; tr.appendChild(td); tbody.appendChild(tr);
      return;
    }
    items.forEach(function (item) { render(tbody, item); });
  }
  function renderGood(tbody, g) {
    var tr = el('tr', 'row');
    tr.dataset.seq = g.seq;
    tr.appendChild(el('td', 'mono', g.seq));
    var received = el('td', 'mono', time(g.received));
    received.title = g.received;
    tr.appendChild(received);
    tr.appendChild(el('td', 'type', g.eventType === 'unstruct' ? g.eventName : g.eventType || g.eventName));
    var w = el('td', 'what', what(g));
    w.title = w.textContent;
    tr.appendChild(w);
    tr.appendChild(el('td', 'mono nowrap', shortSchema(g.schema)));
    var url = el('td', 'url mono', g.event.page_urlpath ? g.event.page_urlpath + (g.event.page_urlquery ? '?' + g.event.page_urlquery : '') : '');
    url.title = g.event.page_url || '';
    tr.appendChild(url);
    var ents = el('td');
    g.contexts.forEach(function (c) { var t = el('span', 'tag', entityName(c)); t.title = c; ents.appendChild(t); });
    tr.appendChild(ents);
    tbody.appendChild(tr);
    detail(tbody, tr, 'g' + g.seq, g.event, 7);
  }
  function renderBad(tbody, b) {
    var tr = el('tr', 'row');
    tr.dataset.seq = b.seq;
    tr.appendChild(el('td', 'mono', b.seq));
    var received = el('td', 'mono', time(b.received));
    received.title = b.received;
    tr.appendChild(received);
    tr.appendChild(el('td', 'type', b.type));
    tr.appendChild(el('td', '', b.processor || ''));
    var td = el('td'), ul = el('ul', 'errors');
    b.errors.forEach(function (m) { ul.appendChild(el('li', 'mono', m)); });
    td.appendChild(ul);
    tr.appendChild(td);
    tbody.appendChild(tr);
    detail(tbody, tr, 'b' + b.seq, b.badRow, 5);
  }
  function get(path) {
    return fetch(path, { cache: 'no-store' }).then(function (r) {
      if (!r.ok) throw new Error(path + ' answered ' + r.status);
      return r.json();
    });
  }
  function refresh() {
    return get('/micro/all').then(function (all) {
      document.getElementById('live').className = 'live';
      document.getElementById('mode').textContent = all.mode === 'pubsub' ? 'Pub/Sub emulator → enricher → files' : 'in-process enrichment';
      document.getElementById('good-count').textContent = all.good;
      document.getElementById('bad-count').textContent = all.bad;
      if (all.seq === seq) return;
      return Promise.all([get('/micro/good?limit=100'), get('/micro/bad?limit=50')]).then(function (r) {
        seq = all.seq;
        fill(document.getElementById('good'), r[0], 7, 'No events yet: open the demo site, or send events to this collector.', renderGood);
        fill(document.getElementById('bad'), r[1], 5, 'No bad events.', renderBad);
        document.body.dataset.seq = String(seq);
      });
    }).catch(function () {
      document.getElementById('live').className = 'live off';
    });
  }
  document.getElementById('reset').addEventListener('click', function () {
    fetch('/micro/reset', { method: 'POST' }).then(refresh);
  });
  refresh();
  setInterval(refresh, 1000);
})();
</script>
</body>
</html>
`;
