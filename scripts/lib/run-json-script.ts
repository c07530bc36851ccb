import { spawn } from 'node:child_process';
import { repoRoot } from './stack.js';

/**
 * Runs a repository TypeScript CLI as its own Node process (from sources, like `npm run` does) and
 * parses the JSON document it prints on stdout. Its stderr (progress) goes to this terminal.
 * Why a process and not an import: the CLIs measure per-process figures (peak RSS) and own their
 * exit; running them here would mix their memory with this script's.
 */
export async function runJsonScript<T>(script: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<T> {
  const child = spawn(process.execPath, ['--conditions=@reco/source', '--import', 'tsx', script, ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (stdout += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`${script} ${args.join(' ')} exited with code ${String(code)}`);
  return parseLastJson<T>(stdout, script);
}

/** The whole stdout as JSON, or else the document that starts on the last line opening one (a log line may precede it). */
function parseLastJson<T>(stdout: string, script: string): T {
  const text = stdout.trim();
  try {
    return JSON.parse(text) as T;
  } catch {
    const lines = text.split('\n');
    for (let i = lines.length - 1; i >= 0; i -= 1) {
      if (!/^[[{]/.test(lines[i] ?? '')) continue;
      try {
        return JSON.parse(lines.slice(i).join('\n')) as T;
      } catch {
        // an earlier line may open the document
      }
    }
  }
  throw new Error(`${script} printed no JSON document on stdout:\n${text.slice(-2000)}`);
}
