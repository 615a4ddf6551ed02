; Chunk definitions for Ruby (see codekin/parsers/definitions.py for the capture conventions).
; Modules are containers of kind "class".

(class name: [(constant) (scope_resolution)] @name) @definition.class

(module name: [(constant) (scope_resolution)] @name) @definition.class

(method name: (_) @name) @definition.function

(singleton_method name: (_) @name) @definition.function

(comment) @doc
