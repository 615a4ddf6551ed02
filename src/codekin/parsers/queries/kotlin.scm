; Chunk definitions for Kotlin (see codekin/parsers/definitions.py for the capture conventions).

(class_declaration "interface" name: (identifier) @name) @definition.interface

(class_declaration (modifiers (class_modifier "enum")) name: (identifier) @name) @definition.enum

(class_declaration name: (identifier) @name) @definition.class

(object_declaration name: (identifier) @name) @definition.class

(function_declaration name: (identifier) @name (function_body)) @definition.function

(secondary_constructor) @definition.method

(line_comment) @doc
(block_comment) @doc
