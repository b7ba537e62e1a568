/**
 * The Kubernetes manifests: kustomizations reference files that exist and build, the Deployment
 * is probed, bounded and locked down, its shutdown budget fits the drain, the gateway configs pass
 * the gateway's own schema, names and labels line up across objects (and with the alert rules),
 * and the PrometheusRule is exactly what the generator makes from prometheus/rules.
 */
import assert from 'node:assert/strict';
import { dirname, join, normalize } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { renderPrometheusRule } from '../../scripts/gen-prometheus-rule.js';
import { parseConfig } from '../../src/config.js';
import { loadChatTemplate } from '../../src/inference/chat-template.js';
import { channelOptions } from '../../src/triton/channel.js';
import { missingReason, runTool, which } from './support/external-tools.js';
import { exists, listFiles, readText, readYaml, readYamlDocuments } from './support/repo-files.js';

type Manifest = Record<string, any>;

const kubectl = which('kubectl');
const skipKubectl = kubectl ? false : missingReason('kubectl', 'kubectl');
const base = 'deploy/kubernetes/base';
const env = { GATEWAY_ADMIN_TOKEN: 'a'.repeat(32), GATEWAY_API_KEYS: `${'k'.repeat(24)},${'j'.repeat(24)}` };

function manifest(relPath: string): Manifest {
  return readYaml<Manifest>(relPath);
}

function gatewayContainer(deployment: Manifest): Manifest {
  const container = deployment.spec.template.spec.containers.find((c: Manifest) => c.name === 'gateway');
  assert.ok(container, 'no container named gateway');
  return container;
}

const gatewayConfigs = [
  `${base}/gateway-config.yaml`,
  'deploy/kubernetes/overlays/production/gateway-config.yaml',
  'deploy/compose/gateway.sim.yaml',
  'deploy/compose/gateway.triton.yaml',
];

describe('kustomizations', () => {
  const kustomizations = listFiles('deploy/kubernetes', ['kustomization.yaml']);

  test('reference only files and folders that exist', () => {
    assert.ok(kustomizations.length >= 3);
    for (const file of kustomizations) {
      const k = manifest(file);
      const dir = dirname(file);
      const refs: string[] = [
        ...(k.resources ?? []),
        ...(k.patches ?? []).map((p: Manifest) => p.path).filter(Boolean),
        ...(k.configMapGenerator ?? []).flatMap((g: Manifest) => (g.files ?? []).map((f: string) => f.split('=').pop())),
      ];
      assert.ok(refs.length > 0, `${file} references nothing`);
      for (const ref of refs) {
        const target = normalize(join(dir, ref));
        assert.ok(exists(target) && (target.endsWith('.yaml') || exists(join(target, 'kustomization.yaml'))), `${file}: ${ref} does not exist`);
      }
    }
  });

  test('list every manifest of their folder', () => {
    for (const file of kustomizations) {
      const k = manifest(file);
      const dir = dirname(file);
      const used = new Set<string>([
        ...(k.resources ?? []),
        ...(k.patches ?? []).map((p: Manifest) => p.path),
        ...(k.configMapGenerator ?? []).flatMap((g: Manifest) => (g.files ?? []).map((f: string) => f.split('=').pop())),
      ]);
      for (const yamlFile of listFiles(dir, ['.yaml']).filter((f) => dirname(f) === dir && !f.endsWith('kustomization.yaml'))) {
        assert.ok(used.has(yamlFile.slice(dir.length + 1)), `${yamlFile} is not used by ${file}`);
      }
    }
  });

  for (const dir of ['deploy/kubernetes/base', 'deploy/kubernetes/overlays/production', 'deploy/kubernetes/triton-example']) {
    test(`kubectl kustomize builds ${dir}`, { skip: skipKubectl }, async () => {
      const result = await runTool(kubectl!, ['kustomize', dir]);
      assert.equal(result.code, 0, result.stderr);
      const docs = result.stdout.split(/^---$/m).map((d) => parse(d) as Manifest);
      if (dir.endsWith('triton-example')) return;
      const kinds = docs.map((d) => d.kind).sort();
      assert.deepEqual(kinds, ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'PrometheusRule', 'Service', 'ServiceAccount', 'ServiceMonitor']);
      // The generated ConfigMap name carries a content hash; the Deployment must follow it.
      const configMap = docs.find((d) => d.kind === 'ConfigMap')!;
      const deployment = docs.find((d) => d.kind === 'Deployment')!;
      assert.match(configMap.metadata.name, /^triton-gateway-config-[a-z0-9]+$/);
      assert.ok(deployment.spec.template.spec.volumes.some((v: Manifest) => v.configMap?.name === configMap.metadata.name));
      if (dir.endsWith('production')) {
        assert.ok(docs.every((d) => d.metadata.namespace === 'llm-serving'));
        assert.match(gatewayContainer(deployment).image, /:\d+\.\d+\.\d+$/, 'production pins an image version');
        assert.equal(parse(configMap.data['config.yaml']).models[0].name, manifest('deploy/kubernetes/overlays/production/gateway-config.yaml').models[0].name);
      }
    });
  }
});

