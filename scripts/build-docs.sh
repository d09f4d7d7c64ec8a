#!/usr/bin/env bash
# Generate the docs that are built from other files, never edited by hand:
#   docs/modules/        the module and role reference, from DOCUMENTATION/EXAMPLES/RETURN and argument_specs (antsibull-docs)
#   docs/docsite/rst/    the guides as antsibull-docs extra docs, from docs/guides/*.md (pandoc, pinned through
#                        pypandoc-binary in a venv of its own; the Markdown stays the one source)
#
#   ./scripts/build-docs.sh          regenerate both
#   ./scripts/build-docs.sh --check  fail when either is not what the sources generate, or a guide is not listed in
#                                    docs/docsite/extra-docs.yml
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_venv
export PATH="$VENV/bin:$PATH"
PANDOC_PACKAGE="pypandoc-binary==1.17"   # bundles pandoc 3.9: a new pandoc may write different RST
DOCS_TOOLS="$(ensure_extra_venv docs-tools "$(find_python)" "$PANDOC_PACKAGE")"
PANDOC="$("$DOCS_TOOLS/bin/python" -c 'import pypandoc; print(pypandoc.get_pandoc_path())')"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
make_collection_link_tree "$TMP/tree"
mkdir -p "$TMP/modules" "$TMP/rst"
chmod 700 "$TMP/modules"
ANSIBLE_COLLECTIONS_PATH="$TMP/tree" "$VENV/bin/antsibull-docs" collection --use-current --squash-hierarchy --fail-on-error \
  --output-format simplified-rst --dest-dir "$TMP/modules" imscloud.sharing >/dev/null
# antsibull-docs leaves out, with no error, a role whose argument_specs.yml does not load: every plugin needs its page
missing_pages=()
for module in plugins/modules/*.py; do
  [ -f "$TMP/modules/$(basename "$module" .py)_module.rst" ] || missing_pages+=("module $(basename "$module" .py)")
done
for role in roles/*/meta/argument_specs.yml; do
  role="$(basename "$(dirname "$(dirname "$role")")")"
  [ -f "$TMP/modules/${role}_role.rst" ] || missing_pages+=("role $role")
done
if [ "${#missing_pages[@]}" -gt 0 ]; then
  echo "antsibull-docs wrote no page for: ${missing_pages[*]} (ansible-doc -t module|role imscloud.sharing.NAME says why)" >&2
  exit 1
fi
# antsibull-docs also copies the extra docs there (docsite/): on GitHub, point at the Markdown guides instead
rm -rf "$TMP/modules/docsite"
sed -i -E 's#<docsite/([a-z0-9_-]+)\.rst>#<../guides/\1.md>#' "$TMP/modules/index.rst"

unlisted=()
for guide in docs/guides/*.md; do
  name="$(basename "$guide" .md)"
  # pandoc writes no blank line after the raw label block of scripts/md2rst.lua: add it
  "$PANDOC" --from gfm --to rst --wrap=preserve --lua-filter scripts/md2rst.lua --metadata "guide=$name" "$guide" |
    sed '/^\.\. _ansible_collections\.imscloud\.sharing\.docsite\.[a-z0-9_-]*:$/G' > "$TMP/rst/$name.rst"
  grep -qE "^ *- ref: $name\$" docs/docsite/extra-docs.yml || unlisted+=("$name")
done

if [ "${1:-}" = "--check" ]; then
  status=0
  if ! diff -ru docs/modules "$TMP/modules"; then
    echo "docs/modules/ is out of date: run ./scripts/build-docs.sh and commit the result" >&2
    status=1
  fi
  if ! diff -ru docs/docsite/rst "$TMP/rst"; then
    echo "docs/docsite/rst/ is out of date with docs/guides/*.md: run ./scripts/build-docs.sh and commit the result" >&2
    status=1
  fi
  if [ "${#unlisted[@]}" -gt 0 ]; then
    echo "guides missing from docs/docsite/extra-docs.yml (add a '- ref: NAME' entry): ${unlisted[*]}" >&2
    status=1
  fi
  [ "$status" = 0 ] && echo "docs/modules/ and docs/docsite/rst/ are up to date"
  exit "$status"
fi
rm -rf docs/modules docs/docsite/rst
cp -r "$TMP/modules" docs/modules
cp -r "$TMP/rst" docs/docsite/rst
chmod 755 docs/modules docs/docsite/rst
echo "wrote docs/modules/ and docs/docsite/rst/"
if [ "${#unlisted[@]}" -gt 0 ]; then
  echo "warning: guides missing from docs/docsite/extra-docs.yml: ${unlisted[*]}" >&2
fi
