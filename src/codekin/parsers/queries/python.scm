; Chunk definitions for Python (see codekin/parsers/definitions.py for the capture conventions).

(class_definition name: (identifier) @name) @definition.class

(function_definition name: (identifier) @name) @definition.function

(comment) @doc