describe('the Prometheus selector the README suggests', () => {
  // deploy/kubernetes/README.md tells the Prometheus Operator to select by this label; a
  // ServiceMonitor without it is never scraped (job "triton": up{job="triton"} absent, not 0).
  const [key, value] = ['app.kubernetes.io/part-of', 'triton-gateway'];

  test('is the one the README names', () => {
    assert.ok(readText('deploy/kubernetes/README.md').replace(/\s+/g, ' ').includes(`matching \`${key}: ${value}\``));
  });

  for (const dir of ['deploy/kubernetes/base', 'deploy/kubernetes/overlays/production', 'deploy/kubernetes/triton-example']) {
    test(`selects every ServiceMonitor and PrometheusRule ${dir} builds`, { skip: skipKubectl }, async () => {
      const result = await runTool(kubectl!, ['kustomize', dir]);
      assert.equal(result.code, 0, result.stderr);
      const selected = result.stdout
        .split(/^---$/m)
        .map((d) => parse(d) as Manifest)
        .filter((d) => d.kind === 'ServiceMonitor' || d.kind === 'PrometheusRule');
      assert.ok(selected.length > 0, `${dir} builds no ServiceMonitor or PrometheusRule`);
      for (const d of selected) assert.equal(d.metadata.labels?.[key], value, `${d.kind} ${d.metadata.name} in ${dir}`);
    });
  }
});

