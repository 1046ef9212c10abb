// The viewer page, kept as strings so the build (tsc) ships it with no copy step. Plain HTML, CSS
// and browser JS, no framework: a camera list polled every 2 s, a page of it at a time, hls.js
// for the players.

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>trio-relay ingest</title>
<link rel="stylesheet" href="/viewer/style.css">
</head>
<body>
<header>
  <h1>trio-relay ingest</h1>
  <p id="status">loading…</p>
  <nav id="pages" hidden>
    <button id="prev" type="button">‹ previous</button>
    <button id="next" type="button">next ›</button>
  </nav>
  <form id="key-form" hidden>
    <label>This ingest needs its API key: <input id="key" type="password" autocomplete="off"></label>
    <button>Show</button>
  </form>
</header>
<p class="legend">
  <span class="run received"></span> received
  <span class="run declared"></span> lost, declared by the relay (X-Segment-Gap)
  <span class="run silent"></span> missing, not declared
  <span class="run received dup"></span> duplicate arrived
</p>
<main id="cameras"></main>
<script src="/viewer/hls.js"></script>
<script src="/viewer/app.js"></script>
</body>
</html>
`;

export const PAGE_CSS = `body { font: 14px/1.4 system-ui, sans-serif; margin: 1rem 2rem; color: #222; }
h1 { font-size: 1.3rem; margin: 0; }
h2 { font-size: 1.1rem; margin: 0 0 .5rem; }
h2 small { color: #666; font-weight: normal; }
header { display: flex; gap: 2rem; align-items: baseline; flex-wrap: wrap; }
#status { color: #666; margin: 0; }
.camera { border: 1px solid #ccc; border-radius: 6px; padding: 1rem; margin: 1rem 0; }
.camera .top { display: flex; gap: 1.5rem; flex-wrap: wrap; }
video { width: 480px; max-width: 100%; background: #000; aspect-ratio: 16 / 9; }
.facts { margin: 0; }
.facts dt { color: #666; float: left; clear: left; width: 8rem; }
.facts dd { margin-left: 8.5rem; }
.strip { display: flex; height: 28px; margin: .8rem 0 .2rem; border: 1px solid #999; }
.run { display: inline-block; min-width: 2px; height: 100%; }
.legend .run { width: 14px; height: 12px; vertical-align: middle; margin-left: 1rem; border: 1px solid #999; }
.run.received { background: #4caf50; }
.run.declared { background: #ff9800; }
.run.silent { background: #e53935; }
.gaps li.declared { color: #b45309; } .gaps li.silent { color: #c62828; }
.dup { box-shadow: inset 0 4px 0 #1e40af; }
.axis { display: flex; justify-content: space-between; color: #666; font-size: 12px; }
.gaps { margin: .4rem 0; padding-left: 1.2rem; }
table { border-collapse: collapse; font-size: 12px; margin-top: .5rem; }
td, th { border-bottom: 1px solid #eee; padding: 2px 8px; text-align: left; white-space: nowrap; }
td.note { white-space: normal; }
.status-accepted { color: #2e7d32; } .status-rejected, .status-fault { color: #c62828; } .status-duplicate { color: #1e40af; }
`;

export const PAGE_JS = `'use strict';
(() => {
  const POLL_MS = 2000;
  // Cameras per page: the ingest answers the list a page at a time (?offset=&limit=).
  const PAGE = 20;
  let offset = 0;
  const players = new Map();
  let key = new URLSearchParams(location.hash.slice(1)).get('key') || sessionStorage.getItem('trio-key') || '';
  if (key) sessionStorage.setItem('trio-key', key);
  const headers = () => (key ? { 'x-api-key': key } : {});
  const $ = (tag, attrs = {}, ...children) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    for (const c of children) el.append(c);
    return el;
  };

  document.getElementById('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    key = document.getElementById('key').value.trim();
    sessionStorage.setItem('trio-key', key);
    poll();
  });

  document.getElementById('prev').addEventListener('click', () => {
    offset = Math.max(0, offset - PAGE);
    poll();
  });
  document.getElementById('next').addEventListener('click', () => {
    offset += PAGE;
    poll();
  });

  async function poll() {
    clearTimeout(poll.timer);
    try {
      const url = '/viewer/api/cameras?offset=' + offset + '&limit=' + PAGE;
      const res = await fetch(url, { headers: headers(), cache: 'no-store' });
      document.getElementById('key-form').hidden = res.status !== 401;
      if (res.status === 401) {
        document.getElementById('status').textContent = 'API key needed';
        return;
      }
      const state = await res.json();
      if (state.cameras.length === 0 && offset > 0) {
        offset = Math.max(0, Math.floor((state.total - 1) / PAGE) * PAGE); // the list got shorter
        return poll();
      }
      render(state);
      const shown = state.total > PAGE ? ', showing ' + (offset + 1) + '–' + (offset + state.cameras.length) : '';
      document.getElementById('status').textContent =
        state.total + ' camera(s)' + shown + ', updated ' + new Date().toLocaleTimeString();
      document.getElementById('pages').hidden = state.total <= PAGE;
      document.getElementById('prev').disabled = offset === 0;
      document.getElementById('next').disabled = offset + state.cameras.length >= state.total;
    } catch (error) {
      document.getElementById('status').textContent = 'ingest unreachable: ' + error.message;
    }
    poll.timer = setTimeout(poll, POLL_MS);
  }

  function render(state) {
    const main = document.getElementById('cameras');
    const shown = new Set(state.cameras.map((camera) => camera.id));
    for (const section of [...main.querySelectorAll('section[data-camera]')]) {
      const id = section.getAttribute('data-camera');
      if (shown.has(id)) continue;
      players.get(id)?.hls?.destroy(); // another page: its player stops loading
      players.delete(id);
      section.remove();
    }
    for (const camera of state.cameras) {
      let section = main.querySelector('section[data-camera="' + CSS.escape(camera.id) + '"]');
      if (!section) {
        section = cameraSection(camera);
        main.append(section);
      }
      update(section, camera);
    }
  }

  function cameraSection(camera) {
    const video = $('video', { controls: '', muted: '', playsinline: '' });
    video.muted = true;
    const section = $('section', { class: 'camera', 'data-camera': camera.id },
      $('h2', {}, $('span', { class: 'name' }), ' ', $('small', {}, camera.id)),
      $('div', { class: 'top' }, video, $('dl', { class: 'facts' })),
      $('div', { class: 'strip' }), $('div', { class: 'axis' }), $('ul', { class: 'gaps' }),
      $('table', {}, $('thead', {}, $('tr', {}, ...['arrived', 'event', 'seq', 'status', 'http', 'size', 'notes'].map((h) => $('th', {}, h)))), $('tbody')));
    players.set(camera.id, { video, attached: false });
    return section;
  }

  function attach(camera) {
    const player = players.get(camera.id);
    if (player.attached || camera.segments === 0) return;
    player.attached = true;
    const src = camera.playlist;
    if (window.Hls && Hls.isSupported()) {
      const hls = new Hls({ xhrSetup: (xhr) => key && xhr.setRequestHeader('x-api-key', key) });
      player.hls = hls;
      hls.loadSource(src);
      hls.attachMedia(player.video);
      hls.on(Hls.Events.MANIFEST_PARSED, () => player.video.play().catch(() => {}));
      // The ingest went away (an outage, a restart): try again rather than stay black.
      hls.on(Hls.Events.ERROR, (_event, data) => {
        if (!data.fatal) return;
        setTimeout(() => (data.type === Hls.ErrorTypes.MEDIA_ERROR ? hls.recoverMediaError() : hls.startLoad()), POLL_MS);
      });
    } else {
      player.video.src = src; // Safari plays HLS natively (without the key header)
      player.video.play().catch(() => {});
    }
  }

  function update(section, camera) {
    attach(camera);
    section.querySelector('.name').textContent = camera.name || '(unregistered)';
    const facts = section.querySelector('.facts');
    facts.replaceChildren(...[
      ['registered', camera.registeredAt || 'no'],
      ['segments kept', camera.segments + ' (' + (camera.bytes / 1048576).toFixed(1) + ' MB)'],
      ['accepted', camera.counts.accepted], ['duplicates', camera.counts.duplicate],
      ['rejected', camera.counts.rejected], ['faults', camera.counts.fault],
      ['last seen', camera.lastSeen],
    ].flatMap(([k, v]) => [$('dt', {}, k), $('dd', {}, String(v))]));

    const strip = section.querySelector('.strip');
    strip.replaceChildren(...camera.timeline.map((run) => {
      const n = run.to - run.from + 1;
      const what = run.kind === 'received' ? 'received' : run.kind === 'declared' ? 'lost, declared: ' + run.reason : 'missing, not declared';
      const dups = run.duplicates ? ', ' + run.duplicates + ' duplicate(s)' : '';
      const el = $('span', {
        class: 'run ' + run.kind + (run.duplicates ? ' dup' : ''),
        'data-from': run.from, 'data-to': run.to,
        title: 'seq ' + run.from + (n > 1 ? '–' + run.to : '') + ': ' + what + dups,
      });
      el.style.flexGrow = String(n);
      return el;
    }));
    const first = camera.timeline[0], last = camera.timeline.at(-1);
    section.querySelector('.axis').replaceChildren($('span', {}, first ? 'seq ' + first.from : ''), $('span', {}, last ? 'seq ' + last.to : ''));
    section.querySelector('.gaps').replaceChildren(...camera.timeline.filter((r) => r.kind !== 'received').slice(-5).map((r) =>
      $('li', { class: r.kind }, 'seq ' + r.from + (r.to > r.from ? '–' + r.to : '') + ': ' + (r.kind === 'declared' ? 'lost, the relay says: ' + r.reason : 'missing, not declared'))));

    section.querySelector('tbody').replaceChildren(...camera.recent.slice().reverse().map((row) => $('tr', {},
      $('td', {}, row.ts.slice(11, 23)), $('td', {}, row.event), $('td', {}, row.sequence ?? '-'),
      $('td', { class: 'status-' + row.status }, row.status), $('td', {}, String(row.http_status)),
      $('td', {}, (row.size / 1024).toFixed(1) + ' KB'), $('td', { class: 'note' }, notes(row)))));
  }

  function notes(row) {
    const parts = [];
    if (Array.isArray(row.gap)) parts.push('gap ' + row.gap.map((g) => g.seq_from + '-' + g.seq_to + ' ' + g.reason).join(', '));
    else if (row.gap) parts.push('gap ' + row.gap.raw);
    if (row.clock_jump !== null) parts.push('clock jump ' + row.clock_jump + ' s');
    return parts.join('; ');
  }

  poll();
})();
`;
