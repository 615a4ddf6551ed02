-- Showing codekin results: quickfix list, vim.ui.select, messages.
local M = {}

local function read_line(fname, lnum)
  local bufnr = vim.fn.bufnr(fname)
  if bufnr ~= -1 and vim.api.nvim_buf_is_loaded(bufnr) then
    return vim.api.nvim_buf_get_lines(bufnr, lnum, lnum + 1, false)[1]
  end
  local ok, lines = pcall(vim.fn.readfile, fname, '', lnum + 1)
  return ok and lines[lnum + 1] or nil
end

--- Byte column (1-based) of an LSP position in `fname`.
local function byte_col(fname, pos, encoding)
  if (pos.character or 0) == 0 then
    return 1
  end
  local line = read_line(fname, pos.line)
  if not line then
    return pos.character + 1
  end
  local ok, col = pcall(vim.str_byteindex, line, encoding or 'utf-16', pos.character, false)
  return (ok and col or pos.character) + 1
end

local function first_line(text)
  text = text or ''
  for l in text:gmatch('[^\n]+') do
    if l:match('%S') then
      return vim.trim(l)
    end
  end
  return ''
end

--- Quickfix items for codekin result items, in the server's order (the ranking's score never
--- rises down it). Text: `[score] label (kind) · cos c`; the cosine is a detail.
---@param items table[] `{uri, range, score, cosine, symbol, kind, language, preview}`
---@param encoding? string the client's position encoding
function M.to_qf_items(items, encoding)
  local out = {}
  for _, it in ipairs(items or {}) do
    local fname = vim.uri_to_fname(it.uri)
    local s, e = it.range.start, it.range['end']
    local label = (it.symbol and it.symbol ~= '') and it.symbol or first_line(it.preview)
    if label == '' then
      label = vim.trim(read_line(fname, s.line) or '')
    end
    local score, cosine = tonumber(it.score), tonumber(it.cosine)
    local text = ('%s%s%s%s'):format(
      score and ('[%.3f] '):format(score) or '',
      label,
      (it.kind and it.kind ~= '') and (' (' .. it.kind .. ')') or '',
      cosine and (' · cos %.2f'):format(cosine) or ''
    )
    table.insert(out, {
      filename = fname,
      lnum = s.line + 1,
      col = byte_col(fname, s, encoding),
      end_lnum = e.line + 1,
      text = text,
      user_data = it,
    })
  end
  return out
end

--- Report that the `idx`-th entry (1-based) of a codekin quickfix list or picker was opened,
--- when the list came from a search (its context holds the query) and feedback is on.
local function opened(context, item, idx)
  if type(context) == 'table' and context.codekin and context.query and type(item.user_data) == 'table' then
    require('codekin.lsp').result_opened(context.query, item.user_data, idx, vim.lsp.get_client_by_id(context.client_id or -1))
  end
end

--- <CR> in the quickfix window: report the entry under the cursor when the list is a codekin
--- search's, then jump to it as <CR> does.
function M.quickfix_enter()
  local idx = vim.fn.line('.')
  local list = vim.fn.getqflist({ context = 0, items = 0 })
  local item = list.items[idx]
  if item then
    opened(list.context, item, idx)
  end
  vim.cmd(('cc %d'):format(idx))
end

--- Map <CR> of quickfix buffer `buf` to |quickfix_enter()| while the quickfix list is codekin's
--- (location lists and other lists keep their own <CR>: the mapping then does what <CR> does).
function M.map_quickfix(buf)
  if not buf or buf == 0 or vim.b[buf].codekin_enter then
    return
  end
  local context = vim.fn.getqflist({ context = 0 }).context
  local win = vim.fn.bufwinid(buf)
  local info = win ~= -1 and vim.fn.getwininfo(win)[1] or nil
  if type(context) ~= 'table' or not context.codekin or (info and info.loclist == 1) then
    return
  end
  vim.b[buf].codekin_enter = true
  vim.keymap.set('n', '<CR>', M.quickfix_enter, { buffer = buf, desc = 'codekin: open the entry (reported with feedback on)' })
end

--- Put results in the quickfix list and show them as configured.
---@param title string
---@param items table[] codekin result items
---@param client? vim.lsp.Client
---@param opts? {picker?: string, open?: boolean, query?: string}
function M.show(title, items, client, opts)
  local options = require('codekin.config').options
  opts = opts or {}
  local picker = opts.picker or options.picker
  local qf = M.to_qf_items(items, client and client.offset_encoding)
  local context = { codekin = true, query = opts.query, client_id = client and client.id }
  vim.fn.setqflist({}, ' ', { title = title, items = qf, context = context })
  if #qf == 0 then
    vim.notify(title .. ': no results', vim.log.levels.INFO)
    return qf
  end
  if picker == 'select' then
    vim.ui.select(qf, {
      prompt = title,
      kind = 'codekin',
      format_item = function(item)
        return ('%s:%d %s'):format(vim.fn.fnamemodify(item.filename, ':~:.'), item.lnum, item.text)
      end,
    }, function(choice, idx)
      if choice then
        opened(context, choice, idx)
        M.jump(choice)
      end
    end)
  elseif opts.open ~= false and options.open_quickfix then
    vim.cmd('botright copen')
  end
  M.map_quickfix(vim.fn.getqflist({ qfbufnr = 0 }).qfbufnr)
  return qf
end

--- Open a quickfix-shaped item in the current (or previous) window.
function M.jump(item)
  if vim.bo.buftype == 'quickfix' then
    vim.cmd('wincmd p')
  end
  vim.cmd.edit(vim.fn.fnameescape(item.filename))
  pcall(vim.api.nvim_win_set_cursor, 0, { item.lnum, math.max((item.col or 1) - 1, 0) })
end

--- Multi-line human description of an index status.
function M.format_status(s)
  local lines = {
    ('state: %s'):format(s.state or '?'),
    ('files: %s, chunks: %s'):format(s.files or 0, s.chunks or 0),
    ('model: %s'):format(s.model or '?'),
  }
  if s.lastUpdated and s.lastUpdated ~= vim.NIL then
    local t = s.lastUpdated
    if type(t) == 'number' then
      t = os.date('%Y-%m-%d %H:%M:%S', math.floor(t > 1e12 and t / 1000 or t))
    end
    table.insert(lines, ('last updated: %s'):format(t))
  end
  for _, folder in ipairs(type(s.folders) == 'table' and s.folders or {}) do
    local e = folder.evaluation
    if type(e) == 'table' and type(e.mrr) == 'number' then
      local where = #s.folders > 1 and (vim.fn.fnamemodify(vim.uri_to_fname(folder.uri), ':t') .. ': ') or ''
      table.insert(
        lines,
        ('evaluation: %sMRR@%s %.3f (best %.3f), %s queries, %s'):format(where, e.k, e.mrr, e.bestMrr, e.queries, e.model)
      )
    end
  end
  for _, w in ipairs(type(s.drift) == 'table' and s.drift or {}) do
    table.insert(lines, 'warning: ' .. w)
  end
  local errors = s.errors
  if type(errors) == 'table' and #errors > 0 then
    table.insert(lines, ('errors (%d):'):format(#errors))
    for i, e in ipairs(errors) do
      if i > 5 then
        table.insert(lines, '  ...')
        break
      end
      table.insert(lines, '  ' .. (type(e) == 'table' and (e.message or vim.inspect(e)) or tostring(e)))
    end
  elseif type(errors) == 'number' and errors > 0 then
    table.insert(lines, ('errors: %d'):format(errors))
  end
  return lines
end

return M