describe('the gateway Deployment', () => {
  const deployment = manifest(`${base}/deployment.yaml`);
  const pod = deployment.spec.template.spec;
  const container = gatewayContainer(deployment);

  // /readyz is per pod; /readyz?strict=1 (every model ready) would unready every pod at once.
  test('is probed on /readyz for readiness and /livez for liveness, on its http port', () => {
    assert.deepEqual(container.ports.map((p: Manifest) => [p.name, p.containerPort]), [['http', 8080]]);
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.equal(container.livenessProbe.httpGet.path, '/livez');
    assert.equal(container.readinessProbe.httpGet.port, 'http');
    assert.equal(container.livenessProbe.httpGet.port, 'http');
  });

  test('has resource requests and a memory limit, with the V8 heap below it', () => {
    assert.ok(container.resources.requests.cpu && container.resources.requests.memory);
    assert.ok(container.resources.limits.memory);
    const heap = /--max-old-space-size=(\d+)/.exec(container.env.find((e: Manifest) => e.name === 'NODE_OPTIONS')?.value ?? '');
    assert.ok(heap, 'NODE_OPTIONS sets the heap size');
    assert.ok(Number(heap[1]) * 1024 ** 2 < 512 * 1024 ** 2, 'heap below the 512Mi limit');
  });

  test('runs as non-root with a read-only root filesystem and no privileges', () => {
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.ok(pod.securityContext.runAsUser > 0);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
    assert.equal(pod.automountServiceAccountToken, false);
    assert.ok(container.volumeMounts.some((m: Manifest) => m.mountPath === '/tmp'), 'a writable /tmp');
  });

  test('writes its governance event log to a mounted volume, the root filesystem being read-only', () => {
    for (const file of [`${base}/gateway-config.yaml`, 'deploy/kubernetes/overlays/production/gateway-config.yaml']) {
      const eventLog = parseConfig(readYaml(file), env).governance.eventLog;
      const mount = container.volumeMounts.find((m: Manifest) => dirname(eventLog) === m.mountPath && !m.readOnly);
      assert.ok(mount, `${file}: ${eventLog} is not on a writable volume`);
      assert.ok(pod.volumes.find((v: Manifest) => v.name === mount.name).emptyDir);
    }
  });

  // The CLI run in a pod reads GATEWAY_EVENT_LOG and TRITON_GATEWAY_INCIDENT_LOG; its ./data
  // default is read-only there. GATEWAY_EVENT_LOG also overrides the configs' governance.eventLog.
  test("points the in-pod CLI at the gateway's event log and a writable incident log", () => {
    const envValue = (name: string) => container.env.find((e: Manifest) => e.name === name)?.value as string | undefined;
    const eventLog = envValue('GATEWAY_EVENT_LOG');
    for (const file of [`${base}/gateway-config.yaml`, 'deploy/kubernetes/overlays/production/gateway-config.yaml']) {
      assert.equal(eventLog, parseConfig(readYaml(file), env).governance.eventLog, `${file}: GATEWAY_EVENT_LOG names another file`);
    }
    for (const name of ['GATEWAY_EVENT_LOG', 'TRITON_GATEWAY_INCIDENT_LOG']) {
      const path = envValue(name);
      assert.ok(path, `${name} is not set`);
      const mount = container.volumeMounts.find((m: Manifest) => dirname(path) === m.mountPath && !m.readOnly);
      assert.ok(mount, `${name}: ${path} is not on a writable volume`);
    }
  });

  test('production ships the governance events to a webhook, their only durable copy', () => {
    const config = parseConfig(readYaml('deploy/kubernetes/overlays/production/gateway-config.yaml'), env);
    assert.ok(config.governance.webhookUrl, 'governance.webhookUrl is not set in production');
    assert.ok(pod.volumes.find((v: Manifest) => v.name === 'state').emptyDir, 'the comment on the state volume assumes an emptyDir');
  });

  test("ServiceDown's heap snapshots go to a volume of their own, larger than production's heap", () => {
    const dir = /--diagnostic-dir=(\S+?)`/.exec(readText('runbooks/ServiceDown.md'))?.[1];
    assert.ok(dir, 'runbooks/ServiceDown.md names no --diagnostic-dir');
    const mount = container.volumeMounts.find((m: Manifest) => m.mountPath === dir && !m.readOnly);
    assert.ok(mount, `${dir} is not a mounted volume`);
    const eventLogDir = dirname(container.env.find((e: Manifest) => e.name === 'GATEWAY_EVENT_LOG').value);
    assert.notEqual(dir, eventLogDir, 'a snapshot over the state volume\'s limit evicts the pod and its event log');
    const sizeLimit = /^(\d+)Gi$/.exec(pod.volumes.find((v: Manifest) => v.name === mount.name).emptyDir.sizeLimit ?? '');
    const productionNodeOptions = manifest('deploy/kubernetes/overlays/production/deployment-patch.yaml').spec.template.spec.containers[0].env.find((e: Manifest) => e.name === 'NODE_OPTIONS').value as string;
    const heapMiB = Number(/--max-old-space-size=(\d+)/.exec(productionNodeOptions)![1]);
    assert.ok(sizeLimit && Number(sizeLimit[1]) * 1024 > heapMiB, `the diagnostics volume must hold a ${heapMiB} MiB heap's snapshot`);
  });

  test('gives the preStop sleep and the drain time to finish before the kill', () => {
    const preStop = container.lifecycle.preStop.exec.command as string[];
    assert.equal(preStop[0], 'sleep');
    const sleepSeconds = Number(preStop[1]);
    // Production's patch sets its own grace period, as its drain is longer; kubectl is not needed to read it.
    const productionGrace = (manifest('deploy/kubernetes/overlays/production/deployment-patch.yaml').spec.template.spec.terminationGracePeriodSeconds as number | undefined) ?? pod.terminationGracePeriodSeconds;
    for (const [file, grace] of [
      [`${base}/gateway-config.yaml`, pod.terminationGracePeriodSeconds as number],
      ['deploy/kubernetes/overlays/production/gateway-config.yaml', productionGrace],
    ] as const) {
      const drain = parseConfig(readYaml(file), env).shutdown.drainSeconds;
      // server.ts also allows up to 10 s to close the server and the Triton channels after the drain.
      assert.ok(grace > sleepSeconds + drain + 10, `${file}: grace ${grace}s ≤ preStop ${sleepSeconds}s + drain ${drain}s + 10s`);
    }
  });

  test('drains for as long as its longest request may run, so a rollout never cuts a stream', () => {
    for (const file of [`${base}/gateway-config.yaml`, 'deploy/kubernetes/overlays/production/gateway-config.yaml']) {
      const config = parseConfig(readYaml(file), env);
      const longest = Math.max(...config.models.map((m) => m.deadlines.totalMs));
      assert.ok(config.shutdown.drainSeconds * 1000 >= longest, `${file}: drain ${config.shutdown.drainSeconds}s < the longest deadline ${longest / 1000}s`);
    }
  });

  test('gives every model of the shipped configs a chat template that renders, so /v1/chat/completions works there', () => {
    for (const file of gatewayConfigs) {
      for (const m of parseConfig(readYaml(file), env).models) {
        assert.ok(m.chatTemplate, `${file}: ${m.name} has no chatTemplate`);
        const prompt = loadChatTemplate(m.chatTemplate).render([{ role: 'user', content: 'Hi' }]);
        assert.match(prompt, /Hi/, `${file}: ${m.name}'s template leaves out the message`);
      }
    }
  });

  test('reads its config from the generated ConfigMap and its secrets from a Secret it does not define', () => {
    const configPath = container.env.find((e: Manifest) => e.name === 'GATEWAY_CONFIG').value as string;
    const mount = container.volumeMounts.find((m: Manifest) => configPath.startsWith(`${m.mountPath}/`));
    assert.ok(mount, `no volume mounted at ${dirname(configPath)}`);
    const volume = pod.volumes.find((v: Manifest) => v.name === mount.name);
    assert.equal(volume.configMap.name, 'triton-gateway-config');
    const kustomization = manifest(`${base}/kustomization.yaml`);
    const generated = kustomization.configMapGenerator.find((g: Manifest) => g.name === 'triton-gateway-config');
    assert.ok(generated.files.some((f: string) => f.startsWith(`${configPath.split('/').pop()}=`)));
    const secretRefs = container.env.filter((e: Manifest) => e.valueFrom?.secretKeyRef).map((e: Manifest) => [e.name, e.valueFrom.secretKeyRef.name]);
    assert.deepEqual(secretRefs, [['GATEWAY_ADMIN_TOKEN', 'triton-gateway-secrets'], ['GATEWAY_API_KEYS', 'triton-gateway-secrets']]);
    const everything = listFiles('deploy', ['.yaml', '.yml']).flatMap((f) => readYamlDocuments(f) as Manifest[]);
    assert.ok(!everything.some((d) => d?.kind === 'Secret'), 'no Secret manifest in the repository');
  });
});

