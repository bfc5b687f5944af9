"""How a report leaves the machine: mail (SMTP)."""
