import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { topicSpecs } from '@reco/stream';
import { afterAll, describe, expect, it } from 'vitest';

// infra/k8s is validated, never applied: kubeconform checks every manifest against the Kubernetes
// API's JSON schemas, offline (this machine reaches package registries only). kubeconform is a Go
// module (.ci/run builds it); the schemas come from the PyPI wheel kubernetes-validate, unpacked
// by infra/k8s/fetch-schemas.sh. Without either the schema tests are skipped with a message.
// The contract checks below need no tool. They read the manifests' own plain style with regular
// expressions (no YAML parser is a dependency of this package), so they fail loudly, not
// silently, if that style changes.
const run = promisify(execFile);
const K8S_VERSION = '1.33.0'; // keep equal to k8s_version in infra/k8s/fetch-schemas.sh
const STRIMZI_KINDS = ['Kafka', 'KafkaNodePool', 'KafkaTopic'];
const k8sDir = fileURLToPath(new URL('../infra/k8s/', import.meta.url));
const repoFile = (path: string): string => readFileSync(fileURLToPath(new URL(`../${path}`, import.meta.url)), 'utf8');
const manifest = (name: string): string => readFileSync(join(k8sDir, name), 'utf8');
const documents = (text: string): string[] => text.split(/^---$/m);
const schemasDir = process.env.RECO_K8S_SCHEMAS ?? join(homedir(), '.cache', 'reco', 'k8s-schemas');
const schemasReady = existsSync(join(schemasDir, `v${K8S_VERSION}-local-strict`, 'deployment-apps-v1.json'));

async function output(file: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout, stderr } = await run(file, args);
    return (stdout || stderr).trim();
  } catch {
    return undefined;
  }
}

async function findKubeconform(): Promise<{ path: string; version: string } | undefined> {
  const gopath = (await output('go', ['env', 'GOPATH'])) || join(homedir(), 'go');
  const onPath = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '').map((dir) => join(dir, 'kubeconform'));
  for (const path of new Set([...onPath, join(gopath, 'bin', 'kubeconform')].filter((file) => existsSync(file)))) {
    const version = await output(path, ['-v']);
    if (version === undefined) continue;
    // `go install ...@version` builds say "development"; the module version is in the binary.
    const built = version === 'development' ? /^\s*mod\s+\S+\s+(v\S+)/m.exec((await output('go', ['version', '-m', path])) ?? '')?.[1] : undefined;
    return { path, version: built ?? version };
  }
  return undefined;
}

const kubeconformFound = await findKubeconform();
const kubectlFound = (await output('kubectl', ['version', '--client'])) !== undefined;
const missing = [
  ...(kubeconformFound === undefined ? ['kubeconform is neither on the PATH nor in $(go env GOPATH)/bin (GOFLAGS=-mod=mod go install github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0)'] : []),
  ...(schemasReady ? [] : [`no offline Kubernetes ${K8S_VERSION} schemas in ${schemasDir} (run infra/k8s/fetch-schemas.sh)`]),
];
if (missing.length > 0) console.warn(`Kubernetes manifest schema tests SKIPPED: ${missing.join('; ')}; see .ci/run`);

interface Checked {
  kind: string;
  name: string;
  status: 'statusValid' | 'statusInvalid' | 'statusError' | 'statusSkipped' | 'statusEmpty';
  msg: string;
}
interface Report {
  exitCode: number | null;
  resources: Checked[];
  summary: { valid: number; invalid: number; errors: number; skipped: number };
}

/** One invocation for every check: strict, against the unpacked schemas, the Strimzi kinds skipped by name. */
function kubeconform(targets: string[], stdin?: string): Promise<Report> {
  const args = [
    '-strict',
    '-summary',
    '-output', 'json',
    '-verbose',
    '-kubernetes-version', K8S_VERSION,
    '-schema-location', `${schemasDir}/{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json`,
    // Strimzi's custom resources have no schema offline; exactly these are not validated.
    '-skip', STRIMZI_KINDS.map((kind) => `kafka.strimzi.io/v1beta2/${kind}`).join(','),
    '-ignore-filename-pattern', 'kustomization\\.yaml$',
    ...targets,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(kubeconformFound?.path ?? 'kubeconform', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (exitCode) => {
      try {
        const parsed = JSON.parse(stdout) as Omit<Report, 'exitCode'>;
        resolve({ exitCode, ...parsed });
      } catch {
        reject(new Error(`kubeconform exited ${exitCode} without a JSON report:\n${stdout}${stderr}`));
      }
    });
    child.stdin.end(stdin ?? '');
  });
}

const described = (r: Checked): string => `${r.kind} ${r.name}`;

