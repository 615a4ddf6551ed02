-- The :Codekin command and the actions behind it and the <Plug> mappings.
local lsp = require('codekin.lsp')
local ui = require('codekin.ui')

local M = {}

local function opts()
  return require('codekin.config').options
end

--- Tell listeners (and tests) that a command finished: `User CodekinDone`, data =
--- `{ command = 'search', items = {...}, result = ..., error = ... }`.
local function done(data)
  vim.api.nvim_exec_autocmds('User', { pattern = 'CodekinDone', modeline = false, data = data })
end

local function fail(command, err)
  vim.notify('codekin ' .. command .. ': ' .. err, vim.log.levels.ERROR)
  done({ command = command, error = err })
end

local function notify_partial(result)
  if type(result) == 'table' and result.partial == true then
    vim.notify('codekin: the index is still being built; results are partial', vim.log.levels.WARN)
  end
end

--- Natural-language search of the workspace (`files = true`: one result per file).
---@param query? string nil or '' prompts with vim.ui.input
---@param o? {limit?: integer, picker?: string, languages?: string[], paths?: string[], files?: boolean, bufnr?: integer}
function M.search(query, o)
  o = o or {}
  local command = o.files and 'files' or 'search'
  if not query or vim.trim(query) == '' then
    vim.ui.input({ prompt = 'Codekin ' .. command .. ': ' }, function(input)
      if input and vim.trim(input) ~= '' then
        M.search(input, o)
      end
    end)
    return
  end
  local params = {
    query = query,
    limit = o.limit or opts().limit,
    languages = o.languages,
    paths = o.paths,
    files = o.files or nil,
  }
  lsp.request('codekin/search', params, function(err, result, client)
    if err then
      return fail(command, err)
    end
    notify_partial(result)
    local items = (result or {}).items or {}
    local qf = ui.show('Codekin ' .. command .. ': ' .. query, items, client, { picker = o.picker, query = query })
    done({ command = command, query = query, items = items, qf = qf, result = result })
  end, o.bufnr)
end

local function line_len(bufnr, row, encoding)
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  return vim.str_utfindex(line, encoding, nil, false)
end

local function char_of(bufnr, row, bytecol, encoding)
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  bytecol = math.min(bytecol, #line)
  return vim.str_utfindex(line, encoding, bytecol, false)
end

--- LSP params for the cursor, or for lines `range = {line1, line2}` (1-based) of the buffer.
--- A characterwise visual selection on those lines keeps its columns.
function M.position_or_range_params(client, bufnr, range)
  local enc = client.offset_encoding or 'utf-16'
  local doc = { uri = vim.uri_from_bufnr(bufnr) }
  if not range then
    local win = vim.fn.bufwinid(bufnr)
    local cur = vim.api.nvim_win_get_cursor(win ~= -1 and win or 0)
    return { textDocument = doc, position = { line = cur[1] - 1, character = char_of(bufnr, cur[1] - 1, cur[2], enc) } }
  end
  local l1, l2 = range[1], range[2]
  local sc, ec = 0, line_len(bufnr, l2 - 1, enc)
  local vs, ve = vim.api.nvim_buf_get_mark(bufnr, '<'), vim.api.nvim_buf_get_mark(bufnr, '>')
  if vim.fn.visualmode() == 'v' and vs[1] == l1 and ve[1] == l2 then
    sc = char_of(bufnr, l1 - 1, vs[2], enc)
    ec = math.min(char_of(bufnr, l2 - 1, ve[2] + 1, enc), ec)
  end
  return {
    textDocument = doc,
    range = { start = { line = l1 - 1, character = sc }, ['end'] = { line = l2 - 1, character = ec } },
  }
end

--- Code similar to the chunk at the cursor, or to lines `range` ({line1, line2}).
---@param o? {range?: integer[], limit?: integer, picker?: string, bufnr?: integer}
function M.similar(o)
  o = o or {}
  local bufnr = (o.bufnr == nil or o.bufnr == 0) and vim.api.nvim_get_current_buf() or o.bufnr
  local params = function(client)
    local p = M.position_or_range_params(client, bufnr, o.range)
    p.limit = o.limit or opts().limit
    return p
  end
  lsp.request('codekin/similar', params, function(err, result, client)
    if err then
      return fail('similar', err)
    end
    notify_partial(result)
    local items = (result or {}).items or {}
    local where = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ':t')
    local qf = ui.show('Codekin similar: ' .. where, items, client, { picker = o.picker })
    done({ command = 'similar', items = items, qf = qf, result = result })
  end, bufnr)
end

--- Text of a codekin/context result (`{items = {{uri, range, text, language, symbol}}, tokens}`),
--- ready to paste into an assistant's prompt: one fenced block per chunk, headed by its place.
---@param result any
---@param root? string paths are shown relative to it
function M.context_text(result, root)
  if type(result) == 'string' then
    return result
  end
  if type(result) ~= 'table' then
    return ''
  end
  if type(result.text) == 'string' and result.text ~= '' then
    return result.text
  end
  local parts = {}
  for _, it in ipairs(result.items or result.chunks or {}) do
    local body = it.text or it.preview or ''
    local where = it.path or '?'
    if it.uri then
      local fname = vim.uri_to_fname(it.uri)
      where = (root and vim.fs.relpath(root, fname)) or vim.fn.fnamemodify(fname, ':~:.')
    end
    local lines = ''
    if it.range then
      lines = (':%d-%d'):format(it.range.start.line + 1, it.range['end'].line + 1)
    end
    local symbol = (it.symbol and it.symbol ~= '') and (' (' .. it.symbol .. ')') or ''
    table.insert(parts, ('%s%s%s\n```%s\n%s\n```'):format(where, lines, symbol, it.language or '', body))
  end
  return table.concat(parts, '\n\n')
