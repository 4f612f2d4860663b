/** A separate process that migrates DATABASE_URL with the fixture migrations (for kill tests). */
import 'reflect-metadata';
import { PlatformDataSource } from '../../ormconfig';
import { loadStorageConfig } from '../../src/config';
import { CreateGadgets1700000000005, CreateWidgets1700000000001 } from './fixture-migrations';

async function main(): Promise<void> {
  const db = new PlatformDataSource({
    storage: loadStorageConfig(),
    migrations: [CreateWidgets1700000000001, CreateGadgets1700000000005],
  });
  await db.initialize();
  try {
    await db.runMigrations();
  } finally {
    await db.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
