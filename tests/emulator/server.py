# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator of Open Telekom Cloud IAM + IMS image sharing, for tests.

Run ``python tests/emulator/server.py --seed FILE --port 0``: the first stdout line is the base URL.
IAM lives under ``/v3``, IMS (native Glance v2 and the IMS v1 extension) under the same base URL and a
control API under ``/_emulator/``. Behaviour, settings and the seed format: tests/emulator/README.md; the code is
the package ``imsemu`` next to this file.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from imsemu.app import EmulatorApp  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
from imsemu.process import main  # noqa: E402  pylint: disable=wrong-import-position
from imsemu.routes import ROUTES  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
from imsemu.state import State  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

if __name__ == '__main__':
    os.umask(0o077)
    sys.exit(main())
