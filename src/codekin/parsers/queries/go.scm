; Chunk definitions for Go (see codekin/parsers/definitions.py for the capture conventions).

(type_declaration (type_spec name: (type_identifier) @name type: (struct_type))) @definition.struct

(type_declaration (type_spec name: (type_identifier) @name type: (interface_type))) @definition.interface

(function_declaration name: (identifier) @name) @definition.function

(method_declaration
  receiver: (parameter_list
    (parameter_declaration
      type: [
        (type_identifier) @receiver
        (pointer_type (type_identifier) @receiver)
        (generic_type type: (type_identifier) @receiver)
        (pointer_type (generic_type type: (type_identifier) @receiver))
      ]))
  name: (field_identifier) @name) @definition.method

(method_declaration name: (field_identifier) @name) @definition.method

(comment) @doc
