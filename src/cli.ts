/**
 * The `cauyte` command: serve, migrate, seed, import. Configuration comes from the environment
 * (see README.md); errors print one readable line and exit non-zero.
 */
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from './config.ts';
import { openDatabase } from './db/db.ts';
import { migrate } from './db/migrate.ts';
import { FhirError } from './fhir/outcome.ts';
import { importFiles } from './fhir/import.ts';
import { progressLine } from './fhir/import-progress.ts';
import { statSync } from 'node:fs';
import { buildPlatform } from './server.ts';
import { openCore, type Core } from './platform/core.ts';
import { demoAccountsText, startBanner } from './platform/demo-banner.ts';
import { createDemoAccounts, createDepartmentAccount, createDiseaseControlAccount, demoSignInHelp } from './seed/accounts.ts';
import { seedSurveillanceDemo } from './surveillance/seed.ts';
import { isRole, ROLES } from './auth/policy.ts';
import { expireInactiveStaff } from './auth/inactivity.ts';
import { runAuditRetention } from './audit/retention.ts';
import { userInfo } from 'node:os';
import { isEmptyStore, seedDemo } from './seed/demo.ts';
import { seedVisitDemo, topUpDemoSlots } from './seed/visits.ts';
import { gracefulShutdown } from './ops/shutdown.ts';
import { backupCommand, backupOnSignal, restoreCommand, retentionCommand } from './ops/cli.ts';
import { seedProgrammeDemo } from './programme/seed.ts';
import { seedFormatsDemo } from './seed/formats.ts';
import { seedCdsDemo } from './cds/seed.ts';

const USAGE = `Cầu Y Tế — usage:
  cauyte serve                  start the platform (migrates; loads demo data into a new embedded database)
  cauyte migrate                apply pending database migrations
  cauyte seed [--patients N]    load the demo network
  cauyte import <file>...       import FHIR data: a Bundle (.json, transaction or batch) or NDJSON (.ndjson)
  cauyte user create --username U --name "Full name" --kind staff|citizen --role R [--org ORG_ID]
                     [--practitioner ID] [--patient ID]     (password read from CAUYTE_NEW_PASSWORD)
  cauyte token issue --role R [--org ORG_ID] [--practitioner ID] [--patient ID] [--scope S] [--ttl 15m]
                                print a short-lived access token (audited)
  cauyte audit verify           seal and check the audit hash chain; names the first tampered entry
  cauyte audit retention        remove audit entries older than CAUYTE_AUDIT_RETENTION_DAYS (≥ 90; the server runs it daily)
  cauyte accounts expire-inactive   disable staff accounts unused for CAUYTE_STAFF_INACTIVE_DAYS (the server runs it daily)
  cauyte accounts enable --username U   enable a disabled account again (audited)
  cauyte demo accounts          print the demo accounts and their TOTP keys again (demo passwords only)
  cauyte keys rotate            start signing tokens with a new key
  cauyte backup [--out FILE]    encrypted backup (CAUYTE_BACKUP_KEY) of the embedded database and the data folder's files
  cauyte restore FILE           restore such a backup into CAUYTE_DATA_DIR (server stopped)
  cauyte retention run [--dry-run]   archive records past their keeping period (Circular 33/2025; the server runs it daily)
  cauyte retention hold --target Patient/ID|Encounter/ID --reason TEXT | release --id N   legal holds
Environment: PORT, HOST, CAUYTE_DATA_DIR, DATABASE_URL, CAUYTE_SECRET_KEY, CAUYTE_DEMO, LOG_LEVEL (see README.md).`;

/** The core (store, identity, audit) without the HTTP app, for one command. */
async function withCore<T>(config: Config, fn: (core: Core) => Promise<T>): Promise<T> {
  const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir });
  try {
    const core = await openCore(config, db);
    const result = await fn(core);
    await core.audit.seal();
    return result;
  } finally {
    await db.close();
  }
}

function parseTtl(text: string): number {
  const m = /^(\d+)(s|m|h)?$/.exec(text);
  if (!m) throw new Error('--ttl must look like 900, 15m or 1h');
  return Number(m[1]) * ({ s: 1, m: 60, h: 3600 }[m[2] ?? 's'] ?? 1);
}

export function demoWanted(config: Config): boolean {
  return config.CAUYTE_DEMO === 'on' || (config.CAUYTE_DEMO === 'auto' && !config.DATABASE_URL);
}

