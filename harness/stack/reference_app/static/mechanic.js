// Mechanic dashboard: follow the pending requests (updates.js) and accept one.
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
        rows.append(withAccept(row(r)));
      }
    });
    empty.hidden = requests.length > 0;
  }

  // On each button, not delegated to the list: a request taken by another mechanic leaves the
  // list at once, and a click already on its way must still reach the server (and say so).
  async function accept(event) {
    const button = event.currentTarget;
    const item = button.closest('#request-rows > *');
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
    if (res.status === 409 || res.status === 404) {
      if (item) item.remove();
    } else {
      button.disabled = false;
    }
    empty.hidden = shown().length > 0;
  }

  function withAccept(item) {
    item.querySelectorAll('button.accept').forEach((button) => button.addEventListener('click', accept));
    return item;
  }
  shown().forEach(withAccept);

  // Fetched when the page has subscribed and after each change to the pending requests.
  followUpdates(async () => {
    const res = await fetch('/api/mechanics/requests', {headers: {Accept: 'application/json'}});
    if (res.ok) render((await res.json()).requests);
  });
})();
