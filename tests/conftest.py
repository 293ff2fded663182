from __future__ import annotations

from hypothesis import HealthCheck, settings

# The machine is shared and noisy: no per-example deadline. Tests write to tmp_path
# inside examples, which is safe because every example uses its own file name or
# overwrites the same one.
settings.register_profile(
    "recorder",
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("recorder")
