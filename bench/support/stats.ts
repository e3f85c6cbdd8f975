/** Small statistics for bench samples; percentiles use the nearest-rank method. */

export function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = sorted(values);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))];
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/**
 * The median of round-by-round ratios a[i] / b[i]. Samples of one round were
 * taken back to back, so they share that moment's machine speed; their ratio
 * cancels drift that a ratio of overall medians would keep.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((value, i) => value / b[i]));
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN;
}

export function max(values: readonly number[]): number {
  return values.length ? Math.max(...values) : Number.NaN;
}

/** Significant-looking figures without scientific notation: 0.0123, 1.23, 12.3, 1234. */
export function fmt(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs === 0) return '0';
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(abs)));
  return value.toFixed(Math.min(decimals, 4));
}

export function fmtRatio(value: number): string {
  return `${fmt(value)}x`;
}

export function fmtBytes(bytes: number): string {
  return bytes >= 1024 ? `${fmt(bytes / 1024)} KB` : `${fmt(bytes)} B`;
}
