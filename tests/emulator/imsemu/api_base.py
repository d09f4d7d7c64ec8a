# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every API room shares: the state and the convention that ``h_<endpoint>`` handles a route."""


class Api(object):
    """Base of the API rooms. A method ``h_<endpoint>(ctx)`` handles the route whose endpoint name follows h_."""

    def __init__(self, state):
        self.state = state

    def handlers(self):
        return dict((name[2:], getattr(self, name)) for name in dir(self) if name.startswith('h_'))
