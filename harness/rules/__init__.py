"""The cleanup rules: the model of the app's tables, the SQL rendered from it, the health it reports."""
