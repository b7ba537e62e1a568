/**
 * One gateway's governance: the event log and its webhooks, the engine watch (published and
 * warm-up events), the readiness policy (alerts and waivers) and rollbacks. buildApp() creates it
 * before the registry so the registry's hooks can point at it, feeds it every finished request,
 * and closes it last.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config.js';
import type { ModelRegistry, RegistryHooks } from '../inference/model-registry.js';
import type { CompletionListener } from '../telemetry/request-observer.js';
import { EngineTracker } from './engine-identity.js';
import { EngineWatch } from './engine-watch.js';
import { EventLog, type EventQuery, type EventRead } from './event-log.js';
import type { AlertSignal, EventOf, GovernanceEvent } from './events.js';
import { GovernanceRecorder } from './recorder.js';
import { ReadinessPolicy, type AlertTransition, type Thresholds } from './readiness-policy.js';
import { RollbackError, canonicalVersion, rollbackModel, type RollbackRequest } from './rollback.js';
import { WaiverBook, type Waiver } from './waivers.js';
import { WebhookNotifier } from './webhook.js';

export interface WaiverRequest {
  model: string;
  signal: AlertSignal;
  reason: string;
  actor: string;
  expiresAt: Date;
}

type FinanceRouting = EventOf<'llm_observability_alert'>['finance_webhook'];

export class Governance {
  readonly tracker = new EngineTracker();
  readonly waivers: WaiverBook;
  readonly busy = new Set<string>();
  readonly watch: EngineWatch;
  readonly policy: ReadinessPolicy;
  private readonly finance: WebhookNotifier | undefined;
  /** How each firing cost alert was routed to finance, until it resolves. */
  private readonly financeByAlert = new Map<string, FinanceRouting>();
  private registry: ModelRegistry | undefined;
  private evalTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly config: GatewayConfig,
    readonly recorder: GovernanceRecorder,
    private readonly logger: Logger,
    now: () => number,
  ) {
    const g = config.governance;
    this.waivers = new WaiverBook(now);
    this.watch = new EngineWatch(recorder, this.tracker, logger, this.busy);
    this.finance = g.financeWebhookUrl
      ? new WebhookNotifier({ url: g.financeWebhookUrl, name: 'finance', retries: g.webhookRetries, baseDelayMs: g.webhookBackoffMs, timeoutMs: g.webhookTimeoutMs, log: logger })
      : undefined;
    this.policy = new ReadinessPolicy(g.policy, (model) => this.thresholds(model), (t) => void this.alert(t), now);
  }

  /**
   * Opens (and creates) the event log and rebuilds the engine tracker and waivers from it. `now`
   * is the clock of waiver expiry and the policy windows (tests step it).
   */
  static async create(config: GatewayConfig, logger: Logger, now: () => number = Date.now): Promise<Governance> {
    const g = config.governance;
    const webhook = g.webhookUrl
      ? new WebhookNotifier({ url: g.webhookUrl, name: 'governance', retries: g.webhookRetries, baseDelayMs: g.webhookBackoffMs, timeoutMs: g.webhookTimeoutMs, log: logger })
      : undefined;
    const recorder = new GovernanceRecorder(new EventLog(g.eventLog), logger, webhook);
    await recorder.open();
    const governance = new Governance(config, recorder, logger, now);
    const history = await recorder.log.read();
    if (history.problems.length > 0) {
      logger.warn({ path: g.eventLog, problems: history.problems.slice(0, 5), count: history.problems.length }, 'governance event log has unreadable lines; they are skipped');
    }
    governance.tracker.seed(history.events);
    governance.waivers.seed(history.events);
    await governance.resolveAlertsLeftFiring(history.events);
    return governance;
  }

  /**
   * Alerts the log shows firing with no resolve: the process that measured them is gone, and with
   * it their window, which is empty now. They resolve as an emptied window does (value null, 0
   * requests), to finance too when it got the firing, so no alert stays open forever; a condition
   * that persists fires again, under a new id, once the new window has its requests.
   */
  private async resolveAlertsLeftFiring(events: readonly GovernanceEvent[]): Promise<void> {
    const open = new Map<string, EventOf<'llm_observability_alert'>>();
    for (const e of events) {
      if (e.event !== 'llm_observability_alert') continue;
      if (e.status === 'firing') open.set(e.alert_id, e);
      else open.delete(e.alert_id);
    }
    for (const firing of open.values()) {
      if (firing.signal === 'cost') this.financeByAlert.set(firing.alert_id, firing.finance_webhook);
      await this.alert({ model: firing.model, signal: firing.signal, status: 'resolved', alertId: firing.alert_id, value: null, threshold: firing.threshold, windowMs: firing.window_ms, requests: 0 });
    }
  }

  registryHooks(): Pick<RegistryHooks, 'schemaLoaded' | 'warmupFinished'> {
    return this.watch.registryHooks();
  }

  /** Feeds the readiness policy from each finished request (cost and queue delay). */
  completionListener(): CompletionListener {
    return (s) => this.policy.observe({ model: s.model, costUsd: s.costUsd, queueDelayUs: s.queueDelayUs });
  }

  start(registry: ModelRegistry): void {
    this.registry = registry;
    this.watch.startPolling(registry, this.config.governance.enginePollMs);
    this.evalTimer = setInterval(() => this.policy.evaluate(), this.config.governance.policy.evaluateIntervalMs);
    this.evalTimer.unref();
  }

  async rollback(req: RollbackRequest): Promise<EventOf<'llm_rollback_completed'>> {
    if (!this.registry) throw new Error('governance not started');
    try {
      return await rollbackModel({ registry: this.registry, recorder: this.recorder, tracker: this.tracker, watch: this.watch, log: this.logger, busy: this.busy }, req);
    } catch (err) {
      // A request that was itself wrong (no such model, not a version number) attempted nothing.
      if (err instanceof RollbackError && err.status !== 400 && err.status !== 404) await this.recordRollbackFailure(req, err);
      throw err;
    }
  }

  private async recordRollbackFailure(req: RollbackRequest, err: RollbackError): Promise<void> {
    try {
      await this.recorder.record({
        event: 'llm_rollback_failed',
        model: req.model,
        to_version: canonicalVersion(req.version),
        stage: err.stage,
        status: err.status,
        error_code: err.answerCode,
        message: err.message,
        serving_version: err.serving,
        actor: req.actor,
        reason: req.reason ?? null,
      });
    } catch (recordErr) {
      // The admin still gets the rollback's own answer; the audit line in the route has it too.
      this.logger.error({ err: (recordErr as Error).message, model: req.model }, 'recording a failed rollback failed');
    }
  }

  /**
   * Rejects with EventNotRecordedError when the event log cannot take it: the waiver is then not
   * in effect either, since a waiver only in memory would be gone at the next restart.
   */
  async recordWaiver(req: WaiverRequest): Promise<EventOf<'llm_waiver_recorded'>> {
    const id = `waiver-${randomUUID()}`;
    const event = await this.recorder.recordOrFail({
      event: 'llm_waiver_recorded',
      waiver_id: id,
      model: req.model,
      signal: req.signal,
      reason: req.reason,
      actor: req.actor,
      expires_at: req.expiresAt.toISOString(),
    });
    this.waivers.add({ id, model: req.model, signal: req.signal, reason: req.reason, actor: req.actor, expiresAt: req.expiresAt.getTime() });
    return event;
  }

  events(query: EventQuery): Promise<EventRead> {
    return this.recorder.log.read(query);
  }

  async close(): Promise<void> {
    this.watch.stop();
    clearInterval(this.evalTimer);
    // Side by side: each webhook gets its 2 s grace at the same time, so shutdown waits at most 2 s for both.
    await Promise.all([this.finance?.close(), this.recorder.close()]);
  }

  private thresholds(model: string): Thresholds {
    const m = this.config.models.find((c) => c.name === model);
    const p = this.config.governance.policy;
    return { cost: m?.maxCostUsd ?? p.cost.thresholdUsd, queueDelay: m?.queueDelayBudgetUs ?? p.queueDelay.thresholdUs };
  }

  /**
   * Finance routing is decided once per alert, when it fires: the resolve of a firing finance got
   * is always sent (a waiver recorded meanwhile must not leave finance's alert open), and the
   * resolve of one it never got is not (a waiver that expired meanwhile).
   */
  private financeRouting(t: AlertTransition, waiver: Waiver | undefined): FinanceRouting {
    if (t.signal !== 'cost') return 'not_applicable';
    const atFiring = this.financeByAlert.get(t.alertId);
    if (t.status === 'resolved' && atFiring) {
      this.financeByAlert.delete(t.alertId);
      // Unless finance's webhook has gone since (a restart with another config): nothing to send to.
      return atFiring === 'queued' && !this.finance ? 'not_configured' : atFiring;
    }
    const routing = waiver ? 'waived' : this.finance ? 'queued' : 'not_configured';
    if (t.status === 'firing') this.financeByAlert.set(t.alertId, routing);
    return routing;
  }

  private async alert(t: AlertTransition): Promise<void> {
    const waiver = this.waivers.active(t.model, t.signal);
    const finance = this.financeRouting(t, waiver);
    try {
      const event = await this.recorder.record({
        event: 'llm_observability_alert',
        model: t.model,
        signal: t.signal,
        status: t.status,
        alert_id: t.alertId,
        value: t.value,
        threshold: t.threshold,
        unit: t.signal === 'cost' ? 'usd_per_request' : 'microseconds',
        window_ms: t.windowMs,
        requests: t.requests,
        waiver_id: waiver?.id ?? null,
        finance_webhook: finance,
      });
      if (finance === 'queued') this.finance!.send(event, event.id);
    } catch (err) {
      this.logger.error({ err: (err as Error).message, model: t.model, signal: t.signal }, 'recording an observability alert failed');
    }
  }
}
