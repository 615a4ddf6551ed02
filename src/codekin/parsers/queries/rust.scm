; Chunk definitions for Rust (see codekin/parsers/definitions.py for the capture conventions).

(struct_item name: (type_identifier) @name) @definition.struct

(union_item name: (type_identifier) @name) @definition.struct

(enum_item name: (type_identifier) @name) @definition.enum

(trait_item name: (type_identifier) @name) @definition.trait

(impl_item
  type: [
    (type_identifier) @name
    (generic_type type: (type_identifier) @name)
    (generic_type type: (scoped_type_identifier name: (type_identifier) @name))
    (scoped_type_identifier name: (type_identifier) @name)
    (reference_type type: (type_identifier) @name)
  ]) @definition.impl

(impl_item) @definition.impl

(function_item name: (identifier) @name) @definition.function

(line_comment) @doc
(block_comment) @doc
(attribute_item) @doc
