"""The steps the scenarios take in an app (``Flows``) and the page objects they drive."""
