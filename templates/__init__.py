"""poolwatch's report templates (jinja2), shipped as package data."""
