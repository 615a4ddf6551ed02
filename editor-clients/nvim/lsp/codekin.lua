-- Configuration of the codekin language server for Neovim >= 0.11 (`:help lsp-config`).
--
--   vim.lsp.enable('codekin')
--
-- Override any field with vim.lsp.config('codekin', { ... }) or require('codekin').setup{...}.
local filetypes = require('codekin.config').filetypes

---@type vim.lsp.Config
return {
  cmd = { 'codekin', 'serve' },
  filetypes = filetypes,
  -- codekin indexes a whole repository: never start it without a root.
  root_markers = { '.codekin.toml', '.git' },
  workspace_required = true,
  -- Server settings, section `codekin` (camelCase keys, `:help codekin-settings`). They are sent
  -- as initializationOptions and answered to workspace/configuration.
  settings = { codekin = vim.empty_dict() },
  before_init = function(params, config)
    params.initializationOptions = require('codekin.lsp').init_options(config)
  end,
  -- client-side handling of the server's code lens command: results go to the quickfix list
  commands = {
    ['codekin.server.openSimilar'] = function(command, ctx)
      require('codekin.commands').open_similar(command, ctx)
    end,
  },
  handlers = {
    ['codekin/indexStatusChanged'] = function(err, result, ctx)
      require('codekin.lsp').on_index_status(err, result, ctx)
    end,
  },
}
