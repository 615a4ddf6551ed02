// Debouncing and "latest answer wins" for live search.

export interface Debounced<A extends unknown[]> {
  (...args: A): void;
  cancel(): void;
  flush(): void;
}

/** `fn` runs `ms` after the last call; `flush` runs a pending call now. */
export function debounce<A extends unknown[]>(
  fn: (...args: A) => void,
  ms: number,
  timers: { set: typeof setTimeout; clear: typeof clearTimeout } = { set: setTimeout, clear: clearTimeout },
): Debounced<A> {
  let handle: ReturnType<typeof setTimeout> | undefined;
  let pending: A | undefined;
  const run = () => {
    handle = undefined;
    const args = pending;
    pending = undefined;
    if (args) {
      fn(...args);
    }
  };
  const d = ((...args: A) => {
    pending = args;
    if (handle !== undefined) {
      timers.clear(handle);
    }
    handle = timers.set(run, ms);
  }) as Debounced<A>;
  d.cancel = () => {
    if (handle !== undefined) {
      timers.clear(handle);
    }
    handle = undefined;
    pending = undefined;
  };
  d.flush = () => {
    if (handle !== undefined) {
      timers.clear(handle);
      run();
    }
  };
  return d;
}

/**
 * Hands out increasing tickets; only the newest ticket is current, so answers to older
 * requests that arrive late are dropped.
 */
export class LatestOnly {
  private seq = 0;
  next(): number {
    return ++this.seq;
  }
  isCurrent(ticket: number): boolean {
    return ticket === this.seq;
  }
  invalidate(): void {
    this.seq++;
  }
}
