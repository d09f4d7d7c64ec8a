# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

# The sign-in methods: the Keystone/IAM v3 body of each (password, password + TOTP passcode, token, application
# credential), the check that a token is scoped where the user asked, and what IAM's refusal (401) most likely
# means for the configuration that was refused. The token lifecycle itself is auth.TokenProvider's.
#
# The configuration was validated by config.resolve_connection(); nothing here checks it again.

import hashlib
from typing import Any, List, Optional

from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError

APPLICATION_CREDENTIAL = 'v3applicationcredential'

# IAM error codes (OTC IAM API reference, appendix "Error Codes"; ims_api.md section 1.3) -> what they mean here.
IAM_REFUSAL_CODES = {
    'IAM.0001': 'IAM wants valid credentials for this request',
    'IAM.0061': 'the user is locked (too many failed sign-ins) or disabled',
    'IAM.0062': 'the password is wrong',
    'IAM.0066': 'the token has expired',
    'IAM.0067': 'the token is not valid',
}


def _domain(domain_id: Optional[str], domain_name: Optional[str]) -> Optional[dict]:
    if domain_id:
        return {'id': domain_id}
    if domain_name:
        return {'name': domain_name}
    return None


def _user(config: Any) -> dict:
    if config.user_id:
        return {'id': config.user_id}
    return {'name': config.username, 'domain': _domain(config.user_domain_id, config.user_domain_name)}


def identity_body(config: Any) -> dict:
    """The Keystone v3 'identity' of the configuration's sign-in method."""
    if config.auth_type == 'token':
        return {'methods': ['token'], 'token': {'id': config.token}}
    if config.auth_type == APPLICATION_CREDENTIAL:
        credential: dict = {'secret': config.application_credential_secret}
        if config.application_credential_id:
            credential['id'] = config.application_credential_id
        else:
            credential.update(name=config.application_credential_name, user=_user(config))
        return {'methods': ['application_credential'], 'application_credential': credential}
    user = dict(_user(config), password=config.password)
    if not config.passcode:
        return {'methods': ['password'], 'password': {'user': user}}
    # OTC/Huawei IAM "Obtaining a User Token Through Password and Virtual MFA Authentication"; Keystone's totp
    # method has the same shape. The totp user is named by id (config.py makes user_id mandatory with a passcode).
    return {'methods': ['password', 'totp'], 'password': {'user': user},
            'totp': {'user': {'id': config.user_id, 'passcode': config.passcode}}}


def passcode_digest(config: Any) -> Optional[str]:
    """A digest of the user id and passcode, kept with the token to tell a used passcode; None without one.

    The passcode is spent once IAM saw it, so its digest is no secret worth guarding beyond that."""
    if not config.passcode:
        return None
    return hashlib.sha256(('totp:%s:%s' % (config.user_id, config.passcode)).encode('utf-8')).hexdigest()


def passcode_reused(config: Any, record: Any) -> bool:
    """True when the token record (of an earlier task) was obtained with the passcode of this configuration."""
    digest = passcode_digest(config)
    return bool(digest) and isinstance(record, dict) and record.get('passcode_digest') == digest


def spent_record(record: dict) -> dict:
    """What stays in the cache of a rejected token obtained with a passcode: no token, expired, the digest."""
    return dict(record, token='none: rejected', expires_at=0.0, catalog=[])


def project_scope(config: Any) -> Optional[dict]:
    """The project scope to ask for; None for an application credential, which is scoped by Keystone itself
    (Keystone refuses a scope in that request)."""
    if config.auth_type == APPLICATION_CREDENTIAL:
        return None
    if config.project_id:
        return {'id': config.project_id}
    return {'name': config.project_name, 'domain': _domain(config.project_domain_id, config.project_domain_name)}


