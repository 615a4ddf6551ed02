; Chunk definitions for PHP (see codekin/parsers/definitions.py for the capture conventions).

(class_declaration name: (name) @name) @definition.class

(interface_declaration name: (name) @name) @definition.interface

(trait_declaration name: (name) @name) @definition.trait

(enum_declaration name: (name) @name) @definition.enum

(method_declaration name: (name) @name body: (compound_statement)) @definition.method

(function_definition name: (name) @name) @definition.function

(comment) @doc
(attribute_list) @doc
