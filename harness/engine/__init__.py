"""The engine that runs a target: the run and its test users, test mechanics, payments, browsers,
and the handle a test holds (``Pitstop``). None of it imports pytest."""
