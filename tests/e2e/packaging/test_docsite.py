# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A docs site built by antsibull-docs (sphinx-init + collection + sphinx-build) contains the guides (issue 18.2).

The site is built as a collection's docsite is built from the checkout: the guides come in only through
docs/docsite/extra-docs.yml and docs/docsite/rst/ (generated from docs/guides/*.md by scripts/build-docs.sh).
Intersphinx is switched off (no network), so references into the Ansible docs stay unresolved; warnings about the
guides' own pages fail the test.
"""
import glob
import html
import os
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
GUIDES = sorted(os.path.splitext(os.path.basename(path))[0] for path in glob.glob(os.path.join(ROOT, 'docs', 'guides', '*.md')))
MODULES = sorted(os.path.splitext(os.path.basename(path))[0] for path in glob.glob(os.path.join(ROOT, 'plugins', 'modules', '*.py')))


def _tool(name):
    return os.path.join(os.path.dirname(sys.executable), name)


class _Page(HTMLParser):
    """The title, the section headings and the links of an HTML page."""

    def __init__(self):
        super().__init__()
        self.title = ''
        self.headings = []
        self.hrefs = []
        self._in = None
        self._text = []

    def handle_starttag(self, tag, attrs):
        if tag in ('title', 'h1', 'h2'):
            self._in, self._text = tag, []
        if tag == 'a':
            self.hrefs.extend(value for key, value in attrs if key == 'href' and value)

    def handle_endtag(self, tag):
        if tag == self._in:
            text = ' '.join(''.join(self._text).split()).replace('\u00b6', '').strip()
            text = _plain(text)
            if tag == 'title':
                self.title = text
            else:
                self.headings.append(text)
            self._in = None

    def handle_data(self, data):
        if self._in:
            self._text.append(data)


def _plain(text):
    """Text without Sphinx's typographic quotes and dashes (html_use_smartypants), for comparing with Markdown."""
    for fancy, plain in (('\u201c', '"'), ('\u201d', '"'), ('\u2018', "'"), ('\u2019', "'"), ('\u2013', '--'),
                         ('\u2014', '---'), ('\u2026', '...')):
        text = text.replace(fancy, plain)
    return text


def _parse(path):
    page = _Page()
    with open(path, encoding='utf-8') as handle:
        page.feed(handle.read())
    return page


def _markdown_headings(name):
    """The level-1 and level-2 headings of a guide, as plain text (code fences skipped)."""
    headings, fenced = [], False
    with open(os.path.join(ROOT, 'docs', 'guides', name + '.md'), encoding='utf-8') as handle:
        for line in handle:
            if line.startswith('```'):
                fenced = not fenced
            elif not fenced and re.match(r'^##? ', line):
                text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', line.lstrip('#').strip())
                headings.append(' '.join(text.replace('`', '').replace('*', '').split()))
    return headings


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    base = tmp_path_factory.mktemp('docsite')
    tree = base / 'tree' / 'ansible_collections' / 'imscloud'
    tree.mkdir(parents=True)
    (tree / 'sharing').symlink_to(ROOT)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(base / 'tree'), ANSIBLE_NOCOLOR='1')
    dest = base / 'site'
    dest.mkdir(mode=0o700)
    run = dict(env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    subprocess.run([_tool('antsibull-docs'), 'sphinx-init', '--use-current', '--squash-hierarchy',
                    '--sphinx-theme', 'alabaster', '--dest-dir', str(dest), 'imscloud.sharing'], check=True, **run)
    with open(str(dest / 'conf.py'), 'a', encoding='utf-8') as handle:
        handle.write('\nintersphinx_mapping = {}  # no network here\n')
    rst = dest / 'rst'
    rst.chmod(0o700)
    subprocess.run([_tool('antsibull-docs'), '--config-file', str(dest / 'antsibull-docs.cfg'), 'collection',
                    '--cleanup', 'everything', '--use-current', '--squash-hierarchy', '--dest-dir', str(rst),
                    'imscloud.sharing'], check=True, **run)
    warnings = dest / 'warnings.txt'
    subprocess.run([sys.executable, '-m', 'sphinx', '-b', 'html', '-q', '-c', str(dest), '-w', str(warnings),
                    str(rst), str(dest / 'html')], check=True, **run)
    return {'html': dest / 'html', 'warnings': warnings.read_text(encoding='utf-8')}


def test_there_are_guides_to_publish():
    assert 'quickstart' in GUIDES and len(GUIDES) >= 5, GUIDES


@pytest.mark.parametrize('name', GUIDES)
def test_each_guide_is_a_page_with_its_headings(site, name):
    html_dir = site['html']
    page_path = html_dir / 'docsite' / (name + '.html')
    assert page_path.is_file(), 'the docs site has no page for docs/guides/%s.md' % name
    page = _parse(str(page_path))
    expected = _markdown_headings(name)
    assert html.unescape(expected[0]) in page.title
    missing = [heading for heading in expected if heading not in page.headings]
    assert not missing, 'headings of docs/guides/%s.md missing from its page: %s (page has %s)' % (
        name, missing, page.headings)


def test_the_index_page_lists_every_guide(site):
    html_dir = site['html']
    index = _parse(str(html_dir / 'index.html'))
    missing = [name for name in GUIDES if 'docsite/%s.html' % name not in index.hrefs]
    assert not missing, 'guides not linked from the collection index: %s' % missing


def test_links_inside_the_site_resolve(site):
    html_dir = site['html']
    broken = []
    pages = [path for path in html_dir.rglob('*.html') if path.parent.name == 'docsite']
    assert pages
    for path in pages:
        for href in _parse(str(path)).hrefs:
            if re.match(r'^[a-z]+:', href) or href.startswith('#'):
                continue
            target = (path.parent / href.split('#')[0]).resolve()
            if not target.exists():
                broken.append('%s -> %s' % (path.name, href))
    assert not broken, broken


def test_guides_link_to_each_other_and_to_the_modules(site):
    html_dir = site['html']
    hrefs = _parse(str(html_dir / 'docsite' / 'quickstart.html')).hrefs
    assert any(href.split('#')[0] == 'authentication.html' for href in hrefs), hrefs
    assert any(href.split('#')[0] == '../index.html' for href in hrefs), hrefs


def test_module_pages_are_there_too(site):
    html_dir = site['html']
    missing = [name for name in MODULES if not (html_dir / ('%s_module.html' % name)).is_file()]
    assert not missing, missing


def test_no_sphinx_warning_about_the_guides(site):
    warnings = site['warnings']
    about_guides = [line for line in warnings.splitlines() if '/docsite/' in line]
    assert not about_guides, about_guides
