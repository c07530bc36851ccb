import { parseArgs } from 'node:util';
import { type BackendName, isBackendName } from '../backend.js';

/**
 * The CLIs' one contact with the environment: `RECO_TF_BACKEND` (tensorflow-gpu | tensorflow |
 * wasm | cpu) is read here, validated once, and passed down as an option.
 */
export interface CliEnvironment {
  backend?: BackendName;
}

export function readCliEnvironment(env: NodeJS.ProcessEnv = process.env): CliEnvironment {
  const raw = env.RECO_TF_BACKEND?.trim();
  if (raw === undefined || raw === '') return {};
  if (!isBackendName(raw)) throw new Error(`RECO_TF_BACKEND must be one of tensorflow-gpu, tensorflow, wasm, cpu; got "${raw}"`);
  return { backend: raw };
}

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; default?: string | boolean }>;

/** Parses argv strictly: an unknown flag is an error naming it, with the usage. */
export function parseCli<T extends OptionSpec>(argv: string[], options: T, usage: string): Record<keyof T, string | boolean | undefined> {
  try {
    const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
    return values as unknown as Record<keyof T, string | boolean | undefined>;
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\nusage: ${usage}`);
  }
}

export function intOption(value: string | boolean | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${String(value)}`);
  return n;
}

export function numberOption(value: string | boolean | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${String(value)}`);
  return n;
}

/** A number >= 0 (a rate or a coefficient that may be switched off with 0). */
export function nonNegativeOption(value: string | boolean | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number >= 0, got ${String(value)}`);
  return n;
}

/** Runs a CLI's main, printing an error without a stack for expected failures. */
export function runCli(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error instanceof Error ? `error: ${error.message}` : error);
      process.exit(1);
    },
  );
}
