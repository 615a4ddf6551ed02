; Chunk definitions for JavaScript (see codekin/parsers/definitions.py for the capture conventions).

(class_declaration name: (identifier) @name) @definition.class

(class_body (method_definition name: (_) @name) @definition.method)

(function_declaration name: (identifier) @name) @definition.function

(generator_function_declaration name: (identifier) @name) @definition.function

(lexical_declaration
  (variable_declarator
    name: (identifier) @name
    value: [(arrow_function) (function_expression) (generator_function)])) @definition.function

(variable_declaration
  (variable_declarator
    name: (identifier) @name
    value: [(arrow_function) (function_expression) (generator_function)])) @definition.function

(comment) @doc
