"""Helper of start.sh: ports, passwords and the REST bootstrap of the local Keystone + Glance.

Run it with the stack's venv Python (it has requests and PyYAML):

    python bootstrap.py ports KEYSTONE_PORT GLANCE_PORT   # 0 = pick a free port; prints "KPORT GPORT"
    python bootstrap.py password                          # prints a random password (for start.sh to capture)
    python bootstrap.py setup --workdir W --keystone-url U --image-url U --keystone-pid N --glance-pid N

`setup` reads the admin and glance passwords from the environment (IMS_OS_ADMIN_PASSWORD,
IMS_OS_GLANCE_PASSWORD), never from argv, creates the projects, users and the image service, writes
WORKDIR/openstack.json, openstack.env and clouds.yaml (mode 0600) and runs a smoke test.
Nothing it prints contains a secret.
"""
import argparse
import json
import os
import secrets
import shlex
import socket
import sys

import requests
import yaml

DOMAIN_ID = 'default'
REGION_ID = 'RegionOne'
TEST_PROJECTS = ('owner', 'consumer', 'other')
ENDPOINT_INTERFACES = ('public', 'internal', 'admin')
HTTP_TIMEOUT = 30


class BootstrapError(Exception):
    """Keystone or Glance did not answer as expected."""


def pick_ports(requested):
    """Return one free loopback port per entry of requested (0 = any free port, else check that one)."""
    sockets = []
    try:
        for port in requested:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            # Like the servers do; without it a port in TIME_WAIT after a stop looks busy for a minute.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(('127.0.0.1', port))
                # Listening sockets cannot share a port even with SO_REUSEADDR: this also rejects a port given twice.
                sock.listen(1)
            except OSError as exc:
                raise BootstrapError(f'port {port} on 127.0.0.1 is not free: {exc.strerror}') from exc
        # All sockets stay open until every port is chosen, so the ports differ.
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def new_password():
    return secrets.token_urlsafe(24)


class Keystone:
    """The few Keystone v3 calls the bootstrap needs."""

    def __init__(self, url, session):
        self.url = url.rstrip('/')
        self.session = session

    def password_token(self, username, password, scope):
        """Return (token, token body) for a user of the default domain."""
        body = {'auth': {
            'identity': {'methods': ['password'], 'password': {'user': {
                'name': username, 'domain': {'id': DOMAIN_ID}, 'password': password}}},
            'scope': scope,
        }}
        response = self.session.post(f'{self.url}/auth/tokens', json=body, timeout=HTTP_TIMEOUT)
        if response.status_code != 201:
            raise BootstrapError(f'token for {username}: HTTP {response.status_code}: {response.text[:300]}')
        return response.headers['X-Subject-Token'], response.json()

    def call(self, method, path, token, body=None):
        response = self.session.request(method, f'{self.url}{path}', json=body, headers={'X-Auth-Token': token}, timeout=HTTP_TIMEOUT)
        if response.status_code not in (200, 201, 204):
            raise BootstrapError(f'{method} {path}: HTTP {response.status_code}: {response.text[:300]}')
        return response.json() if response.content else {}

    def create_project(self, token, name):
        body = {'project': {'name': name, 'domain_id': DOMAIN_ID, 'enabled': True}}
        return self.call('POST', '/projects', token, body)['project']['id']

    def project_id(self, token, name):
        projects = self.call('GET', f'/projects?name={name}&domain_id={DOMAIN_ID}', token)['projects']
        if len(projects) != 1:
            raise BootstrapError(f'expected one project named {name}, found {len(projects)}')
        return projects[0]['id']

    def create_user(self, token, name, password, project_id):
        body = {'user': {'name': name, 'password': password, 'domain_id': DOMAIN_ID, 'default_project_id': project_id, 'enabled': True}}
        return self.call('POST', '/users', token, body)['user']['id']

    def grant(self, token, project_id, user_id, role_id):
        self.call('PUT', f'/projects/{project_id}/users/{user_id}/roles/{role_id}', token)


