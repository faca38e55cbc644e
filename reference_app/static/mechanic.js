// Mechanic dashboard: follow the pending requests and accept one.
(function () {
  const rows = document.getElementById('request-rows');
  const empty = document.getElementById('no-requests');
  const errorBox = document.getElementById('accept-error');

  function cell(testid, text, attrs) {
    const td = document.createElement('td');
    td.dataset.testid = testid;
    td.textContent = text;
    Object.entries(attrs || {}).forEach(([k, v]) => td.setAttribute(k, v));
    return td;
  }

  function row(r) {
    const tr = document.createElement('tr');
    tr.dataset.testid = `request-${r.id}`;
    tr.dataset.requestId = r.id;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'accept';
    button.dataset.requestId = r.id;
    button.dataset.testid = `accept-${r.id}`;
    button.textContent = 'Accept';
    const action = document.createElement('td');
    action.append(button);
    tr.append(
      cell('request-customer', r.customer_name),
      cell('request-plan', r.plan),
      cell('request-vehicle', r.vehicle_text, {title: r.description}),
      cell('request-age', `${Math.floor(r.age_seconds / 60)} min`, {'data-created-at': r.created_at}),
      action,
    );
    return tr;
  }

  function render(requests) {
    const wanted = new Map(requests.map((r) => [r.id, r]));
    rows.querySelectorAll('tr[data-request-id]').forEach((tr) => {
      if (!wanted.has(tr.dataset.requestId)) tr.remove();
    });
    requests.forEach((r) => {
      const existing = rows.querySelector(`tr[data-request-id="${r.id}"]`);
      if (existing) {
        existing.querySelector('[data-testid="request-age"]').textContent = `${Math.floor(r.age_seconds / 60)} min`;
      } else {
        rows.append(row(r));
      }
    });
    empty.hidden = requests.length > 0;
  }

  rows.addEventListener('click', async (event) => {
    const button = event.target.closest('button.accept');
    if (!button) return;
    button.disabled = true;
    errorBox.hidden = true;
    const res = await fetch(`/api/mechanics/requests/${button.dataset.requestId}/accept`, {method: 'POST'});
    const body = await res.json().catch(() => ({}));
    if (res.ok) {
      window.location.assign(body.url);
      return;
    }
    errorBox.textContent = body.error || 'This request could not be accepted';
    errorBox.hidden = false;
    if (res.status === 409 || res.status === 404) button.closest('tr').remove();
    else button.disabled = false;
    empty.hidden = rows.querySelectorAll('tr[data-request-id]').length > 0;
  });

  async function poll() {
    try {
      const res = await fetch('/api/mechanics/requests', {headers: {Accept: 'application/json'}});
      if (res.ok) render((await res.json()).requests);
    } catch (err) { /* next tick */ }
    setTimeout(poll, 1000);
  }
  setTimeout(poll, 1000);
})();
