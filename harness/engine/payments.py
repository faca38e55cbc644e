"""Paying without the card form: a real PaymentIntent or Checkout Session, through the Stripe API.

The way ``stripe trigger`` works: the harness creates and confirms a
PaymentIntent with the metadata the app's checkout would set, and Stripe (or
localstripe, embedded) sends the app its signed ``payment_intent.succeeded``
webhook. Only test keys are accepted.

For an app that pays through Stripe Checkout (``[tool.pitstop.payments] kind =
"checkout_session"``), ``pay_checkout_session`` creates a real Checkout Session
with the app's metadata and completes it by posting the hosted page's form
over HTTP (the fields the embedded Stripe's page has, ``harness.stack.stripe_front``),
with no browser; the caller then delivers the signed
``checkout.session.completed`` itself (``deliver``), so nothing waits on a
webhook delay. Stripe's real hosted page takes a browser: this works against
the embedded Stripe only, whose page is on loopback.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlsplit

import httpx

from harness.errors import PitstopError, Unreachable, Unsupported
from harness.store.safety import check_stripe_key, is_loopback
from harness.stripe_wire import REQUEST_TIMEOUT_S, require_stripe


class Payments:
    """Stripe test-mode calls on behalf of a test customer."""

    def __init__(
        self, *, secret_key: str, api_base: str | None = None, timeout_s: float = REQUEST_TIMEOUT_S
    ) -> None:
        check_stripe_key(secret_key)
        if not secret_key.startswith(("sk_test_", "rk_test_")):
            raise PitstopError(
                "paying by webhook needs a Stripe test key", fix="set STRIPE_SECRET_KEY=sk_test_…"
            )
        require_stripe()  # a base install has no stripe library: imported here and in the methods below
        import stripe

        base_addresses: Any = {"api": api_base} if api_base else {}
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses=base_addresses,
            http_client=stripe.new_default_http_client(timeout=timeout_s),
            max_network_retries=0,
        )
        self._where = api_base or "https://api.stripe.com"
        self._key = secret_key
        self._timeout_s = timeout_s

    def pay(
        self,
        *,
        amount: int,
        card: dict[str, str],
        metadata: dict[str, str],
        currency: str = "usd",
    ) -> str:
        """Create and confirm a PaymentIntent; returns its id.

        ``metadata``: what the app expects on it (``PaymentConfig.render``).
        """
        import stripe  # installed: __init__ imported it

        card_params: Any = {"card": {k: card[k] for k in ("number", "exp_month", "exp_year", "cvc")}}
        try:
            token = self._client.v1.tokens.create(params=card_params)
            buyer = self._client.v1.customers.create(params={"source": token.id})
            intent = self._client.v1.payment_intents.create(
                params={
                    "amount": amount,
                    "currency": currency,
                    "customer": buyer.id,
                    "payment_method": buyer.to_dict()["default_source"],
                    "metadata": metadata,
                }
            )
            intent = self._client.v1.payment_intents.confirm(intent.id)
        except stripe.APIConnectionError as exc:
            raise Unreachable(
                f"the Stripe API at {self._where} did not answer within {self._timeout_s:g} s: "
                f"{exc.user_message or exc}",
                fix="check that the Stripe API (localstripe, embedded) is running",
            ) from None
        except stripe.StripeError as exc:
            raise PitstopError(f"the Stripe API refused the payment: {exc.user_message or exc}") from None
        if intent.status != "succeeded":
            raise PitstopError(f"the payment {intent.id} ended {intent.status}, not succeeded")
        return str(intent.id)

    def pay_checkout_session(
        self,
        *,
        product: str,
        amount: int,
        currency: str,
        metadata: dict[str, str],
        customer_email: str,
        client_reference_id: str,
        card: dict[str, str],
        name: str,
        return_url: str,
    ) -> dict[str, Any]:
        """Create a Checkout Session as the app's route would, pay it on its hosted page's form over
        HTTP, and return the session as Stripe has it then (``complete``, ``paid``).

        The embedded Stripe only (its hosted page is on loopback): Stripe's own page takes a browser.
        ``return_url`` is the success and cancel URL; nothing follows it.
        """
        import stripe  # installed: __init__ imported it

        host = urlsplit(self._where).hostname or ""
        if not is_loopback(host):
            raise Unsupported(
                f"paying a Checkout Session by webhook needs the embedded Stripe, not {self._where}: "
                "Stripe's hosted Checkout page can only be paid in a browser",
                fix="use --pitstop-payment=ui, or give the app pitstop's embedded Stripe (STRIPE_API_BASE)",
            )
        try:
            session = self._client.v1.checkout.sessions.create(
                params={
                    "mode": "payment",
                    "line_items": [
                        {
                            "price_data": {
                                "currency": currency,
                                "unit_amount": amount,
                                "product_data": {"name": product},
                            },
                            "quantity": 1,
                        }
                    ],
                    "metadata": metadata,
                    "client_reference_id": client_reference_id,
                    "customer_email": customer_email,
                    "success_url": f"{return_url}?session_id={{CHECKOUT_SESSION_ID}}",
                    "cancel_url": return_url,
                }
            )
            url = session.url or ""
            if not is_loopback(urlsplit(url).hostname or ""):  # card fields go to loopback only
                raise PitstopError(
                    f"the Checkout Session's page {url or '(none)'} is not the embedded Stripe's"
                )
            self._post_hosted_form(session.id, url, card, customer_email, name)
            paid = self._client.v1.checkout.sessions.retrieve(session.id).to_dict()
        except stripe.APIConnectionError as exc:
            raise Unreachable(
                f"the Stripe API at {self._where} did not answer within {self._timeout_s:g} s: "
                f"{exc.user_message or exc}",
                fix="check that the Stripe API (localstripe, embedded) is running",
            ) from None
        except stripe.StripeError as exc:
            raise PitstopError(
                f"the Stripe API refused the Checkout Session: {exc.user_message or exc}"
            ) from None
        if (paid.get("status"), paid.get("payment_status")) != ("complete", "paid"):
            raise PitstopError(
                f"the Checkout Session {session.id} is {paid.get('status')} and "
                f"{paid.get('payment_status')} after paying, not complete and paid"
            )
        return paid

    def _post_hosted_form(
        self, session_id: str, url: str, card: dict[str, str], email: str, name: str
    ) -> None:
        """The hosted page's form, as a browser posts it (``harness.stack.stripe_front``'s field names)."""
        form = {
            "email": email,
            "cardNumber": card["number"],
            "cardExpiry": f"{int(card['exp_month']):02d} / {str(card['exp_year'])[-2:]}",
            "cardCvc": card["cvc"],
            "billingName": name,
            "billingPostalCode": card.get("postal_code") or "94107",
        }
        try:
            answer = httpx.post(url, data=form, timeout=self._timeout_s, follow_redirects=False)
        except httpx.HTTPError as exc:
            raise Unreachable(
                f"the hosted page {url} did not answer within {self._timeout_s:g} s: "
                f"{exc or type(exc).__name__}",
                fix="check that the Stripe API (embedded) is running",
            ) from None
        if answer.status_code != 303:  # 303: paid, on to the success URL
            shown = re.search(r'data-testid="payment-error">(.*?)</p>', answer.text, re.S)
            why = html.unescape(shown[1]) if shown else answer.text[:300]
            raise PitstopError(
                f"the hosted page of {session_id} refused the payment ({answer.status_code}): {why}"
            )

    def sent_event(self, object_id: str, event_type: str) -> dict[str, Any]:
        """The last ``event_type`` event the embedded Stripe sent for an object, as it was sent.

        A direct look-up by the object (a PaymentIntent's or a Checkout Session's id): the
        embedded Stripe indexes the events it makes (``harness.stack.localstripe_run``,
        ``harness.stack.stripe_front``). Stripe's own API only lists events, so this needs the
        embedded Stripe.
        """
        if not is_loopback(urlsplit(self._where).hostname or ""):
            raise Unsupported(
                f"finding the event sent for {object_id} needs the embedded Stripe, not {self._where}",
                fix="give the app pitstop's embedded Stripe (STRIPE_API_BASE)",
            )
        url = f"{self._where}/_pitstop/events/{object_id}"
        try:
            answer = httpx.get(
                url,
                params={"type": event_type},
                headers={"Authorization": f"Bearer {self._key}"},
                timeout=self._timeout_s,
            )
        except httpx.HTTPError as exc:
            raise Unreachable(
                f"the embedded Stripe at {self._where} did not answer within {self._timeout_s:g} s: "
                f"{exc or type(exc).__name__}",
                fix="check that the Stripe API (embedded) is running",
            ) from None
        if answer.status_code != 200:
            raise PitstopError(
                f"no {event_type} event for {object_id} ({answer.status_code}: {answer.text[:300]})"
            )
        event: dict[str, Any] = answer.json()
        return event
