"""Capture: a mitmproxy addon that turns flows into redacted cassette records."""
