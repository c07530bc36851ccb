import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * A worker thread running a module that sits beside the caller, in whichever form the caller
 * runs: from the built `dist/` it runs the compiled `.js` as is; from TypeScript sources (the
 * repo's CLIs, tests and `npm start` run through tsx with the `@reco/source` condition) the
 * worker registers tsx's loader itself before importing the module, because on Node 20 a worker
 * inherits neither the parent's loader hooks nor an `--import tsx` in its execArgv.
 *
 * `callerUrl` is the caller's `import.meta.url`; `basename` the worker module's name without
 * extension, e.g. 'pretrain-shard-worker'.
 */
export function startModuleWorker(callerUrl: string, basename: string, workerData: unknown): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${basename}.js`, callerUrl), { workerData });
  const entry = new URL(`./${basename}.ts`, callerUrl).href;
  const bootstrap = `import(${JSON.stringify(tsxLoaderApi(callerUrl))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData, execArgv: ['--conditions=@reco/source'] });
}

/** tsx's ESM `register` API, found from the caller's node_modules through tsx's own exports map. */
function tsxLoaderApi(callerUrl: string): string {
  const require = createRequire(callerUrl);
  const dir = dirname(require.resolve('tsx/package.json'));
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { exports: Record<string, { import?: { default?: string } }> };
  const api = manifest.exports['./esm/api']?.import?.default;
  if (api === undefined) throw new Error(`tsx in ${dir} has no ESM register API (exports './esm/api')`);
  return pathToFileURL(join(dir, api)).href;
}

/** The worker's first error or exit as one rejected promise, for racing its replies. */
export function workerFailure(worker: Worker, label: string): Promise<never> {
  return new Promise((_, reject) => {
    worker.once('error', (error) => reject(new Error(`${label} failed: ${error instanceof Error ? error.message : String(error)}`)));
    worker.once('exit', (code) => reject(new Error(`${label} exited with code ${code}`)));
  });
}
