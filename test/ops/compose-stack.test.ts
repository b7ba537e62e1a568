/**
 * The local stack (deploy/compose): the services the README promises, the simulator or the real
 * Triton by profile under one name, every mounted file present, and every address one service
 * uses for another (scrape targets, webhook, datasource, Triton) naming a service of the stack.
 */
import assert from 'node:assert/strict';
import { join, normalize } from 'node:path';
import { describe, test } from 'node:test';
import { defaultModels } from '../../sim/config/default-models.js';
import { missingReason, runTool, which } from './support/external-tools.js';
import { exists, readText, readYaml } from './support/repo-files.js';

type Service = {
  /** A YAML merge key (`<<: *gateway-image`): the yaml parser keeps it as a key. */
  '<<'?: { image?: string };
  image?: string;
  build?: unknown;
  healthcheck?: { test?: string[]; disable?: boolean };
  profiles?: string[];
  command?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  networks?: Record<string, { aliases?: string[] } | null>;
  depends_on?: Record<string, { condition: string; required?: boolean }>;
};

const dir = 'deploy/compose';
const compose = readYaml<{ services: Record<string, Service>; volumes?: Record<string, unknown>; 'x-gateway-image': { image: string } }>(`${dir}/compose.yaml`);
const services = compose.services;
const hostnames = new Set(Object.entries(services).flatMap(([name, s]) => [name, ...Object.values(s.networks ?? {}).flatMap((n) => n?.aliases ?? [])]));

function hostOf(address: string): string {
  return address.replace(/^[a-z]+:\/\//, '').replace(/^dns:\/\/\//, '').split(/[:/]/)[0]!;
}

/** `${VAR:-default}` → default; other text unchanged. */
function withDefaults(text: string): string {
  return text.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
}

describe('compose.yaml', () => {
  test('runs the gateway, Triton (simulator or real, by profile), Prometheus, Alertmanager, Jaeger and Grafana', () => {
    for (const name of ['gateway', 'triton-sim', 'triton', 'prometheus', 'alertmanager', 'jaeger', 'grafana']) assert.ok(services[name], `no ${name} service`);
    assert.deepEqual(services['triton-sim']!.profiles, ['sim']);
    assert.deepEqual(services.triton!.profiles, ['triton']);
    assert.ok(services['triton-sim']!.networks?.default?.aliases?.includes('triton'), 'the simulator answers as "triton"');
    assert.match(readText(`${dir}/.env`), /^COMPOSE_PROFILES=sim$/m);
    for (const dep of ['triton-sim', 'triton']) assert.equal(services.gateway!.depends_on?.[dep]?.required, false, `${dep} is optional for the gateway`);
  });

  test('runs the simulator from the gateway image with the Triton ports', () => {
    const sim = services['triton-sim']!;
    assert.deepEqual(sim.command!.slice(0, 2), ['node', 'dist/sim/bin.js']);
    for (const flag of ['--grpc-port=8001', '--http-port=8000', '--metrics-port=8002', '--host=0.0.0.0']) assert.ok(sim.command!.includes(flag), flag);
    assert.ok(exists('sim/bin.ts'));
  });

  test('mounts only files and folders that exist', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = withDefaults(volume).split(':')[0]!;
        if (!source.startsWith('.')) {
          assert.ok(compose.volumes && source in compose.volumes, `${name}: named volume ${source} is not declared`);
          continue;
        }
        if (volume.includes('TRITON_MODEL_REPOSITORY')) continue; // the user's model repository
        assert.ok(exists(normalize(join(dir, source))), `${name}: ${source} does not exist`);
      }
    }
  });

  test('gives the read-only gateway a volume for its governance event log', () => {
    assert.equal((services.gateway as Service & { read_only?: boolean }).read_only, true);
    for (const file of ['gateway.sim.yaml', 'gateway.triton.yaml']) {
      const eventLog = readYaml<{ governance: { eventLog: string } }>(`${dir}/${file}`).governance.eventLog;
      const logDir = eventLog.slice(0, eventLog.lastIndexOf('/'));
      assert.ok(services.gateway!.volumes!.some((v) => /^[a-z-]+:/.test(v) && v.endsWith(`:${logDir}`)), `${file}: ${logDir} is not a named volume`);
    }
    assert.match(readText('Dockerfile'), /COPY --from=\S+ --chown=1000:1000 \S+ \/var\/lib\/triton-gateway/, 'the image owns the directory as the runtime user');
  });

  // The CLI run in the container (and the gateway: GATEWAY_EVENT_LOG wins over the config) would
  // otherwise use ./data, read-only in this container.
  test("points the in-container CLI at the gateway's event log and a writable incident log", () => {
    const environment = services.gateway!.environment!;
    for (const file of ['gateway.sim.yaml', 'gateway.triton.yaml']) {
      assert.equal(environment.GATEWAY_EVENT_LOG, readYaml<{ governance: { eventLog: string } }>(`${dir}/${file}`).governance.eventLog, file);
    }
    for (const name of ['GATEWAY_EVENT_LOG', 'TRITON_GATEWAY_INCIDENT_LOG']) {
      const path = environment[name];
      assert.ok(path, `${name} is not set`);
      const logDir = path.slice(0, path.lastIndexOf('/'));
      assert.ok(services.gateway!.volumes!.some((v) => /^[a-z-]+:/.test(v) && v.endsWith(`:${logDir}`)), `${name}: ${logDir} is not a named volume`);
    }
  });

  // The image's HEALTHCHECK fetches the gateway's :8080/livez; a service that runs another
  // program from the image and keeps it is "unhealthy" forever.
  test('services running another program from the gateway image health-check a port that program listens on', () => {
    const imageCheck = /^HEALTHCHECK [\s\S]*?process\.env\.PORT \|\| (\d+)/m.exec(readText('Dockerfile'));
    assert.ok(imageCheck, "the Dockerfile's HEALTHCHECK probes the gateway port");
    const gatewayImage = compose['x-gateway-image'].image;
    const others = Object.entries(services).filter(([, s]) => (s['<<']?.image ?? s.image) === gatewayImage && s.command);
    assert.deepEqual(others.map(([name]) => name).sort(), ['alert-webhook', 'triton-sim']);
    for (const [name, service] of others) {
      const command = service.command!.join(' ');
      const listens = [...command.matchAll(/--(?:[a-z]+-)?port=(\d+)|\.listen\((\d+)\)/g)].map((m) => m[1] ?? m[2]);
      assert.ok(service.healthcheck, `${name}: no healthcheck, so it inherits the image's on :${imageCheck[1]}`);
      if (service.healthcheck.disable) continue;
      const probed = /127\.0\.0\.1:(\d+)/.exec((service.healthcheck.test ?? []).join(' '))?.[1];
      assert.ok(probed && listens.includes(probed), `${name}: its healthcheck probes :${probed}, it listens on ${listens.join(', ')}`);
    }
  });

  test('gives the gateway an admin token of the length the config requires', () => {
    const token = /^GATEWAY_ADMIN_TOKEN=(.*)$/m.exec(readText(`${dir}/.env`))?.[1] ?? '';
    assert.ok(token.length >= 16);
    assert.match(services.gateway!.environment!.GATEWAY_ADMIN_TOKEN!, /\$\{GATEWAY_ADMIN_TOKEN/);
  });
});

