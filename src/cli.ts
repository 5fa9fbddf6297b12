/**
 * The `cauyte` command: serve, migrate, seed, import. Configuration comes from the environment
 * (see README.md); errors print one readable line and exit non-zero.
 */
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from './config.ts';
import { openDatabase } from './db/db.ts';
import { migrate } from './db/migrate.ts';
import { FhirService } from './fhir/service.ts';
import { FhirError } from './fhir/outcome.ts';
import { importFile } from './fhir/import.ts';
import { buildPlatform } from './server.ts';
import { isEmptyStore, seedDemo } from './seed/demo.ts';

const USAGE = `Cầu Y Tế — usage:
  cauyte serve                  start the platform (migrates; loads demo data into a new embedded database)
  cauyte migrate                apply pending database migrations
  cauyte seed [--patients N]    load the demo network
  cauyte import <file>...       import FHIR data: a Bundle (.json, transaction or batch) or NDJSON (.ndjson)
Environment: PORT, HOST, CAUYTE_DATA_DIR, DATABASE_URL, CAUYTE_DEMO, LOG_LEVEL (see README.md).`;

async function withService<T>(config: Config, fn: (fhir: FhirService) => Promise<T>): Promise<T> {
  const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir });
  try {
    await migrate(db);
    return await fn(await FhirService.create(db, config.baseUrl));
  } finally {
    await db.close();
  }
}

export function demoWanted(config: Config): boolean {
  return config.CAUYTE_DEMO === 'on' || (config.CAUYTE_DEMO === 'auto' && !config.DATABASE_URL);
}

async function serve(config: Config): Promise<void> {
  const platform = await buildPlatform(config);
  if (demoWanted(config) && (await isEmptyStore(platform.fhir))) {
    const s = await seedDemo(platform.fhir);
    console.log(`Loaded demo data: ${s.organizations} facilities, ${s.practitioners} practitioners, ${s.patients} patients (${s.total} resources).`);
  }
  const address = await platform.app.listen({ port: config.PORT, host: config.HOST });
  const url = config.CAUYTE_BASE_URL ?? address;
  console.log(`Cầu Y Tế is running at ${url}  (FHIR API: ${url}/fhir/R4, database: ${platform.db.kind})`);
  const stop = async () => {
    await platform.close();
    process.exit(0);
  };
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
      await withService(config, async (fhir) => {
        const s = await seedDemo(fhir, patients);
        console.log(`Loaded demo data: ${s.organizations} facilities, ${s.practitioners} practitioners, ${s.patients} patients (${s.total} resources).`);
      });
      return;
    }
    case 'import': {
      if (rest.length === 0) throw new Error('cauyte import needs at least one file');
      await withService(config, async (fhir) => {
        for (const file of rest) {
          const s = await importFile(fhir, file);
          console.log(`Imported ${s.resources} resources from ${s.file}`);
        }
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
