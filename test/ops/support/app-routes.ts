/**
 * The route table of a real gateway, as Fastify registers it. buildApp() creates its Fastify
 * instance internally, so the onRoute hook is attached through Fastify's documented
 * `fastify.initialization` diagnostics channel, which fires for each new instance before any
 * plugin registers a route.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { RouteSpec } from '../../helpers/runbook-endpoints.js';

export interface RecordedRoutes {
  /** Every method and URL template registered so far (HEAD routes Fastify adds included). */
  readonly routes: RouteSpec[];
  /** How many Fastify instances were created while recording. */
  instances(): number;
  /** Stops recording new instances (routes of instances already seen keep arriving). */
  stop(): void;
}

/** Records the routes of every Fastify instance created until stop(). */
export function recordRoutes(): RecordedRoutes {
  const routes: RouteSpec[] = [];
  let instances = 0;
  const onInstance = (message: unknown) => {
    instances += 1;
    const { fastify } = message as { fastify: FastifyInstance };
    fastify.addHook('onRoute', (route: RouteOptions) => {
      for (const method of [route.method].flat()) routes.push({ method, path: route.url });
    });
  };
  subscribe('fastify.initialization', onInstance);
  return { routes, instances: () => instances, stop: () => unsubscribe('fastify.initialization', onInstance) };
}