describe.skipIf(missing.length > 0)(`infra/k8s against the Kubernetes ${K8S_VERSION} schemas (${kubeconformFound?.version ?? 'kubeconform missing'})`, () => {
  const scratch = mkdtempSync(join(tmpdir(), 'reco-k8s-test-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('every manifest is valid (strict: no unknown fields), except the Strimzi resources, which are reported as not validated', async () => {
    const report = await kubeconform([k8sDir]);
    const { valid, invalid, errors, skipped } = report.summary;
    console.log(`kubeconform -strict, Kubernetes ${K8S_VERSION}: ${valid} valid, ${invalid} invalid, ${errors} errors, ${skipped} skipped`);
    const notValidated = report.resources.filter((r) => r.status === 'statusSkipped');
    console.log(`NOT validated (no offline schema for Strimzi's custom resources): ${notValidated.map(described).join(', ')}`);
    expect(report.resources.filter((r) => r.status !== 'statusValid' && r.status !== 'statusSkipped').map((r) => `${described(r)}: ${r.msg}`)).toEqual([]);
    expect(report.exitCode).toBe(0);
    expect(new Set(notValidated.map((r) => r.kind))).toEqual(new Set(STRIMZI_KINDS));
    const validKinds = report.resources.filter((r) => r.status === 'statusValid').map((r) => r.kind);
    for (const kind of ['Namespace', 'ConfigMap', 'Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']) expect(validKinds).toContain(kind);
    expect(validKinds.filter((kind) => kind === 'Deployment')).toHaveLength(2);
    expect(report.resources.filter((r) => r.kind === 'PodDisruptionBudget').map((r) => r.name).sort()).toEqual(['reco-serving', 'reco-updater']);
  });

  it.skipIf(!kubectlFound)('what `kubectl apply -k` would send (kubectl kustomize) is the same resources, and valid', async () => {
    const { stdout: rendered } = await run('kubectl', ['kustomize', k8sDir], { maxBuffer: 16 * 1024 * 1024 });
    const [fromFiles, fromKustomize] = await Promise.all([kubeconform([k8sDir]), kubeconform(['-'], rendered)]);
    expect(fromKustomize.exitCode).toBe(0);
    expect(fromKustomize.summary).toEqual(fromFiles.summary);
    expect(fromKustomize.resources.map(described).sort()).toEqual(fromFiles.resources.map(described).sort());
  });

  it('rejects a broken manifest: a string where an integer belongs, and a misspelt field', async () => {
    const deployment = (spec: string): string =>
      `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: broken\nspec:\n${spec}  selector:\n    matchLabels: { app: broken }\n  template:\n    metadata:\n      labels: { app: broken }\n    spec:\n      containers: [{ name: c, image: "reco:latest" }]\n`;
    writeFileSync(join(scratch, 'replicas.yaml'), deployment('  replicas: "three"\n'));
    writeFileSync(join(scratch, 'typo.yaml'), deployment('  replica: 3\n'));
    const report = await kubeconform([scratch]);
    expect(report.exitCode).toBe(1);
    expect(report.summary.invalid).toBe(2);
    const messages = report.resources.map((r) => r.msg).join('\n');
    expect(messages).toMatch(/\/spec\/replicas.*got string, want (null or )?integer/);
    expect(messages).toMatch(/additional properties 'replica' not allowed/);
  });
});

