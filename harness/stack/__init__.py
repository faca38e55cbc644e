"""The embedded stack: a PostgreSQL, localstripe with pitstop's Stripe front, the reference app,
the watchdog that stops them, and the process helpers they share."""
