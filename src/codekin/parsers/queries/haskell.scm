; Chunk definitions for Haskell (see codekin/parsers/definitions.py for the capture conventions).
; data/newtype -> struct, class -> interface, instance -> impl named after its type (like Rust's
; `impl Trait for Type`). Signatures are definitions too: the language table merges a signature and
; the equations that follow it (same name, adjacent) into one chunk.

(data_type name: (name) @name) @definition.struct

(newtype name: (name) @name) @definition.struct

(class name: (name) @name) @definition.interface

(instance patterns: (type_patterns . [(name) @name (parens (apply constructor: (name) @name))])) @definition.impl

(instance name: (name) @name) @definition.impl

(signature name: (variable) @name) @definition.function

(function name: (variable) @name) @definition.function

(bind name: (variable) @name) @definition.function

(comment) @doc
(haddock) @doc
