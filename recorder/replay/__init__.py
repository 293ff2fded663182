"""Replay: serve cassettes to test suites (direct server or HTTPS proxy) and explain misses."""
