# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator process: command line, werkzeug's threaded server, signals and the lifetime limit."""

import argparse
import ipaddress
import json
import signal
import sys
import threading

from werkzeug.serving import WSGIRequestHandler, make_server

from .app import EmulatorApp
from .seed import SeedError, load_seed_file
from .settings import ConfigError
from .state import State


class QuietRequestHandler(WSGIRequestHandler):
    """No per-request access log: keeps test output clean (and tokens never reach a log)."""

    def log_request(self, code='-', size='-'):
        pass


def _loopback(host):
    if host == 'localhost':
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_args(argv):
    parser = argparse.ArgumentParser(description='IMS + IAM emulator (tests only).')
    parser.add_argument('--seed', required=True, help='seed YAML file')
    parser.add_argument('--port', type=int, default=0, help='TCP port; 0 picks a free one')
    parser.add_argument('--host', default='127.0.0.1', help='loopback address to bind')
    parser.add_argument('--mode', choices=('otc', 'glance'), default='otc')
    parser.add_argument('--max-lifetime', type=float, default=3600.0, help='exit after this many seconds (0: no limit)')
    parser.add_argument('--tls-cert', help='PEM certificate (chain) for HTTPS')
    parser.add_argument('--tls-key', help='PEM private key for HTTPS')
    parser.add_argument('--job-duration', type=float, help='seconds from job submission to SUCCESS/FAIL')
    parser.add_argument('--token-lifetime', type=float, help='token lifetime in seconds')
    parser.add_argument('--config', help='initial settings as a JSON object (same keys as POST /_emulator/config)')
    args = parser.parse_args(argv)
    if not _loopback(args.host):
        parser.error('--host must be a loopback address')
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error('--tls-cert and --tls-key go together')
    return args


def start_settings(args):
    """The start-up settings from the command line; ValueError for bad --config JSON."""
    config = {'mode': args.mode}
    if args.config:
        config.update(json.loads(args.config))
    if args.job_duration is not None:
        config['job_duration'] = args.job_duration
    if args.token_lifetime is not None:
        config['token_lifetime'] = args.token_lifetime
    return config


def serve(server, max_lifetime, signal_module):
    """Serve until SIGTERM/SIGINT or the lifetime ends; returns the stop reason."""
    stop_reason = []

    def stop(reason):
        if not stop_reason:
            stop_reason.append(reason)
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal_module.signal(signal_module.SIGTERM, lambda _signum, _frame: stop('SIGTERM'))
    signal_module.signal(signal_module.SIGINT, lambda _signum, _frame: stop('SIGINT'))
    if max_lifetime > 0:
        timer = threading.Timer(max_lifetime, stop, args=('max-lifetime',))
        timer.daemon = True
        timer.start()
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
    return stop_reason[0] if stop_reason else None


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        config = start_settings(args)
    except ValueError as exc:
        sys.stderr.write('--config is not valid JSON: %s\n' % exc)
        return 2
    try:
        state = State(load_seed_file(args.seed), config)
    except (SeedError, ConfigError) as exc:
        sys.stderr.write('emulator: %s\n' % exc)
        return 2
    ssl_context = (args.tls_cert, args.tls_key) if args.tls_cert else None
    server = make_server(args.host, args.port, EmulatorApp(state), threaded=True,
                         request_handler=QuietRequestHandler, ssl_context=ssl_context)
    host = '[%s]' % args.host if ':' in args.host else args.host
    state.base_url = '%s://%s:%d' % ('https' if ssl_context else 'http', host, server.server_port)
    sys.stdout.write(state.base_url + '\n')
    sys.stdout.flush()
    if serve(server, args.max_lifetime, signal) == 'max-lifetime':
        sys.stderr.write('emulator: --max-lifetime of %gs reached, exiting\n' % args.max_lifetime)
    return 0
