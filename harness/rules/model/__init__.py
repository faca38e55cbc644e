"""The model of the user's app: its declaration, the catalog it is checked against, its rules."""

from harness.rules.model.declaration import Mechanics, Model, Requests, Sessions, load_model

__all__ = ["Mechanics", "Model", "Requests", "Sessions", "load_model"]
