"""What the user declares: the options, the settings they make, and the ``[tool.pitstop]`` tables
(the app contract, the payments)."""
