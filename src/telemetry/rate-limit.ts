export interface RateLimit {
  /** Sustained frames per second. */
  perSecond: number;
  /** Frames allowed at once after a quiet spell. */
  burst: number;
}

/** A token bucket: each frame takes one token; tokens refill at `perSecond` up to `burst`. */
export class RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1)) throw new RangeError(`bad rate limit ${JSON.stringify(limit)}`);
    this.tokens = limit.burst;
    this.last = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.limit.burst, this.tokens + ((t - this.last) / 1000) * this.limit.perSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
