# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parity: the same member-API cases against the emulator (glance mode) and a real Keystone + Glance.

The emulator half always runs and checks the observations of real_openstack.md; the real half runs when
IMS_REAL_OPENSTACK_JSON describes a running Keystone + Glance, checks the same expectations there and then compares
both transcripts step by step (status, body shape, member roles and statuses, list counts).
"""

import pytest

from parity_cases import CASES, run_case

CASE_NAMES = sorted(CASES)


def transcript_of(transcripts, backend, case):
    key = (backend.name, case)
    if key not in transcripts:
        transcripts[key] = run_case(backend, case)
    return transcripts[key]


@pytest.mark.parametrize('case', CASE_NAMES)
def test_emulator_matches_observed_glance(emulator_backend, transcripts, case):
    transcript = transcript_of(transcripts, emulator_backend, case)
    assert transcript.steps, 'the case recorded no step'
    assert transcript.mismatches() == []


@pytest.mark.parametrize('case', CASE_NAMES)
def test_real_glance_matches_observed_glance(real_backend, transcripts, case):
    assert transcript_of(transcripts, real_backend, case).mismatches() == []


@pytest.mark.parametrize('case', CASE_NAMES)
def test_emulator_and_real_glance_agree(emulator_backend, real_backend, transcripts, case):
    emulated = transcript_of(transcripts, emulator_backend, case).observations()
    real = transcript_of(transcripts, real_backend, case).observations()
    differences = ['%s: emulator %s, real %s' % (e[0], e[1:], r[1:]) for e, r in zip(emulated, real) if e != r]
    assert len(emulated) == len(real)
    assert differences == []
