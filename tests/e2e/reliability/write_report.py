# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render docs/reliability.md from the figures the reliability suite wrote (one JSON object per line).

    IMS_RELIABILITY_REPORT=/tmp/reliability.jsonl python -m pytest -n 2 tests/e2e/reliability
    python tests/e2e/reliability/write_report.py /tmp/reliability.jsonl docs/reliability.md
"""

import argparse
import collections
import datetime
import json
import sys

# The settings of the fault runs (tests/e2e/reliability/test_faults.py), repeated on the page.
FAULT_SETTINGS = ('Every IMS route fails 20 % of its requests (its own seeded rule: 429 with `Retry-After: 1`, 500, 503, '
                  'or a dropped connection, equally likely); `POST /v3/auth/tokens` gets 429 in 10 % of requests. '
                  'Modules run with `retries: 8`, `token_cache: false` (so every task authenticates), batch '
                  '`timeout: 3`; emulator jobs take 0.2 s.')


def load(path):
    entries = collections.defaultdict(list)
    with open(path, encoding='utf-8') as handle:
        for line in handle:
            if line.strip():
                entry = json.loads(line)
                entries[entry['section']].append(entry)
    for section in entries.values():
        # tests finish in any order under xdist: sort by the text fields (case names), so the page diffs cleanly
        section.sort(key=lambda entry: [str(entry[key]) for key in sorted(entry) if isinstance(entry[key], str)])
    return entries


def table(header, rows):
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '|'.join('---' for _column in header) + '|']
    lines.extend('| ' + ' | '.join(str(cell) for cell in row) + ' |' for row in rows)
    return lines


def yes_no(value):
    return 'yes' if value else 'NO'


def kinds(by_kind):
    return ', '.join('%s %d' % (kind, by_kind[kind]) for kind in sorted(by_kind)) or 'none'


def outcome_section(entries):
    outcomes = entries.get('outcome', [])
    counts = collections.Counter(entry['outcome'] for entry in outcomes)
    lines = ['## Test run', '',
             '%d tests: %d passed, %d failed%s. Longest: %s.' % (
                 len(outcomes), counts['passed'], counts['failed'],
                 (', %d skipped' % counts['skipped']) if counts['skipped'] else '',
                 ', '.join('%s (%.0f s)' % (entry['test'].split('::', 1)[1], entry['seconds'])
                           for entry in sorted(outcomes, key=lambda e: -e['seconds'])[:3]))]
    failed = [entry['test'] for entry in outcomes if entry['outcome'] == 'failed']
    if failed:
        lines += ['', 'Failed (open bugs; each test names the cause):', '']
        lines += ['- `%s`' % test for test in sorted(failed)]
    return lines


def faults_section(entries):
    runs = sorted(entries.get('faults', []), key=lambda entry: entry['seed'])
    rows = [(run['seed'], run['ims_requests'], run['token_requests'], '%d (%s)' % (run['faults'], kinds(run['faults_by_kind'])),
             run['iam_faults'], run['batch_submission_faults'], run['jobs'], run['duplicate_jobs'], yes_no(run['converged']),
             run['rerun_changed'] if run['rerun_changed'] is not None else 'failed') for run in runs]
    total_faults = sum(run['faults'] for run in runs)
    lines = ['## Faults', '', FAULT_SETTINGS, '',
             'Each seed runs eight scenarios in one play: `ims_image_member` add, purge, remove and accept, '
             '`ims_image_member_batch` add, purge, remove and accept. Then the faults are cleared, the membership of '
             'every image is compared with the declared one, the emulator\'s jobs are checked for an (operation, image, '
             'project) triple in two jobs and its responses for a native write that succeeded twice, and the same play '
             'runs again. A fault on a batch submission leaves it uncertain: the module watches the members instead of '
             'sending it again blindly.', '']
    lines += table(['seed', 'IMS requests', 'token requests', 'faults injected', 'IAM 429s', 'faults on batch submissions',
                    'jobs', 'pairs in 2 jobs', 'converged', 're-run: changed tasks'], rows)
    converged = sum(1 for run in runs if run['converged'])
    quiet_reruns = sum(1 for run in runs if run['rerun_changed'] == 0)
    lines += ['', '%d faults injected over %d seeds; %d of %d runs converged to the declared membership, %d of %d '
              're-runs reported no change.' % (total_faults, len(runs), converged, len(runs), quiet_reruns, len(runs))]
    for entry in entries.get('uncertain_in_a_row', []):
        lines += ['', 'Three faults in a row (500, 503, dropped connection) on one batch submission, with `retries: 8`: %s.' % (
            'converged, one job after %d submissions' % entry['submissions'] if entry['converged']
            else 'the task FAILED after %d submissions (open bug: the module stops after 3 uncertain submissions, '
                 'whatever `retries` says)' % entry['submissions'])]
    lost = entries.get('lost_response', [])
    if lost:
        lines += ['', 'Lost responses (the request is processed, the answer never arrives):', '']
        for entry in lost:
            lines.append('- `%s`: %s.' % (entry['module'], 'one job, no second submission' if entry['jobs'] == 1
                                          else '%d attempts, one member added, the retry met 409 and counted as done'
                                          % entry['submissions']))
    return lines


def crash_section(entries):
    lines = []
    for entry in entries.get('crash', []):
        runs = entry['runs']
        rows = [(number + 1, run['killed_in_task'], run['processes_killed'], run['running_at_kill'], run['waited'],
                 run['jobs'], run['duplicates'], yes_no(run['converged']), run['contradictions'])
                for number, run in enumerate(runs)]
        lines += ['## Controller killed while jobs run', '',
                  'A play of two `ims_image_member_batch` tasks (one job each, emulator jobs take %d s) is killed with '
                  '`kill -9` once a job is submitted: ansible-playbook, its workers and the modules (the workers call '
                  '`setsid`, so the whole process tree is stopped, then killed). The same play runs again at once. The '
                  'emulator counts the jobs and the (operation, image, project) triples submitted twice; the re-run\'s '
                  'report must hold no contradiction (no failure, nothing "not applied", `changed` exactly where its '
                  'own jobs applied pairs).' % entry['job_duration'], '']
        lines += table(['run', 'killed in task', 'processes killed', 'jobs running at the kill',
                        're-run waited for the journaled job', 'jobs', 'pairs in 2 jobs', 'converged',
                        'contradictions'], rows)
        lines += ['', '%d kills: %d pairs submitted twice, %d of %d runs converged, %d contradictions in the re-runs\' '
                  'reports.' % (len(runs), sum(run['duplicates'] for run in runs),
                                sum(bool(run['converged']) for run in runs), len(runs),
                                sum(run['contradictions'] for run in runs))]
    return lines


def not_json_section(entries):
    cases = entries.get('not_json', [])
    if not cases:
        return []
    lines = ['## 200 answers that are not JSON', '',
             'A proxy answers `200` with its HTML login page instead of the API\'s JSON (emulator faults `html200`: the '
             'request never reaches the cloud; `html200-processed`: the cloud processed it, only the answer is '
             'replaced). A read is retried; a batch submission is uncertain (its job may exist) and is settled by '
             're-reading the members. A true report: no failure, `changed: true`, no pair reported not applied.', '']
    rows = [(entry['case'], entry['faults'], entry.get('submissions', '-'), entry['jobs'], entry.get('duplicates', 0),
             yes_no(entry['converged']), yes_no(entry['true_report'])) for entry in cases]
    lines += table(['case', 'login pages', 'batch submissions', 'jobs', 'pairs in 2 jobs', 'converged', 'true report'],
                   rows)
    return lines


def listed_cases(title, entries, fields):
    lines = ['## ' + title, '']
    for entry in entries:
        lines.append('- ' + fields(entry))
    return lines


def bad_input_section(entries):
    groups = entries.get('bad_input', [])
    rows = [(group['group'], group['cases'], group['clear'], group['requests']) for group in groups]
    lines = ['## Bad input', '',
             'Each case is a task that must fail before any request, with a message naming the parameter, the bad value '
             'and what is allowed; the emulator counts the requests.', '']
    lines += table(['group', 'cases', 'clear message', 'requests sent'], rows)
    lines += ['', '%d bad inputs tried, %d rejected with a clear message, %d requests sent.' % (
        sum(g['cases'] for g in groups), sum(g['clear'] for g in groups), sum(g['requests'] for g in groups))]
    lines += ['', 'Valid edge cases: duplicates in a list are a warning and count once; non-ASCII image names '
              '(`bild-grün-日本`) resolve on the owner and the recipient side, non-ASCII project ids are refused.']
    for entry in entries.get('long_lists', []):
        lines.append('')
        lines.append('No list option has a documented maximum: a list of %d projects works (%d image-project pairs, '
                     '%d batch jobs of at most 100 projects), and its re-run changes nothing.'
                     % (entry['members'], entry['pairs'], entry['jobs']))
    return lines


def secrets_section(entries):
    lines = ['## Secrets', '',
             'Every module runs with `-vvvv` and `ANSIBLE_DEBUG=1` (and `ANSIBLE_LOG_PATH`) with a password (auth dict, '
             'cloud dict, clouds.yaml), a user token (`auth.token`), AK/SK, an application credential and a password '
             'with an MFA passcode, plus failing tasks (wrong password, wrong '
             'secret key, bad input). The secrets come from an extra-vars file, as AWX passes them. Searched: stdout, '
             'stderr, the Ansible log, the registered results, Ansible\'s temporary directories, every file of the '
             'token cache and every file name there.', '',
             'A leak is a password, a secret key, an application-credential secret, a passcode or the user\'s token '
             'anywhere, or a token IAM issued to a module '
             'anywhere but in the cache record (`<sha256>.json`, mode 0600) of the identity it was issued to.', '']
    for entry in entries.get('secrets', []):
        if 'names' in entry:
            lines += ['The secrets searched: %s.' % ', '.join(entry['names']), '']
        lines.append('%d secret values, %d places (%d bytes) searched, each value in every form (raw, JSON-escaped, '
                     'repr-escaped, URL-encoded): **%d leaks found**.' % (
                         entry['secrets'], entry['places'], entry['bytes'], entry['leaks']))
        if 'syslog_invocations' in entry:
            lines += ['', 'The places include the system log of the managed node: the modules run in a private mount '
                      'namespace whose `/dev/log` is a socket of the test, so ansible-core\'s own syslog path is used '
                      '(%d lines received, %d of them `Invoked with ...`, one per module run). The secrets hold '
                      'backslashes, quotes, `+`, `&`, spaces and non-ASCII letters, and come in `auth`, a `cloud` dict, '
                      '`clouds.yaml` and extra vars.' % (entry['syslog_lines'], entry['syslog_invocations'])]
        lines += ['', 'This includes the line in which ansible-core, with `ANSIBLE_DEBUG`, prints each module\'s arguments '
                  '(`done with _execute_module (...)`, %d lines in this run). For a plain module that line holds its '
                  '`no_log` options in clear; the collection\'s action plugin hands ansible-core arguments that print '
                  'masked, so the module still gets the real values and the debug output does not.'
                  % entry['core_debug_lines']]
    cache = entries.get('token_cache', [])
    if cache:
        lines += ['', 'Token cache: files 0600 in a 0700 directory, named by a hash.', ''] + [
            '- %s: %s.' % (entry['case'], 'yes' if entry['ignored'] else 'NO') for entry in cache]
    return lines


def other_sections(entries):
    def token_case(entry):
        return '%s: %s (%d token requests, %d answers 401).' % (
            entry['case'], 'the play went on' if entry['succeeded'] else 'the task failed, naming IAM and the 401',
            entry['token_requests'], entry['unauthorized'])

    def job_case(entry):
        if 'duplicate_jobs' in entry:
            return '%s: %d duplicate job(s).' % (entry['case'], entry['duplicate_jobs'])
        return '%s: %s.' % (entry['case'], 'converged' if entry['converged'] else 'did NOT converge')

    lines = listed_cases('Tokens reused, revoked or expiring', entries.get('tokens', []), token_case)
    lines += [''] + listed_cases('Jobs that fail or hang', entries.get('jobs', []), job_case)
    for entry in entries.get('tls', []):
        figures = (entry['verified_tasks'], entry['refused_without_ca'], entry['attempts_on_refusal'])
        lines += ['', '## TLS', '', '`validate_certs` defaults to true. With `ca_cert` (a CA made by the test) %d tasks '
                  'work over HTTPS; without it, or with another CA, %d tasks fail with `CERTIFICATE_VERIFY_FAILED` after '
                  '%d attempt (certificate errors are not retried); the message names the CA bundle it was checked '
                  'against and points to `ca_cert` / `validate_certs`. `validate_certs: false` works and warns.' % figures]
    for entry in entries.get('tls_http', []):
        lines += ['', 'A token obtained over https is not sent to an http IMS endpoint: %d task refused before sending, '
                  '%d requests reached the http endpoint (`allow_insecure_http: true` allows it, for labs).'
                  % (entry['refused'], entry['http_requests'])]
    lines += ['', '## Concurrency', '']
    for entry in entries.get('concurrency', []):
        lines.append('%d module processes (20 hosts, 20 forks, IAM answering in 2 s) shared one token cache: %d IAM '
                     'request; up to %d requests were in flight at once.' % (entry['processes'], entry['iam_requests'],
                                                                             entry['max_in_flight']))
    for entry in entries.get('concurrency_writers', []):
        lines.append('')
        lines.append('%d processes wrote and read one cache record %d times in all: %d corrupt reads, no corrupt or '
                     'temporary file left.' % (entry['processes'], entry['writes'], entry['corrupt_reads']))
    return lines


def render(entries, generated):
    lines = ['# Reliability', '',
             'What the reliability suite (`tests/e2e/reliability`, part of `./scripts/test.sh`) measured, against the '
             'emulator, through real `ansible-playbook` runs. Generated on %s by:' % generated, '', '```console',
             '$ IMS_RELIABILITY_REPORT=/tmp/reliability.jsonl python -m pytest -n 2 tests/e2e/reliability',
             '$ python tests/e2e/reliability/write_report.py /tmp/reliability.jsonl docs/reliability.md', '```', '']
    lines += outcome_section(entries) + ['']
    lines += faults_section(entries) + ['']
    lines += crash_section(entries) + ['']
    lines += not_json_section(entries) + ['']
    lines += bad_input_section(entries) + ['']
    lines += secrets_section(entries) + ['']
    lines += other_sections(entries)
    return '\n'.join(lines).rstrip() + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(description='Render docs/reliability.md from the reliability figures.')
    parser.add_argument('figures', help='the JSON-lines file written through IMS_RELIABILITY_REPORT')
    parser.add_argument('output', help='the Markdown page to write')
    args = parser.parse_args(argv)
    generated = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d')
    page = render(load(args.figures), generated)
    with open(args.output, 'w', encoding='utf-8') as handle:
        handle.write(page)
    return 0


if __name__ == '__main__':
    sys.exit(main())
