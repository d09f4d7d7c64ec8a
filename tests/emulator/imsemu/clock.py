# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Timestamp formats of the real services."""

from datetime import datetime, timezone

SDK_DATE_FORMAT = '%Y%m%dT%H%M%SZ'


def iso_seconds(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def iso_millis(ts):
    dt = datetime.fromtimestamp(ts, timezone.utc)
    return dt.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (dt.microsecond // 1000)


def iso_micros(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def parse_iso(value):
    text = str(value).strip().replace('Z', '+00:00')
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def sdk_date(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime(SDK_DATE_FORMAT)


def parse_sdk_date(value):
    """X-Sdk-Date -> epoch seconds; ValueError when malformed."""
    return datetime.strptime(value, SDK_DATE_FORMAT).replace(tzinfo=timezone.utc).timestamp()
