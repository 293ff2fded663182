"""Other tools' traffic formats in and out: HAR, VCR.py, Betamax, mitmproxy flow files."""
