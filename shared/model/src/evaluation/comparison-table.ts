import type { BaselineRow } from './baseline-suite.js';
import { bestBaseline } from './baseline-suite.js';
import type { ProtocolSummary } from './protocol.js';

/** One scorer's figures on a leave-one-out split, as a row beside the baselines. */
export interface LeaveOneOutRow {
  name: string;
  valid: ProtocolSummary;
  test: ProtocolSummary;
}

const f4 = (x: number): string => x.toFixed(4);

/**
 * Markdown table of a model against the classic baselines on the same leave-one-out split:
 * HR@10 and NDCG@10 on the test targets under both rankings, validation HR@10, and each row's
 * test HR@10 as a ratio to the best baseline's. The protocol is named in the caption line.
 */
export function leaveOneOutTable(models: readonly LeaveOneOutRow[], baselines: readonly BaselineRow[]): string {
  const best = bestBaseline(baselines, (b) => b.test.full.hr10);
  const label = (models[0] ?? baselines[0])?.test.label ?? '';
  const lines = [
    `leave-one-out (test = each user's last item, validation = the one before); ${label}; sampled-100 for comparison with papers`,
    '',
    '| scorer | test HR@10 | test NDCG@10 | valid HR@10 | sampled-100 HR@10 | sampled-100 NDCG@10 | x best baseline |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const row of [...models, ...baselines]) {
    const ratio = best === null || best.value === 0 ? '-' : `${(row.test.full.hr10 / best.value).toFixed(2)}x`;
    lines.push(
      `| ${row.name} | ${f4(row.test.full.hr10)} | ${f4(row.test.full.ndcg10)} | ${f4(row.valid.full.hr10)} | ${f4(row.test.sampled.hr10)} | ${f4(row.test.sampled.ndcg10)} | ${ratio} |`,
    );
  }
  lines.push('', `best baseline: ${best === null ? 'none' : `${best.row.name} (${f4(best.value)})`}; ${(models[0]?.test.full.count ?? 0)} users`);
  return lines.join('\n');
}
