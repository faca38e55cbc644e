"""The embedded Stripe's front: Checkout Sessions beside localstripe, on one API base.

``python -m harness.stack.stripe_front --port N --localstripe URL`` serves, on
127.0.0.1:N, the Stripe API base that the embedded stack hands to the app and
the harness:

- ``/v1/checkout/sessions`` (create, retrieve, list, expire, line items), the
  Checkout Session API that localstripe does not implement, answered here as
  Stripe answers (form-encoded parameters, objects and errors in Stripe's
  shape), so the official ``stripe`` library works unchanged;
- ``/c/pay/<session id>``: the session's hosted payment page (email, card
  number, expiry, CVC, cardholder name, postal code; labelled and named like
  Stripe's hosted page), which pays by creating and confirming a
  PaymentIntent in localstripe;
- ``POST /_config/webhooks/<name>``: localstripe's webhook registration,
  recorded here and passed on, so that localstripe's events and the Checkout
  events go to the same endpoints, each with its ``events`` filter;
- ``GET /_pitstop/events/<object id>?type=<event type>``: the last event of
  that type sent for that object, as it was sent (a test sends it again to
  show the app takes it once), found by the object: not Stripe's API. A
  Checkout Session's events are answered here; any other object's are looked
  up in localstripe (``harness.stack.localstripe_run`` indexes them);
- everything else (``/v1/payment_intents``, ``/js.stripe.com/v3/``, …) is
  forwarded to localstripe unchanged.

Why a front and not a second server: the ``stripe`` library (and an app using
it) has one API base, so one address must answer both the Checkout API and
everything localstripe answers. localstripe (GPL-3.0) runs unmodified as its
own process; this module never imports it. State is in memory, as
localstripe's is. Live keys are refused on every ``/v1`` path.

Stripe's behaviour kept here: ``{CHECKOUT_SESSION_ID}`` in ``success_url`` is
replaced on the 303 redirect after paying; ``url`` is null once a session is
no longer open; ``payment_intent`` is null until paid; a session expires 24
hours after creation unless ``expires_at`` says otherwise (30 minutes to 24
hours); ``checkout.session.completed`` and ``checkout.session.expired`` are
sent signed as Stripe signs (``harness.stripe_wire.signature_header``), right
away, each endpoint once, each delivery bounded by a timeout; Stripe's
documented test cards decline with Stripe's messages (4000 0000 0000 0002:
"Your card was declined.").

Where it differs from Stripe, on purpose or for want of localstripe support:

- the PaymentIntent gets ``payment_intent_data[metadata]`` only, as on
  Stripe: the session's own ``metadata`` stays on the session;
- ``line_items[][price]`` is looked up in localstripe, which has no Prices API:
  every Price id is "No such price"; use ``price_data``;
- only ``mode=payment`` and cards; no customers, discounts, taxes, shipping,
  subscriptions, 3D Secure (a card that needs it is refused on the page) or
  embedded ``ui_mode``; unknown parameters are refused, as Stripe refuses them;
- a declined attempt leaves no failed PaymentIntent behind for the cards the
  front declines itself (localstripe declines them only when attaching);
- webhook deliveries are not retried and the events are not listed by
  ``/v1/events`` (localstripe's): ``/_pitstop/events`` finds one by its
  session; a session past its ``expires_at`` is expired when it is next
  looked at.

Not exercised here: Stripe's real hosted Checkout page (``checkout.stripe.com``)
and live Stripe are not reachable from this machine, so nothing here shows that
Stripe's page or API behaves exactly so; this front follows Stripe's
documentation.
"""
