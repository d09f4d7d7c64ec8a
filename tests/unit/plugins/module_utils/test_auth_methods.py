# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.imscloud.sharing.plugins.module_utils.auth_methods import (
    check_token_project,
    explain_iam_refusal,
    identity_body,
    project_scope,
)
from ansible_collections.imscloud.sharing.plugins.module_utils.errors import IMSError

PASSWORD = 'Mfa-Passw0rd!'
SECRET = 'app-cred-secret-0123'
IAM = 'https://iam.eu-de.otc.t-systems.com/v3'


def settings(**values):
    base = dict(auth_type='password', auth_url=IAM, username=None, user_id=None, password=None, user_domain_name=None,
                user_domain_id=None, project_id=None, project_name=None, project_domain_name=None,
                project_domain_id=None, token=None, passcode=None, application_credential_id=None,
                application_credential_name=None, application_credential_secret=None)
    base.update(values)
    return SimpleNamespace(**base)


def test_password_with_passcode_sends_password_and_totp():
    config = settings(user_id='u-1', password=PASSWORD, passcode='123456', project_id='p1')
    assert identity_body(config) == {
        'methods': ['password', 'totp'],
        'password': {'user': {'id': 'u-1', 'password': PASSWORD}},
        'totp': {'user': {'id': 'u-1', 'passcode': '123456'}},
    }
    assert project_scope(config) == {'id': 'p1'}


def test_application_credential_by_id_has_no_scope():
    config = settings(auth_type='v3applicationcredential', application_credential_id='ac-1',
                      application_credential_secret=SECRET, project_id='p1')
    assert identity_body(config) == {'methods': ['application_credential'],
                                     'application_credential': {'id': 'ac-1', 'secret': SECRET}}
    assert project_scope(config) is None


def test_application_credential_by_name_names_its_user():
    config = settings(auth_type='v3applicationcredential', application_credential_name='ci',
                      application_credential_secret=SECRET, username='alice', user_domain_id='default')
    assert identity_body(config)['application_credential'] == {
        'name': 'ci', 'secret': SECRET, 'user': {'name': 'alice', 'domain': {'id': 'default'}}}
    config.user_id = 'u-1'
    assert identity_body(config)['application_credential']['user'] == {'id': 'u-1'}


def test_application_credential_project_must_match():
    config = settings(auth_type='v3applicationcredential', application_credential_id='ac-1', project_id='p1')
    check_token_project(config, {'id': 'p1', 'name': 'owner'})
    with pytest.raises(IMSError) as caught:
        check_token_project(config, {'id': 'p2', 'name': 'consumer'})
    assert str(caught.value).startswith('the application credential id ac-1 is scoped to project p2 (consumer), not to '
                                        'the project_id p1 that is set')
    config = settings(auth_type='v3applicationcredential', application_credential_name='ci', project_name='owner')
    check_token_project(config, {'id': 'p1', 'name': 'owner'})
    with pytest.raises(IMSError):
        check_token_project(config, {'id': 'p1', 'name': 'other'})
    check_token_project(settings(project_id='p1'), {'id': 'p2'})   # password: IAM scoped it as asked


def refusal(code='IAM.0062'):
    return IMSError('The username or password is wrong.', status=401, code=code, method='POST',
                    url=IAM + '/auth/tokens', service='IAM')


def test_401_names_user_domain_scope_url_and_causes():
    config = settings(username='alice', password=PASSWORD, user_domain_name='default', project_name='demo',
                      project_domain_id='default', auth_url='http://127.0.0.1:5000/v3')
    err = explain_iam_refusal(refusal(), config)
    text = str(err)
    assert text.startswith("IAM refused the sign-in of user 'alice' (given as a name, username) in domain 'default' "
                           "(given as a name, user_domain_name) for project 'demo' (project_name) in domain 'default' "
                           "(given as an id, project_domain_id) at http://127.0.0.1:5000/v3: IAM request failed: POST ")
    assert 'returned 401 Unauthorized (IAM.0062): The username or password is wrong.' in text
    assert "Likely causes: the password is wrong (IAM.0062); a wrong password; a wrong user domain: names and ids " \
           "differ (on plain OpenStack the default domain has the id 'default' and the name 'Default'" in text
    assert 'needs auth.passcode with auth.user_id' in text and 'locked or disabled' in text
    assert 'IAM of another region' in text
    assert PASSWORD not in text
    assert err.to_dict()['code'] == 'IAM.0062' and err.details['hint'].startswith('Likely causes')


def test_401_with_passcode_and_application_credential():
    text = str(explain_iam_refusal(refusal(None), settings(user_id='u-1', password=PASSWORD, passcode='654321',
                                                           project_id='p1')))
    assert "user 'u-1' (given as an id, user_id) for project p1 (project_id) with a TOTP passcode" in text
    assert 'already used (a passcode works once)' in text and '654321' not in text
    text = str(explain_iam_refusal(refusal(None), settings(auth_type='v3applicationcredential',
                                                           application_credential_id='ac-1',
                                                           application_credential_secret=SECRET)))
    assert 'application credential id ac-1 (the credential chooses the project)' in text
    assert 'the secret does not belong to the credential' in text and SECRET not in text


def test_other_errors_are_left_alone():
    err = IMSError('busy', status=503)
    assert explain_iam_refusal(err, settings()) is err
