/** Reconnect delays: exponential with full jitter (WS_MAPPING §7). */
export interface BackoffOptions {
  /** The first delay's upper bound. Default 1 s. */
  readonly initialDelayMs: number;
  /** The largest upper bound; it doubles per attempt up to this. Default 30 s. */
  readonly maxDelayMs: number;
  /** A connection up this long resets the attempts. Default 60 s. */
  readonly resetAfterMs: number;
}

export const defaultBackoff: BackoffOptions = { initialDelayMs: 1_000, maxDelayMs: 30_000, resetAfterMs: 60_000 };

/** The upper bound of attempt `attempt`'s delay (1-based): min(max, initial × 2^(attempt−1)). */
export function delayBound(attempt: number, options: BackoffOptions): number {
  return Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** Math.max(0, attempt - 1));
}

/** The delay before attempt `attempt` (1-based): uniformly random below {@link delayBound}. */
export function jitteredDelay(attempt: number, options: BackoffOptions): number {
  return Math.floor(Math.random() * delayBound(attempt, options));
}