describe('objects around the Deployment', () => {
  const podLabels = manifest(`${base}/deployment.yaml`).spec.template.metadata.labels;
  const service = manifest(`${base}/service.yaml`);
  const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

  test('the Service selects the pods and targets the http port', () => {
    assert.ok(matches(service.spec.selector, podLabels));
    assert.deepEqual(service.spec.ports.map((p: Manifest) => [p.name, p.port, p.targetPort]), [['http', 8080, 'http']]);
  });

  test('the ServiceMonitor scrapes /metrics on that port as job "triton-gateway"', () => {
    const monitor = manifest(`${base}/servicemonitor.yaml`);
    assert.ok(matches(monitor.spec.selector.matchLabels, service.metadata.labels));
    assert.equal(service.metadata.labels[monitor.spec.jobLabel], 'triton-gateway');
    assert.deepEqual(monitor.spec.endpoints.map((e: Manifest) => [e.port, e.path]), [['http', '/metrics']]);
  });

  test('the HPA scales the Deployment from at least two replicas, and the PDB keeps all but one', () => {
    const hpa = manifest(`${base}/hpa.yaml`);
    assert.equal(hpa.spec.scaleTargetRef.kind, 'Deployment');
    assert.equal(hpa.spec.scaleTargetRef.name, 'triton-gateway');
    assert.ok(hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas > hpa.spec.minReplicas);
    assert.equal(manifest(`${base}/deployment.yaml`).spec.replicas, undefined, 'the HPA owns the replica count');
    const pdb = manifest(`${base}/pdb.yaml`);
    assert.ok(matches(pdb.spec.selector.matchLabels, podLabels));
    assert.equal(pdb.spec.maxUnavailable, 1);
  });

  test('the PrometheusRule is what scripts/gen-prometheus-rule.ts generates from prometheus/rules', () => {
    assert.equal(readText(`${base}/prometheusrule.yaml`), renderPrometheusRule(), 'stale: run npx tsx scripts/gen-prometheus-rule.ts');
    const rule = manifest(`${base}/prometheusrule.yaml`);
    const groupNames = listFiles('prometheus/rules', ['.yml']).flatMap((f) => readYaml<Manifest>(f).groups.map((g: Manifest) => g.name));
    assert.deepEqual(rule.spec.groups.map((g: Manifest) => g.name), groupNames);
  });
});

