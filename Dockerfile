# syntax=docker/dockerfile:1
# triton-gateway image: build with TypeScript, run on production dependencies only, as a
# non-root user, with OpenTelemetry preloaded. The same image runs the Triton simulator
# (deploy/compose): `node dist/sim/bin.js`.
#
#   docker build -t triton-gateway --build-arg GIT_COMMIT="$(git rev-parse HEAD)" .

ARG NODE_VERSION=22

# ---- build: all dependencies, compile to dist/, then drop dev dependencies
FROM node:${NODE_VERSION}-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: nothing the gateway depends on needs one.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY sim ./sim
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && mkdir -p /state

# ---- runtime: compiled code and production node_modules only
FROM node:${NODE_VERSION}-slim AS runtime
ARG GIT_COMMIT=""
# MALLOC_ARENA_MAX=2: glibc gives each thread that mallocs (V8's GC helpers, libuv's pool) an
# arena of its own, up to 8 per core, and keeps their freed memory. Two arenas took 10-16 MB off
# the gateway's RSS at 1,000 open streams with the same relay rate (README, Performance).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    MALLOC_ARENA_MAX=2 \
    GIT_COMMIT=${GIT_COMMIT}
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# What `triton-gateway ops postmortem` renders when run in the container (it looks beside dist/).
# The image puts no `triton-gateway` on the PATH: run the CLI as `node dist/src/cli/main.js ops ...`
# from /app. With a read-only root filesystem set GATEWAY_EVENT_LOG and TRITON_GATEWAY_INCIDENT_LOG
# to files on the mounted volume (deploy/kubernetes/base/deployment.yaml, deploy/compose): the
# CLI's defaults are under ./data, which is then read-only and not where the gateway writes.
COPY runbooks/post-incident-review-template.md ./runbooks/post-incident-review-template.md
# The governance event log's directory (governance.eventLog), writable by the runtime user even
# when the root filesystem is read-only and a volume is mounted there.
COPY --from=build --chown=1000:1000 /state /var/lib/triton-gateway
# The event log's default directory (./data under WORKDIR), writable too: a container configured
# by environment variables only (no config file naming the volume) must still start. Only while
# the root filesystem is writable: under read_only / readOnlyRootFilesystem, set GATEWAY_EVENT_LOG
# to a file on a mounted volume instead.
COPY --from=build --chown=1000:1000 /state /app/data

# The image's `node` user, by number so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8080

# The slim image has no curl; node's fetch checks liveness.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/livez').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# Exec form: node is PID 1 and receives SIGTERM itself, so the drain (shutdown.drainSeconds) runs.
STOPSIGNAL SIGTERM
CMD ["node", "--import", "./dist/src/telemetry/tracing.js", "dist/src/server.js"]
