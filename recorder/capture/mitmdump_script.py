"""Load recorder's capture addon into your own mitmproxy: `mitmdump -s <this file>`.

`recorder addon-path` prints this file's path.
"""

from recorder.capture.addon import CaptureAddon

addons = [CaptureAddon()]
