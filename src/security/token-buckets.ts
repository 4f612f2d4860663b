export interface TakeResult {
  allowed: boolean;
  /** When not allowed: milliseconds until one token is back. */
  retryAfterMs: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * In-process token buckets, one per key: each holds `capacity` tokens and regains `capacity`
 * per `windowMs`. At most `maxKeys` buckets are kept, so memory stays bounded whatever keys
 * clients send; a forgotten bucket is a full one.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    private readonly capacity: number,
    windowMs: number,
    private readonly maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {
    this.perMs = capacity / windowMs;
  }

  /** The tokens `key` holds now. */
  available(key: string): number {
    const bucket = this.buckets.get(key);
    if (!bucket) return this.capacity;
    return Math.min(this.capacity, bucket.tokens + (this.now() - bucket.at) * this.perMs);
  }

  /** Milliseconds until `key` holds one token again (0 when it holds one now). */
  retryAfterMs(key: string): number {
    const missing = 1 - this.available(key);
    return missing <= 0 ? 0 : Math.ceil(missing / this.perMs);
  }

  /** Takes one token from `key`; callers check `available` first when several buckets must all agree. */
  take(key: string): TakeResult {
    const tokens = this.available(key);
    if (tokens < 1) return { allowed: false, retryAfterMs: this.retryAfterMs(key) };
    this.buckets.delete(key);
    this.buckets.set(key, { tokens: tokens - 1, at: this.now() });
    this.evict();
    return { allowed: true, retryAfterMs: 0 };
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Forgets the least recently used buckets beyond `maxKeys` (Map order is least recently taken first). */
  private evict(): void {
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= this.maxKeys) return;
      this.buckets.delete(key);
    }
  }
}
