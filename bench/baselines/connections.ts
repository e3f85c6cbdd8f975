import { Redis } from 'ioredis';
import { onCleanup } from '../support/cleanup';

/**
 * ioredis clients for the baselines, configured as the engine configures its
 * own (BullMQ requires maxRetriesPerRequest: null on worker connections), and
 * closed by the bench's cleanup even when a scenario throws.
 */
export function benchClient(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: null });
  const forget = onCleanup(() => void client.disconnect());
  client.once('end', forget);
  return client;
}

export async function closeClient(client: Redis): Promise<void> {
  await client.quit().catch(() => client.disconnect());
}
