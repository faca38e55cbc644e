// Mechanic dashboard: follow the pending requests and accept one.
// A request is a child of #request-rows with data-request-id, made from the page's <template>
// tpl-request (fill.js); its [data-age] element shows how long it has waited, its button.accept
// accepts it.
(function () {
  const rows = document.getElementById('request-rows');
  const empty = document.getElementById('no-requests');
  const errorBox = document.getElementById('accept-error');

  const row = (r) => fromTemplate('tpl-request', {...r, minutes: Math.floor(r.age_seconds / 60)});
  const shown = () => rows.querySelectorAll(':scope > [data-request-id]');

  function render(requests) {
    const wanted = new Map(requests.map((r) => [r.id, r]));
    shown().forEach((item) => {
      if (!wanted.has(item.dataset.requestId)) item.remove();
    });
    requests.forEach((r) => {
      const existing = rows.querySelector(`:scope > [data-request-id="${r.id}"]`);
      if (existing) {
        existing.querySelector('[data-age]').replaceWith(row(r).querySelector('[data-age]'));
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
    if (res.status === 409 || res.status === 404) button.closest('#request-rows > *').remove();
    else button.disabled = false;
    empty.hidden = shown().length > 0;
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
