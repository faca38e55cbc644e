// Checkout: confirm the card with Stripe.js. localstripe's stand-in (it defines
// LOCALSTRIPE_BASE_API) can make card tokens but cannot confirm a new card, so
// there the server attaches the token and confirms; confirmCardPayment then
// only runs for a card that asks for 3-D Secure.
(function () {
  const root = document.getElementById('checkout');
  const errorBox = document.getElementById('payment-error');
  const button = document.getElementById('pay-button');
  const intentId = root.dataset.paymentIntent;
  const clientSecret = root.dataset.clientSecret;
  const stripe = Stripe(root.dataset.publishableKey);
  const card = stripe.elements().create('card');
  card.mount('#card-element');
  const embedded = typeof LOCALSTRIPE_BASE_API !== 'undefined';

  function showError(message) {
    errorBox.textContent = message || 'Your card was declined.';
    errorBox.hidden = false;
  }

  async function payEmbedded() {
    if (!card.value) return {error: {message: 'Enter your card details.'}};
    const {token, error} = await stripe.createToken(card);
    if (error) return {error: {message: (error && error.message) || 'Your card details are not valid.'}};
    const res = await fetch(`/api/checkout/${encodeURIComponent(intentId)}/card`, {
      method: 'POST',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({token: token.id}),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) return {error: {message: body.error}};
    if (body.status === 'requires_action') return stripe.confirmCardPayment(clientSecret);
    return {paymentIntent: {id: intentId, status: body.status}};
  }

  button.addEventListener('click', async () => {
    button.disabled = true;
    errorBox.hidden = true;
    try {
      const result = embedded
        ? await payEmbedded()
        : await stripe.confirmCardPayment(clientSecret, {payment_method: {card: card}});
      if (result.error) {
        showError(result.error.message);
      } else if (!['succeeded', 'processing'].includes(result.paymentIntent.status)) {
        showError('The payment was not completed; try again.');
      } else {
        window.location.assign(`${root.dataset.successUrl}?payment_intent=${encodeURIComponent(intentId)}`);
        return;
      }
    } catch (err) {
      showError((err && err.message) || 'The payment failed.');
    }
    button.disabled = false;
  });
})();
