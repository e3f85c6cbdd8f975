import { hostname } from 'node:os';

/** Longest host part kept: with the pid, a running step's record stays under Redis' 64-byte compact-hash limit. */
const MAX_HOST = 16;

function shortHost(): string {
  const host = hostname().split('.')[0] || 'host';
  // Generated names (pods, cloud hosts) differ at their end: keep that part.
  return host.length > MAX_HOST ? host.slice(-MAX_HOST) : host;
}

/**
 * This process's name in step records ("which node runs this attempt"):
 * the host name (its first label, at most its last 16 characters) and the
 * pid, fixed for the life of the process.
 */
export const NODE_ID = `${shortHost()}:${process.pid}`;
