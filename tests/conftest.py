# Make the checkout importable as ansible_collections.imscloud.sharing for plain pytest runs.
# Under ansible-test the checkout already sits below ansible_collections/, and this is a no-op.
import atexit
import os
import shutil
import sys
import tempfile

import pytest

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if os.path.basename(os.path.dirname(os.path.dirname(_ROOT))) != 'ansible_collections':
    _TREE = tempfile.mkdtemp(prefix='imscloud-coll-')
    atexit.register(shutil.rmtree, _TREE, True)
    _LINK = os.path.join(_TREE, 'ansible_collections', 'imscloud', 'sharing')
    os.makedirs(os.path.dirname(_LINK))
    os.symlink(_ROOT, _LINK)
    sys.path.insert(0, _TREE)
    os.environ['ANSIBLE_COLLECTIONS_PATH'] = _TREE


@pytest.fixture(autouse=True)
def module_code_runs_as_on_a_target(monkeypatch):
    """A module runs on the target, where ansible-core's is_controller flag is False.

    Importing controller code (the action plugin tests do, at collection) sets the flag for the whole process; with
    it set, AnsibleModule.warn() would print to the controller's display instead of adding to the module result.
    """
    try:
        from ansible.module_utils import _internal
    except ImportError:  # ansible-core < 2.19 has no such flag
        return
    if hasattr(_internal, 'is_controller'):
        monkeypatch.setattr(_internal, 'is_controller', False)
