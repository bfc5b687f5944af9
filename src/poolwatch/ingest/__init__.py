"""Ingest: every input file to the events, tasks, runs, monitor and files tables."""
