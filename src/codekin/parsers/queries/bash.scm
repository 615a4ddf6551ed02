; Chunk definitions for Bash (see codekin/parsers/definitions.py for the capture conventions).

(function_definition name: (word) @name) @definition.function

(comment) @doc
