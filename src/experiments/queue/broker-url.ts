/**
 * The `--queue` URL: a Redis broker as `redis://[USER:PASSWORD@]HOST[:PORT][/DB]` (or `rediss://` for TLS).
 * Checked before anything connects, so a typo is one line naming the option; the password never appears in
 * messages.
 */
import { QrobustError } from '../../core/errors.js';

export interface BrokerUrl {
  /** The URL as given, for the Redis client. */
  readonly url: string;
  /** The URL without credentials, for messages. */
  readonly display: string;
}

export function parseBrokerUrl(text: string, option = '--queue'): BrokerUrl {
  const expected = `${option}: expected redis://HOST:PORT (or rediss://, with an optional /DB)`;
  let u: URL;
  try {
    u = new URL(text.trim());
  } catch {
    throw new QrobustError('invalid_option', `${expected}, got '${text}'`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new QrobustError('invalid_option', `${expected}, got the scheme '${u.protocol.replace(/:$/, '')}' in '${text}'`);
  }
  if (u.hostname === '') throw new QrobustError('invalid_option', `${expected}, got no host in '${text}'`);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new QrobustError('invalid_option', `${expected}, got the database '${db}', not a number, in '${text}'`);
  if (u.search !== '' || u.hash !== '') throw new QrobustError('invalid_option', `${expected}, got extra parts after the database in '${text}'`);
  const port = u.port === '' ? '6379' : u.port;
  return { url: u.href, display: `${u.protocol}//${u.hostname}:${port}${db ? `/${db}` : ''}` };
}
