"""Real processes that look like a run_card.sh / run_batt.py fleet, for the monitor's tests."""
