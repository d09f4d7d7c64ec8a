# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Images: Glance v2 /v2/images (show, list, create, patch, delete) and IMS /v2/cloudimages (ims_api.md section 6)."""

import operator
import uuid
from urllib.parse import urlencode

from .api_base import Api
from .clock import parse_iso
from .routes import GLANCE_ACTIONS
from .seed import MEMBER_STATUSES, UUID_RE, VISIBILITIES
from .shapes import ApiError, json_response, no_content, parse_json

JSON_PATCH_TYPES = ('application/openstack-images-v2.1-json-patch', 'application/openstack-images-v2.0-json-patch')
PAGING_KEYS = ('limit', 'marker', 'sort_key', 'sort_dir')
SORT_KEYS = ('created_at', 'updated_at', 'name', 'id', 'status')
TIME_OPERATORS = {'gt': operator.gt, 'gte': operator.ge, 'lt': operator.lt, 'lte': operator.le, 'eq': operator.eq,
                  'neq': operator.ne}
READ_ONLY = ('id', 'owner', 'status', 'created_at', 'updated_at', 'self', 'file', 'schema')


def forbidden_action(ctx):
    return ApiError(403, 'webob', 'You are not authorized to complete %s action.' % GLANCE_ACTIONS[ctx.endpoint])


def lookup_visible_image(state, ctx, image_id, message=None):
    """The image if the caller may see it, else Glance's 404."""
    image = state.image(image_id)
    if image is None or not state.image_visible(image, ctx.project_id):
        raise ApiError(404, 'webob', message or 'Image %s not found.' % image_id)
    return image


def bad_visibility(value):
    # Glance's jsonschema message, verbatim.
    enum = "['community', 'public', 'private', 'shared']"
    return ApiError(400, 'webob', "Provided object does not match schema 'image': %r is not one of %s\n\n"
                                  "Failed validating 'enum' in schema['properties']['visibility']:\n"
                                  "    {'type': 'string',\n     'description': 'Scope of image accessibility',\n"
                                  "     'enum': %s}\n\nOn instance['visibility']:\n    %r" % (value, enum, enum, value))


def time_filter(key, value):
    """Glance's changes-since filter: created_at/updated_at=OP:ISO-time, OP one of gt gte lt lte eq neq (eq when
    absent). Returns a predicate on epoch seconds; 400 when malformed."""
    op_name, sep, text = value.partition(':')
    if not sep or op_name not in TIME_OPERATORS:
        op_name, text = 'eq', value
    try:
        bound = parse_iso(text)
    except ValueError:
        raise ApiError(400, 'webob', 'Invalid filter value %s. The date format must be in ISO 8601.' % value)
    compare = TIME_OPERATORS[op_name]
    return lambda image: compare(image[key], bound)


def field_filter(key, value):
    """Equality on any image field of the listing (name, owner, status, id, __imagetype, custom properties...)."""
    def matches(view):
        if key not in view:
            return False
        actual = view[key]
        if isinstance(actual, bool):
            actual = 'true' if actual else 'false'
        return str(actual) == value
    return matches


def image_filters(pairs):
    """(predicates on the raw image, predicates on the listing view) of the query's filters."""
    on_image, on_view = [], []
    for key, value in pairs:
        if key == 'tag':
            on_view.append(lambda view, tag=value: tag in view.get('tags', []))  # every tag given must be there
        elif key in ('created_at', 'updated_at'):
            on_image.append(time_filter(key, value))
        else:
            on_view.append(field_filter(key, value))
    return on_image, on_view


def page_limit(text, default_limit, max_limit):
    if text is None:
        return default_limit
    try:
        limit = int(text)
    except ValueError:
        raise ApiError(400, 'webob', 'limit param must be an integer')
    if limit < 0:
        raise ApiError(400, 'webob', 'limit param must be positive')
    return min(limit, max_limit)


def sort_value(image, key):
    """The sort key of an image: timestamps to the second (the listing's resolution), the rest as text."""
    if key in ('created_at', 'updated_at'):
        return int(image[key])
    return str(image[key] or '')