def check_token_project(config: Any, project: dict) -> None:
    """An application credential's token must be for the project the user named, if they named one."""
    if config.auth_type != APPLICATION_CREDENTIAL:
        return
    given, got = None, None
    if config.project_id and project.get('id') != config.project_id:
        given, got = 'project_id %s' % config.project_id, project.get('id')
    elif not config.project_id and config.project_name and project.get('name') != config.project_name:
        given, got = "project_name '%s'" % config.project_name, project.get('name')
    if given:
        raise IMSError('the application credential %s is scoped to project %s (%s), not to the %s that is set: an '
                       'application credential always signs in to the project it was created in. Remove the project '
                       'option, or use a credential of that project'
                       % (_credential_name(config), project.get('id'), project.get('name') or 'no name', given),
                       details={'token_project_id': project.get('id')})


def _credential_name(config: Any) -> str:
    if config.application_credential_id:
        return 'id %s' % config.application_credential_id
    return "'%s'" % config.application_credential_name


def _given(config: Any, id_key: str, name_key: str) -> Optional[str]:
    if getattr(config, id_key, None):
        return "'%s' (given as an id, %s)" % (getattr(config, id_key), id_key)
    if getattr(config, name_key, None):
        return "'%s' (given as a name, %s)" % (getattr(config, name_key), name_key)
    return None


def describe_sign_in(config: Any) -> str:
    """Who tried to sign in where, in words; never a secret."""
    if config.auth_type == APPLICATION_CREDENTIAL:
        parts = ['application credential %s' % _credential_name(config)]
        if not config.application_credential_id:
            parts.append('of user %s' % (_given(config, 'user_id', 'username') or '?'))
    elif config.auth_type == 'token':
        parts = ['a token']
    else:
        parts = ['user %s' % (_given(config, 'user_id', 'username') or '?')]
    if config.auth_type != 'token' and not config.user_id and not config.application_credential_id:
        parts.append('in domain %s' % (_given(config, 'user_domain_id', 'user_domain_name') or '?'))
    if config.auth_type == APPLICATION_CREDENTIAL:
        parts.append('(the credential chooses the project)')
    elif config.project_id:
        parts.append('for project %s (project_id)' % config.project_id)
    else:
        parts.append("for project '%s' (project_name) in domain %s" % (
            config.project_name, _given(config, 'project_domain_id', 'project_domain_name') or '?'))
    if config.auth_type == 'password' and config.passcode:
        parts.append('with a TOTP passcode')
    parts.append('at %s' % config.auth_url)
    return ' '.join(parts)


def _likely_causes(config: Any, code: Optional[str]) -> List[str]:
    causes = []
    if code in IAM_REFUSAL_CODES:
        causes.append('%s (%s)' % (IAM_REFUSAL_CODES[code], code))
    if config.auth_type == 'token':
        return causes + ['the token has expired or was revoked', 'the token is from another cloud or region']
    if config.auth_type == APPLICATION_CREDENTIAL:
        causes += ['the secret does not belong to the credential, or the credential expired or was deleted']
    else:
        causes.append('a wrong password')
    if not config.user_id and not config.application_credential_id:
        causes.append("a wrong user domain: names and ids differ (on plain OpenStack the default domain has the id "
                      "'default' and the name 'Default'; on OTC the domain name is the account name, OTC00...)")
    if config.auth_type == 'password':
        causes.append('the user has MFA login protection and needs auth.passcode with auth.user_id' if not config.passcode
                      else 'the passcode is wrong, expired, or was already used (a passcode works once)')
    causes += ['the user is locked or disabled',
               'auth_url is the IAM of another region or cloud than the one the user lives in']
    return causes


def explain_iam_refusal(err: IMSError, config: Any) -> IMSError:
    """IAM's 401 to a sign-in, with who signed in where and the likely causes; other errors unchanged."""
    if err.status != 401:
        return err
    hint = 'Likely causes: %s' % '; '.join(_likely_causes(config, err.code))
    return err.with_context('IAM refused the sign-in of %s' % describe_sign_in(config), hint)
