import { scrapeMetrics } from '../../scripts/lib/metrics-scrape.js';

/** What an updater's /readyz says of its lease: `active`, `standby` or `starting` (undefined when it does not answer). */
export async function updaterRole(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${url}/readyz`);
    const body = (await response.json()) as { role?: string };
    return body.role;
  } catch {
    return undefined;
  }
}

/** reco_updater_active on an updater's /metrics: 1 active, 0 standby or starting (undefined when it does not answer). */
export async function updaterActiveGauge(url: string): Promise<number | undefined> {
  try {
    return (await scrapeMetrics(url)).get('reco_updater_active')?.samples[0]?.value;
  } catch {
    return undefined;
  }
}

/** The JSON log lines (pino) an updater printed whose message matches `pattern`. */
export function logLines(output: string, pattern: RegExp): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (typeof parsed.msg === 'string' && pattern.test(parsed.msg)) lines.push(parsed);
    } catch {
      // a line cut by the output buffer
    }
  }
  return lines;
}