describe('addresses inside the stack', () => {
  test("Prometheus's scrape targets and Alertmanager are services of the stack", () => {
    const prom = readYaml<{ scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[]; alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] } }>('prometheus/prometheus.yml');
    const targets = [
      ...prom.scrape_configs.filter((s) => s.job_name !== 'prometheus').flatMap((s) => s.static_configs.flatMap((c) => c.targets)),
      ...prom.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((c) => c.targets)),
    ];
    for (const target of targets) assert.ok(hostnames.has(hostOf(target)), `${target} is not a compose service`);
  });

  test("Alertmanager's webhook, Slack stand-in and secret files are provided by the stack", () => {
    const am = readText('alertmanager/alertmanager.yml');
    for (const m of am.matchAll(/url: (http:\/\/[^\s]+)/g)) assert.ok(hostnames.has(hostOf(m[1]!)), `${m[1]} is not a compose service`);
    const secrets = services['alertmanager-secrets']!;
    const written = secrets.command!.join(' ');
    for (const m of am.matchAll(/_file: \/etc\/alertmanager\/secrets\/([a-z-]+)/g)) assert.ok(written.includes(`/secrets/${m[1]}`), `${m[1]} is not written`);
    assert.ok(services.alertmanager!.volumes!.some((v) => v.endsWith(':/etc/alertmanager/secrets:ro')));
    assert.ok(hostnames.has(hostOf(withDefaults(secrets.environment!.SLACK_API_URL!))));
  });

  test('the gateway config points at "triton" and serves models the simulator has', () => {
    const config = readYaml<{ triton: { targets: { grpc: string; metricsUrl: string }[] }; models: { tritonModel: string }[] }>(`${dir}/gateway.sim.yaml`);
    for (const target of config.triton.targets) {
      assert.ok(hostnames.has(hostOf(target.grpc)));
      assert.ok(hostnames.has(hostOf(target.metricsUrl)));
    }
    const simModels = new Set(defaultModels().map((m) => m.name));
    for (const model of config.models) assert.ok(simModels.has(model.tritonModel), `the simulator has no model ${model.tritonModel}`);
  });

  test('Grafana gets the Prometheus datasource and the dashboards folder it provisions', () => {
    const datasource = readYaml<{ datasources: { uid: string; type: string; url: string }[] }>('deploy/grafana/provisioning/datasources/prometheus.yaml').datasources[0]!;
    assert.equal(datasource.type, 'prometheus');
    assert.ok(hostnames.has(hostOf(datasource.url)));
    const provider = readYaml<{ providers: { options: { path: string } }[] }>('deploy/grafana/provisioning/dashboards/triton-gateway.yaml').providers[0]!;
    assert.ok(services.grafana!.volumes!.some((v) => v === `../grafana/dashboards:${provider.options.path}:ro`));
    assert.ok(services.grafana!.volumes!.includes('../grafana/provisioning:/etc/grafana/provisioning:ro'));
  });
});

const docker = which('docker');
test('docker compose accepts the file', { skip: docker ? false : missingReason('docker', 'docker.io docker-compose-plugin') }, async (t) => {
  const version = await runTool(docker!, ['compose', 'version']);
  if (version.code !== 0) {
    t.skip('docker compose plugin not installed');
    return;
  }
  const result = await runTool(docker!, ['compose', '-f', `${dir}/compose.yaml`, '--env-file', `${dir}/.env`, 'config', '--quiet']);
  assert.equal(result.code, 0, result.stderr);
});
