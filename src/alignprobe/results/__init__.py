"""The results table: Inspect logs, other packages' task logs and published CSVs become one
tidy row per sample x epoch with the same measure columns, each score cell read as scored,
excluded or unscored, together with who judged it and how complete the run was; plus the
row readers this shares (CSV rows with their line numbers, chat-message rows)."""
