-- Talking to the codekin language server: finding the client, requests, status and progress.
local M = {}

M.name = 'codekin'

--- Last index status per client id (result of codekin/indexStatus or codekin/indexStatusChanged).
---@type table<integer, table>
M.status = {}
--- Last $/progress value per client id.
---@type table<integer, table>
M.progress = {}

--- initializationOptions sent to the server: the `codekin` settings section.
function M.init_options(config)
  local settings = vim.tbl_get(config, 'settings', 'codekin') or {}
  local opts = vim.tbl_deep_extend('force', {}, settings, config.init_options or {})
  if vim.tbl_isempty(opts) then
    return vim.empty_dict()
  end
  return opts
end

--- Whether the `feedback` server setting is on for `client` (settings or init_options): only
--- then are opened results reported with codekin/resultOpened.
---@param client? vim.lsp.Client
function M.feedback_on(client)
  if not client then
    return false
  end
  local config = client.config or {}
  local from_settings = vim.tbl_get(config, 'settings', 'codekin', 'feedback')
  local from_init = type(config.init_options) == 'table' and config.init_options.feedback or nil
  return (from_init == nil and from_settings or from_init) == true
end

--- Tell the server the user opened `item` (a codekin/search result item) found for `query` at
--- `rank` (1-based), when feedback is on. A notification: no answer.
---@param query string
---@param item table `{uri, range, ...}`
---@param rank integer
---@param client? vim.lsp.Client
---@return boolean sent
function M.result_opened(query, item, rank, client)
  client = client or M.get_client()
  if not M.feedback_on(client) or type(item) ~= 'table' or not item.uri or vim.trim(query or '') == '' then
    return false
  end
  return client:notify('codekin/resultOpened', { query = query, uri = item.uri, range = item.range, rank = rank })
end

function M.on_index_status(_, result, ctx)
  if type(result) == 'table' then
    M.status[ctx.client_id] = result
  end
  vim.api.nvim_exec_autocmds('User', { pattern = 'CodekinStatus', modeline = false, data = result })
end

--- The codekin client for a buffer: the one attached to it, else one whose root holds the
--- buffer's file or the current directory, else any.
---@param bufnr? integer
---@return vim.lsp.Client?
function M.get_client(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local attached = vim.lsp.get_clients({ name = M.name, bufnr = bufnr })
  if attached[1] then
    return attached[1]
  end
  local clients = vim.lsp.get_clients({ name = M.name })
  local here = vim.api.nvim_buf_get_name(bufnr)
  if here == '' then
    here = vim.fn.getcwd()
  end
  here = vim.fs.normalize(vim.fn.fnamemodify(here, ':p'))
  for _, c in ipairs(clients) do
    if c.root_dir and vim.fs.relpath(c.root_dir, here) then
      return c
    end
  end
  return clients[1]
end

local function err_message(err)
  if type(err) == 'table' then
    return err.message or vim.inspect(err)
  end
  return tostring(err)
end

--- Send a request to the codekin client of `bufnr`; `cb(err_string|nil, result, client)`.
---@param method string
---@param params table|fun(client: vim.lsp.Client): table
---@param cb fun(err: string?, result: any, client: vim.lsp.Client?)
---@param bufnr? integer
function M.request(method, params, cb, bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local client = M.get_client(bufnr)
  if not client then
    cb('no codekin language server is running (see :checkhealth codekin)', nil, nil)
    return
  end
  if type(params) == 'function' then
    params = params(client)
  end
  local req_buf = vim.lsp.buf_is_attached(bufnr, client.id) and bufnr or nil
  local ok = client:request(method, params, function(err, result)
    if err then
      cb(err_message(err), nil, client)
    else
      cb(nil, result, client)
    end
  end, req_buf)
  if not ok then
    cb('codekin: the server is not running', nil, client)
  end
end

--- workspace/executeCommand of a `codekin.server.*` command.
function M.exec(command, args, cb, bufnr)
  M.request('workspace/executeCommand', { command = command, arguments = args }, cb, bufnr)
end

function M.prefixed(text)
  return text:find('^[Cc]odekin') and text or ('codekin: ' .. text)
end

--- One line for a statusline: `codekin: indexing 40%` / `codekin: ready (12 files, 30 chunks)`.
---@param bufnr? integer
---@return string
function M.statusline(bufnr)
  local client = M.get_client(bufnr)
  if not client then
    return ''
  end
  local p = M.progress[client.id]
  if p and p.kind ~= 'end' then
    local pct = p.percentage and (' ' .. p.percentage .. '%') or ''
    local text = p.title or 'indexing'
    if p.message and p.message ~= '' then
      text = text .. ': ' .. p.message
    end
    return M.prefixed(text .. pct)
  end
  local s = M.status[client.id]
  if s then
    local drift = type(s.drift) == 'table' and #s.drift > 0 and ' [drift]' or ''
    return ('codekin: %s (%s files, %s chunks)%s'):format(s.state or '?', s.files or 0, s.chunks or 0, drift)
  end
  return 'codekin'
end

local group = vim.api.nvim_create_augroup('codekin', { clear = true })

vim.api.nvim_create_autocmd('LspProgress', {
  group = group,
  desc = 'codekin: indexing progress',
  callback = function(ev)
    local client = vim.lsp.get_client_by_id(ev.data.client_id)
    if not client or client.name ~= M.name then
      return
    end
    local value = vim.tbl_get(ev.data, 'params', 'value')
    if type(value) ~= 'table' then
      return
    end
    local prev = M.progress[client.id] or {}
    M.progress[client.id] = {
      kind = value.kind,
      title = value.title or prev.title,
      message = value.message,
      percentage = value.percentage,
    }
    if require('codekin.config').options.progress then
      local line = M.statusline()
      if value.kind == 'end' then
        line = M.prefixed((prev.title or 'done') .. (value.message and (': ' .. value.message) or ''))
      end
      vim.api.nvim_echo({ { line } }, false, {})
    end
    if value.kind == 'end' then
      -- refresh the cached index status once a long operation finishes
      client:request('codekin/indexStatus', vim.empty_dict(), function(err, res)
        if not err and type(res) == 'table' then
          M.status[client.id] = res
        end
      end)
    end
  end,
})

vim.api.nvim_create_autocmd('LspDetach', {
  group = group,
  callback = function(ev)
    local client = vim.lsp.get_client_by_id(ev.data.client_id)
    if client and client.name == M.name and #vim.lsp.get_buffers_by_client_id(client.id) <= 1 then
      M.progress[client.id] = nil
    end
  end,
})

return M
