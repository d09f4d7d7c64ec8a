"""Stand-in for ansible-test's pip bootstrap script.

ansible-test downloads get-pip from a host that is not PyPI. Saved as ~/.ansible/test/cache/get_pip_<X>_<Y>.py it is
used instead: pip comes from the stdlib's bundled wheel (ensurepip), the requested pip version from the package index.
"""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
# ensurepip must run in a child: in-process it sets PIP_CONFIG_FILE=/dev/null in os.environ,
# which hides the machine's pip.conf (index + CA certificate).
subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade', '--default-pip'], stdout=subprocess.DEVNULL)
sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install', '-q'] + args))
