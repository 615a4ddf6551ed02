; Chunk definitions for Elixir (see codekin/parsers/definitions.py for the capture conventions).
; defmodule is a container of kind "class"; @doc/@spec/@impl attributes document the def below.

(call
  target: (identifier) @_kw (#eq? @_kw "defmodule")
  (arguments (alias) @name)) @definition.class

(call
  target: (identifier) @_kw (#eq? @_kw "defprotocol")
  (arguments (alias) @name)) @definition.interface

(call
  target: (identifier) @_kw (#eq? @_kw "defimpl")
  (arguments (alias) @name)) @definition.impl

(call
  target: (identifier) @_kw
  (#any-of? @_kw "def" "defp" "defmacro" "defmacrop" "defguard" "defguardp" "defdelegate" "defn" "defnp")
  (arguments [
    (call target: (identifier) @name)
    (identifier) @name
    (binary_operator left: (call target: (identifier) @name))
    (binary_operator left: (identifier) @name)
  ])) @definition.function

(comment) @doc

(unary_operator
  operator: "@"
  operand: (call target: (identifier) @_attr (#any-of? @_attr "doc" "spec" "impl"))) @doc
