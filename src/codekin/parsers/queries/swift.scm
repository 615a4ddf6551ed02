; Chunk definitions for Swift (see codekin/parsers/definitions.py for the capture conventions).

(class_declaration declaration_kind: "struct" name: (type_identifier) @name) @definition.struct

(class_declaration declaration_kind: "enum" name: (type_identifier) @name) @definition.enum

(class_declaration declaration_kind: "extension" name: (user_type (type_identifier) @name)) @definition.impl

(class_declaration declaration_kind: "extension") @definition.impl

(class_declaration name: (type_identifier) @name) @definition.class

(protocol_declaration name: (type_identifier) @name) @definition.interface

(function_declaration name: (simple_identifier) @name) @definition.function

(init_declaration "init" @name) @definition.method

(deinit_declaration "deinit" @name) @definition.method

(comment) @doc
(multiline_comment) @doc
