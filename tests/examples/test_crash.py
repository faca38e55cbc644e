import os


def test_before(pitstop, customer):
    pass


def test_crashes_its_worker(pitstop, customer):
    os._exit(3)


def test_after(pitstop, customer):
    pass
