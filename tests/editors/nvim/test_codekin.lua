-- Headless Neovim test of the codekin plugin against a real `codekin serve`.
--
--   CODEKIN_NVIM_PLUGIN=/abs/editor-clients/nvim CODEKIN_TEST_WS=/abs/copy/of/fixtures/ws \
--   CODEKIN_TEST_SERVER_CMD='["/abs/.venv/bin/codekin","serve"]' \
--   XDG_CONFIG_HOME=... XDG_DATA_HOME=... XDG_STATE_HOME=... XDG_CACHE_HOME=... \
--   timeout 180 nvim --headless --clean -l tests/editors/nvim/test_codekin.lua
--
-- Prints one line per test and a final "N passed, N failed"; exits 0 only when all pass.
local plugin = assert(os.getenv('CODEKIN_NVIM_PLUGIN'), 'CODEKIN_NVIM_PLUGIN is not set')
local ws = vim.fs.normalize(assert(os.getenv('CODEKIN_TEST_WS'), 'CODEKIN_TEST_WS is not set'))
local server_cmd = vim.json.decode((assert(os.getenv('CODEKIN_TEST_SERVER_CMD'), 'CODEKIN_TEST_SERVER_CMD is not set')))
local INDEX_TIMEOUT = tonumber(os.getenv('CODEKIN_TEST_INDEX_TIMEOUT') or '') or 120000
local REQ_TIMEOUT = 60000

vim.opt.runtimepath:prepend(plugin)
vim.cmd('runtime! plugin/codekin.lua')

local passed, failed = 0, 0
local function out(s)
  io.stdout:write(s .. '\n')
  io.stdout:flush()
end

local function test(name, fn)
  local t0 = vim.uv.hrtime()
  local ok, err = xpcall(fn, debug.traceback)
  local ms = (vim.uv.hrtime() - t0) / 1e6
  if ok then
    passed = passed + 1
    out(('ok - %s (%.0f ms)'):format(name, ms))
  else
    failed = failed + 1
    out(('FAIL - %s: %s'):format(name, tostring(err)))
  end
end

local function eq(a, b, msg)
  if a ~= b then
    error(('%s: expected %s, got %s'):format(msg or 'values differ', vim.inspect(b), vim.inspect(a)), 2)
  end
end
local function truthy(v, msg)
  if not v then
    error(msg or 'expected a true value', 2)
  end
  return v
end

--- Run `fn` and wait for the `User CodekinDone` event of `command`.
local function run_and_wait(command, fn, timeout)
  local got
  local id = vim.api.nvim_create_autocmd('User', {
    pattern = 'CodekinDone',
    callback = function(ev)
      if ev.data and ev.data.command == command then
        got = ev.data
      end
    end,
  })
  fn()
  local ok = vim.wait(timeout or REQ_TIMEOUT, function()
    return got ~= nil
  end, 20)
  vim.api.nvim_del_autocmd(id)
  truthy(ok, 'timed out waiting for :Codekin ' .. command)
  if got.error then
    error(':Codekin ' .. command .. ' failed: ' .. got.error, 2)
  end
  return got
end

local function rel(fname)
  return vim.fs.relpath(ws, vim.fs.normalize(fname)) or fname
end

