"""Test data: vehicles, Stripe test cards, named DB states.

Read it with ``harness.data.load(name)``; ``load("plans")`` reads the reference
app's own ``harness/reference_app/plans.json`` (one definition of the plans).
"""
