"""Running a suite: plan one Inspect task per (checkpoint, task, condition), run them
through ``eval_set`` with the large-run defaults, shard and resume, store logs locally or at
a URL, record what was planned and what finished, and keep going round by round until the
gate decides."""
