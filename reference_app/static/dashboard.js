// Customer dashboard: follow the next session and the history without a reload.
(function () {
  const slot = document.getElementById('next-session-slot');
  const history = document.getElementById('session-history');

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function renderNext(next) {
    const current = slot.querySelector('[data-testid="next-session"]');
    if (next && current && current.dataset.sessionId === next.id && current.dataset.status === next.status) return;
    if (!next && slot.querySelector('[data-testid="no-upcoming-sessions"]')) return;
    slot.replaceChildren();
    if (!next) {
      slot.append(el('p', {'data-testid': 'no-upcoming-sessions'}, 'No upcoming sessions'));
      slot.append(el('a', {class: 'button', href: '/onboarding/pricing', 'data-testid': 'pick-plan'}, 'Pick a plan'));
      return;
    }
    const box = el('div', {'data-testid': 'next-session', 'data-session-id': next.id, 'data-status': next.status});
    const line = el('p');
    line.append(el('strong', {}, next.plan), ' · status ',
      el('span', {class: `status status-${next.status}`, 'data-testid': 'next-session-status'}, next.status));
    box.append(line);
    if (next.status === 'live') {
      box.append(el('a', {class: 'button', href: next.url, 'data-testid': 'join-session'}, 'Join Session'));
    } else {
      box.append(el('p', {class: 'muted'}, 'Waiting for a mechanic to accept your request…'));
    }
    slot.append(box);
  }

  function renderHistory(items) {
    const key = items.map((i) => i.id + i.status).join(',');
    if (history.dataset.key === key) return;
    history.dataset.key = key;
    history.replaceChildren();
    if (!items.length) history.append(el('li', {class: 'muted', 'data-testid': 'no-history'}, 'No past sessions'));
    items.forEach((item) => {
      const li = el('li', {'data-testid': 'history-item', 'data-session-id': item.id, 'data-status': item.status});
      li.append(`${item.plan} · `, el('span', {class: `status status-${item.status}`}, item.status), ' · ',
        el('time', {datetime: item.created_at}, item.created_at.slice(0, 16).replace('T', ' ')));
      history.append(li);
    });
  }

  const first = slot.querySelector('[data-testid="next-session"]');
  if (first) first.dataset.status = first.querySelector('[data-testid="next-session-status"]').textContent.trim();

  async function poll() {
    try {
      const res = await fetch('/api/customer/sessions', {headers: {Accept: 'application/json'}});
      if (res.ok) {
        const body = await res.json();
        renderNext(body.next);
        renderHistory(body.history);
      }
    } catch (err) { /* next tick */ }
    setTimeout(poll, 1000);
  }
  setTimeout(poll, 1000);
})();
