# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generated emulator seeds for the benchmark: one owner project, its images, recipient projects with users."""

DOMAIN = 'imscloud-bench'
OWNER_USER = 'bench-owner'
OWNER_PASSWORD = 'bench-owner-password-1'
RECIPIENT_PASSWORD = 'bench-recipient-password-1'


def project_id(kind, index):
    """A 32-hex project id: the owner is b0..., recipient number `index` is c0...<index>."""
    prefix = {'owner': 'b0', 'recipient': 'c0'}[kind]
    return '%s%030x' % (prefix, index)


def image_id(index):
    return '%08x-0000-4000-8000-%012x' % (0xbe000000 + index, index)


def image_name(index):
    return 'bench-image-%04d' % index


def recipient_user(index):
    return 'bench-recipient-%03d' % index


def build_seed(images, projects, shared_with_first_recipient=False):
    """A seed with `images` images owned by the owner project and `projects` recipient projects, each with a user.

    shared_with_first_recipient: every image already has the first recipient project as a pending member
    (the starting point of the recipient scenario).
    """
    owner = project_id('owner', 0)
    recipients = [project_id('recipient', index) for index in range(1, projects + 1)]
    seed = {
        'domains': [{'id': 'd0%030x' % 1, 'name': DOMAIN}],
        'projects': [{'id': owner, 'name': 'eu-de_bench_owner', 'domain': DOMAIN, 'region': 'eu-de'}]
        + [{'id': pid, 'name': 'eu-de_bench_%03d' % index, 'domain': DOMAIN, 'region': 'eu-de'}
           for index, pid in enumerate(recipients, 1)],
        'users': [{'name': OWNER_USER, 'password': OWNER_PASSWORD, 'domain': DOMAIN, 'projects': [owner]}]
        + [{'name': recipient_user(index), 'password': RECIPIENT_PASSWORD, 'domain': DOMAIN, 'projects': [pid]}
           for index, pid in enumerate(recipients, 1)],
        'member_quota': {'default': 256, 'whole_image': 10},
        'images': [{'id': image_id(index), 'name': image_name(index), 'owner': owner} for index in range(1, images + 1)],
    }
    if shared_with_first_recipient:
        seed['members'] = [{'image': image_id(index), 'project': recipients[0], 'status': 'pending'}
                           for index in range(1, images + 1)]
    return seed


def owner_auth(url):
    return {'auth_url': url + '/v3', 'username': OWNER_USER, 'password': OWNER_PASSWORD, 'user_domain_name': DOMAIN,
            'project_id': project_id('owner', 0)}


def recipient_auth(url, index=1):
    return {'auth_url': url + '/v3', 'username': recipient_user(index), 'password': RECIPIENT_PASSWORD,
            'user_domain_name': DOMAIN, 'project_id': project_id('recipient', index)}
