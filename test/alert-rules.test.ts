import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The alert rules are code: when each fires (and when it must not) is tested with Prometheus's
// own rule evaluator on the cases in infra/prometheus/alerts.test.yml. promtool ships in Debian's
// `prometheus` package; .ci/run installs it where it is missing.
const run = promisify(execFile);
const prometheusDir = fileURLToPath(new URL('../infra/prometheus/', import.meta.url));

async function promtoolVersion(): Promise<string | undefined> {
  try {
    const { stdout, stderr } = await run('promtool', ['--version']);
    return (stdout || stderr).split('\n')[0];
  } catch {
    return undefined;
  }
}

const version = await promtoolVersion();
if (version === undefined) {
  console.warn('alert rule tests SKIPPED: promtool is not on the PATH (apt-get install -y prometheus, or see .ci/run)');
}

describe.skipIf(version === undefined)(`alert rules (${version ?? 'promtool missing'})`, () => {
  it('are valid rules', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', 'alerts.yml'], { cwd: prometheusDir });
    expect(stdout).toContain('SUCCESS');
  });

  it('fire on a consumer that is down, on a stall with lag above zero, and not on a quiet stream (promtool test rules)', async () => {
    const result = await run('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: prometheusDir }).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`promtool test rules failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    });
    expect(result.stdout).toContain('SUCCESS');
  });
});
