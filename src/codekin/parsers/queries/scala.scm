; Chunk definitions for Scala (see codekin/parsers/definitions.py for the capture conventions).

(class_definition name: (identifier) @name) @definition.class

(object_definition name: (identifier) @name) @definition.class

(trait_definition name: (identifier) @name) @definition.trait

(enum_definition name: (identifier) @name) @definition.enum

(function_definition name: (identifier) @name) @definition.function

(comment) @doc
(block_comment) @doc
