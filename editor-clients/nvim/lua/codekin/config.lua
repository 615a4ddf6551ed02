-- Defaults of require('codekin').setup() and the filetypes the server indexes.
local M = {}

M.filetypes = {
  'bash', 'c', 'cpp', 'cs', 'elixir', 'go', 'haskell', 'java', 'javascript', 'javascriptreact',
  'kotlin', 'lua', 'php', 'python', 'ruby', 'rust', 'scala', 'sh', 'swift', 'typescript',
  'typescriptreact', 'zig',
}

---@class codekin.Options
M.defaults = {
  --- Call vim.lsp.enable('codekin') from setup().
  enable = true,
  --- Server command (list); nil keeps lsp/codekin.lua's `{ 'codekin', 'serve' }`.
  cmd = nil,
  --- Server settings, section `codekin`, camelCase keys (model, exclude, hybrid, ...).
  settings = {},
  --- Results per search / similar request.
  limit = 20,
  --- Token budget of :Codekin context.
  token_budget = 2000,
  --- How :Codekin search/similar show results besides the quickfix list:
  --- 'quickfix' (open the quickfix window) or 'select' (vim.ui.select, jump to the choice).
  picker = 'quickfix',
  --- Open the quickfix window after filling it (picker = 'quickfix').
  open_quickfix = true,
  --- Register that :Codekin context fills; nil = '+' when a clipboard is available, else '"'.
  register = nil,
  --- Echo indexing progress ($/progress) in the message area.
  progress = true,
  --- Milliseconds to wait for a server answer before giving up.
  timeout_ms = 30000,
}

M.options = vim.deepcopy(M.defaults)

return M
