"""The hosted payment page of a Checkout Session, as Stripe's is laid out."""

from __future__ import annotations

import html
import re
import time

from starlette.responses import HTMLResponse

from harness.stack.stripe_front.objects import CardRefused, Session
from harness.stack.stripe_front.params import _money

# -- the hosted page -------------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, sans-serif; background: #f6f9fc; color: #1a1f36; margin: 0; }
main { max-width: 880px; margin: 2rem auto; display: flex; flex-wrap: wrap; gap: 2rem; padding: 0 1rem; }
section, form { flex: 1 1 320px; }
.amount { font-size: 2rem; font-weight: 600; margin: .25rem 0 1rem; }
label { display: block; font-size: .875rem; margin: .75rem 0 .25rem; }
input { box-sizing: border-box; width: 100%; padding: .6rem; border: 1px solid #c9d1dc; border-radius: 6px;
        font-size: 1rem; }
fieldset { border: 0; padding: 0; margin: 0; }
legend { font-size: .875rem; margin-top: .75rem; }
.row { display: flex; gap: .5rem; } .row > div { flex: 1; }
button { width: 100%; margin-top: 1.25rem; padding: .8rem; border: 0; border-radius: 6px; background: #0570de;
         color: #fff; font-size: 1rem; font-weight: 600; cursor: pointer; }
.error { color: #df1b41; } .note { color: #697386; font-size: .75rem; }
"""


def _document(title: str, body: str, status: int) -> HTMLResponse:
    page = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
    return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})


def _summary(session: Session) -> str:
    items = "".join(
        f"<li>{html.escape(item.name)} x {item.quantity}: {_money(item.amount, item.currency)}</li>"
        for item in session.line_items
    )
    names = ", ".join(item.name for item in session.line_items)
    back = f'<p><a href="{html.escape(session.cancel_url)}">Back</a></p>' if session.cancel_url else ""
    return (
        f'<section aria-label="Order summary">{back}'
        f'<h1 data-testid="product-name">{html.escape(names)}</h1>'
        f'<p class="amount" data-testid="amount-total">{_money(session.amount_total, session.currency)}</p>'
        f"<ul>{items}</ul>"
        f'<p class="note">Test mode: the embedded Stripe (pitstop). No real payment is made.</p></section>'
    )


def _input(
    name: str, label: str, value: str, *, kind: str = "text", autocomplete: str, placeholder: str = "",
    extra: str = "",
) -> str:  # fmt: skip
    hint = f' placeholder="{html.escape(placeholder)}"' if placeholder else ""
    return (
        f'<div><label for="{name}">{html.escape(label)}</label>'
        f'<input id="{name}" name="{name}" type="{kind}" autocomplete="{autocomplete}"'
        f' value="{html.escape(value)}"{hint} required {extra}></div>'
    )


def _payment_page(
    session: Session, form: dict[str, str], *, error: str = "", status: int = 200
) -> HTMLResponse:
    def value(name: str) -> str:
        return form.get(name, "")

    email = _input(
        "email", "Email", session.customer_email or value("email"), kind="email", autocomplete="email",
        extra="readonly" if session.customer_email else "",
    )  # fmt: skip
    alert = (
        f'<p class="error" role="alert" data-testid="payment-error">{html.escape(error)}</p>' if error else ""
    )
    fields = (
        f"{email}<fieldset><legend>Card information</legend>"
        + _input("cardNumber", "Card number", value("cardNumber"), autocomplete="cc-number",
                 placeholder="1234 1234 1234 1234", extra='inputmode="numeric"')
        + '<div class="row">'
        + _input("cardExpiry", "Expiration date (MM / YY)", value("cardExpiry"), autocomplete="cc-exp",
                 placeholder="MM / YY", extra='inputmode="numeric"')
        + _input("cardCvc", "CVC", value("cardCvc"), autocomplete="cc-csc", placeholder="CVC",
                 extra='inputmode="numeric"')
        + "</div></fieldset>"
        + _input("billingName", "Cardholder name", value("billingName"), autocomplete="cc-name",
                 placeholder="Full name on card")
        + _input("billingPostalCode", "Postal code", value("billingPostalCode"), autocomplete="postal-code",
                 placeholder="ZIP")
    )  # fmt: skip
    body = (
        _summary(session)
        + f'<form method="post" action="/c/pay/{html.escape(session.id)}" aria-label="Pay with card"'
        + f" novalidate>{alert}{fields}"
        + '<button type="submit" data-testid="hosted-payment-submit-button">Pay</button></form>'
    )
    names = ", ".join(item.name for item in session.line_items)
    return _document(f"Pay {names}", body, status)


def _closed_page(session: Session, *, status: int) -> HTMLResponse:
    if session.status == "expired":
        title, text = (
            "This Checkout Session has expired",
            "This Checkout Session has expired. No payment was made.",
        )
    else:
        title, text = (
            "This Checkout Session is complete",
            "This Checkout Session is complete: it has been paid.",
        )
    link = ""
    if session.status == "complete" and session.success_url:
        target = session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id)
        link = f'<p><a href="{html.escape(target)}">Continue</a></p>'
    elif session.cancel_url:
        link = f'<p><a href="{html.escape(session.cancel_url)}">Back</a></p>'
    body = f'<section><h1 data-testid="session-state">{title}</h1><p>{text}</p>{link}</section>'
    return _document(title, body, status)


def _read_card(form: dict[str, str], email: str) -> dict[str, str]:
    """The card fields, checked as Stripe's page checks them (with Stripe's messages)."""
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise CardRefused(
            "Your email address is incomplete." if not email else "Your email address is invalid."
        )
    number = re.sub(r"[\s-]", "", form.get("cardNumber", ""))
    if not number:
        raise CardRefused("Your card number is incomplete.")
    if not number.isdigit() or not 13 <= len(number) <= 19 or not _luhn(number):
        raise CardRefused("Your card number is invalid.")
    if len(number) != 16:
        raise CardRefused("The embedded Stripe (localstripe) takes 16-digit card numbers only.")
    expiry = re.fullmatch(r"\s*(\d{1,2})\s*/?\s*(\d{2}|\d{4})\s*", form.get("cardExpiry", ""))
    if expiry is None:
        raise CardRefused("Your card's expiration date is incomplete.")
    month, year = int(expiry[1]), int(expiry[2][-2:]) + 2000
    if not 1 <= month <= 12:
        raise CardRefused("Your card's expiration date is invalid.")
    today = time.gmtime()
    if year < today.tm_year:
        raise CardRefused("Your card's expiration year is in the past.")
    if (year, month) < (today.tm_year, today.tm_mon):
        raise CardRefused("Your card's expiration date is in the past.")
    cvc = form.get("cardCvc", "").strip()
    if not re.fullmatch(r"\d{3}", cvc):
        raise CardRefused("Your card's security code is incomplete.")
    name = form.get("billingName", "").strip()
    if not name:
        raise CardRefused("Your name on the card is incomplete.")
    postal_code = form.get("billingPostalCode", "").strip()
    if not postal_code:
        raise CardRefused("Your postal code is incomplete.")
    return {
        "number": number,
        "exp_month": str(month),
        "exp_year": str(year),
        "cvc": cvc,
        "name": name,
        "postal_code": postal_code,
    }


def _luhn(number: str) -> bool:
    total = 0
    for i, digit in enumerate(reversed(number)):
        d = int(digit) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0
