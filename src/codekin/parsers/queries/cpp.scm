; Chunk definitions for C++ (see codekin/parsers/definitions.py for the capture conventions).

(class_specifier name: (type_identifier) @name body: (field_declaration_list)) @definition.class

(class_specifier
  name: (template_type name: (type_identifier) @name) body: (field_declaration_list)) @definition.class

(struct_specifier name: (type_identifier) @name body: (field_declaration_list)) @definition.struct

(struct_specifier
  name: (template_type name: (type_identifier) @name) body: (field_declaration_list)) @definition.struct

(type_definition
  type: (struct_specifier !name body: (field_declaration_list))
  declarator: (type_identifier) @name) @definition.struct

(union_specifier name: (type_identifier) @name body: (field_declaration_list)) @definition.struct

(enum_specifier name: (type_identifier) @name body: (enumerator_list)) @definition.enum

; Out-of-line member definitions: T::m / ns::T::m.
(function_definition
  declarator: (function_declarator
    declarator: (qualified_identifier
      scope: [(namespace_identifier) (template_type name: (type_identifier))] @receiver
      name: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))) @definition.method

(function_definition
  declarator: [
    (pointer_declarator declarator: (function_declarator
      declarator: (qualified_identifier
        scope: [(namespace_identifier) (template_type name: (type_identifier))] @receiver
        name: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)))
    (reference_declarator (function_declarator
      declarator: (qualified_identifier
        scope: [(namespace_identifier) (template_type name: (type_identifier))] @receiver
        name: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)))
  ]) @definition.method

(function_definition
  declarator: (function_declarator
    declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)) @definition.function

(function_definition
  declarator: [
    (pointer_declarator declarator: (function_declarator
      declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
    (reference_declarator (function_declarator
      declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
  ]) @definition.function

(function_definition
  declarator: (function_declarator declarator: (qualified_identifier) @name)) @definition.function

(comment) @doc
