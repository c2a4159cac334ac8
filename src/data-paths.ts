// Where the service keeps its state under the data folder (--data, COVENANT_DATA).
import { join } from 'node:path';

export const dataPaths = (dataDir: string) => ({
  log: join(dataDir, 'log'),
  keys: join(dataDir, 'keys.json'),
  approvals: join(dataDir, 'approvals.json'),
  policies: join(dataDir, 'policies'),
});
