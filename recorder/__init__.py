"""recorder: record real API traffic into versioned cassettes, diff its shapes, replay it."""

__version__ = "0.1.0"
