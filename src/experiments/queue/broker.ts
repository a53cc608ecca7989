/**
 * The work queue's libraries and the first contact with the broker. BullMQ and ioredis are optional peers,
 * imported only here, only by `qrobust run --queue` and `qrobust worker`; without them those two say how to
 * install them. An unreachable broker is one line naming it (after one try, within a few seconds), where the
 * clients BullMQ makes would retry for ever; once it answered, those clients reconnect by themselves.
 */
import { QrobustError } from '../../core/errors.js';
import type { BrokerUrl } from './broker-url.js';

export type QueueLibrary = typeof import('bullmq');

const INSTALL = 'npm install bullmq@6.7.6 ioredis@6.1.0';

/** The connection options BullMQ's queues and workers are given. */
export function connectionOf(broker: BrokerUrl): { url: string } {
  return { url: broker.url };
}

/** BullMQ, or a one-line error saying how to install it. */
export async function loadQueueLibrary(): Promise<QueueLibrary> {
  try {
    await import('ioredis');
    return await import('bullmq');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new QrobustError('broker_unavailable', `the work queue needs the optional packages bullmq and ioredis: ${INSTALL}`);
    }
    throw e;
  }
}

/** Connects once (a few seconds at most) and pings; a one-line error naming the broker when that fails. */
export async function probeBroker(broker: BrokerUrl, timeoutMs = 5000): Promise<void> {
  const { Redis } = await import('ioredis');
  let lastError: Error | null = null;
  const client = new Redis(broker.url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', (e: Error) => {
    lastError = e;
  });
  try {
    await client.connect();
    const pong = await client.ping();
    if (pong !== 'PONG') throw new Error(`unexpected reply '${pong}' to PING`);
  } catch (e) {
    const reason = (lastError as Error | null)?.message ?? (e as Error).message;
    throw new QrobustError('broker_unavailable', `${broker.display}: cannot connect to the Redis broker (${reason})`);
  } finally {
    client.disconnect();
  }
}
