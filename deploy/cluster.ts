/**
 * The multi-node deployment on one machine (loopback only), for tests, drills, benchmarks and
 * demos — the same shape as deploy/systemd/ on real servers:
 *
 *   clients ─▶ HAProxy :api ─┬─▶ API node 1..N  (cauyte serve, own port and data folder)
 *                            └─ /api/video/rooms/<id>/… hashed by room id (a room lives on one node)
 *   API nodes ─▶ HAProxy :pg (TCP) ─▶ PostgreSQL primary ══ synchronous streaming ══▶ standby
 *                                     (the standby is the `backup` server: used once the primary is down)
 *
 * Failover (drills): kill the primary, `pg_ctl promote` the standby, clear its
 * synchronous_standby_names (it has no standby of its own yet, and would otherwise wait forever);
 * HAProxy's pgsql-check marks the primary down and sends new connections to the promoted standby,
 * the nodes' pools reconnect. In production Patroni does the promotion (deploy/README.md).
 *
 * Run: `node --import tsx deploy/cluster.ts up [--nodes 3]` (Ctrl-C stops everything).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { ownedDir, PgCluster, giveToPostgres } from '../src/ops/pgctl.ts';

const ROOT = resolve(import.meta.dirname, '..');

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

export function haproxyAvailable(): boolean {
  return existsSync('/usr/sbin/haproxy');
}

export interface ApiNode {
  name: string;
  port: number;
  dataDir: string;
  proc?: ChildProcess;
}

export interface ClusterOptions {
  nodes: number;
  /** Extra environment for every node. */
  env?: Record<string, string>;
  log?: (line: string) => void;
}

