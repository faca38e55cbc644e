"""The run's report: what the run recorded, built into JSON, terminal, Markdown and HTML;
the reports of a suite's shards merged into one."""
