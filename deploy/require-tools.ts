/**
 * The cluster drills need real HAProxy, the PostgreSQL server tools, Janus and Chromium (.ci/run
 * installs them). Without one of them the run fails here, saying what is missing — never a silent skip.
 */
import { existsSync } from 'node:fs';
import { pgBin } from '../src/ops/pgctl.ts';

export default function requireTools(): void {
  const missing = [
    ...(existsSync('/usr/sbin/haproxy') ? [] : ['HAProxy (/usr/sbin/haproxy: apt-get install haproxy)']),
    ...(pgBin() ? [] : ['the PostgreSQL server tools (initdb, pg_ctl, pg_basebackup under /usr/lib/postgresql: apt-get install postgresql)']),
    ...(existsSync('/usr/bin/janus') ? [] : ['Janus (/usr/bin/janus: apt-get install janus)']),
    ...(existsSync('/usr/bin/chromium') ? [] : ['Chromium (/usr/bin/chromium: apt-get install chromium)']),
  ];
  if (missing.length) throw new Error(`The cluster drills (npm run test:cluster) cannot run: missing ${missing.join('; ')}. .ci/run installs them.`);
}