describe('infra/k8s contracts', () => {
  it('kustomization.yaml lists exactly the manifest files', () => {
    const listed = [...manifest('kustomization.yaml').matchAll(/^ {2}- (\S+\.yaml)$/gm)].map((m) => m[1]);
    const files = readdirSync(k8sDir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect(listed.sort()).toEqual(files.sort());
  });

  it('the KafkaTopics are the topic catalogue of @reco/stream, partitions and configs exactly (ensureTopics would rewrite any drift)', () => {
    const topics = documents(manifest('kafka-topics.yaml')).filter((doc) => /^kind: KafkaTopic$/m.test(doc));
    const declared = topics.map((doc) => ({
      name: /^ {2}topicName: (\S+)$/m.exec(doc)?.[1],
      numPartitions: Number(/^ {2}partitions: (\d+)$/m.exec(doc)?.[1]),
      configs: Object.fromEntries([...(doc.split(/^ {2}config:$/m)[1] ?? '').matchAll(/^ {4}([a-z.]+): "(.*)"$/gm)].map((m): [string, string] => [m[1] ?? '', m[2] ?? ''])),
    }));
    const catalogue = Object.values(topicSpecs()).map((spec) => ({ name: spec.name, numPartitions: spec.numPartitions, configs: spec.configs }));
    const byName = (a: { name?: string }, b: { name?: string }): number => (a.name ?? '').localeCompare(b.name ?? '');
    expect(declared.sort(byName)).toEqual(catalogue.sort(byName));
  });

  it('every environment variable given to a service is one its config modules read', () => {
    const configMaps = new Map(
      documents(manifest('config.yaml')).map((doc) => [/^ {2}name: (\S+)$/m.exec(doc)?.[1], [...doc.matchAll(/^ {2}([A-Z][A-Z0-9_]*): /gm)].map((m) => m[1] ?? '')]),
    );
    const shared = ['shared/stream/src/kafka-config.ts', 'shared/stream/src/logger.ts'];
    for (const [file, service] of [['serving.yaml', 'services/serving/src/config.ts'], ['updater.yaml', 'services/updater/src/config.ts']] as const) {
      const sources = [service, ...shared].map(repoFile).join('\n');
      const deployment = manifest(file);
      const refs = [...deployment.matchAll(/configMapRef: \{ name: (\S+) \}/g)].map((m) => m[1]);
      const names = [...new Set(refs)].flatMap((ref) => {
        const keys = configMaps.get(ref);
        expect(keys, `${file} refers to ConfigMap ${ref}, which config.yaml does not define`).toBeDefined();
        return keys ?? [];
      });
      names.push(...[...deployment.matchAll(/^\s+- name: ([A-Z][A-Z0-9_]*)$/gm)].map((m) => m[1] ?? ''));
      expect(names.length, file).toBeGreaterThan(5);
      expect(names.filter((name) => !new RegExp(`env\\.${name}\\b|'${name}'`).test(sources)), `${file}: variables ${service} and @reco/stream never read`).toEqual([]);
    }
  });

  it('each Deployment has a PodDisruptionBudget beside it over the same pods that lets a drain evict one pod and never the last (the updater: minAvailable 1, so the standby is there to take over)', () => {
    const podName = (doc: string): string | undefined => /^ {2}selector:\n {4}matchLabels:\n {6}app\.kubernetes\.io\/name: (\S+)$/m.exec(doc)?.[1];
    for (const file of ['serving.yaml', 'updater.yaml']) {
      const docs = documents(manifest(file));
      const deployments = docs.filter((doc) => /^kind: Deployment$/m.test(doc));
      const budgets = docs.filter((doc) => /^kind: PodDisruptionBudget$/m.test(doc));
      expect([deployments.length, budgets.length], file).toEqual([1, 1]);
      const [deployment, budget] = [deployments[0] ?? '', budgets[0] ?? ''];
      const replicas = Number(/^ {2}replicas: (\d+)$/m.exec(deployment)?.[1]);
      expect(replicas, file).toBeGreaterThanOrEqual(2);
      expect(podName(budget), file).toBeDefined();
      expect(podName(budget), file).toBe(podName(deployment));
      const minAvailable = /^ {2}minAvailable: (\d+)$/m.exec(budget)?.[1];
      const maxUnavailable = /^ {2}maxUnavailable: (\d+)$/m.exec(budget)?.[1];
      expect([minAvailable, maxUnavailable].filter((v) => v !== undefined), `${file}: one of minAvailable, maxUnavailable (integers)`).toHaveLength(1);
      const evictable = maxUnavailable !== undefined ? Number(maxUnavailable) : replicas - Number(minAvailable);
      expect(evictable, `${file}: pods a drain may evict at once`).toBeGreaterThanOrEqual(1);
      expect(evictable, `${file}: pods a drain may evict at once`).toBeLessThan(replicas);
      if (file === 'updater.yaml') expect(minAvailable).toBe('1');
    }
  });

  it('the wait-for-topics script parses and is only given catalogue topics', async () => {
    const block = manifest('wait-for-topics.yaml').split(/^ {2}wait-for-topics\.mjs: \|$/m)[1] ?? '';
    const script = block.split('\n').map((line) => line.replace(/^ {4}/, '')).join('\n');
    expect(script).toContain("import kafkajs from 'kafkajs'");
    const dir = mkdtempSync(join(tmpdir(), 'reco-k8s-script-'));
    try {
      writeFileSync(join(dir, 'wait-for-topics.mjs'), script);
      await run(process.execPath, ['--check', join(dir, 'wait-for-topics.mjs')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const catalogue = new Set(Object.values(topicSpecs()).map((spec) => spec.name));
    for (const deployment of ['serving.yaml', 'updater.yaml']) {
      const args = /"\/app\/k8s\/wait-for-topics\.mjs", (.+)\]$/m.exec(manifest(deployment))?.[1];
      const topics = [...(args ?? '').matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? '');
      expect(topics.length, deployment).toBeGreaterThanOrEqual(3);
      expect(topics.filter((topic) => !catalogue.has(topic)), deployment).toEqual([]);
    }
  });
});
