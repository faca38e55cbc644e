// Success page: poll until the payment has become a session (webhook or this page fulfils it).
(function () {
  const root = document.getElementById('success');
  const status = document.getElementById('session-status');
  if (!root || !status || status.dataset.sessionId) return;
  // The payment's status: /api/checkout/<pi> (card page) or /api/checkout/session/<cs> (Checkout).
  const statusUrl = root.dataset.statusUrl || `/api/checkout/${encodeURIComponent(root.dataset.paymentIntent)}`;
  let tries = 0;
  async function poll() {
    tries += 1;
    try {
      const res = await fetch(statusUrl, {headers: {Accept: 'application/json'}});
      const body = await res.json();
      if (body.state === 'fulfilled') {
        status.textContent = body.session_status;
        status.dataset.sessionId = body.session_id;
        return;
      }
      if (body.state === 'blocked' || body.state === 'failed') {
        window.location.reload();
        return;
      }
    } catch (err) { /* retry below */ }
    if (tries < 120) setTimeout(poll, 1000);
  }
  setTimeout(poll, 500);
})();