async function serve(config: Config): Promise<void> {
  const platform = await buildPlatform(config);
  let help: string | undefined;
  if (demoWanted(config) && (await isEmptyStore(platform.store))) {
    const s = await seedDemo(platform.store);
    console.log(`Loaded demo data: ${s.organizations} facilities, ${s.practitioners} practitioners, ${s.patients} patients (${s.total} resources).`);
    const demo = await createDemoAccounts(platform.db, platform.accounts, s);
    await seedVisitDemo(platform.store, platform.visits, s);
    const programme = await seedProgrammeDemo(platform.store, s);
    demo.accounts.push(await createDepartmentAccount(platform.accounts, programme.departments[15]));
    await seedFormatsDemo(platform.store, s);
    demo.accounts.push(await createDiseaseControlAccount(platform.accounts, (await seedSurveillanceDemo(platform.store)).centreId));
    if (platform.cds) await seedCdsDemo(platform.store);
    help = demoSignInHelp(config.baseUrl, demo);
  } else if (demoWanted(config)) {
    // Demo slots are relative to today: open the coming week again.
    await topUpDemoSlots(platform.store, platform.visits);
  }
  backupOnSignal(config, platform.db, platform.audit, platform.app.log);
  const address = await platform.app.listen({ port: config.PORT, host: config.HOST });
  await platform.cds?.bundledReady();
  const url = config.CAUYTE_BASE_URL ?? address;
  // Every start of a demo database prints the demo accounts again (keys read back from the database).
  if (!help && demoWanted(config)) help = await demoAccountsText(platform.db, platform.secret, url);
  if (help) console.log(help);
  console.log(
    startBanner({
      url,
      database: platform.db.kind === 'pglite' ? `PGlite (${config.dataDir})` : 'PostgreSQL (DATABASE_URL)',
      mqtt: { port: platform.mqttPort, url: config.MQTT_URL },
      janus: { urls: platform.janus.map((j) => j.url) },
      cds: platform.cds ? { url: platform.cds.bundledUrl(), off: config.CAUYTE_CDS_BUNDLED === 'off' } : undefined,
    }),
  );
  // Drain (readiness fails, the load balancer moves away), then close: see src/ops/shutdown.ts.
  const stop = () =>
    void gracefulShutdown(platform, { graceMs: config.CAUYTE_DRAIN_SECONDS * 1000, deadlineMs: config.CAUYTE_SHUTDOWN_TIMEOUT_SECONDS * 1000 });
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const config = loadConfig();
  switch (command) {
    case 'serve':
    case undefined:
      return serve(config);
    case 'backup': {
      const { values } = parseArgs({ args: rest, options: { out: { type: 'string' } } });
      return backupCommand(config, values.out);
    }
    case 'restore':
      return restoreCommand(config, rest[0]);
    case 'retention':
      return retentionCommand(config, rest);
    case 'migrate': {
      const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir });
      try {
        const applied = await migrate(db);
        console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Database is up to date.');
      } finally {
        await db.close();
      }
      return;
    }
    case 'seed': {
      const { values } = parseArgs({ args: rest, options: { patients: { type: 'string', default: '50' } } });
      const patients = Number(values.patients);
      if (!Number.isInteger(patients) || patients < 1 || patients > 100_000) throw new Error('--patients must be a whole number from 1 to 100000');
      await withCore(config, async ({ store }) => {
        const s = await seedDemo(store, patients);
        console.log(`Loaded demo data: ${s.organizations} facilities, ${s.practitioners} practitioners, ${s.patients} patients (${s.total} resources).`);
      });
      return;
    }
    case 'import': {
      if (rest.length === 0) throw new Error('cauyte import needs at least one file');
      await withCore(config, async ({ store }) => {
        // Progress on stderr: files and resources done, rate, time left (src/fhir/import-progress.ts).
        const sizes = rest.map((f) => statSync(f).size);
        const progress = { totalBytes: sizes.reduce((a, b) => a + b, 0), totalFiles: rest.length, startedAt: Date.now() };
        let bytesDone = 0;
        let resourcesDone = 0;
        // A long import on a server without autovacuum: the store keeps its statistics as it grows (src/fhir/statistics.ts).
        await store.statistics.start((err) => console.error(`statistics upkeep failed: ${err.message}`));
        try {
          // The next Bundle file is prepared in a worker thread while one is written (src/fhir/import.ts).
          await importFiles(store, rest, {
            onChunk: (i, n, inFile) =>
              process.stderr.write(
                `${progressLine(progress, { filesDone: i, bytesDone: bytesDone + (sizes[i] * n) / inFile, resourcesDone: resourcesDone + n, file: rest[i] })}\n`,
              ),
            onFile: (i, s) => {
              bytesDone += sizes[i];
              resourcesDone += s.resources;
              process.stderr.write(`${progressLine(progress, { filesDone: i + 1, bytesDone, resourcesDone, file: rest[i] })}\n`);
              console.log(`Imported ${s.resources} resources from ${s.file}`);
            },
          });
        } finally {
          await store.statistics.stop();
        }
        // A bulk load: the planner learns the store's new size and contents (src/fhir/statistics.ts).
        await store.refreshStatistics();
      });
      return;
    }
    case 'user': {
      if (rest[0] !== 'create') throw new Error('usage: cauyte user create ...');
      const { values } = parseArgs({
        args: rest.slice(1),
        options: {
          username: { type: 'string' },
          name: { type: 'string' },
          kind: { type: 'string', default: 'staff' },
          role: { type: 'string' },
          org: { type: 'string', default: '' },
          practitioner: { type: 'string' },
          patient: { type: 'string' },
        },
      });
      const password = process.env.CAUYTE_NEW_PASSWORD;
      if (!values.username || !values.name || !password) throw new Error('--username, --name and CAUYTE_NEW_PASSWORD are required');
      if (values.kind !== 'staff' && values.kind !== 'citizen') throw new Error('--kind must be staff or citizen');
      const role = values.role ?? (values.kind === 'citizen' ? 'citizen' : undefined);
      if (!isRole(role)) throw new Error(`--role must be one of ${ROLES.join(', ')}`);
      await withCore(config, async ({ accounts, audit }) => {
        const a = await accounts.create({
          username: values.username!,
          displayName: values.name!,
          kind: values.kind as 'staff',
          password,
          practitionerId: values.practitioner,
          patientId: values.patient,
          roles: values.kind === 'staff' ? [{ role, organizationId: values.org! }] : [],
        });
        await audit.record({
          username: `os:${userInfo().username}`,
          action: 'account.create',
          outcome: 'success',
          detail: { via: 'cli', account: a.id, username: a.username, role },
        });
        console.log(`Created ${a.kind} account ${a.username} (${a.id}). Staff enrol two-factor sign-in at their first sign-in.`);
      });
      return;
    }
    case 'token': {
      if (rest[0] !== 'issue') throw new Error('usage: cauyte token issue --role R [--ttl 15m]');
      const { values } = parseArgs({
        args: rest.slice(1),
        options: {
          role: { type: 'string' },
          org: { type: 'string' },
          practitioner: { type: 'string' },
          patient: { type: 'string' },
          scope: { type: 'string' },
          ttl: { type: 'string', default: '15m' },
        },
      });
      if (!isRole(values.role)) throw new Error(`--role must be one of ${ROLES.join(', ')}`);
      const role = values.role;
      if (role === 'citizen' && !values.patient) throw new Error('--patient is required for the citizen role');
      const ttl = parseTtl(values.ttl!);
      await withCore(config, async ({ accounts, tokens, audit }) => {
        const username = `operator.${role.replace(/_/g, '-')}${values.org ? `.${values.org.slice(0, 8).toLowerCase()}` : ''}`;
        const account =
          (await accounts.byUsername(username)) ??
          (await accounts.create({
            username,
            displayName: `Operator (${role})`,
            kind: 'service',
            patientId: values.patient,
            roles: [{ role, organizationId: values.org ?? '' }],
          }));
        const scope =
          values.scope ?? (role === 'citizen' ? 'patient/*.read' : role === 'integration' ? 'system/*.read system/*.write' : 'user/*.read user/*.write');
        const issued = await tokens.issue({ sub: account.id, role, org: values.org, practitioner: values.practitioner, patient: values.patient, scope }, ttl);
        await audit.record({
          accountId: account.id,
          username: `os:${userInfo().username}`,
          role,
          organizationId: values.org,
          action: 'token.issue',
          outcome: 'success',
          detail: { via: 'cli', ttlSeconds: issued.expiresIn, scope },
        });
        console.log(issued.token);
      });
      return;
    }
    case 'audit': {
      if (rest[0] === 'retention') {
        const r = await withCore(config, async ({ db, audit }) => {
          await audit.seal();
          const result = await runAuditRetention(db, audit, config.CAUYTE_AUDIT_RETENTION_DAYS);
          await audit.record({
            username: `os:${userInfo().username}`,
            action: 'audit.retention.run',
            outcome: result.problem ? 'failure' : 'success',
            detail: { via: 'cli', removed: result.removed, retentionDays: config.CAUYTE_AUDIT_RETENTION_DAYS },
          });
          return result;
        });
        if (r.problem) {
          console.error(`AUDIT RETENTION STOPPED: ${r.problem}. Nothing after the last good batch was removed; run \`cauyte audit verify\`.`);
          process.exitCode = 2;
        } else
          console.log(
            `Removed ${r.removed} audit entries older than ${config.CAUYTE_AUDIT_RETENTION_DAYS} days; the chain now starts after position ${r.startPos}.`,
          );
        return;
      }
      if (rest[0] !== 'verify') throw new Error('usage: cauyte audit verify | cauyte audit retention');
      const ok = await withCore(config, async ({ audit }) => {
        const sealed = await audit.seal();
        const r = await audit.verify();
        if (r.ok)
          console.log(
            `Audit chain intact: ${r.checked} entries checked${sealed ? ` (${sealed} newly sealed)` : ''}${r.unsealed ? `, ${r.unsealed} not yet sealed` : ''}.`,
          );
        else
          console.error(
            `AUDIT CHAIN BROKEN at position ${r.firstBad!.chainPos}${r.firstBad!.id !== null ? ` (audit_log id ${r.firstBad!.id})` : ''}: ${r.firstBad!.problem}. ${r.checked} entries before it are intact.`,
          );
        return r.ok;
      });
      if (!ok) process.exitCode = 2;
      return;
    }
    case 'accounts': {
      if (rest[0] === 'expire-inactive') {
        await withCore(config, async (core) => {
          const expired = await expireInactiveStaff(core, config.CAUYTE_STAFF_INACTIVE_DAYS);
          for (const a of expired) console.log(`Disabled ${a.username} (last active ${a.lastActiveAt.toISOString().slice(0, 10)})`);
          console.log(`${expired.length} staff account(s) unused for ${config.CAUYTE_STAFF_INACTIVE_DAYS} days disabled.`);
        });
        return;
      }
      if (rest[0] === 'enable') {
        const { values } = parseArgs({ args: rest.slice(1), options: { username: { type: 'string' }, reason: { type: 'string' } } });
        if (!values.username) throw new Error('usage: cauyte accounts enable --username U [--reason TEXT]');
        await withCore(config, async ({ accounts, audit }) => {
          const a = await accounts.byUsername(values.username!);
          if (!a) throw new Error(`no account ${values.username}`);
          const changed = await accounts.enable(a.id);
          await audit.record({
            username: `os:${userInfo().username}`,
            action: 'account.enable',
            outcome: 'success',
            reason: values.reason,
            detail: { via: 'cli', account: a.id, username: a.username, changed, previousReason: a.disabledReason },
          });
          console.log(changed ? `Enabled ${a.username}.` : `${a.username} was not disabled.`);
        });
        return;
      }
      throw new Error('usage: cauyte accounts expire-inactive | cauyte accounts enable --username U');
    }
    case 'demo': {
      if (rest[0] !== 'accounts') throw new Error('usage: cauyte demo accounts');
      await withCore(config, async ({ db, secret, audit }) => {
        const text = await demoAccountsText(db, secret, config.baseUrl);
        await audit.record({ username: `os:${userInfo().username}`, action: 'demo.accounts.show', outcome: 'success', detail: { via: 'cli', listed: !!text } });
        console.log(text ?? 'Không có tài khoản thử nghiệm nào còn mật khẩu mặc định (no demo accounts with the demo password in this database).');
      });
      return;
    }
    case 'keys': {
      if (rest[0] !== 'rotate') throw new Error('usage: cauyte keys rotate');
      await withCore(config, async ({ tokens, audit }) => {
        const kid = await tokens.rotate();
        await audit.record({ username: `os:${userInfo().username}`, action: 'keys.rotate', outcome: 'success', detail: { kid } });
        console.log(`New signing key ${kid}; the previous key keeps verifying tokens until they expire.`);
      });
      return;
    }
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return;
    default:
      throw new Error(`Unknown command "${command}".\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof FhirError) console.error(`cauyte: ${err.message}`);
  else console.error(`cauyte: ${(err as Error).message}`);
  process.exit(1);
});
