# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The route table: every API route the emulator serves, its handler name, API family and stats kind."""

# (method, path template, endpoint, family, kind). kind feeds the stats: token, read, write, job_submit, job_poll.
ROUTES = (
    ('GET', '/v3', 'iam_version', 'IAM', 'read'),
    ('POST', '/v3/auth/tokens', 'iam_issue_token', 'IAM', 'token'),
    ('GET', '/v3/auth/catalog', 'iam_catalog', 'IAM', 'read'),
    ('GET', '/v3/projects', 'iam_projects', 'IAM', 'read'),
    ('GET', '/v2/images', 'list_images', 'IMS', 'read'),
    ('POST', '/v2/images', 'create_image', 'IMS', 'write'),
    ('GET', '/v2/images/{image_id}', 'show_image', 'IMS', 'read'),
    ('PATCH', '/v2/images/{image_id}', 'patch_image', 'IMS', 'write'),
    ('DELETE', '/v2/images/{image_id}', 'delete_image', 'IMS', 'write'),
    ('GET', '/v2/images/{image_id}/members', 'list_members', 'IMS', 'read'),
    ('POST', '/v2/images/{image_id}/members', 'add_member', 'IMS', 'write'),
    ('GET', '/v2/images/{image_id}/members/{member_id}', 'show_member', 'IMS', 'read'),
    ('PUT', '/v2/images/{image_id}/members/{member_id}', 'update_member', 'IMS', 'write'),
    ('DELETE', '/v2/images/{image_id}/members/{member_id}', 'remove_member', 'IMS', 'write'),
    ('GET', '/v2/schemas/member', 'schema_member', 'IMS', 'read'),
    ('GET', '/v2/schemas/members', 'schema_members', 'IMS', 'read'),
    ('GET', '/v2/cloudimages', 'list_cloudimages', 'IMS', 'read'),
    ('POST', '/v1/cloudimages/members', 'batch_add', 'IMS', 'job_submit'),
    ('PUT', '/v1/cloudimages/members', 'batch_update', 'IMS', 'job_submit'),
    ('DELETE', '/v1/cloudimages/members', 'batch_delete', 'IMS', 'job_submit'),
    ('GET', '/v1/{project_id}/jobs/{job_id}', 'show_job', 'IMS', 'job_poll'),
)
ROUTE_KEYS = frozenset('%s %s' % (r[0], r[1]) for r in ROUTES)
ROUTE_TEMPLATES = frozenset(r[1] for r in ROUTES)
ROUTE_INFO = dict(('%s %s' % (r[0], r[1]), r) for r in ROUTES)
# Route families of the stats (max_in_flight per family): the API a route belongs to.
ROUTE_GROUPS = {
    'iam_version': 'IAM', 'iam_issue_token': 'IAM', 'iam_catalog': 'IAM', 'iam_projects': 'IAM',
    'list_images': 'images', 'create_image': 'images', 'show_image': 'images', 'patch_image': 'images',
    'delete_image': 'images', 'list_cloudimages': 'images', 'schema_member': 'members', 'schema_members': 'members',
    'list_members': 'members', 'add_member': 'members', 'show_member': 'members', 'update_member': 'members',
    'remove_member': 'members', 'batch_add': 'batch', 'batch_update': 'batch', 'batch_delete': 'batch', 'show_job': 'jobs',
}
# Glance policy action names, used in "You are not authorized to complete X action." messages.
GLANCE_ACTIONS = {
    'list_images': 'get_images', 'create_image': 'add_image', 'show_image': 'get_image', 'patch_image': 'modify_image',
    'delete_image': 'delete_image', 'list_members': 'get_members', 'add_member': 'add_member',
    'show_member': 'get_member', 'update_member': 'modify_member', 'remove_member': 'delete_member',
    'schema_member': 'get_member', 'schema_members': 'get_members',
}


def route_selector_valid(selector):
    """A latency or fault selector: "*", a family, "METHOD /template" or "/template"."""
    return selector in ('*', 'IMS', 'IAM') or selector in ROUTE_KEYS or selector in ROUTE_TEMPLATES
