/**
 * Which methods the gateway serves on a path, for the 405 that a request with another method gets
 * (`GET /v1/completions` answers `Allow: POST`, not "no route"). Fastify answers a method it has
 * no route for with its not-found handler and keeps no way to ask its router about other methods,
 * so every route is mirrored, as it is added, into a find-my-way router of our own: the same
 * router fastify uses, so parameters and wildcards (`/v1/models/*`) match the same paths.
 */
import Router from 'find-my-way';

export class AllowedMethods {
  private readonly router = Router();
  private readonly methods = new Set<string>();

  add(method: string | readonly string[], url: string): void {
    for (const m of typeof method === 'string' ? [method] : method) {
      // The same method and path can come twice (a route that lists HEAD, and the HEAD route
      // fastify adds for a GET); find-my-way would throw on the second.
      if (this.router.hasRoute(m as Router.HTTPMethod, url)) continue;
      this.router.on(m as Router.HTTPMethod, url, () => undefined);
      this.methods.add(m);
    }
  }

  /** The methods with a route for this path (the query string ignored), in a stable order. */
  for(url: string): string[] {
    const path = url.split('?')[0]!;
    return [...this.methods].filter((m) => this.router.find(m as Router.HTTPMethod, path) !== null).sort();
  }
}
