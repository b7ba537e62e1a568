/**
 * Responses that Node's HTTP parser cut short after their request reached a route (a body too
 * slow, 408; a broken chunked body, 400): clientErrorResponder answers those on the socket, and
 * the route's own accounting records them, once, with what the client was told. Counted by the
 * responder as well, each was two requests: one unrouted and one 499 on the route.
 */
import type { ServerResponse } from 'node:http';
import type { GatewayError } from '../errors.js';

export const answeredByParser = new WeakMap<ServerResponse, GatewayError>();
