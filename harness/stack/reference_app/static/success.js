// Success page: wait until the payment has become a session (the webhook or this page fulfils
// it) or was refused. Its status is fetched when the page has subscribed to the customer's
// changes (updates.js) and after each, which is when the session appears or the refund is made.
(function () {
  const root = document.getElementById('success');
  const status = document.getElementById('session-status');
  if (!root || !status || status.dataset.sessionId) return;
  // The payment's status: /api/checkout/<pi> (card page) or /api/checkout/session/<cs> (Checkout).
  const statusUrl = root.dataset.statusUrl;
  const updates = followUpdates(async () => {
    if (status.dataset.sessionId) return;
    const res = await fetch(statusUrl, {headers: {Accept: 'application/json'}});
    const body = await res.json();
    if (body.state === 'fulfilled') {
      status.textContent = body.session_status;
      status.dataset.sessionId = body.session_id;
      updates.stop();
    } else if (body.state === 'blocked' || body.state === 'failed') {
      updates.stop();
      window.location.reload();
    }
  });
})();
