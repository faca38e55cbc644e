// Admin cleanup page: check (dry run) or run the stale cleanup; refresh the health figures.
(function () {
  const result = document.getElementById('cleanup-result');
  const cells = document.querySelectorAll('#health-rows td[data-key]');
  const problems = document.getElementById('health-problems');

  function showHealth(h) {
    const text = {
      'sessions.pending': `${h.sessions.pending.total} (${h.sessions.pending.stale} stale)`,
      'sessions.waiting': `${h.sessions.waiting.total} (${h.sessions.waiting.stale} stale)`,
      'sessions.live': `${h.sessions.live.total}`,
      'sessions.completed': `${h.sessions.completed.total}`,
      'sessions.cancelled': `${h.sessions.cancelled.total}`,
      'requests.pending': `${h.requests.pending.total} (${h.requests.pending.stale} stale)`,
      orphans: `${h.orphans}`,
    };
    cells.forEach((td) => { td.textContent = text[td.dataset.key]; });
    problems.replaceChildren();
    (h.problems.length ? h.problems : [{code: '', message: 'No problems'}]).forEach((p) => {
      const li = document.createElement('li');
      li.dataset.code = p.code;
      li.textContent = p.message;
      problems.append(li);
    });
  }

  async function call(method) {
    result.textContent = '…';
    const res = await fetch('/api/admin/cleanup', {method, headers: {Accept: 'application/json'}});
    const body = await res.json().catch(() => ({error: res.statusText}));
    if (!res.ok) {
      result.textContent = body.error || 'failed';
      return;
    }
    result.dataset.dryRun = String(body.dry_run);
    result.textContent = JSON.stringify(body.result, null, 2);
    showHealth(body.health);
  }

  document.getElementById('cleanup-check').addEventListener('click', () => call('GET'));
  document.getElementById('cleanup-run').addEventListener('click', () => call('POST'));
})();
