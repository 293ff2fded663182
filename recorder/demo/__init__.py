"""A bundled demo API (currency conversion and settlement) for `scripts/demo` and tutorials."""
