; Chunk definitions for C# (see codekin/parsers/definitions.py for the capture conventions).

(class_declaration name: (identifier) @name) @definition.class

(record_declaration name: (identifier) @name) @definition.class

(struct_declaration name: (identifier) @name) @definition.struct

(interface_declaration name: (identifier) @name) @definition.interface

(enum_declaration name: (identifier) @name) @definition.enum

(method_declaration name: (identifier) @name body: (_)) @definition.method

(constructor_declaration name: (identifier) @name) @definition.method

(destructor_declaration name: (identifier) @name) @definition.method

(operator_declaration body: (_)) @definition.method

(comment) @doc