--- The quickfix list is the server's items in their order, and the scores shown never rise.
local function check_ranked(qf_items, items)
  eq(#qf_items, #items, 'one quickfix item per result')
  local prev
  for i, it in ipairs(items) do
    local q = qf_items[i]
    eq(rel(vim.api.nvim_buf_get_name(q.bufnr)), rel(vim.uri_to_fname(it.uri)), 'quickfix keeps the server\'s order (file)')
    eq(q.lnum, it.range.start.line + 1, 'quickfix keeps the server\'s order (line)')
    truthy(type(it.score) == 'number' and type(it.cosine) == 'number', 'item carries score and cosine')
    local shown = q.text:match('^%[(%-?%d+%.%d+)%]')
    truthy(shown, 'text starts with the score: ' .. q.text)
    eq(shown, ('%.3f'):format(it.score), 'the score shown is the item\'s')
    truthy(q.text:match(' · cos %-?%d%.%d%d$'), 'text ends with the cosine: ' .. q.text)
    truthy(prev == nil or it.score <= prev, ('scores never rise: %s after %s'):format(it.score, prev))
    prev = it.score
  end
end

local function qf_summary(items)
  local lines = {}
  for _, it in ipairs(items) do
    local name = it.filename or vim.api.nvim_buf_get_name(it.bufnr)
    table.insert(lines, ('%s:%d %s'):format(rel(name), it.lnum, it.text))
  end
  return table.concat(lines, ' | ')
end

-- record progress and attach events before anything starts
local progress = {}
local attached
vim.api.nvim_create_autocmd('LspProgress', {
  callback = function(ev)
    local c = vim.lsp.get_client_by_id(ev.data.client_id)
    local v = vim.tbl_get(ev.data, 'params', 'value') or {}
    if c and c.name == 'codekin' then
      table.insert(progress, { kind = v.kind, title = v.title, message = v.message })
    end
  end,
})
vim.api.nvim_create_autocmd('LspAttach', {
  callback = function(ev)
    local c = vim.lsp.get_client_by_id(ev.data.client_id)
    if c and c.name == 'codekin' then
      attached = c
    end
  end,
})

local notifications = {}
local orig_notify = vim.notify
vim.notify = function(msg, level, o)
  table.insert(notifications, { msg = msg, level = level })
  return orig_notify(msg, level, o)
end

local client

test('setup() enables the server and it attaches with the workspace root', function()
  require('codekin').setup({
    cmd = server_cmd,
    open_quickfix = false,
    register = 'a',
    limit = 10,
    settings = { codeLens = true, codeLensThreshold = 0.3, feedback = true },
  })
  eq(vim.lsp.config.codekin.cmd[1], server_cmd[1], 'cmd from setup()')
  eq(vim.lsp.config.codekin.settings.codekin.codeLens, true, 'settings from setup()')
  vim.cmd.edit(vim.fn.fnameescape(ws .. '/geometry.py'))
  eq(vim.bo.filetype, 'python', 'filetype')
  truthy(vim.wait(60000, function()
    return attached ~= nil
  end, 20), 'codekin client did not attach within 60 s')
  client = vim.lsp.get_clients({ bufnr = 0, name = 'codekin' })[1]
  truthy(client, 'client attached to the buffer')
  eq(vim.fs.normalize(client.root_dir), ws, 'root_dir (.codekin.toml marker)')
end)

test('server advertises experimental.codekin capabilities', function()
  truthy(client and client.initialized, 'client initialized')
  truthy(vim.tbl_get(client.server_capabilities, 'experimental', 'codekin'),
    'experimental.codekin missing: ' .. vim.inspect(client.server_capabilities.experimental))
end)

local status
test('initial indexing finishes (codekin/indexStatus) and reported $/progress', function()
  local t0 = vim.uv.now()
  truthy(vim.wait(INDEX_TIMEOUT, function()
    local r = client:request_sync('codekin/indexStatus', vim.empty_dict(), 5000, 0)
    status = r and r.result
    return status and status.state ~= 'indexing' and (status.chunks or 0) > 0
  end, 250), 'index not ready: ' .. vim.inspect(status))
  out(('# index ready in %.1f s: %s'):format((vim.uv.now() - t0) / 1000, vim.json.encode(status)))
  truthy((status.files or 0) >= 4, 'files >= 4')
  truthy(vim.wait(10000, function()
    return vim.iter(progress):any(function(p)
      return p.kind == 'end'
    end)
  end, 50), 'no $/progress end seen: ' .. vim.inspect(progress))
  truthy(vim.iter(progress):any(function(p)
    return p.kind == 'begin' and p.title
  end), 'a $/progress begin with a title')
end)

test(':Codekin search fills the quickfix list in rank order', function()
  local d = run_and_wait('search', function()
    vim.cmd('Codekin search area of a circle')
  end)
  local qf = vim.fn.getqflist({ title = 1, items = 1 })
  eq(qf.title, 'Codekin search: area of a circle', 'quickfix title')
  truthy(#qf.items >= 2, 'at least 2 results, got ' .. #qf.items)
  out('# search: ' .. qf_summary(qf.items))
  local top = rel(vim.api.nvim_buf_get_name(qf.items[1].bufnr))
  truthy(top == 'geometry.py' or top == 'shapes.js', 'top hit is a circle-area function, got ' .. top)
  truthy(qf.items[1].text:lower():find('circle'), 'top hit text names the circle function: ' .. qf.items[1].text)
  check_ranked(qf.items, d.items)
end)

test(':Codekin files lists each file once', function()
  local d = run_and_wait('files', function()
    vim.cmd('Codekin files area of a circle')
  end)
  local qf = vim.fn.getqflist({ title = 1, items = 1 })
  eq(qf.title, 'Codekin files: area of a circle', 'quickfix title')
  out('# files: ' .. qf_summary(qf.items))
  local seen = {}
  for _, it in ipairs(qf.items) do
    local name = rel(vim.api.nvim_buf_get_name(it.bufnr))
    truthy(not seen[name], 'file listed twice: ' .. name)
    seen[name] = true
  end
  truthy(seen['geometry.py'] and seen['shapes.js'], 'both circle files listed: ' .. vim.inspect(seen))
  check_ranked(qf.items, d.items)
end)

test(':Codekin similar (cursor) finds the JavaScript twin and excludes the chunk itself', function()
  vim.cmd.edit(vim.fn.fnameescape(ws .. '/geometry.py'))
  vim.api.nvim_win_set_cursor(0, { 8, 4 }) -- inside circle_area
  local d = run_and_wait('similar', function()
    vim.cmd('Codekin similar')
  end)
  local qf = vim.fn.getqflist({ title = 1, items = 1 })
  eq(qf.title, 'Codekin similar: geometry.py', 'quickfix title')
  out('# similar: ' .. qf_summary(qf.items))
  truthy(#qf.items >= 1, 'results')
  check_ranked(qf.items, d.items)
  for _, it in ipairs(qf.items) do
    local name = rel(vim.api.nvim_buf_get_name(it.bufnr))
    truthy(not (name == 'geometry.py' and it.lnum == 6), 'the query chunk itself is excluded')
  end
  local found = vim.iter(qf.items):any(function(it)
    return rel(vim.api.nvim_buf_get_name(it.bufnr)) == 'shapes.js' and it.text:find('circleArea')
  end)
  truthy(found, 'shapes.js circleArea among the similar results')
end)

test(':{range}Codekin similar (visual lines) sends a range', function()
  vim.cmd.edit(vim.fn.fnameescape(ws .. '/text_utils.py'))
  local sent
  local orig = client.request
  client.request = function(self, method, params, ...)
    if method == 'codekin/similar' then
      sent = params
    end
    return orig(self, method, params, ...)
  end
  local ok, err = pcall(run_and_wait, 'similar', function()
    vim.cmd('6,9Codekin similar')
  end)
  client.request = orig
  assert(ok, err)
  truthy(sent and sent.range, 'range param sent: ' .. vim.inspect(sent))
  eq(sent.range.start.line, 5, 'range start line')
  eq(sent.range['end'].line, 8, 'range end line')
  eq(sent.position, nil, 'no position with a range')
  local qf = vim.fn.getqflist({ items = 1 })
  out('# similar(range): ' .. qf_summary(qf.items))
  truthy(#qf.items >= 1, 'results for the range')
end)

test(':Codekin search with picker=select goes through vim.ui.select and jumps', function()
  local orig_select = vim.ui.select
  local seen
  vim.ui.select = function(items, o, on_choice)
    seen = { items = items, prompt = o.prompt, first = o.format_item(items[1]) }
    on_choice(items[1], 1)
  end
  require('codekin.config').options.picker = 'select'
  local ok, err = pcall(run_and_wait, 'search', function()
    vim.cmd('Codekin search turn a title into a url slug')
  end)
  require('codekin.config').options.picker = 'quickfix'
  vim.ui.select = orig_select
  assert(ok, err)
  truthy(seen, 'vim.ui.select was called')
  eq(seen.prompt, 'Codekin search: turn a title into a url slug', 'prompt')
  out('# select first: ' .. seen.first)
  truthy(seen.first:find('text_utils.py:6'), 'first item is slugify at text_utils.py:6: ' .. seen.first)
  eq(rel(vim.api.nvim_buf_get_name(0)), 'text_utils.py', 'jumped to the file')
  eq(vim.api.nvim_win_get_cursor(0)[1], 6, 'jumped to the line')
end)

--- The opened results the server logged (`feedback = true`): .codekin/feedback.jsonl, decoded.
local function feedback_log(n)
  local path = ws .. '/.codekin/feedback.jsonl'
  local lines = {}
  vim.wait(10000, function()
    lines = vim.fn.filereadable(path) == 1 and vim.fn.readfile(path) or {}
    return #lines >= n
  end, 50)
  return vim.tbl_map(vim.json.decode, lines)
end

test('the select picker\'s choice is reported to the server (feedback = true)', function()
  local log = feedback_log(1)
  eq(#log, 1, 'one opened result logged')
  eq(log[1].query, 'turn a title into a url slug', 'query')
  eq(log[1].path, 'text_utils.py', 'path')
  eq(log[1].start_line, 6, 'the chunk\'s first line')
  eq(log[1].rank, 1, 'rank')
end)

test('<CR> in the quickfix list of a search opens the entry and reports it', function()
  local d = run_and_wait('search', function()
    vim.cmd('Codekin search area of a circle')
  end)
  vim.cmd('botright copen')
  truthy(vim.fn.maparg('<CR>', 'n', false, true).buffer == 1, 'a buffer-local <CR> in the quickfix window')
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  vim.api.nvim_feedkeys(vim.keycode('<CR>'), 'x', false)
  local want = d.items[2]
  eq(rel(vim.api.nvim_buf_get_name(0)), rel(vim.uri_to_fname(want.uri)), 'jumped to the second entry\'s file')
  eq(vim.api.nvim_win_get_cursor(0)[1], want.range.start.line + 1, 'jumped to its line')
  local log = feedback_log(2)
  eq(#log, 2, 'a second opened result logged')
  eq(log[2].query, 'area of a circle', 'query')
  eq(log[2].path, rel(vim.uri_to_fname(want.uri)), 'path')
  eq(log[2].start_line, want.range.start.line + 1, 'first line')
  eq(log[2].rank, 2, 'rank')
  vim.cmd('cclose')
end)

test(':Codekin context copies ranked chunks for the cursor into the register', function()
  vim.cmd.edit(vim.fn.fnameescape(ws .. '/geometry.py'))
  vim.api.nvim_win_set_cursor(0, { 8, 4 })
  vim.fn.setreg('a', '')
  local d = run_and_wait('context', function()
    vim.cmd('Codekin context')
  end)
  eq(d.register, 'a', 'register from setup()')
  local text = vim.fn.getreg('a')
  out(('# context: %d chars, first line: %s'):format(#text, (text:match('[^\n]+') or '')))
  truthy(#text > 20, 'context text is not empty')
  truthy(text:find('circleArea') or text:find('circle_area'), 'context mentions the circle functions')
end)

test(':Codekin status reports the index state', function()
  local d = run_and_wait('status', function()
    vim.cmd('Codekin status')
  end)
  local joined = table.concat(d.lines, '\n')
  out('# status: ' .. joined:gsub('\n', '; '))
  truthy(joined:find('state: '), 'state line')
  truthy(joined:find('files: %d+, chunks: %d+'), 'counts line')
  truthy(joined:find('root: ' .. vim.pesc(ws)), 'root line')
  truthy(require('codekin').statusline():find('^codekin: '), 'statusline: ' .. require('codekin').statusline())
end)

test(':Codekin status shows the latest evaluation and its drift warning', function()
  -- two `codekin eval` runs on the same queries, the latest much worse: what `codekin status` warns about
  local function run(model, mrr, t)
    return vim.json.encode({
      time = t, model = model, model_hash = 'h', generation = 1, files = 4, chunks = 10, mode = 'chunks',
      dataset = 'queries.jsonl', k = 10, queries = 20, mrr = mrr, ndcg = mrr, recall_at_k = mrr,
    })
  end
  local now = os.time()
  vim.fn.writefile({ run('codekin-encoder', 0.9, now - 60), run('worse-model', 0.4, now) }, ws .. '/.codekin/eval-history.jsonl')
  local d = run_and_wait('status', function()
    vim.cmd('Codekin status')
  end)
  local joined = table.concat(d.lines, '\n')
  out('# status with drift: ' .. joined:gsub('\n', '; '))
  truthy(joined:find('evaluation: MRR@10 0%.400 %(best 0%.900%), 20 queries, worse%-model'), 'evaluation line')
  truthy(joined:find('warning: search quality fell: MRR@10 0%.400 with worse%-model, against 0%.900 with codekin%-encoder'),
    'drift warning line')
  truthy(require('codekin').statusline():find('%[drift%]$'), 'statusline: ' .. require('codekin').statusline())
  local last = notifications[#notifications]
  eq(last.level, vim.log.levels.WARN, 'the status is shown as a warning')
  os.remove(ws .. '/.codekin/eval-history.jsonl')
end)

test(':Codekin reindex and :Codekin reindex! run the server command', function()
  local sent = {}
  local orig = client.request
  client.request = function(self, method, params, ...)
    if method == 'workspace/executeCommand' then
      table.insert(sent, params)
    end
    return orig(self, method, params, ...)
  end
  local ok, err = pcall(function()
    run_and_wait('reindex', function()
      vim.cmd('Codekin reindex')
    end)
    run_and_wait('reindex', function()
      vim.cmd('Codekin reindex!')
    end)
  end)
  client.request = orig
  assert(ok, err)
  eq(#sent, 2, 'two executeCommand requests')
  eq(sent[1].command, 'codekin.server.reindex', 'server command id')
  eq(sent[1].arguments[1].full, false, 'reindex is incremental')
  eq(sent[2].arguments[1].full, true, 'reindex! is full')
  -- the index comes back after the full rebuild
  local st
  truthy(vim.wait(INDEX_TIMEOUT, function()
    local r = client:request_sync('codekin/indexStatus', vim.empty_dict(), 5000, 0)
    st = r and r.result
    return st and st.state ~= 'indexing' and (st.chunks or 0) > 0
  end, 250), 'index ready again after reindex!: ' .. vim.inspect(st))
end)

test(':Codekin completes its subcommands', function()
  local all = vim.fn.getcompletion('Codekin ', 'cmdline')
  table.sort(all)
  eq(table.concat(all, ','), 'context,files,reindex,search,similar,status', 'subcommands')
  eq(table.concat(vim.fn.getcompletion('Codekin si', 'cmdline'), ','), 'similar', 'prefix')
  eq(#vim.fn.getcompletion('Codekin search foo ', 'cmdline'), 0, 'no completion after the query')
end)

test('unknown subcommand is an error, not a crash', function()
  local before = #notifications
  pcall(vim.cmd, 'Codekin frobnicate')
  local n = notifications[#notifications]
  truthy(#notifications > before and n.msg:find('unknown subcommand'), 'error notification')
  eq(n.level, vim.log.levels.ERROR, 'level')
end)

test('<Plug> mappings exist and no default keymaps are set', function()
  for _, m in ipairs({ 'search', 'similar', 'context', 'reindex', 'status' }) do
    truthy(vim.fn.maparg('<Plug>(codekin-' .. m .. ')', 'n') ~= '', 'normal <Plug>(codekin-' .. m .. ')')
  end
  truthy(vim.fn.maparg('<Plug>(codekin-similar)', 'x') ~= '', 'visual <Plug>(codekin-similar)')
  for _, mode in ipairs({ 'n', 'x', 'i', 'o' }) do
    for _, map in ipairs(vim.api.nvim_get_keymap(mode)) do
      local desc = (map.desc or '') .. (map.rhs or '')
      if desc:lower():find('codekin') then
        truthy(map.lhs:find('^<Plug>'), 'only <Plug> mappings, found ' .. map.lhs)
      end
    end
  end
end)

test('<Plug>(codekin-similar) in visual mode runs a ranged search', function()
  vim.cmd.edit(vim.fn.fnameescape(ws .. '/geometry.py'))
  vim.keymap.set('x', '<Space>s', '<Plug>(codekin-similar)', { remap = true })
  vim.api.nvim_win_set_cursor(0, { 11, 0 })
  local d = run_and_wait('similar', function()
    vim.api.nvim_feedkeys(vim.keycode('Vjj<Space>s'), 'mx', false)
  end)
  vim.keymap.del('x', '<Space>s')
  truthy(#d.items >= 1, 'results')
end)

test('workspace/symbol answers semantically', function()
  local r = client:request_sync('workspace/symbol', { query = 'greeting for a person' }, REQ_TIMEOUT, 0)
  truthy(r and not r.err, 'workspace/symbol error: ' .. vim.inspect(r and r.err))
  local names = vim.tbl_map(function(s)
    return s.name
  end, r.result or {})
  out('# workspace/symbol: ' .. table.concat(names, ', '))
  truthy(vim.iter(names):any(function(n)
    return n:find('greet') or n:find('Greeter')
  end), 'Greeter.greet among the symbols')
end)

test('"N similar" code lens runs client-side into the quickfix list', function()
  vim.cmd.edit(vim.fn.fnameescape(ws .. '/geometry.py'))
  local lenses
  truthy(vim.wait(30000, function()
    local r = client:request_sync('textDocument/codeLens', { textDocument = { uri = vim.uri_from_bufnr(0) } }, 10000, 0)
    lenses = r and r.result
    return type(lenses) == 'table' and #lenses > 0
  end, 500), 'no code lenses (codeLens=true sent as a setting): ' .. vim.inspect(lenses))
  local lens = lenses[1]
  if not lens.command then
    lens = client:request_sync('codeLens/resolve', lens, 10000, 0).result
  end
  out('# lens: ' .. lens.command.title)
  eq(lens.command.command, 'codekin.server.openSimilar', 'lens command')
  local d = run_and_wait('openSimilar', function()
    client:exec_cmd(lens.command, { bufnr = vim.api.nvim_get_current_buf() })
  end)
  local qf = vim.fn.getqflist({ title = 1, items = 1 })
  out('# lens quickfix: ' .. qf_summary(qf.items))
  eq(qf.title, lens.command.title, 'quickfix title is the lens title')
  eq(#qf.items, #d.items, 'one item per lens location')
  truthy(#qf.items >= 1, 'lens locations in the quickfix list')
end)

test(':checkhealth codekin reports OK', function()
  vim.cmd('checkhealth codekin')
  local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  local text = table.concat(lines, '\n')
  eq(vim.bo.filetype, 'checkhealth', 'health buffer')
  out('# health: ' .. text:gsub('\n', ' / '))
  truthy(text:find('OK Neovim >= 0.11'), 'Neovim version OK')
  truthy(text:find('OK server command: '), 'server command OK')
  if server_cmd[1]:match('codekin$') then
    truthy(text:find('OK codekin %-%-version: codekin'), 'server --version OK')
  end
  truthy(text:find('OK client %d+, root ' .. vim.pesc(ws) .. ': index'), 'running client OK')
  truthy(not text:find('ERROR'), 'no ERROR in health output')
  vim.cmd('bwipeout!')
end)

test(':checkhealth codekin reports a missing server command as ERROR', function()
  local cfg = vim.lsp.config.codekin
  vim.lsp.config('codekin', { cmd = { 'codekin-does-not-exist', 'serve' } })
  vim.cmd('checkhealth codekin')
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  vim.cmd('bwipeout!')
  vim.lsp.config('codekin', { cmd = cfg.cmd })
  truthy(text:find('ERROR server command not found: codekin%-does%-not%-exist'), 'ERROR line: ' .. text)
end)

-- stop the servers, then report
for _, c in ipairs(vim.lsp.get_clients()) do
  c:stop()
end
vim.wait(5000, function()
  return #vim.lsp.get_clients() == 0
end, 50)
out(('%d passed, %d failed'):format(passed, failed))
if failed > 0 then
  vim.cmd('cquit 1')
else
  vim.cmd('qall!')
end
