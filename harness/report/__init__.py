"""The run's report: what the run recorded, built into JSON, terminal, Markdown and HTML."""
