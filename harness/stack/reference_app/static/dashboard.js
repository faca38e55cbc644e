// Customer dashboard: follow the next session and the history without a reload (updates.js).
// The markup is the page's: its <template>s tpl-next-live, tpl-next-waiting, tpl-no-next,
// tpl-history-item and tpl-no-history (fill.js).
(function () {
  const slot = document.getElementById('next-session-slot');
  const history = document.getElementById('session-history');

  function renderNext(next) {
    const key = next ? `${next.id}:${next.status}` : 'none';
    if (slot.dataset.key === key) return;
    slot.dataset.key = key;
    const template = !next ? 'tpl-no-next' : next.status === 'live' ? 'tpl-next-live' : 'tpl-next-waiting';
    slot.replaceChildren(fromTemplate(template, next || {}));
  }

  function renderHistory(items) {
    const key = items.map((i) => i.id + i.status).join(',');
    if (history.dataset.key === key) return;
    history.dataset.key = key;
    const when = (item) => item.created_at.slice(0, 16).replace('T', ' ');
    history.replaceChildren(...(items.length
      ? items.map((item) => fromTemplate('tpl-history-item', {...item, when: when(item)}))
      : [fromTemplate('tpl-no-history', {})]));
  }

  // Fetched when the page has subscribed and after each change to the customer's sessions.
  followUpdates(async () => {
    const res = await fetch('/api/customer/sessions', {headers: {Accept: 'application/json'}});
    if (!res.ok) return;
    const body = await res.json();
    renderNext(body.next);
    renderHistory(body.history);
  });
})();
