"""``python -m harness.stack.stripe_front``: serve the front."""

from harness.stack.stripe_front.app import main

main()