def account(username, password, project_name, project_id):
    return {'username': username, 'password': password, 'project_name': project_name, 'project_id': project_id}


def bootstrap_keystone(keystone, admin_password, glance_password, image_url):
    """Create the test projects/users, the glance service user and the image service; return the accounts."""
    # System scope: with enforce_scope, creating services and endpoints needs a system-scoped admin token.
    token = keystone.password_token('admin', admin_password, {'system': {'all': True}})[0]
    roles = {role['name']: role['id'] for role in keystone.call('GET', '/roles', token)['roles']}
    missing = {'admin', 'member', 'service'} - set(roles)
    if missing:
        raise BootstrapError(f'keystone-manage bootstrap did not create the roles {sorted(missing)}')

    accounts = {'admin': account('admin', admin_password, 'admin', keystone.project_id(token, 'admin'))}
    for name in TEST_PROJECTS:
        project_id = keystone.create_project(token, name)
        password = new_password()
        user_id = keystone.create_user(token, f'{name}-user', password, project_id)
        keystone.grant(token, project_id, user_id, roles['member'])
        accounts[name] = account(f'{name}-user', password, name, project_id)

    # Glance's keystonemiddleware validates user tokens as this user; validating needs the service role.
    service_project_id = keystone.create_project(token, 'service')
    glance_user_id = keystone.create_user(token, 'glance', glance_password, service_project_id)
    for role in ('admin', 'service'):
        keystone.grant(token, service_project_id, glance_user_id, roles[role])

    service = {'service': {'type': 'image', 'name': 'glance', 'enabled': True}}
    service_id = keystone.call('POST', '/services', token, service)['service']['id']
    for interface in ENDPOINT_INTERFACES:
        endpoint = {'endpoint': {'service_id': service_id, 'interface': interface, 'url': image_url, 'region_id': REGION_ID, 'enabled': True}}
        keystone.call('POST', '/endpoints', token, endpoint)
    return accounts


def smoke_test(keystone, config):
    """Owner gets a token, the catalog lists the image endpoint, Glance answers GET /v2/images with 200."""
    owner = config['owner']
    token, body = keystone.password_token(owner['username'], owner['password'], {'project': {'id': owner['project_id']}})
    urls = [
        endpoint['url']
        for service in body['token'].get('catalog', []) if service['type'] == 'image'
        for endpoint in service['endpoints'] if endpoint['interface'] == 'public' and endpoint['region_id'] == REGION_ID
    ]
    if urls != [config['image_url']]:
        raise BootstrapError(f'owner catalog: public image endpoints {urls}, expected [{config["image_url"]}]')
    response = keystone.session.get(f'{config["image_url"]}/v2/images', headers={'X-Auth-Token': token}, timeout=HTTP_TIMEOUT)
    if response.status_code != 200:
        raise BootstrapError(f'owner GET /v2/images: HTTP {response.status_code}: {response.text[:300]}')


def write_private(path, text):
    """Write text to path with mode 0600 (the files hold passwords)."""
    if os.path.exists(path):
        os.unlink(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'w', encoding='utf-8') as stream:
        stream.write(text)


def env_text(config, workdir):
    """Sourceable `export OS_...=...` lines; the plain OS_USERNAME/... are the owner's."""
    variables = {
        'OS_AUTH_URL': config['auth_url'],
        'OS_IMAGE_URL': config['image_url'],
        'OS_REGION_NAME': config['region_name'],
        'OS_USER_DOMAIN_ID': config['user_domain_id'],
        'OS_PROJECT_DOMAIN_ID': config['project_domain_id'],
        'OS_IDENTITY_API_VERSION': '3',
    }
    for name in ('admin',) + TEST_PROJECTS:
        for key in ('username', 'password', 'project_name', 'project_id'):
            variables[f'OS_{name.upper()}_{key.upper()}'] = config[name][key]
    for key in ('username', 'password', 'project_name', 'project_id'):
        variables[f'OS_{key.upper()}'] = config['owner'][key]
    variables['OS_CLIENT_CONFIG_FILE'] = os.path.join(workdir, 'clouds.yaml')
    variables['IMS_REAL_OPENSTACK_JSON'] = os.path.join(workdir, 'openstack.json')
    variables['OS_KEYSTONE_PID'] = str(config['keystone_pid'])
    variables['OS_GLANCE_PID'] = str(config['glance_pid'])
    return ''.join(f'export {name}={shlex.quote(value)}\n' for name, value in variables.items())


