; Chunk definitions for Zig (see codekin/parsers/definitions.py for the capture conventions).

(variable_declaration (identifier) @name (struct_declaration)) @definition.struct

(variable_declaration (identifier) @name (union_declaration)) @definition.struct

(variable_declaration (identifier) @name (opaque_declaration)) @definition.struct

(variable_declaration (identifier) @name (enum_declaration)) @definition.enum

(function_declaration name: (identifier) @name) @definition.function

(test_declaration (string (string_content) @name)) @definition.function

(test_declaration) @definition.function

(comment) @doc
