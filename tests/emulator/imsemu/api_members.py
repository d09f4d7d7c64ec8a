# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Native (Glance v2) image members, ims_api.md section 2 and real_openstack.md section 4."""

from .api_base import Api
from .api_images import forbidden_action, lookup_visible_image
from .seed import MEMBER_STATUSES
from .shapes import ApiError, json_response, no_content, parse_json

MEMBER_SCHEMA_PROPERTIES = {
    'status': {'enum': ['pending', 'accepted', 'rejected'], 'type': 'string',
               'description': 'The status of this image member'},
    'created_at': {'type': 'string', 'description': 'Date and time of image member creation'},
    'updated_at': {'type': 'string', 'description': 'Date and time of last modification of image member'},
    'image_id': {'pattern': '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$',
                 'type': 'string', 'description': 'An identifier for the image'},
    'member_id': {'type': 'string', 'description': 'An identifier for the image member (tenantId)'},
    'schema': {'readOnly': True, 'type': 'string'},
}
MEMBER_SCHEMA = {'name': 'member', 'properties': MEMBER_SCHEMA_PROPERTIES}
MEMBERS_SCHEMA = {
    'name': 'members',
    'links': [{'href': '{schema}', 'rel': 'describedby'}],
    'properties': {
        'members': {'items': {'name': 'member', 'properties': MEMBER_SCHEMA_PROPERTIES}, 'type': 'array'},
        'schema': {'type': 'string'},
    },
}


def member_body(ctx):
    data, problem = parse_json(ctx.body)
    if problem == 'empty':
        raise ApiError(400, 'webob', 'Body expected in request.')
    if problem:
        raise ApiError(400, 'webob', 'Malformed JSON in request body.')
    return data


class MembersApi(Api):
    """/v2/images/{image_id}/members[/{member_id}] and the member schemas."""

    def require_member_capable(self, image, message, status=403):
        """Glance mode: only visibility 'shared' has members. OTC mode: anything but public."""
        visibility = image['visibility']
        if (self.state.mode == 'glance' and visibility != 'shared') or (self.state.mode == 'otc' and visibility == 'public'):
            raise ApiError(status, 'webob', message)

    def visible_member_row(self, ctx, image, member_id):
        """The member row the caller may see: the owner sees all rows, a member only its own."""
        row = self.state.member(image['id'], member_id)
        if row is None or (image['owner'] != ctx.project_id and member_id != ctx.project_id):
            raise ApiError(404, 'webob', '%s not found in the member list of the image %s.' % (member_id, image['id']))
        return row

    def h_list_members(self, ctx):
        state = self.state
        image = lookup_visible_image(state, ctx, ctx.args['image_id'])
        self.require_member_capable(image, 'Not allowed to list members for image %s: Only shared images have members.' % image['id'])
        rows = state.members_of(image['id'])
        if image['owner'] != ctx.project_id:
            rows = [(member_id, row) for member_id, row in rows if member_id == ctx.project_id]
        return json_response({'members': [state.member_view(image['id'], m, row) for m, row in rows], 'schema': '/v2/schemas/members'})

    def h_show_member(self, ctx):
        image = lookup_visible_image(self.state, ctx, ctx.args['image_id'])
        # Glance turns this Forbidden into NotFound, keeping only the inner reason.
        self.require_member_capable(image, 'Only shared images have members.', status=404)
        member_id = ctx.args['member_id']
        row = self.visible_member_row(ctx, image, member_id)
        return json_response(self.state.member_view(image['id'], member_id, row))

    def check_can_add(self, image, member_id):
        state = self.state
        if state.mode == 'otc' and not state.key_authorized_for(image, member_id):
            raise ApiError(403, 'webob', 'Not allowed to create members for image %s: the KMS key of the encrypted image is not '
                                         'authorized for project %s.' % (image['id'], member_id))
        if state.member(image['id'], member_id) is not None:
            raise ApiError(409, 'webob', 'Member %s is duplicated for image %s' % (member_id, image['id']))
        quota = state.member_quota_for(image)
        count = len(state.members_of(image['id']))
        if quota >= 0 and count >= quota:
            raise ApiError(413, 'webob', 'Image member limit exceeded for image %s: The limit has been exceeded on the number of allowed '
                                         'image members for this image. Attempted: %d, Maximum: %d:' % (image['id'], count + 1, quota))

    def h_add_member(self, ctx):
        data = member_body(ctx)
        if not isinstance(data, dict):
            raise ApiError(400, 'webob', 'Expected a member in the form: {"member": "image_id"}')
        if 'member' not in data:
            raise ApiError(400, 'webob', 'Member to be added not specified')
        if not data['member']:
            raise ApiError(400, 'webob', "Member can't be empty")
        image = lookup_visible_image(self.state, ctx, ctx.args['image_id'])
        if image['owner'] != ctx.project_id:
            raise forbidden_action(ctx)
        self.require_member_capable(image, 'Not allowed to create members for image %s.' % image['id'])
        member_id = str(data['member'])
        self.check_can_add(image, member_id)
        row = self.state.add_member(image['id'], member_id)
        return json_response(self.state.member_view(image['id'], member_id, row, echo_member=data['member']))

    def h_update_member(self, ctx):
        data = member_body(ctx)
        if not isinstance(data, dict) or 'status' not in data:
            raise ApiError(400, 'webob', 'Status not specified')
        image = lookup_visible_image(self.state, ctx, ctx.args['image_id'])
        self.require_member_capable(image, 'Not allowed to update members for image %s.' % image['id'])
        member_id = ctx.args['member_id']
        self.visible_member_row(ctx, image, member_id)
        if member_id != ctx.project_id:
            raise forbidden_action(ctx)
        if data['status'] not in MEMBER_STATUSES:
            raise ApiError(400, 'webob', 'Incorrect request: Status must be "pending", "accepted" or "rejected".')
        row = self.state.set_member_status(image['id'], member_id, data['status'])
        return json_response(self.state.member_view(image['id'], member_id, row))

    def h_remove_member(self, ctx):
        image = lookup_visible_image(self.state, ctx, ctx.args['image_id'])
        self.require_member_capable(image, 'Not allowed to delete members for image %s.' % image['id'])
        member_id = ctx.args['member_id']
        self.visible_member_row(ctx, image, member_id)
        if image['owner'] != ctx.project_id:
            raise forbidden_action(ctx)
        self.state.remove_member(image['id'], member_id)
        return no_content()

    def h_schema_member(self, ctx):
        return json_response(MEMBER_SCHEMA)

    def h_schema_members(self, ctx):
        return json_response(MEMBERS_SCHEMA)