def clouds_text(config):
    """clouds.yaml with one cloud per test project; `devstack` is the owner (the name AWX's credential uses)."""
    def cloud(name):
        user = config[name]
        return {
            'auth': {
                'auth_url': config['auth_url'],
                'username': user['username'],
                'password': user['password'],
                'project_id': user['project_id'],
                'project_name': user['project_name'],
                'user_domain_id': config['user_domain_id'],
                'project_domain_id': config['project_domain_id'],
            },
            'region_name': config['region_name'],
            'interface': 'public',
            'identity_api_version': 3,
        }
    clouds = {name: cloud(name) for name in TEST_PROJECTS}
    clouds['devstack'] = cloud('owner')
    return yaml.safe_dump({'clouds': clouds}, sort_keys=False)


def setup(args):
    admin_password = os.environ.get('IMS_OS_ADMIN_PASSWORD', '')
    glance_password = os.environ.get('IMS_OS_GLANCE_PASSWORD', '')
    if not admin_password or not glance_password:
        raise BootstrapError('IMS_OS_ADMIN_PASSWORD and IMS_OS_GLANCE_PASSWORD must be set')
    image_url = args.image_url.rstrip('/')
    with requests.Session() as session:
        keystone = Keystone(args.keystone_url, session)
        accounts = bootstrap_keystone(keystone, admin_password, glance_password, image_url)
        config = {
            'auth_url': keystone.url,
            'image_url': image_url,
            'region_name': REGION_ID,
            'user_domain_id': DOMAIN_ID,
            'project_domain_id': DOMAIN_ID,
            **{name: accounts[name] for name in TEST_PROJECTS + ('admin',)},
            'keystone_pid': args.keystone_pid,
            'glance_pid': args.glance_pid,
        }
        workdir = os.path.abspath(args.workdir)
        write_private(os.path.join(workdir, 'openstack.json'), json.dumps(config, indent=2) + '\n')
        write_private(os.path.join(workdir, 'openstack.env'), env_text(config, workdir))
        write_private(os.path.join(workdir, 'clouds.yaml'), clouds_text(config))
        smoke_test(keystone, config)


def main(argv=None):
    parser = argparse.ArgumentParser(description='Helper of tests/real_openstack/start.sh')
    commands = parser.add_subparsers(dest='command', required=True)
    ports = commands.add_parser('ports', help='print free loopback ports for keystone and glance')
    ports.add_argument('keystone_port', type=int)
    ports.add_argument('glance_port', type=int)
    commands.add_parser('password', help='print a random password')
    setup_parser = commands.add_parser('setup', help='create projects, users, the image service; write the config files')
    setup_parser.add_argument('--workdir', required=True)
    setup_parser.add_argument('--keystone-url', required=True, help='ends with /v3')
    setup_parser.add_argument('--image-url', required=True)
    setup_parser.add_argument('--keystone-pid', type=int, required=True)
    setup_parser.add_argument('--glance-pid', type=int, required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == 'ports':
            print(*pick_ports([args.keystone_port, args.glance_port]))
        elif args.command == 'password':
            print(new_password())
        else:
            setup(args)
    except (BootstrapError, requests.RequestException) as exc:
        print(f'bootstrap.py {args.command}: {exc}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
