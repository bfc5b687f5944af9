"""History: the per-day metrics and runs that daily summaries compare, kept in one DuckDB file."""
