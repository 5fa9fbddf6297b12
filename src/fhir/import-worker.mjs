// Entry of the import worker thread: the TypeScript sources run through tsx here as in bin/cauyte.js.
import { register } from 'tsx/esm/api';

register();
const worker = await import('./import-worker.ts');
export default worker.default;
