-- codekin: the :Codekin command and <Plug> mappings (no default keymaps). See :help codekin.
if vim.g.loaded_codekin then
  return
end
vim.g.loaded_codekin = true

if vim.fn.has('nvim-0.11') == 0 then
  vim.notify_once('codekin needs Neovim >= 0.11', vim.log.levels.ERROR)
  return
end

require('codekin.commands').create_user_command()
-- load the progress / status autocmds
require('codekin.lsp')

local function cmds()
  return require('codekin.commands')
end

vim.keymap.set('n', '<Plug>(codekin-search)', function()
  cmds().search()
end, { desc = 'codekin: semantic search' })
vim.keymap.set('n', '<Plug>(codekin-similar)', function()
  cmds().similar()
end, { desc = 'codekin: code similar to the cursor' })
vim.keymap.set('x', '<Plug>(codekin-similar)', ':Codekin similar<CR>', { silent = true, desc = 'codekin: code similar to the selection' })
vim.keymap.set('n', '<Plug>(codekin-context)', function()
  cmds().context()
end, { desc = 'codekin: copy context for an assistant' })
vim.keymap.set('n', '<Plug>(codekin-reindex)', function()
  cmds().reindex(false)
end, { desc = 'codekin: update the index' })
vim.keymap.set('n', '<Plug>(codekin-status)', function()
  cmds().status()
end, { desc = 'codekin: index status' })

-- <CR> in the quickfix window of a codekin search reports the opened result (with the `feedback`
-- setting on, see :help codekin-feedback), then jumps as usual.
vim.api.nvim_create_autocmd('FileType', {
  group = vim.api.nvim_create_augroup('codekin-quickfix', { clear = true }),
  pattern = 'qf',
  callback = function(ev)
    require('codekin.ui').map_quickfix(ev.buf)
  end,
})
