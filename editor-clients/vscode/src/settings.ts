// Which of the extension's `codekin.*` settings belong to the server.

/** Keys of the `codekin` section that only the extension reads. */
export const CLIENT_ONLY_KEYS = ['server', 'trace', 'search', 'similar', 'context'] as const;

/** Server settings, as the server's settings tree names them (camelCase). */
export const SERVER_KEYS = [
  'model', 'device', 'batchSize', 'maxTokens', 'indexDir', 'include', 'exclude', 'secretPatterns',
  'maxFileBytes', 'maxChunkBytes', 'hybrid', 'debounceMs', 'codeLens', 'codeLensThreshold', 'store',
  'redactEnabled', 'redactExtraPatterns', 'backend', 'feedback',
] as const;

/**
 * The part of a `codekin` configuration section the server understands: client-only keys and
 * unknown keys are dropped, so the server never warns about them. `explicitOnly` keeps only the
 * keys for which `isSet(key)` is true, so defaults in the extension's manifest do not override
 * the repository's own `.codekin.toml`.
 */
export function serverSettings(
  section: Record<string, unknown> | undefined | null,
  isSet?: (key: string) => boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!section || typeof section !== 'object') {
    return out;
  }
  for (const key of SERVER_KEYS) {
    const value = (section as Record<string, unknown>)[key];
    if (value === undefined || value === null) {
      continue;
    }
    if (isSet && !isSet(key)) {
      continue;
    }
    out[key] = value;
  }
  return out;
}

/** True when a configuration change touches a server setting (not just client-only ones). */
export function affectsServer(affects: (section: string) => boolean): boolean {
  return SERVER_KEYS.some((key) => affects(`codekin.${key}`));
}
