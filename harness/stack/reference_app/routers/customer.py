"""The customer's side: dashboard, pricing, intake, checkout and the success page."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from harness.stack.reference_app.auth import User
from harness.stack.reference_app.db import Conn, fetch_all, fetch_one
from harness.stack.reference_app.deps import AppState, Customer, State
from harness.stack.reference_app.fulfillment import Outcome, fulfill_checkout, fulfill_checkout_session
from harness.stack.reference_app.intake import parse_intake
from harness.stack.reference_app.payments import CheckoutSession, Intake, Intent, PaymentError
from harness.stack.reference_app.plans import BY_SLUG, PLANS, Plan, find_plan
from harness.stack.reference_app.routers.pages import render
from harness.stack.reference_app.ui import UI

router = APIRouter()

HISTORY_LIMIT = 20


def _session_json(row: dict[str, Any], ui: UI) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "status": row["status"],
        "plan": row["plan"],
        "mechanic_name": row.get("mechanic_name"),
        "created_at": row["created_at"].isoformat(),
        "ended_at": row["ended_at"].isoformat() if row.get("ended_at") else None,
        "url": ui.path("/session/{session_id}", session_id=row["id"]),
    }


async def customer_sessions(conn: Conn, customer_id: UUID, ui: UI) -> dict[str, Any]:
    """The next (pending, waiting or live) session and the finished ones, newest first (links: ``ui``'s)."""
    select = (
        "select s.id, s.status, s.plan, s.created_at, s.ended_at, m.full_name as mechanic_name"
        " from public.sessions s left join public.profiles m on m.id = s.mechanic_id where s.customer_id = %s"
    )
    upcoming = await fetch_one(
        conn,
        select + " and s.status in ('pending', 'waiting', 'live')"
        " order by (s.status = 'live') desc, s.created_at desc limit 1",
        (customer_id,),
    )
    history = await fetch_all(
        conn,
        select + " and s.status in ('completed', 'cancelled')"
        " order by coalesce(s.ended_at, s.created_at) desc limit %s",
        (customer_id, HISTORY_LIMIT),
    )
    return {
        "next": _session_json(upcoming, ui) if upcoming else None,
        "history": [_session_json(row, ui) for row in history],
    }


@router.get("/customer/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, state: State, user: Customer) -> Response:
    async with state.pool.connection() as conn:
        sessions = await customer_sessions(conn, user.id, state.ui)
    return render(state, request, "customer_dashboard.html", user, **sessions)


@router.get("/api/customer/sessions")
async def sessions_json(state: State, user: Customer) -> dict[str, Any]:
    async with state.pool.connection() as conn:
        return await customer_sessions(conn, user.id, state.ui)


@router.get("/onboarding/pricing", response_class=HTMLResponse)
async def pricing(request: Request, state: State, user: Customer) -> Response:
    return render(state, request, "pricing.html", user, plans=PLANS)


@router.get("/onboarding/intake", response_class=HTMLResponse)
async def intake_form(request: Request, state: State, user: Customer, plan: str = "") -> Response:
    if plan not in BY_SLUG:
        return RedirectResponse(state.ui.path("/onboarding/pricing"), status_code=303)
    return render(state, request, "intake.html", user, plan=BY_SLUG[plan], values={}, errors={})


@router.post("/onboarding/intake", response_class=HTMLResponse)
async def intake_submit(request: Request, state: State, user: Customer) -> Response:
    form = await request.form()
    plan = BY_SLUG.get(str(form.get("plan", "")))
    if plan is None:
        return RedirectResponse(state.ui.path("/onboarding/pricing"), status_code=303)
    intake, errors, values = parse_intake({k: str(v) for k, v in form.items() if isinstance(v, str)})
    if intake is None:
        return render(
            state, request, "intake.html", user, status_code=422, plan=plan, values=values, errors=errors
        )
    try:
        if state.config.payment_kind == "checkout_session":
            checkout = await _create_checkout_session(request, state, user, plan, intake)
            # Stripe's hosted page; it comes back to /checkout/success?session_id=...
            return RedirectResponse(checkout.url or state.ui.path("/onboarding/pricing"), status_code=303)
        intent = await state.payments.create_intent(plan, str(user.id), intake)
    except PaymentError as exc:
        return render(
            state,
            request,
            "intake.html",
            user,
            status_code=502,
            plan=plan,
            values=values,
            errors={},
            error=str(exc),
        )
    return RedirectResponse(state.ui.path("/checkout/{intent_id}", intent_id=intent.id), status_code=303)


async def _create_checkout_session(
    request: Request, state: AppState, user: User, plan: Plan, intake: Intake
) -> CheckoutSession:
    """The server route's work in a Next.js app: a Checkout Session for the plan and the intake."""
    base = str(request.base_url).rstrip("/")
    return await state.payments.create_checkout_session(
        plan,
        customer_id=str(user.id),
        customer_email=user.email,
        intake=intake,
        intake_id=str(uuid.uuid4()),
        success_url=f"{base}{state.ui.path('/checkout/success')}?session_id={{CHECKOUT_SESSION_ID}}",
        cancel_url=f"{base}{state.ui.path('/onboarding/intake')}?plan={plan.slug}",
    )


Paid = TypeVar("Paid", Intent, CheckoutSession)


async def _own_payment(
    user: User, payment_id: str, retrieve: Callable[[str], Awaitable[Paid | None]]
) -> Paid:
    """The customer's own PaymentIntent or Checkout Session, read back from Stripe by ``retrieve``.

    ``retrieve`` (``Payments.retrieve`` or ``retrieve_checkout_session``) answers None, without
    asking Stripe, for an id that is not one; someone else's payment is as unknown as a missing one.
    """
    try:
        paid = await retrieve(payment_id)
    except PaymentError as exc:
        raise HTTPException(502, str(exc)) from exc
    if paid is None or paid.customer_id != str(user.id):
        raise HTTPException(404, "unknown payment")
    return paid


@router.get("/checkout/success", response_class=HTMLResponse)
async def success(
    request: Request, state: State, user: Customer, payment_intent: str = "", session_id: str = ""
) -> Response:
    """After paying: ``?payment_intent=pi_...`` (the card page) or ``?session_id=cs_...`` (Checkout).

    A Checkout Session is retrieved from Stripe and fulfilled here if the
    webhook has not done it yet (whichever comes first makes the session).
    """
    paid: Intent | CheckoutSession
    if session_id:
        paid = await _own_payment(user, session_id, state.payments.retrieve_checkout_session)
        outcome = await fulfill_checkout_session(state.pool, state.payments, paid)
        status_url = f"/api/checkout/session/{paid.id}"
    else:
        paid = await _own_payment(user, payment_intent, state.payments.retrieve)
        outcome = await fulfill_checkout(state.pool, state.payments, paid)
        status_url = f"/api/checkout/{paid.id}"
    plan = find_plan(paid.plan)
    status_code = 409 if outcome.state == "blocked" else 200
    return render(
        state,
        request,
        "success.html",
        user,
        status_code=status_code,
        intent=paid,
        outcome=outcome,
        plan=plan,
        status_url=status_url,
    )


@router.get("/checkout/{intent_id}", response_class=HTMLResponse)
async def checkout(request: Request, state: State, user: Customer, intent_id: str) -> Response:
    intent = await _own_payment(user, intent_id, state.payments.retrieve)
    if intent.status == "succeeded":
        return RedirectResponse(
            f"{state.ui.path('/checkout/success')}?payment_intent={intent.id}", status_code=303
        )
    plan = find_plan(intent.plan)
    return render(state, request, "checkout.html", user, intent=intent, plan=plan)


@router.post("/api/checkout/{intent_id}/card")
async def pay_with_token(request: Request, state: State, user: Customer, intent_id: str) -> Response:
    """For localstripe's Stripe.js stand-in, which can make card tokens but not confirm a new card."""
    intent = await _own_payment(user, intent_id, state.payments.retrieve)
    try:
        body = await request.json()
        token = body["token"]
        assert isinstance(token, str) and token.startswith("tok_")
    except (ValueError, KeyError, TypeError, AssertionError):
        return JSONResponse({"error": 'give a card token as {"token": "tok_..."}'}, status_code=422)
    if intent.status == "succeeded":
        return JSONResponse({"status": intent.status, "client_secret": intent.client_secret})
    try:
        intent = await state.payments.pay_with_token(intent.id, token)
    except PaymentError as exc:
        return JSONResponse({"error": str(exc)}, status_code=402)
    return JSONResponse({"status": intent.status, "client_secret": intent.client_secret})


@router.get("/api/checkout/{intent_id}")
async def checkout_status(state: State, user: Customer, intent_id: str) -> dict[str, Any]:
    """What the success page fetches after each change: has the payment become a session (or been refused)?"""
    intent = await _own_payment(user, intent_id, state.payments.retrieve)
    outcome: Outcome = await fulfill_checkout(state.pool, state.payments, intent)
    return {"payment_status": intent.status, **outcome.as_json()}


@router.get("/api/checkout/session/{session_id}")
async def checkout_session_status(state: State, user: Customer, session_id: str) -> dict[str, Any]:
    """The same for a Checkout Session: what the success page fetches after each change."""
    checkout = await _own_payment(user, session_id, state.payments.retrieve_checkout_session)
    outcome: Outcome = await fulfill_checkout_session(state.pool, state.payments, checkout)
    return {"payment_status": checkout.payment_status, **outcome.as_json()}
