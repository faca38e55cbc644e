"""pitstop's version: recorded with the rules it installs, and checked by the doctor."""

__version__ = "0.1.0"
