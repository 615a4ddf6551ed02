; Chunk definitions for Lua (see codekin/parsers/definitions.py for the capture conventions).
; Lua has no classes: T.f / T:m functions are methods whose receiver is the table T.

(function_declaration
  name: (method_index_expression table: (_) @receiver method: (identifier) @name)) @definition.method

(function_declaration
  name: (dot_index_expression table: (_) @receiver field: (identifier) @name)) @definition.method

(function_declaration name: (identifier) @name) @definition.function

(comment) @doc