export const CLUSTER_SECRET = 'cluster-drill-secret-0123456789abcdefghijklmnop';

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export class Cluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'cauyte-cluster-'));
  primary!: PgCluster;
  standby!: PgCluster;
  nodes: ApiNode[] = [];
  haproxy?: ChildProcess;
  apiPort = 0;
  pgPort = 0;
  statsPort = 0;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: ClusterOptions) {
    chmodSync(this.dir, 0o755);
    this.log = opts.log ?? (() => undefined);
  }

  get url(): string {
    return `http://127.0.0.1:${this.apiPort}`;
  }

  /** The database URL the nodes use: through HAProxy, so a failover needs no change on the nodes. */
  get databaseUrl(): string {
    return `postgres://postgres@127.0.0.1:${this.pgPort}/cauyte`;
  }

  async start(): Promise<void> {
    const [p1, p2] = [await freePort(), await freePort()];
    this.apiPort = await freePort();
    this.pgPort = await freePort();
    this.statsPort = await freePort();
    // PostgreSQL: a primary that commits only once the standby has the WAL (synchronous replication).
    this.primary = PgCluster.init(join(this.dir, 'pg-primary'), p1, { extra: ["synchronous_commit = 'on'", 'wal_sender_timeout = 5s'] });
    this.primary.start();
    const admin = new pg.Client({ connectionString: `${this.primary.url}/postgres` });
    await admin.connect();
    await admin.query('CREATE DATABASE cauyte');
    await admin.end();
    // The standby: a base backup of the primary that streams from it (standby.signal + primary_conninfo).
    const sdir = ownedDir(join(this.dir, 'pg-standby'));
    this.standby = PgCluster.baseBackup(this.primary, sdir, p2);
    writeFileSync(join(this.standby.data, 'standby.signal'), '');
    this.standby.configure([`primary_conninfo = 'host=127.0.0.1 port=${p1} user=postgres application_name=standby1'`, 'hot_standby = on']);
    giveToPostgres(sdir);
    this.standby.start();
    // Only now (a commit would wait for a standby that does not exist yet): commits wait for standby1.
    const p = new pg.Client({ connectionString: `${this.primary.url}/postgres` });
    await p.connect();
    await p.query("ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (standby1)'");
    await p.query('SELECT pg_reload_conf()');
    await p.end();
    await waitFor('the synchronous standby', async () => {
      const c = new pg.Client({ connectionString: `${this.primary.url}/postgres` });
      await c.connect();
      try {
        const r = await c.query("SELECT 1 FROM pg_stat_replication WHERE application_name = 'standby1' AND sync_state = 'sync'");
        return r.rowCount === 1;
      } finally {
        await c.end();
      }
    });
    this.log(`PostgreSQL primary :${p1}, synchronous standby :${p2}`);
    this.nodes = [];
    for (let i = 1; i <= this.opts.nodes; i++) {
      const dataDir = join(this.dir, `node-${i}`);
      mkdirSync(dataDir, { recursive: true });
      this.nodes.push({ name: `n${i}`, port: await freePort(), dataDir });
    }
    this.writeHaproxyConfig();
    this.startHaproxy();
    // The first node migrates the database; the others start once it is ready.
    await this.startNode(this.nodes[0]);
    await Promise.all(this.nodes.slice(1).map((n) => this.startNode(n)));
    await waitFor('HAProxy to see the nodes', async () => (await fetch(`${this.url}/readyz`)).ok);
    this.log(`HAProxy :${this.apiPort} in front of ${this.nodes.map((n) => `${n.name}:${n.port}`).join(', ')}`);
  }

  /** Points HAProxy at the first `k` nodes only (benchmarks by node count): rewrites its configuration and restarts it. */
  async useNodes(k: number): Promise<void> {
    this.haproxy?.kill('SIGKILL');
    await new Promise((r) => this.haproxy?.once('exit', r) ?? r(undefined));
    this.writeHaproxyConfig(this.nodes.slice(0, k));
    this.startHaproxy();
    await waitFor('HAProxy', async () => (await fetch(`${this.url}/readyz`)).ok);
    // Wait until every chosen node passed its health check.
    await new Promise((r) => setTimeout(r, 1500));
  }

  writeHaproxyConfig(active: ApiNode[] = this.nodes): void {
    const servers = (check: string) => active.map((n) => `  server ${n.name} 127.0.0.1:${n.port} ${check}`).join('\n');
    const cfg = `# Generated by deploy/cluster.ts (see deploy/haproxy.cfg for the annotated production version)
global
  maxconn 4096

defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout tunnel 1h
  timeout http-keep-alive 5s
  option redispatch
  retries 2
  retry-on conn-failure empty-response
  default-server inter 500ms fall 2 rise 2 on-marked-down shutdown-sessions

frontend api
  bind 127.0.0.1:${this.apiPort}
  unique-id-format %{+X}o%ci%cp%fp%Ts%rt%pid
  http-request set-header X-Request-Id %[unique-id] unless { req.hdr(x-request-id) -m found }
  option forwardfor
  http-request deny deny_status 404 if { path_beg /metrics }
  use_backend video if { path_beg /api/video/rooms/ }
  default_backend nodes

backend nodes
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
${servers('check')}

backend video
  # /api/video/rooms/<id>/... : the first four path levels pick the node, so a room lives on one node;
  # consistent hashing moves only the lost node's rooms when a node goes down.
  balance uri path-only depth 4
  hash-type consistent
  option httpchk GET /readyz
  http-check expect status 200
${servers('check')}

listen postgres
  mode tcp
  bind 127.0.0.1:${this.pgPort}
  timeout client 1h
  timeout server 1h
  option pgsql-check user postgres
  server primary 127.0.0.1:${this.primary.port} check
  server standby 127.0.0.1:${this.standby.port} check backup

listen stats
  bind 127.0.0.1:${this.statsPort}
  stats enable
  stats uri /
`;
    writeFileSync(join(this.dir, 'haproxy.cfg'), cfg);
  }

  startHaproxy(): void {
    this.haproxy = spawn('/usr/sbin/haproxy', ['-f', join(this.dir, 'haproxy.cfg'), '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.haproxy.stderr!.on('data', (d: Buffer) => this.log(`haproxy: ${d.toString().trim()}`));
  }

  nodeEnv(n: ApiNode): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      PORT: String(n.port),
      CAUYTE_NODE_NAME: n.name,
      // Every node names itself by the public address: tokens (issuer, audience) and links are the same whichever node answers.
      CAUYTE_BASE_URL: this.url,
      HOST: '127.0.0.1',
      CAUYTE_DATA_DIR: n.dataDir,
      DATABASE_URL: this.databaseUrl,
      CAUYTE_SECRET_KEY: CLUSTER_SECRET,
      CAUYTE_DEMO: 'off',
      CAUYTE_JANUS: 'off',
      // No supervised Orthanc per node: a node killed with -9 would leave its Orthanc running (the
      // drills remove the folders, so no later start stops it); the nodes use the embedded store.
      CAUYTE_ORTHANC: 'off',
      CAUYTE_MQTT_PORT: '0',
      CAUYTE_TRUST_PROXY: '127.0.0.1',
      CAUYTE_RATE_LIMIT: '1000000',
      CAUYTE_COOKIE_SECURE: '0',
      CAUYTE_DRAIN_SECONDS: '1',
      CAUYTE_OUTBOX: 'off',
      CAUYTE_RETENTION: 'off',
      LOG_LEVEL: 'warn',
      ...this.opts.env,
    };
  }

  async startNode(n: ApiNode): Promise<void> {
    n.proc = spawn(process.execPath, [join(ROOT, 'bin', 'cauyte.js'), 'serve'], { env: this.nodeEnv(n), stdio: ['ignore', 'ignore', 'pipe'], cwd: ROOT });
    n.proc.stderr!.on('data', (d: Buffer) => this.log(`${n.name}: ${d.toString().trim().slice(0, 500)}`));
    await waitFor(`node ${n.name}`, async () => (await fetch(`http://127.0.0.1:${n.port}/readyz`)).ok, 120_000);
  }

  /** A node lost (kill -9: no drain, requests in flight are cut). */
  killNode(n: ApiNode): void {
    n.proc?.kill('SIGKILL');
  }

  /** Runs a cauyte command against the cluster's database (e.g. token issue, audit verify). */
  cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
    const p = spawn(process.execPath, [join(ROOT, 'bin', 'cauyte.js'), ...args], { env: { ...this.nodeEnv(this.nodes[0]), ...env }, cwd: ROOT });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    return new Promise((r) => p.on('close', (code) => r({ code: code ?? -1, out, err })));
  }

  /** The primary lost: kill -9 its postmaster (a crash, no shutdown checkpoint). */
  killPrimary(): void {
    const pid = this.primary.pid();
    if (pid) process.kill(pid, 'SIGKILL');
  }

  /** Promotes the standby and lets it commit without a standby of its own. */
  async promoteStandby(): Promise<void> {
    this.standby.promote();
    const c = new pg.Client({ connectionString: `${this.standby.url}/postgres` });
    await c.connect();
    try {
      await c.query("ALTER SYSTEM SET synchronous_standby_names = ''");
      await c.query('SELECT pg_reload_conf()');
    } finally {
      await c.end();
    }
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) n.proc?.kill('SIGKILL');
    this.haproxy?.kill('SIGKILL');
    this.primary?.stopQuietly();
    this.standby?.stopQuietly();
    // Postgres children of a killed postmaster exit on their own; give them a moment.
    await new Promise((r) => setTimeout(r, 300));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv[2] === 'up') {
  const nodes = Number(process.argv[process.argv.indexOf('--nodes') + 1]) || 3;
  const c = new Cluster({ nodes, log: (l) => console.log(l) });
  const stop = () => void c.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  c.start().then(
    () => console.log(`Cluster up: ${c.url} (HAProxy stats ${`http://127.0.0.1:${c.statsPort}/`}); Ctrl-C stops it.`),
    (err: Error) => {
      console.error(err.message);
      void c.stop().then(() => process.exit(1));
    },
  );
}
