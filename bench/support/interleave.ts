/**
 * Runs every variant once per round, rotating which goes first, and keeps
 * each variant's samples. Shared machines drift (other tenants, CPU boost,
 * AOF rewrites); interleaving spreads that drift over all variants alike, so
 * the ratios between them stay meaningful even when absolute times wander.
 */
export async function interleave<K extends string, T>(
  rounds: number,
  variants: Record<K, (round: number) => Promise<T>>,
  onSample?: (variant: K, round: number, sample: T) => void,
): Promise<Record<K, T[]>> {
  const names = Object.keys(variants) as K[];
  const samples = Object.fromEntries(names.map((name) => [name, [] as T[]])) as Record<K, T[]>;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length];
      const sample = await variants[name](round);
      samples[name].push(sample);
      onSample?.(name, round, sample);
    }
  }
  return samples;
}
