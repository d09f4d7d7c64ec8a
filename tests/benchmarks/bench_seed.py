# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generated emulator seeds for the benchmark: one owner project, its images, recipient projects with users."""

DOMAIN = 'imscloud-bench'
OWNER_USER = 'bench-owner'
OWNER_PASSWORD = 'bench-owner-password-1'
RECIPIENT_PASSWORD = 'bench-recipient-password-1'


def project_id(kind, index):
    """A 32-hex project id: the owner is b0..., recipient number `index` is c0...<index>."""
    prefix = {'owner': 'b0', 'recipient': 'c0', 'recipient-nl': 'c1'}[kind]
    return '%s%030x' % (prefix, index)


def image_id(index):
    return '%08x-0000-4000-8000-%012x' % (0xbe000000 + index, index)


def image_name(index):
    return 'bench-image-%04d' % index


def recipient_user(index):
    return 'bench-recipient-%03d' % index


def owner_user(index):
    return OWNER_USER if index == 0 else '%s-%02d' % (OWNER_USER, index)


def identity_region(index):
    """Scenario R's identities alternate between two regions (each region has its own recipient projects)."""
    return 'eu-de' if index % 2 else 'eu-nl'


def region_recipient(region, index):
    return project_id('recipient' if region == 'eu-de' else 'recipient-nl', index)


def build_seed(images, projects, shared_with_first_recipient=False, visibility=None, audit_members=False):
    """A seed with `images` images owned by the owner project and `projects` recipient projects, each with a user.

    shared_with_first_recipient: every image already has the first recipient project as a pending member
    (the starting point of the recipient scenario). visibility: the images' visibility (plain Glance shares
    `shared` images only). audit_members: every image is shared with the first recipient (pending) and the
    second (accepted), the estate the audit reads.
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
    if visibility:
        for image in seed['images']:
            image['visibility'] = visibility
    if shared_with_first_recipient:
        seed['members'] = [{'image': image_id(index), 'project': recipients[0], 'status': 'pending'}
                           for index in range(1, images + 1)]
    if audit_members:
        seed['members'] = [{'image': image_id(index), 'project': project, 'status': status}
                           for index in range(1, images + 1)
                           for project, status in zip(recipients, ('pending', 'accepted'))]
    return seed


def identity_images(identity, images):
    """The image ids owned by identity number `identity` (1-based) in the identities seed."""
    return [image_id((identity - 1) * images + index) for index in range(1, images + 1)]


def build_identities_seed(identities, images, projects):
    """Scenario R: `identities` owner projects (each with its user, alternating between two regions), each owning
    `images` images, and `projects` recipient projects in each region."""
    regions = sorted(set(identity_region(index) for index in range(1, identities + 1)))
    owners = [(index, project_id('owner', index), identity_region(index)) for index in range(1, identities + 1)]
    recipients = [(region, index, region_recipient(region, index)) for region in regions
                  for index in range(1, projects + 1)]
    return {
        'domains': [{'id': 'd0%030x' % 1, 'name': DOMAIN}],
        'projects': [{'id': pid, 'name': '%s_bench_owner_%02d' % (region, index), 'domain': DOMAIN, 'region': region}
                     for index, pid, region in owners]
        + [{'id': pid, 'name': '%s_bench_%03d' % (region, index), 'domain': DOMAIN, 'region': region}
           for region, index, pid in recipients],
        'users': [{'name': owner_user(index), 'password': OWNER_PASSWORD, 'domain': DOMAIN, 'projects': [pid]}
                  for index, pid, _region in owners],
        'member_quota': {'default': 256, 'whole_image': 10},
        'images': [{'id': image, 'name': '%s-%02d' % (image_name(number), index), 'owner': pid}
                   for index, pid, _region in owners
                   for number, image in enumerate(identity_images(index, images), 1)],
    }


def owner_auth(url, index=0):
    return {'auth_url': url + '/v3', 'username': owner_user(index), 'password': OWNER_PASSWORD,
            'user_domain_name': DOMAIN, 'project_id': project_id('owner', index)}


def recipient_auth(url, index=1):
    return {'auth_url': url + '/v3', 'username': recipient_user(index), 'password': RECIPIENT_PASSWORD,
            'user_domain_name': DOMAIN, 'project_id': project_id('recipient', index)}
