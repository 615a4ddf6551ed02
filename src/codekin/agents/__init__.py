"""codekin for coding agents: the MCP server (``codekin mcp``), its client configurations and the
instruction block for AGENTS.md. Imports of the MCP SDK stay inside ``mcp_server``."""
