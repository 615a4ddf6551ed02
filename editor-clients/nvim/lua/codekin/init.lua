-- codekin for Neovim: semantic code search through the `codekin serve` language server.
-- See :help codekin.
local M = {}

--- Configure the plugin (optional; `vim.lsp.enable('codekin')` alone also works).
---@param opts? codekin.Options
function M.setup(opts)
  local config = require('codekin.config')
  opts = opts or {}
  config.options = vim.tbl_deep_extend('force', vim.deepcopy(config.defaults), opts)
  local lsp_overrides = {}
  if opts.cmd then
    lsp_overrides.cmd = opts.cmd
  end
  if opts.settings and not vim.tbl_isempty(opts.settings) then
    lsp_overrides.settings = { codekin = opts.settings }
  end
  if not vim.tbl_isempty(lsp_overrides) then
    vim.lsp.config('codekin', lsp_overrides)
  end
  if config.options.enable then
    vim.lsp.enable('codekin')
  end
end

M.search = function(...)
  return require('codekin.commands').search(...)
end
M.similar = function(...)
  return require('codekin.commands').similar(...)
end
M.context = function(...)
  return require('codekin.commands').context(...)
end
M.reindex = function(...)
  return require('codekin.commands').reindex(...)
end
M.status = function(...)
  return require('codekin.commands').status(...)
end
--- A short string for 'statusline': indexing progress or index state.
M.statusline = function(...)
  return require('codekin.lsp').statusline(...)
end

return M
