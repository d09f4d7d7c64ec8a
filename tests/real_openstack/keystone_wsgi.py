"""Keystone's WSGI application for gunicorn (start.sh runs `gunicorn keystone_wsgi:application`).

Keystone's oslo.config parses sys.argv while it loads. Under gunicorn sys.argv holds gunicorn's own
options, which Keystone rejects ("unrecognized arguments: --bind ..."), so drop them first.
"""
import sys

sys.argv = sys.argv[:1]

from keystone.wsgi.api import application  # noqa: E402  pylint: disable=wrong-import-position

__all__ = ['application']
