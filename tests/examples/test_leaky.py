def test_forgets_to_end_its_session(pitstop, customer):
    pitstop.seed("waiting_session", customer)


def test_tidy(pitstop, customer):
    session = pitstop.seed("waiting_session", customer)
    pitstop.cleanup.force_cancel(session["session_id"])
