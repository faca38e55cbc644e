"""The shipped scenarios run against whatever target the pitstop plugin was given."""
