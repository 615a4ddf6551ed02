// Opened results as feedback (the `codekin.feedback` setting): what the extension tells the
// server when a Semantic Search result is picked. Plain data: no vscode import.
import type { ResultOpenedParams, SearchItem } from './protocol';

/**
 * The `codekin/resultOpened` params for `picked`, one of the `items` the search for `query`
 * showed; null when feedback is off, the query is blank or the item is not in the list.
 */
export function resultOpened(
  enabled: boolean,
  query: string,
  items: readonly SearchItem[],
  picked: SearchItem,
): ResultOpenedParams | null {
  const rank = items.indexOf(picked) + 1;
  if (!enabled || !query.trim() || rank < 1) {
    return null;
  }
  return { query, uri: picked.uri, range: picked.range, rank };
}
