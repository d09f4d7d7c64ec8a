# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""RFC 6238 time-based one-time passwords (HMAC-SHA1, 6 digits, 30 s steps), as virtual MFA apps compute them."""

import base64
import binascii
import hashlib
import hmac
import struct

STEP = 30
DIGITS = 6
WINDOW = 1  # steps accepted either side of now, for clock drift


def decode_secret(secret):
    """The key bytes of a base32 secret (case, spaces and missing padding tolerated); ValueError if not base32."""
    text = str(secret).replace(' ', '').upper()
    text += '=' * (-len(text) % 8)
    try:
        key = base64.b32decode(text)
    except (binascii.Error, ValueError):
        raise ValueError('not a base32 string')
    if not key:
        raise ValueError('empty secret')
    return key


def hotp(key, counter):
    """RFC 4226 HOTP value of counter, DIGITS long."""
    digest = hmac.new(key, struct.pack('>Q', counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(code % 10 ** DIGITS).zfill(DIGITS)


def passcode_at(secret, when):
    """The passcode an app shows at epoch seconds `when` (tests use it to log in)."""
    return hotp(decode_secret(secret), int(when // STEP))


def matching_step(secret, passcode, now):
    """The time step whose passcode equals `passcode` within +-WINDOW steps of now, or None."""
    if not isinstance(passcode, str) or len(passcode) != DIGITS or not passcode.isdigit():
        return None
    key = decode_secret(secret)
    current = int(now // STEP)
    for counter in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(hotp(key, counter), passcode):
            return counter
    return None