end

local function context_register()
  local r = opts().register
  if r then
    return r
  end
  return vim.fn.has('clipboard') == 1 and '+' or '"'
end

--- Chunks relevant to the cursor (and to `query`, if given) within the token budget, copied
--- into a register (the clipboard by default).
---@param o? {query?: string, token_budget?: integer, register?: string, bufnr?: integer}
function M.context(o)
  o = o or {}
  local bufnr = (o.bufnr == nil or o.bufnr == 0) and vim.api.nvim_get_current_buf() or o.bufnr
  local params = function(client)
    local p = { tokenBudget = o.token_budget or opts().token_budget }
    if vim.lsp.buf_is_attached(bufnr, client.id) then
      local pp = M.position_or_range_params(client, bufnr, nil)
      p.textDocument, p.position = pp.textDocument, pp.position
    end
    if o.query and o.query ~= '' then
      p.query = o.query
    end
    return p
  end
  lsp.request('codekin/context', params, function(err, result, client)
    if err then
      return fail('context', err)
    end
    notify_partial(result)
    local text = M.context_text(result, client and client.root_dir)
    local reg = o.register or context_register()
    vim.fn.setreg(reg, text)
    local n = type(result) == 'table' and #(result.items or result.chunks or {}) or 0
    local tokens = type(result) == 'table' and tonumber(result.tokens) or nil
    vim.notify(('codekin: copied context (%d chunks%s) to register %s'):format(
      n, tokens and (', ~' .. tokens .. ' tokens') or '', reg))
    done({ command = 'context', text = text, register = reg, result = result })
  end, bufnr)
end

--- Ask the server to bring the index up to date (`full`: re-embed everything). The server
--- answers when the run ends; progress arrives meanwhile through `LspProgress`.
function M.reindex(full)
  full = full and true or false
  vim.notify(full and 'codekin: rebuilding the index…' or 'codekin: updating the index…')
  lsp.exec('codekin.server.reindex', { { full = full } }, function(err, result, client)
    if err then
      return fail('reindex', err)
    end
    if client and type(result) == 'table' then
      lsp.status[client.id] = result
    end
    local s = type(result) == 'table' and result or {}
    vim.notify(('codekin: index %s (%s files, %s chunks)'):format(s.state or 'updated', s.files or '?', s.chunks or '?'))
    done({ command = 'reindex', full = full, result = result })
  end)
end

--- Put the locations of a "N similar" code lens (`codekin.server.openSimilar`) in the quickfix
--- list instead of asking the server to jump to the best one.
---@param command lsp.Command
---@param ctx table
function M.open_similar(command, ctx)
  local arg = (command.arguments or {})[1] or {}
  local client = ctx and ctx.client_id and vim.lsp.get_client_by_id(ctx.client_id)
  local items = {}
  for _, loc in ipairs(arg.locations or {}) do
    table.insert(items, { uri = loc.uri, range = loc.range, score = loc.score, symbol = loc.symbol or '', preview = '' })
  end
  local qf = ui.show(command.title or 'Codekin similar', items, client)
  done({ command = 'openSimilar', items = items, qf = qf })
end

--- Show the index status.
function M.status()
  lsp.request('codekin/indexStatus', vim.empty_dict(), function(err, result, client)
    if err then
      return fail('status', err)
    end
    if client and type(result) == 'table' then
      lsp.status[client.id] = result
    end
    local lines = ui.format_status(result or {})
    if client and client.root_dir then
      table.insert(lines, 1, 'root: ' .. client.root_dir)
    end
    local drift = type(result) == 'table' and type(result.drift) == 'table' and #result.drift > 0
    vim.notify('codekin\n' .. table.concat(lines, '\n'), drift and vim.log.levels.WARN or nil)
    done({ command = 'status', result = result, lines = lines })
  end)
end

-- :Codekin ---------------------------------------------------------------------------------

M.subcommands = {
  search = function(a)
    M.search(a.rest)
  end,
  files = function(a)
    M.search(a.rest, { files = true })
  end,
  similar = function(a)
    M.similar({ range = a.range > 0 and { a.line1, a.line2 } or nil })
  end,
  context = function(a)
    M.context({ query = a.rest })
  end,
  reindex = function(a)
    M.reindex(a.bang)
  end,
  status = function()
    M.status()
  end,
}

function M.complete(arglead, cmdline, _)
  local words = vim.split(cmdline:gsub('^%s*%S*Codekin!?%s*', ''), '%s+', { trimempty = false })
  if #words <= 1 then
    return vim.tbl_filter(function(name)
      return vim.startswith(name, arglead)
    end, vim.tbl_keys(M.subcommands))
  end
  return {}
end

function M.run(a)
  local sub, rest = a.args:match('^%s*(%S+)%s*(.-)%s*$')
  local bang = a.bang
  if sub and sub:sub(-1) == '!' then -- :Codekin reindex!
    sub, bang = sub:sub(1, -2), true
  end
  local fn = sub and M.subcommands[sub]
  if not fn then
    local names = vim.tbl_keys(M.subcommands)
    table.sort(names)
    vim.notify(('Codekin: unknown subcommand %q; expected one of: %s'):format(sub or '', table.concat(names, ', ')),
      vim.log.levels.ERROR)
    return
  end
  fn({ rest = rest, bang = bang, range = a.range, line1 = a.line1, line2 = a.line2 })
end

function M.create_user_command()
  vim.api.nvim_create_user_command('Codekin', M.run, {
    nargs = '+',
    bang = true,
    range = true,
    complete = function(...)
      local r = M.complete(...)
      table.sort(r)
      return r
    end,
    desc = 'codekin: search | files | similar | context | reindex[!] | status',
  })
end

return M