describe('gateway configs', () => {
  for (const file of gatewayConfigs) {
    test(`${file} passes the gateway's config schema and names its Triton target "triton"`, () => {
      const config = parseConfig(readYaml(file), env);
      assert.deepEqual(config.triton.targets.map((t) => t.name), ['triton']);
      assert.ok(config.triton.targets[0]!.metricsUrl, 'the gateway reads Triton metrics (GPU gauges)');
      assert.ok(config.models.length > 0);
    });
  }

  test('the Triton scrape carries the same target name as the gateway config', () => {
    const promConfig = readYaml<Manifest>('prometheus/prometheus.yml');
    const tritonJob = promConfig.scrape_configs.find((s: Manifest) => s.job_name === 'triton');
    assert.equal(tritonJob.static_configs[0].labels.target, 'triton');
    const monitor = manifest('deploy/kubernetes/triton-example/servicemonitor.yaml');
    const relabel = monitor.spec.endpoints[0].relabelings.find((r: Manifest) => r.targetLabel === 'target');
    assert.equal(relabel.replacement, 'triton');
  });
});

describe('the example Triton', () => {
  const service = manifest('deploy/kubernetes/triton-example/service.yaml');
  const deployment = manifest('deploy/kubernetes/triton-example/deployment.yaml');

  test('exposes HTTP 8000, gRPC 8001 and metrics 8002 through a headless Service named "triton"', () => {
    assert.equal(service.metadata.name, 'triton');
    assert.equal(service.spec.clusterIP, 'None');
    assert.deepEqual(service.spec.ports.map((p: Manifest) => [p.name, p.port]), [['http', 8000], ['grpc', 8001], ['metrics', 8002]]);
    const ports = deployment.spec.template.spec.containers[0].ports.map((p: Manifest) => [p.name, p.containerPort]);
    assert.deepEqual(ports, [['http', 8000], ['grpc', 8001], ['metrics', 8002]]);
    const args = deployment.spec.template.spec.containers[0].args.join(' ');
    assert.match(args, /--allow-metrics=true/);
    assert.match(args, /--metrics-port=8002/);
  });

  // The gateway pings every keepalive_time_ms, also without calls (src/triton/channel.ts); Triton's
  // defaults answer that with a too_many_pings GOAWAY.
  test("accepts the gateway's keepalive pings, as the local stack's real Triton does", () => {
    const options = channelOptions();
    const compose = readYaml<{ services: Record<string, { command: string[] }> }>('deploy/compose/compose.yaml');
    for (const [where, args] of [
      ['triton-example', deployment.spec.template.spec.containers[0].args as string[]],
      ['compose triton', compose.services.triton!.command],
    ] as const) {
      const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
      assert.equal(options['grpc.keepalive_permit_without_calls'], 1);
      assert.match(flag('grpc-keepalive-permit-without-calls') ?? '', /^(1|true)$/i, `${where}: pings without calls are refused`);
      const minInterval = Number(flag('grpc-http2-min-recv-ping-interval-without-data'));
      assert.ok(minInterval > 0 && minInterval <= (options['grpc.keepalive_time_ms'] as number), `${where}: Triton wants pings at most every ${minInterval} ms`);
      assert.equal(flag('grpc-http2-max-pings-without-data'), '0', `${where}`);
    }
  });

  test('is scraped as job "triton" on its metrics port', () => {
    const monitor = manifest('deploy/kubernetes/triton-example/servicemonitor.yaml');
    assert.equal(service.metadata.labels[monitor.spec.jobLabel], 'triton');
    assert.equal(monitor.spec.endpoints[0].port, 'metrics');
  });
});
