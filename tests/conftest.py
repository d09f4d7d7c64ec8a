# Make the checkout importable as ansible_collections.imscloud.sharing for plain pytest runs.
# Under ansible-test the checkout already sits below ansible_collections/, and this is a no-op.
import atexit
import os
import shutil
import sys
import tempfile

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if os.path.basename(os.path.dirname(os.path.dirname(_ROOT))) != 'ansible_collections':
    _TREE = tempfile.mkdtemp(prefix='imscloud-coll-')
    atexit.register(shutil.rmtree, _TREE, True)
    _LINK = os.path.join(_TREE, 'ansible_collections', 'imscloud', 'sharing')
    os.makedirs(os.path.dirname(_LINK))
    os.symlink(_ROOT, _LINK)
    sys.path.insert(0, _TREE)
    os.environ['ANSIBLE_COLLECTIONS_PATH'] = _TREE