def sort_and_page(selected, params, default_limit, max_limit=1000):
    sort_key = params.pop('sort_key', 'created_at')
    sort_dir = params.pop('sort_dir', 'desc')
    if sort_key not in SORT_KEYS:
        raise ApiError(400, 'webob', 'Invalid sort key: %s. It must be one of the following: %s.' % (sort_key, ', '.join(SORT_KEYS)))
    if sort_dir not in ('asc', 'desc'):
        raise ApiError(400, 'webob', 'Invalid sort direction: %s' % sort_dir)
    selected.sort(key=lambda item: (sort_value(item[0], sort_key), item[0]['id']), reverse=sort_dir == 'desc')
    limit = page_limit(params.pop('limit', None), default_limit, max_limit)
    marker = params.pop('marker', None)
    start = 0
    if marker is not None:
        ids = [item[0]['id'] for item in selected]
        if marker not in ids:
            raise ApiError(400, 'webob', 'No image found with ID %s' % marker)
        start = ids.index(marker) + 1
    return selected[start:start + limit], limit


class ImagesApi(Api):
    """Image reads and the few image writes the tests need."""

    def h_show_image(self, ctx):
        image_id = ctx.args['image_id']
        image = lookup_visible_image(self.state, ctx, image_id, 'No image found with ID %s' % image_id)
        return json_response(self.state.image_view(image, ctx.project_id))

    def listable(self, image, caller, visibility, member_status):
        """Glance's selection: own, public, and shared with the caller in member_status; community on request."""
        state = self.state
        vis = state.filter_visibility(image)
        if image['owner'] == caller or vis == 'public':
            pass
        elif vis == 'community':
            if state.mode != 'glance' or visibility not in ('community', 'all'):
                return False
        elif state.membership_counts(image, caller):
            if member_status != 'all' and state.member(image['id'], caller)['status'] != member_status:
                return False
        else:
            return False
        if visibility not in (None, 'all') and vis != visibility:
            return False
        return not (visibility is None and vis == 'community' and image['owner'] != caller)

    def select_images(self, ctx, pairs):
        """Images the caller may list under Glance's rules, filtered by the query pairs; raises 400 on bad filters."""
        state = self.state
        params = dict(pairs)
        visibility = params.get('visibility')
        if visibility is not None and visibility not in VISIBILITIES + ('all',):
            raise ApiError(400, 'webob', 'Invalid visibility value: %s' % visibility)
        member_status = params.get('member_status', 'accepted')
        allowed_status = MEMBER_STATUSES + (('all',) if state.setting('member_status_all') or state.mode == 'glance' else ())
        if member_status not in allowed_status:
            raise ApiError(400, 'webob', 'Invalid status: %s' % member_status)
        on_image, on_view = image_filters((k, v) for k, v in pairs if k not in ('visibility', 'member_status'))
        selected = []
        for image in state.images():
            if not self.listable(image, ctx.project_id, visibility, member_status):
                continue
            if not all(matches(image) for matches in on_image):
                continue
            # The view (all fields of the listing) only when a filter needs it; pages get theirs in listing_page.
            view = state.image_view(image, ctx.project_id) if on_view else None
            if all(matches(view) for matches in on_view):
                selected.append((image, view))
        return selected

    def listing_page(self, ctx, default_limit):
        """(query pairs, page of (image, view), limit) of a list request."""
        query = list(ctx.request.args.items(multi=True))
        selected = self.select_images(ctx, [(k, v) for k, v in query if k not in PAGING_KEYS])
        page, limit = sort_and_page(selected, dict((k, v) for k, v in query if k in PAGING_KEYS), default_limit)
        page = [(image, view or self.state.image_view(image, ctx.project_id)) for image, view in page]
        return query, page, limit

    def h_list_images(self, ctx):
        query, page, limit = self.listing_page(ctx, default_limit=25)
        body = {'images': [view for _image, view in page], 'schema': '/v2/schemas/images'}
        base_params = [(k, v) for k, v in query if k != 'marker']
        body['first'] = '/v2/images' + ('?' + urlencode(base_params) if base_params else '')
        # Like Glance: a full page always carries "next", even when nothing follows.
        if page and len(page) == limit:
            body['next'] = '/v2/images?' + urlencode(base_params + [('marker', page[-1][0]['id'])])
        return json_response(body)

    def h_list_cloudimages(self, ctx):
        _query, page, _limit = self.listing_page(ctx, default_limit=500)
        return json_response({'images': [view for _image, view in page]})

    def h_create_image(self, ctx):
        state = self.state
        data, problem = parse_json(ctx.body)
        if problem == 'empty':
            raise ApiError(400, 'webob', 'Body expected in request.')
        if problem or not isinstance(data, dict):
            raise ApiError(400, 'webob', 'Malformed JSON in request body.')
        for key in data:
            if key in READ_ONLY[1:] + ('size', 'checksum'):
                raise ApiError(403, 'webob', "Attribute '%s' is read-only." % key)
        visibility = data.get('visibility', 'shared' if state.mode == 'glance' else 'private')
        if visibility not in VISIBILITIES:
            raise bad_visibility(visibility)
        if visibility == 'public':
            raise ApiError(403, 'webob', 'You are not authorized to complete publicize_image action.')
        if state.mode == 'otc' and visibility != 'private':
            raise ApiError(400, 'webob', 'Only private images can be created with the native API.')
        image_id = str(data.get('id') or uuid.uuid4())
        if not UUID_RE.match(image_id):
            raise ApiError(400, 'webob', 'id must be a UUID')
        if state.image(image_id) is not None:
            raise ApiError(409, 'webob', 'Image with identifier %s already exists!' % image_id)
        now = state.now()
        tags = data.get('tags') or []
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            raise ApiError(400, 'webob', 'tags must be a list of strings')
        properties = dict((k, v) for k, v in data.items() if k not in ('id', 'name', 'visibility', 'protected', 'tags'))
        image = state.add_image({
            'id': image_id, 'name': str(data.get('name') or ''), 'owner': ctx.project_id, 'visibility': visibility,
            'status': 'queued', 'encrypted': False, 'key_authorized': False, 'whole_image': False, 'member_quota': None,
            'protected': bool(data.get('protected', False)), 'created_at': now, 'updated_at': now, 'properties': properties,
            'tags': list(tags),
        })
        view = state.image_view(image, ctx.project_id)
        return json_response(view, 201, {'Location': '%s/v2/images/%s' % (state.base_url, image_id)})

    @staticmethod
    def patch_changes(data):
        """Validate a JSON-patch document: [(op, name, value)]."""
        if not isinstance(data, list):
            raise ApiError(400, 'webob', 'Request body must be a JSON array of operation objects.')
        changes = []
        for operation in data:
            if not isinstance(operation, dict) or operation.get('op') not in ('replace', 'add', 'remove') \
                    or not isinstance(operation.get('path'), str) or not operation['path'].startswith('/'):
                raise ApiError(400, 'webob', 'Operation objects must contain exactly one member named "op" and a "path".')
            name = operation['path'][1:]
            if name in READ_ONLY:
                raise ApiError(403, 'webob', "Attribute '%s' is read-only." % name)
            if operation['op'] != 'remove' and 'value' not in operation:
                raise ApiError(400, 'webob', 'Operation objects must contain exactly one member named "value".')
            if name == 'visibility':
                if operation['op'] == 'remove' or operation['value'] not in VISIBILITIES:
                    raise bad_visibility(operation.get('value'))
                if operation['value'] == 'public':
                    raise ApiError(403, 'webob', 'You are not authorized to complete publicize_image action.')
            changes.append((operation['op'], name, operation.get('value')))
        return changes

    def h_patch_image(self, ctx):
        content_type = (ctx.request.content_type or '').split(';')[0].strip()
        if content_type not in JSON_PATCH_TYPES:  # Glance checks the media type before it looks the image up
            accepted = ', '.join(sorted(JSON_PATCH_TYPES))
            raise ApiError(415, 'webob', 'The request media type %s is not supported by this server.' % (content_type or 'None'),
                           headers={'Accept-Patch': accepted},
                           tail='\n<br /><br />\nImage PATCH expects Content-Type one of: %s' % accepted)
        image = lookup_visible_image(self.state, ctx, ctx.args['image_id'], 'No image found with ID %s' % ctx.args['image_id'])
        if image['owner'] != ctx.project_id:
            raise forbidden_action(ctx)
        data, problem = parse_json(ctx.body)
        if problem:
            raise ApiError(400, 'webob', 'Request body must be a JSON array of operation objects.')
        self.state.update_image(image, self.patch_changes(data))
        return json_response(self.state.image_view(image, ctx.project_id))

    def h_delete_image(self, ctx):
        image = lookup_visible_image(self.state, ctx, ctx.args['image_id'], 'Failed to find image %s to delete' % ctx.args['image_id'])
        if image['owner'] != ctx.project_id:
            raise forbidden_action(ctx)
        if image['protected']:
            raise ApiError(403, 'webob', 'Image %s is protected and cannot be deleted.' % image['id'])
        self.state.delete_image(image['id'])
        return no_content()
