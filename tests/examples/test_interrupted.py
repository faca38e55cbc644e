def test_before(pitstop, customer):
    pass


def test_interrupts():
    raise KeyboardInterrupt


def test_after(pitstop, customer):
    pass
