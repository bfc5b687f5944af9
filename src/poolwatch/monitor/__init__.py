"""Sampling live run_batt.py processes and their logs."""
