-- pandoc filter used by scripts/build-docs.sh: turns a guide of docs/guides/*.md into an antsibull-docs extra doc.
-- Links to other guides become :ref: links to their docsite labels, links to module docs become :ref: links to
-- the module pages, and any other relative link points at the file in the repository (the docsite has no such file).
local REPOSITORY = 'https://github.com/imscloud/sharing/blob/main/'
local LABEL_PREFIX = 'ansible_collections.imscloud.sharing.docsite.'
local MODULE_LABEL_PREFIX = 'ansible_collections.imscloud.sharing.'
local guide_name = nil

local function rst_ref(text, label)
  text = text:gsub('([<>`\\])', '\\%1')
  return pandoc.RawInline('rst', ':ref:`' .. text .. ' <' .. label .. '>`')
end

-- a path relative to docs/guides/, as a path from the repository root
local function repository_path(path)
  local parts = { 'docs', 'guides' }
  for part in path:gmatch('[^/]+') do
    if part == '..' then
      table.remove(parts)
    elseif part ~= '.' then
      table.insert(parts, part)
    end
  end
  return table.concat(parts, '/')
end

function Meta(meta)
  guide_name = pandoc.utils.stringify(meta.guide)
end

function Link(link)
  local target = link.target
  if target:match('^%a[%w+.-]*:') or target:match('^#') then
    return nil
  end
  local path = target:match('^([^#]*)')
  local text = pandoc.utils.stringify(link.content)
  local guide = path:match('^%.?/?([%w_-]+)%.md$')
  if guide then
    return rst_ref(text, LABEL_PREFIX .. guide)
  end
  if path:match('^%.%./modules/?$') then
    return rst_ref(text, 'plugins_in_imscloud.sharing')
  end
  local module = path:match('modules/([%w_]+)_module%.rst$')
  if module then
    return rst_ref(text, MODULE_LABEL_PREFIX .. module .. '_module')
  end
  -- reStructuredText cannot nest markup (such as code) in a link: keep the text only
  return pandoc.Link(text, REPOSITORY .. repository_path(path))
end

-- pandoc would write a label for every heading; antsibull-docs allows only labels with the collection's prefix,
-- and the guides do not link to their own headings
function Header(header)
  header.identifier = ''
  return header
end

-- Commands in the guides show placeholders (<directory>) that are no valid bash, and rstcheck runs 'bash -n' on bash
-- blocks: mark them 'shell', which Pygments highlights with the same lexer
function CodeBlock(block)
  if block.classes[1] == 'bash' or block.classes[1] == 'sh' then
    block.classes[1] = 'shell'
  end
  return block
end

function Pandoc(doc)
  -- the label in front of the title is how extra-docs.yml and the other guides refer to this guide
  -- (pandoc writes no blank line after a raw block: scripts/build-docs.sh adds the one after the label)
  table.insert(doc.blocks, 1, pandoc.RawBlock('rst', '.. Generated from docs/guides/' .. guide_name
    .. '.md by scripts/build-docs.sh: edit the Markdown.\n\n.. _' .. LABEL_PREFIX .. guide_name .. ':'))
  return doc
end

return { { Meta = Meta }, { Link = Link, Header = Header, CodeBlock = CodeBlock, Pandoc = Pandoc } }
